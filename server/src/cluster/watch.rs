//! Watching the cluster: one kube-runtime watcher per kind, each keeping its
//! part of [`ClusterState`] current (relisting after a 410 or a reconnect),
//! and a probe of `/livez` and `/readyz` every second that also tells whether
//! the API can be reached at all.

use super::state::{ClusterState, Kind, Relist, ToSlim};
use app::domain::connection::Connection;
use app::domain::control_plane::CheckReport;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node};
use kube::Api;
use kube::runtime::watcher::{self, Event as WatchEvent};
use kube::runtime::{WatchStreamExt, utils::Backoff};
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How often the control plane is probed; two failures in a row mark it unreachable.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe may take before it counts as failed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the watchers keep current, shared with the health engine and pages.
#[derive(Debug)]
pub struct Live {
    pub state: RwLock<ClusterState>,
    pub connection: Mutex<Connection>,
    /// Woken whenever the state or the connection changes.
    pub changed: Notify,
}

impl Live {
    pub fn new(now: i64) -> Arc<Live> {
        Arc::new(Live {
            state: RwLock::new(ClusterState::default()),
            connection: Mutex::new(Connection::new(now)),
            changed: Notify::new(),
        })
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, ClusterState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ClusterState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn connection(&self) -> Connection {
        *self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_connection(&self, update: impl FnOnce(&mut Connection) -> bool) {
        let changed = update(&mut self.connection.lock().unwrap_or_else(|e| e.into_inner()));
        if changed {
            self.changed.notify_one();
        }
    }
}

/// The running watchers and probe; dropping this stops them.
pub struct Watchers {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts a watcher per kind and the control-plane probe.
pub fn spawn(client: kube::Client, live: Arc<Live>) -> Watchers {
    let tasks = vec![
        tokio::spawn(watch_kind(Api::<Node>::all(client.clone()), Kind::Node, live.clone())),
        // Pods are read slim: only what the health rules need is deserialised.
        tokio::spawn(watch_kind(
            Api::<super::watched::WatchedPod>::all(client.clone()),
            Kind::Pod,
            live.clone(),
        )),
        tokio::spawn(watch_kind(Api::<Deployment>::all(client.clone()), Kind::Deployment, live.clone())),
        tokio::spawn(watch_kind(Api::<ReplicaSet>::all(client.clone()), Kind::ReplicaSet, live.clone())),
        tokio::spawn(watch_kind(Api::<StatefulSet>::all(client.clone()), Kind::StatefulSet, live.clone())),
        tokio::spawn(watch_kind(Api::<DaemonSet>::all(client.clone()), Kind::DaemonSet, live.clone())),
        tokio::spawn(watch_kind(Api::<Event>::all(client.clone()), Kind::Event, live.clone())),
        tokio::spawn(probe(client, live)),
    ];
    Watchers { tasks }
}

/// Keeps one kind current. A relist is built into tables of its own and
/// swapped in whole, so readers never see half a list.
async fn watch_kind<K>(api: Api<K>, kind: Kind, live: Arc<Live>)
where
    K: kube::Resource + ToSlim + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let config = watcher::Config::default().page_size(500);
    let stream = watcher::watcher(api, config).backoff(ShortBackoff::default());
    futures_util::pin_mut!(stream);
    let mut relist: Option<Relist> = None;
    let mut failing = false;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                if !failing {
                    tracing::warn!(
                        cluster.kind = kind.name(),
                        error = &error as &dyn std::error::Error,
                        "cluster watch interrupted; retrying with back-off"
                    );
                }
                failing = true;
                continue;
            }
        };
        if failing {
            tracing::info!(cluster.kind = kind.name(), "cluster watch resumed");
            failing = false;
        }
        match event {
            WatchEvent::Init => relist = Some(live.read().relist(kind)),
            WatchEvent::InitApply(object) => {
                if let Some(relist) = relist.as_mut() {
                    relist.apply(object.to_slim());
                }
            }
            WatchEvent::InitDone => {
                if let Some(relist) = relist.take() {
                    live.write().adopt(relist);
                }
            }
            WatchEvent::Apply(object) => live.write().apply(object.to_slim()),
            WatchEvent::Delete(object) => live.write().delete(&object.to_slim()),
        }
        // While a relist is being built, nothing visible has changed yet.
        if relist.is_none() {
            live.changed.notify_one();
        }
    }
}

/// Probes `/livez?verbose` and `/readyz?verbose` every [`PROBE_INTERVAL`].
/// An answer that lists checks counts as contact even when a check fails
/// (the API is reachable, something behind it is not); anything else is a failure.
async fn probe(client: kube::Client, live: Arc<Live>) {
    let mut interval = tokio::time::interval(PROBE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let (livez, readyz) =
            tokio::join!(check(&client, "/livez?verbose"), check(&client, "/readyz?verbose"));
        let now = crate::db::now_millis();
        match (livez, readyz) {
            (Some(livez), Some(readyz)) => {
                {
                    let mut state = live.write();
                    let changed = state.checks.livez.as_ref() != Some(&livez)
                        || state.checks.readyz.as_ref() != Some(&readyz);
                    state.checks.livez = Some(livez);
                    state.checks.readyz = Some(readyz);
                    if changed {
                        live.changed.notify_one();
                    }
                }
                live.with_connection(|c| c.succeeded(now));
            }
            _ => live.with_connection(|c| c.failed(now)),
        }
    }
}

async fn check(client: &kube::Client, path: &str) -> Option<CheckReport> {
    let request = http::Request::get(path).body(kube::client::Body::empty()).ok()?;
    let exchange = async {
        let response = client.send(request).await.ok()?;
        let passed = response.status().is_success();
        let body = response.into_body().collect_bytes().await.ok()?;
        Some((passed, String::from_utf8_lossy(&body).into_owned()))
    };
    let (passed, text) = tokio::time::timeout(PROBE_TIMEOUT, exchange).await.ok()??;
    let report = CheckReport::parse(passed, &text);
    (!report.checks.is_empty()).then_some(report)
}

/// Retries a broken watch after 250 ms, doubling up to 4 s, so that the
/// watchers are back within seconds of the API returning (kube-runtime's
/// default waits up to 30 s, too long for a live dashboard).
///
/// Hand-written rather than backon's `ExponentialBuilder` (through
/// `watcher::ExponentialBackoff`), because kube-runtime resets the back-off on
/// every event it passes on, and that reset measured slower: the initial sync of
/// 5,000 nodes and 150,000 pods (`cargo bench -p tests --bench scale`, release,
/// this 2-core machine, interleaved runs) took a median 5.06 s with backon
/// (6 runs, 4.71–5.75 s) against 4.40 s with this (3 runs, 3.90–4.97 s; 4.37 s
/// over 9 runs of the code before either change).
struct ShortBackoff {
    next: Duration,
}

impl Default for ShortBackoff {
    fn default() -> Self {
        ShortBackoff { next: Duration::from_millis(250) }
    }
}

impl Iterator for ShortBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next;
        self.next = (self.next * 2).min(Duration::from_secs(4));
        Some(delay)
    }
}

impl Backoff for ShortBackoff {
    fn reset(&mut self) {
        *self = ShortBackoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_watch_is_retried_soon_and_never_waits_more_than_four_seconds() {
        let delays: Vec<Duration> = ShortBackoff::default().take(8).collect();
        assert_eq!(delays[0], Duration::from_millis(250));
        assert_eq!(delays[1], Duration::from_millis(500));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(4)), "{delays:?}");
        assert_eq!(delays[7], Duration::from_secs(4));
    }
}
