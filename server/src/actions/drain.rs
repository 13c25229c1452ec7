//! Draining a node through the Eviction API: every pod on it except
//! DaemonSet pods, mirror (static) pods and finished pods is evicted.
//! Evictions a PodDisruptionBudget refuses (429) are retried with back-off
//! until [`DRAIN_BOUND`]; each pod's progress is reported as it happens, and
//! the drain ends with a report: evicted, blocked (by which budget), failed.

use super::actuator::{ActResult, failure};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Api;
use kube::api::{EvictParams, ListParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a drain keeps retrying evictions that a disruption budget refuses.
pub const DRAIN_BOUND: Duration = Duration::from_secs(120);
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LONGEST_RETRY: Duration = Duration::from_secs(5);

/// One pod's state during a drain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PodProgress {
    Evicted {
        pod: String,
    },
    /// Refused by a disruption budget; retried until the bound.
    Waiting {
        pod: String,
        budget: String,
        attempts: u32,
    },
    Blocked {
        pod: String,
        budget: String,
    },
    Failed {
        pod: String,
        reason: String,
    },
}

/// Called with each pod's progress.
pub type Progress<'a> = &'a (dyn Fn(PodProgress) + Send + Sync);

/// Which pods a drain evicts and which it leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrainPlan {
    /// `namespace/name`.
    pub evict: Vec<String>,
    pub skipped: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainReport {
    pub evicted: Vec<String>,
    /// Pod and the budget that kept it.
    pub blocked: Vec<(String, String)>,
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<String>,
}

impl DrainReport {
    pub fn summary(&self) -> String {
        let mut text = format!(
            "Drain: {} evicted, {} blocked, {} failed, {} left in place (DaemonSet, mirror or finished pods).",
            self.evicted.len(),
            self.blocked.len(),
            self.failed.len(),
            self.skipped.len()
        );
        for (pod, budget) in &self.blocked {
            text.push_str(&format!(" {pod} blocked by the disruption budget {budget}."));
        }
        for (pod, reason) in &self.failed {
            text.push_str(&format!(" {pod} failed: {reason}"));
        }
        text
    }
}

/// Why a pod stays on a drained node, if it does.
fn left_in_place(pod: &Pod) -> Option<&'static str> {
    let annotations = pod.metadata.annotations.as_ref();
    if annotations.is_some_and(|a| a.contains_key("kubernetes.io/config.mirror")) {
        return Some("mirror pod");
    }
    if pod.metadata.owner_references.iter().flatten().any(|o| o.kind == "DaemonSet") {
        return Some("DaemonSet pod");
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return Some("finished");
    }
    None
}

fn key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

async fn pods_on(client: &kube::Client, node: &str) -> ActResult<Vec<Pod>> {
    let pods: Api<Pod> = Api::all(client.clone());
    let params = ListParams::default().fields(&format!("spec.nodeName={node}"));
    Ok(pods.list(&params).await.map_err(failure)?.items)
}

pub async fn plan(client: &kube::Client, node: &str) -> ActResult<DrainPlan> {
    let mut plan = DrainPlan::default();
    for pod in pods_on(client, node).await? {
        match left_in_place(&pod) {
            Some(_) => plan.skipped.push(key(&pod)),
            None => plan.evict.push(key(&pod)),
        }
    }
    Ok(plan)
}

/// The budget in the pod's namespace whose selector matches its labels.
async fn budget_of(client: &kube::Client, namespace: &str, labels: &BTreeMap<String, String>) -> String {
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), namespace);
    let Ok(list) = budgets.list(&ListParams::default()).await else {
        return "(unknown)".into();
    };
    list.items
        .into_iter()
        .find(|pdb| {
            let wanted =
                pdb.spec.as_ref().and_then(|s| s.selector.as_ref()).and_then(|s| s.match_labels.as_ref());
            wanted.is_some_and(|wanted| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
        })
        .and_then(|pdb| pdb.metadata.name)
        .unwrap_or_else(|| "(unknown)".into())
}

impl PodProgress {
    /// The pod's state in a sentence.
    pub fn describe(&self) -> String {
        match self {
            PodProgress::Evicted { pod } => format!("{pod}: evicted"),
            PodProgress::Waiting { pod, budget, attempts } => {
                format!(
                    "{pod}: refused by the disruption budget {budget} ({attempts} tries so far); retrying"
                )
            }
            PodProgress::Blocked { pod, budget } => {
                format!("{pod}: blocked by the disruption budget {budget}")
            }
            PodProgress::Failed { pod, reason } => format!("{pod}: failed: {reason}"),
        }
    }
}

