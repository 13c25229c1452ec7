//! The drill cluster's controllers, run in one loop: deterministic passes over
//! the store until nothing changes, then again when something does, and once a
//! second for what is due by the clock (restart back-off, terminating pods).

mod endpoints;
mod events;
mod kubelet;
mod scheduler;
mod volumes;
mod workloads;

pub use events::emit;
pub use workloads::{REVISION, TEMPLATE_HASH, template_hash};

use super::DrillCluster;
use super::disruption;
use super::resources::PDBS;
use super::store::Filter;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// One pass of every controller; returns the names of those that changed something.
pub fn reconcile_once(cluster: &DrillCluster) -> Vec<&'static str> {
    let store = &cluster.store;
    let passes: [(&'static str, &dyn Fn() -> bool); 9] = [
        ("volumes", &|| volumes::reconcile(store)),
        ("deployment", &|| workloads::reconcile_deployments(store)),
        ("replicaset", &|| workloads::reconcile_replica_sets(store)),
        ("statefulset", &|| workloads::reconcile_stateful_sets(store)),
        ("daemonset", &|| workloads::reconcile_daemon_sets(store)),
        ("scheduler", &|| scheduler::reconcile(store)),
        ("kubelet", &|| kubelet::reconcile(store, &cluster.faults)),
        ("disruption", &|| budgets(cluster)),
        ("endpoints", &|| endpoints::reconcile(store)),
    ];
    passes.into_iter().filter(|(_, pass)| pass()).map(|(name, _)| name).collect()
}

/// Runs passes until the cluster settles, at most `limit` of them; returns
/// whether it settled.
pub fn settle(cluster: &DrillCluster, limit: usize) -> bool {
    let mut last = Vec::new();
    for _ in 0..limit {
        last = reconcile_once(cluster);
        if last.is_empty() {
            return true;
        }
    }
    tracing::warn!(controllers = ?last, "drill controllers did not settle within {limit} passes");
    false
}

/// Starts the control loop; it ends when the cluster is dropped.
pub fn spawn(cluster: &Arc<DrillCluster>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(cluster);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut last_revision = 0;
        let mut last_full = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            let Some(cluster) = weak.upgrade() else { return };
            let revision = cluster.store.revision();
            // Some work is due by the clock, not by a change: restarts with
            // back-off and pods finishing termination. A pass a second covers both.
            let timed_work = last_full.elapsed() >= Duration::from_secs(1);
            if revision == last_revision && !timed_work {
                continue;
            }
            let cluster_for_pass = cluster.clone();
            match tokio::task::spawn_blocking(move || settle(&cluster_for_pass, 20)).await {
                // Unsettled: leave last_revision behind so the next tick goes on.
                Ok(true) => last_revision = cluster.store.revision(),
                Ok(false) => {}
                Err(error) => tracing::error!(error = %error, "a drill controller pass failed"),
            }
            last_full = tokio::time::Instant::now();
        }
    })
}

fn budgets(cluster: &DrillCluster) -> bool {
    let store = &cluster.store;
    let mut changed = false;
    for pdb in store.list(PDBS, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default() {
        let budget = disruption::evaluate(store, &pdb);
        let status = json!({
            "observedGeneration": pdb.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "currentHealthy": budget.current_healthy,
            "desiredHealthy": budget.desired_healthy,
            "expectedPods": budget.expected,
            "disruptionsAllowed": budget.disruptions_allowed(),
        });
        changed |= workloads::set_status(store, PDBS, &pdb, status);
    }
    changed
}
