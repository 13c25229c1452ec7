//! Several replicas on one database: which one does the singleton work
//! (health history, Wheelhouse's own detection, webhook delivery, recovery of
//! interrupted actions, pruning), and how a replica's running actions are
//! known to be dead.
//!
//! Alone (SQLite, or leader election off) the process is always the leader.
//! With leader election, two kinds of `coordination.k8s.io/v1` Lease live in
//! Wheelhouse's namespace:
//! - the leader lease (`wheelhouse-leader` by default): held by one replica,
//!   renewed every fifth of its duration, taken by another once its record has
//!   not changed for a whole duration (timed by each candidate's own clock, as
//!   client-go does, so that clocks need not agree), released on shutdown;
//! - one lease per replica (`wheelhouse-replica-<id>`): renewed by that
//!   replica; each process's first write starts a new epoch. Actions record
//!   the replica and epoch that run them, and are marked failed only once
//!   that lease has expired or a later process took it.

pub mod claim;

use claim::{Claim, Held};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Labels on Wheelhouse's leases, so that replicas find each other's.
const PART_OF: (&str, &str) = ("app.kubernetes.io/name", "wheelhouse");
const LEASE_KIND: &str = "wheelhouse.dev/lease";

/// Leader election settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseSettings {
    pub namespace: String,
    /// The leader lease's name; replica leases are named after it.
    pub name: String,
    pub duration: Duration,
}

impl LeaseSettings {
    /// How often leases are renewed and the leader lease is tried.
    pub fn retry(&self) -> Duration {
        self.duration / 5
    }

    /// A leader that could not renew for this long stops leading, before any
    /// candidate may take over (a whole duration after the last renewal).
    pub fn renew_deadline(&self) -> Duration {
        self.duration * 2 / 3
    }
}

/// This process's place among the replicas. Cheap to clone.
#[derive(Clone)]
pub struct Coordination {
    inner: Arc<Inner>,
}

struct Inner {
    replica: String,
    /// The epoch of this process's own lease; 0 until it is first written.
    epoch: AtomicI64,
    leading: watch::Sender<bool>,
    leases: Option<Leases>,
}

struct Leases {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The leader lease's record as last seen, and when this process first saw it.
    observed: Mutex<Option<(Held, Instant)>>,
}

