//! The public status page and its feeds, served from a cache: a snapshot of
//! public data only (public service components, incidents that have a public
//! update, their public updates, 90 days of uptime) rendered once into every
//! format — HTML, Atom, and Statuspage-shaped JSON — each with its ETag. The
//! snapshot is rebuilt when a component or an incident changes (and every
//! minute, for the day's uptime), never per request, and it keeps being
//! served while the cluster API is down.

pub mod render;
pub mod statuspage;

use crate::db::now_millis;
use crate::events::EventHub;
use crate::history::History;
use crate::incidents::{IncidentFilter, Incidents, TimelineEntry};
use app::domain::component::{ComponentKind, Visibility};
use app::domain::health::ComponentStatus;
use app::domain::incident::{PublicStatus, Severity};
use app::domain::incident_lifecycle::TimelineEvent;
use app::domain::update::{Audience, Purpose};
use app::live::LiveBackend;
use axum::body::Bytes;
use http::HeaderValue;
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Days of uptime shown per component.
pub const UPTIME_DAYS: usize = 90;
/// Past incidents listed on the history page.
pub const HISTORY_LIMIT: usize = 50;

/// A public component as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicComponent {
    pub key: String,
    pub name: String,
    pub description: String,
    pub group: String,
    pub status: ComponentStatus,
    pub since: i64,
    /// Oldest first; `None` for a day with nothing known.
    pub uptime: Vec<(i64, Option<f64>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PublicUpdate {
    pub id: i64,
    pub at: i64,
    pub purpose: Purpose,
    pub text: String,
}

/// An incident that has at least one public update.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicIncident {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub status: PublicStatus,
    pub declared_at: i64,
    pub resolved_at: Option<i64>,
    pub updated_at: i64,
    /// Public components it affects: (key, name).
    pub components: Vec<(String, String)>,
    /// Newest first.
    pub updates: Vec<PublicUpdate>,
}

/// Public data only; nothing else is read by the renderers.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicData {
    /// The built-in drill cluster, not a real one: every page says so.
    pub drill: bool,
    pub components: Vec<PublicComponent>,
    pub incidents: Vec<PublicIncident>,
    /// Scheduled maintenance: not cancelled, and not finished more than 30 days ago.
    pub maintenances: Vec<PublicMaintenance>,
    /// Whether the page offers e-mail subscriptions.
    pub subscribe: bool,
    pub built_at: i64,
}

/// A maintenance window as the public sees it: its title, public description,
/// times, state and the public components it concerns (never its planned
/// actions or its log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicMaintenance {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub state: app::domain::maintenance::MaintenanceState,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// (key, name) of the public components it concerns.
    pub components: Vec<(String, String)>,
}

impl PublicMaintenance {
    /// Upcoming: scheduled and not yet started.
    pub fn upcoming(&self) -> bool {
        self.state == app::domain::maintenance::MaintenanceState::Scheduled
    }

    pub fn active(&self) -> bool {
        self.state.active()
    }
}

impl PublicData {
    pub fn active(&self) -> impl Iterator<Item = &PublicIncident> {
        self.incidents.iter().filter(|i| i.resolved_at.is_none())
    }
}

/// One rendered document, compressed once, with its validators: everything
/// a request for it needs, ready to be shared with the socket (no copy).
#[derive(Clone, Debug)]
pub struct Rendered {
    pub body: Bytes,
    /// The body gzip-compressed, for clients that accept it.
    pub gzip: Bytes,
    /// Strong validators of the two representations.
    pub etag: HeaderValue,
    pub gzip_etag: HeaderValue,
    pub content_type: HeaderValue,
}

impl Rendered {
    fn new(body: String, content_type: &'static str) -> Rendered {
        use std::io::Write;
        let digest = Sha256::digest(body.as_bytes());
        let tag = digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to memory cannot fail.
        let gzip = encoder.write_all(body.as_bytes()).and_then(|()| encoder.finish()).unwrap_or_default();
        let header = |text: String| HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("\"\""));
        Rendered {
            body: Bytes::from(body),
            gzip: Bytes::from(gzip),
            etag: header(format!("\"{tag}\"")),
            gzip_etag: header(format!("\"{tag}-gzip\"")),
            content_type: HeaderValue::from_static(content_type),
        }
    }
}

/// Every public document, rendered from one snapshot.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub page: Rendered,
    pub history: Rendered,
    pub feed: Rendered,
    pub summary: Rendered,
    pub status: Rendered,
    pub components: Rendered,
    pub incidents: Rendered,
    pub maintenances: Rendered,
    pub upcoming: Rendered,
    pub active: Rendered,
    pub calendar: Rendered,
}

