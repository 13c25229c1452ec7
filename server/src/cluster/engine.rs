//! The health engine's loop: whenever the cluster state, the connection or
//! the component definitions change (and every few seconds, since some rules
//! depend on time), evaluate every component, store the changes, publish them,
//! and keep the board that pages read.

use super::watch::Live;
use crate::components::Components;
use crate::coordination::Coordination;
use crate::events::EventHub;
use crate::history::History;
use app::domain::component_health::{ComponentHealth, StatusTracker, evaluate};
use app::domain::connection::Link;
use app::domain::health::THRESHOLDS;
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Changes arriving within this window are evaluated together.
const COALESCE: Duration = Duration::from_millis(20);
/// Re-evaluation without any change (the Pending rule depends on time).
const TICK: Duration = Duration::from_secs(5);
/// The most often a "cluster state moved" notice is sent to pages, when the
/// watched state moved but no status changed.
const NOTICE_EVERY: Duration = Duration::from_secs(1);

/// One component as pages show it: its health and since when it has had its status.
#[derive(Clone, Debug)]
pub struct BoardEntry {
    pub health: ComponentHealth,
    pub since: i64,
}

/// The latest evaluation.
#[derive(Clone, Debug, Default)]
pub struct Board {
    pub entries: Vec<BoardEntry>,
    /// When the board was last evaluated; `None` until the first full sync.
    pub evaluated_at: Option<i64>,
}

pub struct Engine {
    pub live: Arc<Live>,
    pub components: Components,
    pub history: History,
    pub hub: Arc<EventHub>,
    pub board: Arc<RwLock<Board>>,
    /// Every replica evaluates (its pages read the board); only the leader
    /// stores changes, so that each change is written once.
    pub coordination: Coordination,
    /// Components under scheduled maintenance now.
    pub maintenance: Arc<crate::maintenance::Overlay>,
}

/// How often a replica that does not lead reads the stored statuses again,
/// so that its board's "since" follows the leader's record.
const FOLLOWER_RESEED: Duration = Duration::from_secs(5);

impl Engine {
    /// What is stored: each component's latest status, so that evaluation
    /// stores only what changed since.
    async fn seeded(&self) -> StatusTracker {
        match self.history.latest().await {
            Ok(recorded) => StatusTracker::seeded(recorded),
            Err(error) => {
                tracing::error!(
                    error = &error as &dyn std::error::Error,
                    "cannot read the status history; starting afresh"
                );
                StatusTracker::default()
            }
        }
    }

    pub async fn run(self) {
        let mut tracker = self.seeded().await;
        let mut leading = false;
        let mut reseeded = tokio::time::Instant::now();
        let mut services = self.load_services().await;
        let mut last_link: Option<Link> = None;
        let mut last_notice = tokio::time::Instant::now();
        // The watched state moved since the last notice (one held back by the rate limit is sent later).
        let mut notice_owed = false;
        let mut leadership = self.coordination.leadership();
        loop {
            // False when only time has passed: nothing pages show has moved unless a status changes.
            let moved = tokio::select! {
                () = self.live.changed.notified() => true,
                () = self.components.changed.notified() => {
                    services = self.load_services().await;
                    true
                }
                _ = leadership.changed() => true,
                () = self.maintenance.changed.notified() => true,
                () = tokio::time::sleep(TICK) => false,
            };
            notice_owed |= moved;
            tokio::time::sleep(COALESCE).await;
            let now = crate::db::now_millis();
            let now_leading = self.coordination.is_leader();
            if now_leading && !leading {
                // Taking over (or starting alone): pick up from what the last leader stored.
                tracker = self.seeded().await;
                if let Err(error) = self.history.close_stale_blind_spans(now).await {
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        "cannot close blind spans left by the last run"
                    );
                }
            } else if !now_leading && reseeded.elapsed() >= FOLLOWER_RESEED {
                tracker = self.seeded().await;
                reseeded = tokio::time::Instant::now();
            }
            leading = now_leading;
            let connection = self.live.connection();
            if last_link != Some(connection.link) {
                if leading {
                    self.record_link(last_link, connection).await;
                }
                last_link = Some(connection.link);
            }
            if connection.link != Link::Connected {
                continue;
            }
            let healths = {
                let state = self.live.read();
                if !state.is_synced() {
                    continue;
                }
                evaluate(&state.view(now), &services, &THRESHOLDS)
            };
            let mut healths = healths;
            app::domain::maintenance::overlay(&mut healths, &self.maintenance.current());
            let changes = tracker.observe(&healths, now);
            // Only the leader stores; the others' boards follow their own view.
            if leading && let Err(error) = self.history.record(&changes, &self.hub).await {
                tracing::error!(
                    error = &error as &dyn std::error::Error,
                    "cannot store component status changes"
                );
            }
            for change in changes.iter().filter(|_| leading) {
                if change.from.is_some() {
                    tracing::info!(
                        component.key = %change.key,
                        component.status = change.to.as_str(),
                        "component status changed"
                    );
                }
            }
            let entries = healths
                .into_iter()
                .map(|health| BoardEntry { since: tracker.since(&health.key).unwrap_or(now), health })
                .collect();
            *self.board.write().unwrap_or_else(|e| e.into_inner()) =
                Board { entries, evaluated_at: Some(now) };
            // Each notice wakes every open page (and every stream) at once; pages
            // also reload on their own every few seconds.
            if (notice_owed && last_notice.elapsed() >= NOTICE_EVERY) || !changes.is_empty() {
                self.hub.notice("cluster-state", &json!({ "at": now }));
                last_notice = tokio::time::Instant::now();
                notice_owed = false;
            }
        }
    }

    async fn load_services(&self) -> Vec<app::domain::component::ServiceComponent> {
        match self.components.list().await {
            Ok(list) => list,
            Err(error) => {
                tracing::error!(
                    error = &error as &dyn std::error::Error,
                    "cannot load the service components"
                );
                Vec::new()
            }
        }
    }

    /// Stores a change of the link to the cluster: losing sight opens a blind
    /// span (its time counts as unknown), regaining it closes the span.
    async fn record_link(&self, previous: Option<Link>, connection: app::domain::connection::Connection) {
        let data = json!({
            "link": connection.link,
            "since": connection.since,
            "last_contact": connection.last_contact,
        });
        let visible = match connection.link {
            Link::Unreachable => Some(false),
            Link::Connected if previous.is_some() => Some(true),
            _ => None,
        };
        match connection.link {
            Link::Unreachable => tracing::warn!("the cluster API is unreachable; data is stale"),
            Link::Connected => tracing::info!("connected to the cluster API"),
            _ => {}
        }
        if let Err(error) = self.history.record_link(visible, connection.since, &self.hub, &data).await {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "cannot store the cluster connection change"
            );
        }
    }
}