/// Why replica leases could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the replicas' leases")]
pub struct LeaseError(#[source] kube::Error);

impl Coordination {
    /// A process that is alone on its database: always the leader; its epoch
    /// is its start time, so each process has its own.
    pub fn solo(replica: String) -> Coordination {
        let (leading, _) = watch::channel(true);
        let epoch = AtomicI64::new(crate::db::now_millis());
        Coordination { inner: Arc::new(Inner { replica, epoch, leading, leases: None }) }
    }

    /// A replica that takes part in leader election through Leases; not
    /// leading until [`Coordination::run`] wins the lease.
    pub fn with_leases(client: kube::Client, replica: String, settings: LeaseSettings) -> Coordination {
        let (leading, _) = watch::channel(false);
        let api = Api::namespaced(client, &settings.namespace);
        let leases = Some(Leases { api, settings, observed: Mutex::new(None) });
        Coordination { inner: Arc::new(Inner { replica, epoch: AtomicI64::new(0), leading, leases }) }
    }

    pub fn replica(&self) -> &str {
        &self.inner.replica
    }

    /// The epoch work started now is recorded under; `None` until this
    /// replica's lease has been written (it cannot yet vouch for its work).
    pub fn epoch(&self) -> Option<i64> {
        Some(self.inner.epoch.load(Ordering::SeqCst)).filter(|e| *e > 0)
    }

    pub fn is_leader(&self) -> bool {
        *self.inner.leading.borrow()
    }

    /// Changes of leadership, for tasks that start and stop with it.
    pub fn leadership(&self) -> watch::Receiver<bool> {
        self.inner.leading.subscribe()
    }

    /// Whether leader election is on (several replicas may run).
    pub fn elects(&self) -> bool {
        self.inner.leases.is_some()
    }

    /// Keeps this replica's lease and tries for the leader lease until the
    /// process ends. Returns at once when alone.
    pub async fn run(self) {
        let Some(leases) = &self.inner.leases else { return };
        let mut tick = tokio::time::interval(leases.settings.retry());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_renewed: Option<Instant> = None;
        let mut rounds: u64 = 0;
        loop {
            tick.tick().await;
            rounds += 1;
            if let Err(error) = self.renew_own(leases).await {
                tracing::warn!(error = %error, replica = %self.inner.replica, "cannot renew this replica's lease");
            }
            match self.try_lead(leases).await {
                Ok(Some(claim)) => {
                    last_renewed = Some(Instant::now());
                    if claim.acquired {
                        tracing::info!(replica = %self.inner.replica, epoch = claim.epoch, "this replica now leads");
                    }
                    self.inner.leading.send_if_modified(|leading| !std::mem::replace(leading, true));
                }
                Ok(None) => self.step_down("another replica leads"),
                Err(error) => {
                    tracing::warn!(error = %error, "cannot renew the leader lease");
                    if last_renewed.is_none_or(|at| at.elapsed() >= leases.settings.renew_deadline()) {
                        self.step_down("the leader lease could not be renewed in time");
                    }
                }
            }
            if self.is_leader() && rounds.is_multiple_of(25) {
                self.forget_departed(leases).await;
            }
        }
    }

    fn step_down(&self, why: &str) {
        if self.inner.leading.send_if_modified(|leading| std::mem::replace(leading, false)) {
            tracing::warn!(replica = %self.inner.replica, reason = why, "this replica stopped leading");
        }
    }

    /// On a graceful stop: stop leading and hand the leader lease back at
    /// once, so another replica need not wait for it to expire.
    pub async fn release(&self) {
        let Some(leases) = &self.inner.leases else { return };
        if !self.is_leader() {
            return;
        }
        self.step_down("stopping");
        let Ok(Some(mut lease)) = leases.api.get_opt(&leases.settings.name).await else { return };
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.inner.replica.as_str()) {
            return;
        }
        spec.holder_identity = None;
        match leases.api.replace(&leases.settings.name, &PostParams::default(), &lease).await {
            Ok(_) => tracing::info!(replica = %self.inner.replica, "released the leader lease"),
            Err(error) => tracing::warn!(error = %error, "cannot release the leader lease; it will expire"),
        }
    }

    async fn renew_own(&self, leases: &Leases) -> Result<(), kube::Error> {
        let name = replica_lease_name(&leases.settings.name, &self.inner.replica);
        let current = leases.api.get_opt(&name).await?;
        let first = self.epoch().is_none();
        let claim = claim::claim_own(current.as_ref().map(|l| held(l, None)).as_ref(), first);
        let lease = self.lease_object(&name, "replica", current, &claim, &leases.settings);
        write(&leases.api, &name, lease).await?;
        self.inner.epoch.store(claim.epoch, Ordering::SeqCst);
        Ok(())
    }

    async fn try_lead(&self, leases: &Leases) -> Result<Option<Claim>, kube::Error> {
        let name = &leases.settings.name;
        let current = leases.api.get_opt(name).await?;
        let now_local = Instant::now();
        // The record as this candidate times it: from when it first saw it unchanged.
        let seen = current.as_ref().map(|lease| {
            let record = held(lease, None);
            let mut observed = leases.observed.lock().unwrap_or_else(|e| e.into_inner());
            let since = match observed.as_ref() {
                Some((previous, at)) if *previous == record => *at,
                _ => now_local,
            };
            *observed = Some((record.clone(), since));
            Held { renewed_at: -millis(now_local.duration_since(since)), ..record }
        });
        // Times are now relative to this moment (0), counted on this process's clock.
        let Some(claim) = claim::claim_leader(seen.as_ref(), &self.inner.replica, 0) else { return Ok(None) };
        let lease = self.lease_object(name, "leader", current, &claim, &leases.settings);
        match write(&leases.api, name, lease).await {
            Ok(written) => {
                let record = held(&written, None);
                *leases.observed.lock().unwrap_or_else(|e| e.into_inner()) = Some((record, Instant::now()));
                Ok(Some(claim))
            }
            // Another replica wrote it first: it leads.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn lease_object(
        &self,
        name: &str,
        kind: &str,
        current: Option<Lease>,
        claim: &Claim,
        settings: &LeaseSettings,
    ) -> Lease {
        let now = MicroTime(Timestamp::now());
        let mut lease = current.unwrap_or_else(|| Lease {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(settings.namespace.clone()),
                labels: Some(BTreeMap::from([
                    (PART_OF.0.to_owned(), PART_OF.1.to_owned()),
                    (LEASE_KIND.to_owned(), kind.to_owned()),
                ])),
                ..Default::default()
            },
            spec: None,
        });
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        spec.holder_identity = Some(self.inner.replica.clone());
        spec.lease_duration_seconds =
            Some(i32::try_from(settings.duration.as_secs().max(1)).unwrap_or(i32::MAX));
        spec.renew_time = Some(now.clone());
        spec.lease_transitions = Some(i32::try_from(claim.epoch).unwrap_or(i32::MAX));
        if claim.acquired {
            spec.acquire_time = Some(now);
        }
        lease
    }

    /// Who runs what: for each replica lease, its record (renewal times are
    /// the holders' own clocks). Alone, only this process.
    pub async fn replicas(&self) -> Result<HashMap<String, Held>, LeaseError> {
        let Some(leases) = &self.inner.leases else {
            let epoch = self.inner.epoch.load(Ordering::SeqCst);
            let me = Held {
                holder: Some(self.inner.replica.clone()),
                renewed_at: crate::db::now_millis(),
                duration_ms: i64::MAX / 4,
                transitions: epoch,
            };
            return Ok(HashMap::from([(self.inner.replica.clone(), me)]));
        };
        let selector = format!("{}={},{LEASE_KIND}=replica", PART_OF.0, PART_OF.1);
        let list = leases.api.list(&ListParams::default().labels(&selector)).await.map_err(LeaseError)?;
        Ok(list
            .items
            .iter()
            .filter_map(|lease| {
                let record = held(lease, Some(&leases.settings));
                record.holder.clone().map(|holder| (holder, record))
            })
            .collect())
    }

    /// Deletes the leases of replicas gone for a long while (their work was
    /// recovered long ago), so that restarts do not pile them up.
    async fn forget_departed(&self, leases: &Leases) {
        let Ok(replicas) = self.replicas().await else { return };
        let now = crate::db::now_millis();
        let long = millis(leases.settings.duration) * 20;
        for (replica, record) in replicas {
            if replica != self.inner.replica && now > record.renewed_at + record.duration_ms + long {
                let name = replica_lease_name(&leases.settings.name, &replica);
                if leases.api.delete(&name, &DeleteParams::default()).await.is_ok() {
                    tracing::info!(replica = %replica, "deleted the lease of a replica long gone");
                }
            }
        }
    }
}