impl Snapshot {
    pub fn render(data: &PublicData, base_url: &str) -> Snapshot {
        let json = |value: serde_json::Value| Rendered::new(value.to_string(), "application/json");
        Snapshot {
            page: Rendered::new(render::page(data), "text/html; charset=utf-8"),
            history: Rendered::new(render::history(data), "text/html; charset=utf-8"),
            feed: Rendered::new(render::feed(data, base_url), "application/atom+xml; charset=utf-8"),
            summary: json(statuspage::summary(data, base_url)),
            status: json(statuspage::status(data, base_url)),
            components: json(statuspage::components(data, base_url)),
            incidents: json(statuspage::incidents(data, base_url)),
            maintenances: json(statuspage::maintenances(data, base_url, |_| true)),
            upcoming: json(statuspage::maintenances(data, base_url, PublicMaintenance::upcoming)),
            active: json(statuspage::maintenances(data, base_url, PublicMaintenance::active)),
            calendar: Rendered::new(render::calendar(data, base_url), "text/calendar; charset=utf-8"),
        }
    }
}

/// The cache the handlers read.
pub struct StatusPage {
    snapshot: RwLock<Arc<Snapshot>>,
}

impl StatusPage {
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Whether a live event can change what the public sees: a service
/// component's status, a public update or a status, severity or public-title
/// change, the link to the cluster. Internal notes, actions, alerts, node and
/// platform changes and the every-second "cluster state moved" notice cannot.
fn may_change_public_data(event: &crate::events::LiveEvent) -> bool {
    match event.kind.as_str() {
        "component" => event.data.contains("\"component\":\"service/"),
        "incident" => {
            let kind = serde_json::from_str::<serde_json::Value>(&event.data)
                .ok()
                .and_then(|data| data["kind"].as_str().map(str::to_owned))
                .unwrap_or_default();
            match kind.as_str() {
                "update_posted" => event.data.contains("\"text\":\"Public update"),
                "status_changed" | "severity_changed" | "reopened" | "public_title_set" => true,
                _ => false,
            }
        }
        "cluster" | "maintenance" => true,
        _ => false,
    }
}

/// What building a snapshot reads.
#[derive(Clone)]
pub struct Sources {
    pub live: Arc<dyn LiveBackend>,
    pub incidents: Incidents,
    pub maintenance: crate::maintenance::MaintenanceStore,
    pub history: History,
    pub base_url: String,
    /// Whether the data comes from the built-in drill cluster, which the page then says.
    pub drill: bool,
    /// Whether the page offers e-mail subscriptions (SMTP is configured).
    pub subscribe: bool,
}

impl Sources {
    /// What the public components look like now, from memory (no query): a
    /// "cluster state moved" notice rebuilds the page only when this changed.
    fn public_tiles(&self) -> Vec<(String, String, String, String, ComponentStatus)> {
        let mut tiles: Vec<_> = self
            .live
            .all_components()
            .into_iter()
            .filter(|(_, tile)| tile.kind == ComponentKind::Service && tile.visibility == Visibility::Public)
            .map(|(group, tile)| (tile.key.to_string(), tile.name, tile.description, group, tile.status))
            .collect();
        tiles.sort();
        tiles
    }