/// The waits between eviction rounds: [`FIRST_RETRY`], doubling up to [`LONGEST_RETRY`];
/// the drain's deadline, not a count, ends them.
fn retry_schedule() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(FIRST_RETRY)
        .with_factor(2.0)
        .with_max_delay(LONGEST_RETRY)
        .without_max_times()
        .build()
}

/// Evicts every pod the plan names, retrying budget refusals until [`DRAIN_BOUND`].
pub async fn run(client: &kube::Client, node: &str, progress: Progress<'_>) -> ActResult<DrainReport> {
    run_bounded(client, node, progress, DRAIN_BOUND).await
}

pub async fn run_bounded(
    client: &kube::Client,
    node: &str,
    progress: Progress<'_>,
    bound: Duration,
) -> ActResult<DrainReport> {
    let deadline = tokio::time::Instant::now() + bound;
    let mut report = DrainReport::default();
    let mut remaining: Vec<Pod> = Vec::new();
    for pod in pods_on(client, node).await? {
        if left_in_place(&pod).is_some() {
            report.skipped.push(key(&pod));
        } else {
            remaining.push(pod);
        }
    }
    let mut attempts: BTreeMap<String, u32> = BTreeMap::new();
    let mut waits = retry_schedule();
    let mut wait = waits.next().unwrap_or(LONGEST_RETRY);
    loop {
        let mut refused: Vec<(Pod, String)> = Vec::new();
        for pod in std::mem::take(&mut remaining) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
            match api.evict(&name, &EvictParams::default()).await {
                Ok(_) => {
                    report.evicted.push(key(&pod));
                    progress(PodProgress::Evicted { pod: key(&pod) });
                }
                // Gone already: that is what a drain wants.
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    report.evicted.push(key(&pod));
                    progress(PodProgress::Evicted { pod: key(&pod) });
                }
                Err(kube::Error::Api(status)) if status.code == 429 => {
                    let labels = pod.metadata.labels.clone().unwrap_or_default();
                    let budget = budget_of(client, &namespace, &labels).await;
                    let tries = attempts.entry(key(&pod)).or_default();
                    *tries += 1;
                    progress(PodProgress::Waiting {
                        pod: key(&pod),
                        budget: budget.clone(),
                        attempts: *tries,
                    });
                    refused.push((pod, budget));
                }
                Err(error) => {
                    let reason = failure(error).plain_words();
                    progress(PodProgress::Failed { pod: key(&pod), reason: reason.clone() });
                    report.failed.push((key(&pod), reason));
                }
            }
        }
        if refused.is_empty() {
            return Ok(report);
        }
        if tokio::time::Instant::now() + wait > deadline {
            for (pod, budget) in refused {
                progress(PodProgress::Blocked { pod: key(&pod), budget: budget.clone() });
                report.blocked.push((key(&pod), budget));
            }
            return Ok(report);
        }
        tokio::time::sleep(wait).await;
        wait = waits.next().unwrap_or(LONGEST_RETRY);
        remaining = refused.into_iter().map(|(pod, _)| pod).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refusals_are_retried_sooner_first_and_at_most_every_five_seconds() {
        let waits: Vec<u128> = retry_schedule().take(6).map(|d| d.as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 5000, 5000]);
    }

    fn pod(owner: Option<&str>, mirror: bool, phase: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "p", "namespace": "n",
                "annotations": if mirror { serde_json::json!({"kubernetes.io/config.mirror": "x"}) } else { serde_json::json!({}) },
                "ownerReferences": owner.map(|kind| vec![serde_json::json!({"apiVersion": "apps/v1", "kind": kind, "name": "o", "uid": "u"})]).unwrap_or_default(),
            },
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    #[test]
    fn daemonset_mirror_and_finished_pods_stay_others_go() {
        assert_eq!(left_in_place(&pod(Some("DaemonSet"), false, "Running")), Some("DaemonSet pod"));
        assert_eq!(left_in_place(&pod(None, true, "Running")), Some("mirror pod"));
        assert_eq!(left_in_place(&pod(Some("ReplicaSet"), false, "Succeeded")), Some("finished"));
        assert_eq!(left_in_place(&pod(Some("ReplicaSet"), false, "Running")), None);
        assert_eq!(left_in_place(&pod(None, false, "Pending")), None);
    }

    #[test]
    fn the_report_names_the_budget_that_blocked_a_pod() {
        let report = DrainReport {
            evicted: vec!["shop/a".into()],
            blocked: vec![("shop/b".into(), "checkout-pdb".into())],
            ..DrainReport::default()
        };
        let summary = report.summary();
        assert!(summary.starts_with("Drain: 1 evicted, 1 blocked"));
        assert!(summary.contains("shop/b blocked by the disruption budget checkout-pdb"));
    }
}