/// Creates or replaces (with its resourceVersion, so that a concurrent write fails with 409).
async fn write(api: &Api<Lease>, name: &str, lease: Lease) -> Result<Lease, kube::Error> {
    if lease.metadata.resource_version.is_some() {
        api.replace(name, &PostParams::default(), &lease).await
    } else {
        api.create(&PostParams::default(), &lease).await
    }
}

/// A lease's record; renewal in milliseconds since the epoch by the holder's clock.
fn held(lease: &Lease, fallback: Option<&LeaseSettings>) -> Held {
    let spec = lease.spec.clone().unwrap_or_default();
    let duration_ms = spec
        .lease_duration_seconds
        .map(|s| i64::from(s) * 1000)
        .or_else(|| fallback.map(|s| millis(s.duration)))
        .unwrap_or(15_000);
    Held {
        holder: spec.holder_identity.filter(|h| !h.is_empty()),
        renewed_at: spec.renew_time.map_or(0, |t| t.0.as_millisecond()),
        duration_ms,
        transitions: spec.lease_transitions.map_or(0, i64::from),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// `wheelhouse-leader` + `pod-7` → `wheelhouse-leader-replica-pod-7`, as a valid object name.
fn replica_lease_name(leader: &str, replica: &str) -> String {
    let cleaned: String = replica
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .collect();
    let mut name = format!("{leader}-replica-{}", cleaned.trim_matches(|c| c == '-' || c == '.'));
    name.truncate(253);
    name
}

/// This process's replica id when none is configured: the pod's name in a
/// cluster (`HOSTNAME`), with the process id outside one so that several
/// processes on one machine differ.
pub fn default_replica_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "wheelhouse".to_owned());
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        host
    } else {
        format!("{host}-{}", std::process::id())
    }
}

/// Runs `work` while this replica leads: started when it becomes leader,
/// stopped (aborted) when it stops leading, started again if it leads again.
pub fn while_leading<F, Fut>(
    coordination: &Coordination,
    name: &'static str,
    work: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut leadership = coordination.leadership();
    tokio::spawn(async move {
        loop {
            if leadership.wait_for(|leading| *leading).await.is_err() {
                return;
            }
            tracing::debug!(work = name, "starting singleton work");
            let mut task = AbortOnDrop(tokio::spawn(work()));
            tokio::select! {
                _ = &mut task.0 => {
                    // Work that ends on its own is not restarted.
                    return;
                }
                lost = leadership.wait_for(|leading| !*leading) => {
                    drop(task);
                    tracing::info!(work = name, "stopped singleton work: no longer leading");
                    if lost.is_err() {
                        return;
                    }
                }
            }
        }
    })
}

/// Stops the singleton work when its supervisor stops (or is stopped).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_lease_names_are_valid_object_names() {
        assert_eq!(replica_lease_name("wheelhouse-leader", "Pod_7"), "wheelhouse-leader-replica-pod-7");
        assert!(replica_lease_name("l", &"x".repeat(400)).len() <= 253);
    }

    /// Counts when the work it lives in is stopped.
    struct Stopped(Arc<AtomicI64>);

    impl Drop for Stopped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    async fn until(what: &str, counter: &AtomicI64, value: i64) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while counter.load(Ordering::SeqCst) < value {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{what}"));
    }

    #[tokio::test]
    async fn work_runs_only_while_leading_and_starts_again_on_leading_again() {
        let coordination = Coordination::solo("a".into());
        let (runs, stops) = (Arc::new(AtomicI64::new(0)), Arc::new(AtomicI64::new(0)));
        let (counter, stopped) = (runs.clone(), stops.clone());
        let task = while_leading(&coordination, "test", move || {
            let (counter, guard) = (counter.clone(), Stopped(stopped.clone()));
            async move {
                let _guard = guard;
                counter.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        });
        until("started while leading", &runs, 1).await;
        coordination.step_down("test");
        until("stopped on losing the lead", &stops, 1).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        coordination.inner.leading.send_replace(true);
        until("started again on leading again", &runs, 2).await;
        task.abort();
        until("stopped with its supervisor", &stops, 2).await;
    }
}