    pub async fn collect(&self) -> Result<PublicData, crate::incidents::IncidentError> {
        let now = now_millis();
        let mut components = Vec::new();
        for (group, tile) in self.live.all_components() {
            if tile.kind != ComponentKind::Service || tile.visibility != Visibility::Public {
                continue;
            }
            let uptime = self
                .history
                .daily(&tile.key, UPTIME_DAYS, now)
                .await
                .map_err(crate::incidents::IncidentError::Db)?
                .into_iter()
                .map(|day| (day.day, day.uptime()))
                .collect();
            components.push(PublicComponent {
                key: tile.key.to_string(),
                name: tile.name,
                description: tile.description,
                group,
                status: tile.status,
                since: tile.since,
                uptime,
            });
        }
        components.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
        let mut incidents = Vec::new();
        // Only incidents with a public update, and only their updates, in two queries.
        let public =
            self.incidents.list(&IncidentFilter { public_only: true, ..IncidentFilter::default() }).await?;
        let ids: Vec<i64> = public.iter().map(|i| i.id).collect();
        let mut posted: std::collections::HashMap<i64, Vec<TimelineEntry>> = std::collections::HashMap::new();
        for entry in self.incidents.events_of_kinds(&ids, &["update_posted"]).await? {
            posted.entry(entry.incident_id).or_default().push(entry);
        }
        for incident in public {
            let timeline = posted.remove(&incident.id).unwrap_or_default();
            let updates: Vec<PublicUpdate> = timeline
                .iter()
                .rev()
                .filter_map(|entry| match &entry.event {
                    TimelineEvent::UpdatePosted { audience: Audience::Public, purpose, text } => {
                        Some(PublicUpdate {
                            id: entry.id,
                            at: entry.at,
                            purpose: *purpose,
                            text: text.clone(),
                        })
                    }
                    _ => None,
                })
                .collect();
            let Some(latest) = updates.first() else { continue };
            let affected = incident
                .components
                .iter()
                .filter_map(|key| components.iter().find(|c| c.key == key.as_str()))
                .map(|c| (c.key.clone(), c.name.clone()))
                .collect();
            incidents.push(PublicIncident {
                id: incident.id,
                // The title set for the public, else a neutral one: never the internal title.
                title: incident.state.public_title.clone().unwrap_or_else(|| {
                    let names: Vec<String> = incident
                        .components
                        .iter()
                        .filter_map(|key| components.iter().find(|c| c.key == key.as_str()))
                        .map(|c| c.name.clone())
                        .collect();
                    app::domain::incident::neutral_public_title(&names)
                }),
                severity: incident.state.severity,
                status: incident.state.status,
                declared_at: incident.state.declared_at,
                resolved_at: incident.state.resolved_at,
                updated_at: latest.at.max(incident.state.resolved_at.unwrap_or(0)),
                components: affected,
                updates,
            });
        }
        incidents.sort_by_key(|i| std::cmp::Reverse(i.updated_at));
        let maintenances = self
            .maintenance
            .list(now - 30 * 24 * 3600 * 1000)
            .await
            .map_err(crate::incidents::IncidentError::Db)?
            .into_iter()
            .filter(|w| w.state != app::domain::maintenance::MaintenanceState::Cancelled)
            .map(|w| PublicMaintenance {
                id: w.id,
                components: w
                    .components
                    .iter()
                    .filter_map(|key| components.iter().find(|c| c.key == key.as_str()))
                    .map(|c| (c.key.clone(), c.name.clone()))
                    .collect(),
                title: w.title,
                description: w.description,
                state: w.state,
                starts_at: w.starts_at,
                ends_at: w.ends_at,
                created_at: w.created_at,
                updated_at: w.updated_at,
                started_at: w.started_at,
                ended_at: w.ended_at,
            })
            .collect();
        Ok(PublicData {
            drill: self.drill,
            components,
            incidents,
            maintenances,
            subscribe: self.subscribe,
            built_at: now,
        })
    }
}

/// Builds the first snapshot and keeps it fresh: rebuilt on component,
/// incident and cluster events (at most twice a second) and every minute.
pub async fn start(sources: Sources, hub: &EventHub) -> Arc<StatusPage> {
    let empty = PublicData {
        drill: sources.drill,
        components: Vec::new(),
        incidents: Vec::new(),
        maintenances: Vec::new(),
        subscribe: sources.subscribe,
        built_at: now_millis(),
    };
    let first = sources.collect().await.unwrap_or(empty);
    let page =
        Arc::new(StatusPage { snapshot: RwLock::new(Arc::new(Snapshot::render(&first, &sources.base_url))) });
    let mut events = hub.subscribe();
    let weak = Arc::downgrade(&page);
    tokio::spawn(async move {
        let mut last = first;
        let mut tiles = sources.public_tiles();
        loop {
            let woken = tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    match events.recv().await {
                        Ok(event) if may_change_public_data(&event) => return true,
                        // Components added, renamed or re-grouped by an admin show here first.
                        Ok(event) if event.kind == "cluster-state" => {
                            let now = sources.public_tiles();
                            if now != tiles {
                                tiles = now;
                                return true;
                            }
                        }
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return true,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
                    }
                }
            })
            .await;
            if woken == Ok(false) {
                return;
            }
            let Some(page) = weak.upgrade() else { return };
            match sources.collect().await {
                // Unchanged data keeps the same documents, and so the same ETags.
                Ok(data)
                    if data.components == last.components
                        && data.incidents == last.incidents
                        && data.maintenances == last.maintenances => {}
                Ok(data) => {
                    let snapshot = Arc::new(Snapshot::render(&data, &sources.base_url));
                    *page.snapshot.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
                    last = data;
                }
                Err(error) => tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "could not refresh the status page; serving the previous one"
                ),
            }
            drop(page);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    page
}

#[cfg(test)]
mod rebuild_tests {
    use super::may_change_public_data;
    use crate::events::LiveEvent;

    fn event(kind: &str, data: &str) -> LiveEvent {
        LiveEvent::new(Some(1), kind.into(), data.into())
    }

    #[test]
    fn only_what_the_public_sees_rebuilds_the_page() {
        assert!(may_change_public_data(&event(
            "component",
            r#"{"component":"service/2","status":"major_outage"}"#
        )));
        assert!(!may_change_public_data(&event(
            "component",
            r#"{"component":"node/worker-1","status":"major_outage"}"#
        )));
        assert!(may_change_public_data(&event(
            "incident",
            r#"{"kind":"update_posted","text":"Public update (Identified) published: x"}"#
        )));
        assert!(!may_change_public_data(&event(
            "incident",
            r#"{"kind":"update_posted","text":"Internal update (Identified) published: x"}"#
        )));
        assert!(!may_change_public_data(&event("incident", r#"{"kind":"note","text":"secret"}"#)));
        assert!(may_change_public_data(&event("incident", r#"{"kind":"status_changed","text":"x"}"#)));
        assert!(!may_change_public_data(&event("alert", r#"{"received":1}"#)));
        assert!(!may_change_public_data(&event("cluster-state", r#"{"at":1}"#)));
    }
}
