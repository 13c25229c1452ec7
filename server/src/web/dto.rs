//! The JSON API's own response types: documented, stable, and built from the
//! stores' records, apart from the page view types in `app` (which may change
//! with the pages). Times are Unix milliseconds.

use crate::actions::ActionRecord;
use crate::actions::drain::PodProgress;
use crate::incidents::{Incident, TimelineEntry};
use app::live::{ComponentTile, DashboardData};
use domain::action::ActionStatus;
use domain::component::{ComponentKey, ComponentKind, Visibility};
use domain::connection::Link;
use domain::health::{ComponentStatus, Reason};
use domain::incident::{Category, IncidentRole, Phase, PublicStatus, Severity};
use domain::incident_lifecycle::TimelineEvent;
use domain::uptime::DayBreakdown;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// An affected component with its live status (`null` when Wheelhouse does not see it now).
#[derive(Serialize, ToSchema)]
pub struct AffectedComponentDto {
    #[schema(value_type = String, example = "service/1")]
    key: ComponentKey,
    name: String,
    status: Option<ComponentStatus>,
}

/// Someone holding a role on an incident.
#[derive(Serialize, ToSchema)]
pub struct RoleHolderDto {
    email: String,
    role: IncidentRole,
}

/// An incident.
#[derive(Serialize, ToSchema)]
pub struct IncidentDto {
    pub id: i64,
    title: String,
    severity: Severity,
    category: Category,
    summary: String,
    status: PublicStatus,
    phase: Phase,
    components: Vec<AffectedComponentDto>,
    /// The commander first.
    roles: Vec<RoleHolderDto>,
    /// The commander's e-mail address.
    commander: Option<String>,
    declared_at: i64,
    declared_by: String,
    acknowledged_at: Option<i64>,
    contained_at: Option<i64>,
    resolved_at: Option<i64>,
    /// When the next stakeholder update is due; `null` when resolved or the severity has no cadence.
    next_update_due: Option<i64>,
    update_overdue: bool,
    /// An admin waived the two-person rule for this incident (break-glass; the reason is on the timeline).
    two_person_rule_waived: bool,
    /// The post-incident review's state; `null` until the incident is resolved.
    review_state: Option<domain::review::ReviewState>,
    /// When publishing the review closed the incident.
    closed_at: Option<i64>,
}

impl IncidentDto {
    /// `incident`, with the names and live statuses of its components from `tiles`.
    pub fn new(incident: &Incident, tiles: &HashMap<ComponentKey, ComponentTile>, now: i64) -> IncidentDto {
        let state = &incident.state;
        let component = |key: &ComponentKey| AffectedComponentDto {
            key: key.clone(),
            name: tiles.get(key).map_or_else(|| key.to_string(), |tile| tile.name.clone()),
            status: tiles.get(key).map(|tile| tile.status),
        };
        IncidentDto {
            id: incident.id,
            title: incident.title.clone(),
            severity: state.severity,
            category: incident.category,
            summary: incident.summary.clone(),
            status: state.status,
            phase: state.phase,
            components: incident.components.iter().map(component).collect(),
            roles: state
                .assignments
                .iter()
                .map(|a| RoleHolderDto { email: a.person.email.clone(), role: a.role })
                .collect(),
            commander: state.commander().map(|person| person.email.clone()),
            declared_at: state.declared_at,
            declared_by: incident.declared_by.clone(),
            acknowledged_at: state.acknowledged_at,
            contained_at: state.contained_at,
            resolved_at: state.resolved_at,
            next_update_due: state.next_update_due(),
            update_overdue: state.update_overdue(now),
            two_person_rule_waived: state.two_person_waived,
            review_state: state.review,
            closed_at: state.closed_at,
        }
    }
}

/// One timeline entry.
#[derive(Serialize, ToSchema)]
pub struct TimelineEntryDto {
    id: i64,
    at: i64,
    /// Who did it: an e-mail address or `token:NAME`.
    actor: String,
    /// declared, acknowledged, severity_changed, status_changed, phase_changed, role_assigned,
    /// role_removed, command_handed_over, note, reopened, update_posted, action_planned,
    /// action_executed, action_failed, action_undone, alert_received, alert_resolved,
    /// two_person_rule_waived, public_title_set, evidence_captured or playbook_step_ticked.
    kind: String,
    /// The entry in a sentence.
    text: String,
    /// A note recorded as a decision.
    decision: bool,
    /// For `evidence_captured`: which capture, and the SHA-256 of its document as downloaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<EvidenceRefDto>,
}

/// A capture named on the timeline.
#[derive(Serialize, ToSchema)]
pub struct EvidenceRefDto {
    id: i64,
    sha256: String,
}

impl From<&TimelineEntry> for TimelineEntryDto {
    fn from(entry: &TimelineEntry) -> Self {
        TimelineEntryDto {
            id: entry.id,
            at: entry.at,
            actor: entry.actor.clone(),
            kind: entry.event.kind().to_owned(),
            text: entry.event.describe(),
            decision: matches!(entry.event, TimelineEvent::Note { decision: true, .. }),
            evidence: match &entry.event {
                TimelineEvent::EvidenceCaptured { evidence, sha256, .. } => {
                    Some(EvidenceRefDto { id: *evidence, sha256: sha256.clone() })
                }
                _ => None,
            },
        }
    }
}

/// What a dry run showed before confirming.
#[derive(Serialize, ToSchema)]
pub struct PreviewDto {
    /// One line per object the action changes.
    changes: Vec<String>,
    /// Pods stopped, started or moved.
    pods: usize,
    /// Service components whose workloads it touches.
    components: Vec<String>,
}

/// A containment action on an incident.
#[derive(Serialize, ToSchema)]
pub struct ActionDto {
    id: i64,
    incident_id: i64,
    /// cordon, uncordon, drain, scale, restart, rollback, pause, resume, isolate_pod,
    /// isolate_namespace or delete_pod.
    action: String,
    description: String,
    status: ActionStatus,
    planned_by: String,
    planned_at: i64,
    preview: Option<PreviewDto>,
    confirmed_by: Option<String>,
    confirmed_at: Option<i64>,
    result: Option<String>,
    /// What undoing it would do; `null` when it cannot be undone.
    undo: Option<String>,
    /// Why it failed, in plain words.
    failure: Option<String>,
    finished_at: Option<i64>,
    undone_by: Option<String>,
    /// Per-pod progress of a drain, one sentence each.
    progress: Vec<String>,
    /// Confirming needs a second person: someone other than `planned_by` (drain, delete pod,
    /// isolate namespace, scale to zero), unless an admin waived the rule for the incident.
    needs_second_person: bool,
}

impl From<&ActionRecord> for ActionDto {
    fn from(action: &ActionRecord) -> Self {
        ActionDto {
            id: action.id,
            incident_id: action.incident_id,
            action: action.spec.name().to_owned(),
            description: action.description.clone(),
            status: action.status,
            planned_by: action.planned_by.clone(),
            planned_at: action.planned_at,
            preview: action.preview.as_ref().map(|preview| PreviewDto {
                changes: preview.dry_run.changes.clone(),
                pods: preview.dry_run.pods,
                components: preview.components.clone(),
            }),
            confirmed_by: action.confirmed_by.clone(),
            confirmed_at: action.confirmed_at,
            result: action.result.clone(),
            undo: action.undo.as_ref().map(ToString::to_string),
            failure: action.failure.clone(),
            finished_at: action.finished_at,
            undone_by: action.undone_by.clone(),
            progress: action.progress.iter().map(PodProgress::describe).collect(),
            needs_second_person: action.spec.needs_second_person(),
        }
    }
}

/// Whether Wheelhouse can see the cluster, and since when.
#[derive(Serialize, ToSchema)]
pub struct ClusterLinkDto {
    /// connected, degraded or unreachable.
    #[schema(value_type = String, example = "connected")]
    link: Link,
    since: i64,
    /// The last answer from the API server.
    last_contact: Option<i64>,
    /// `true` when what is shown may be out of date.
    stale: bool,
    now: i64,
}

/// A component with its status, the reasons for it, and since when.
#[derive(Serialize, ToSchema)]
pub struct ComponentDto {
    #[schema(value_type = String, example = "platform/etcd")]
    key: ComponentKey,
    name: String,
    description: String,
    /// platform, node or service.
    #[schema(value_type = String)]
    kind: ComponentKind,
    /// The dashboard group it shows in.
    group: String,
    /// public or internal.
    #[schema(value_type = String)]
    visibility: Visibility,
    status: ComponentStatus,
    /// The objects and conditions that made the status: `{"object", "detail"}`.
    #[schema(value_type = Vec<Object>)]
    reasons: Vec<Reason>,
    since: i64,
}

/// Every component on the dashboard, and the cluster link.
#[derive(Serialize, ToSchema)]
pub struct ComponentsDto {
    cluster: ClusterLinkDto,
    /// `false` until the first full sync with the cluster.
    evaluated: bool,
    components: Vec<ComponentDto>,
}

impl From<DashboardData> for ComponentsDto {
    fn from(board: DashboardData) -> Self {
        let components = board
            .groups
            .into_iter()
            .flat_map(|group| {
                let name = group.name;
                group.tiles.into_iter().map(move |tile| ComponentDto {
                    key: tile.key,
                    name: tile.name,
                    description: tile.description,
                    kind: tile.kind,
                    group: name.clone(),
                    visibility: tile.visibility,
                    status: tile.status,
                    reasons: tile.reasons,
                    since: tile.since,
                })
            })
            .collect();
        ComponentsDto {
            cluster: ClusterLinkDto {
                link: board.link.link,
                since: board.link.since,
                last_contact: board.link.last_contact,
                stale: board.link.is_stale(),
                now: board.link.now,
            },
            evaluated: board.evaluated,
            components,
        }
    }
}

/// One UTC day of a component's history.
#[derive(Serialize, ToSchema)]
pub struct UptimeDayDto {
    /// Days since 1970-01-01 (UTC).
    day: i64,
    /// Impact-weighted uptime of the time Wheelhouse could see (0 to 1); `null` when it saw none.
    uptime: Option<f64>,
    /// Milliseconds in each status, and `unknown` when the cluster was out of sight.
    #[schema(value_type = Object)]
    millis: DayBreakdown,
}

/// A component's uptime per day, oldest first.
#[derive(Serialize, ToSchema)]
pub struct UptimeDto {
    #[schema(value_type = String, example = "service/1")]
    component: ComponentKey,
    days: Vec<UptimeDayDto>,
}

impl UptimeDto {
    pub fn new(component: ComponentKey, days: &[DayBreakdown]) -> UptimeDto {
        let days = days
            .iter()
            .map(|day| UptimeDayDto { day: day.day, uptime: day.uptime(), millis: *day })
            .collect();
        UptimeDto { component, days }
    }
}

/// An alert, as kept: one per fingerprint (or dedup key), updated by repeats.
#[derive(Serialize, ToSchema)]
pub struct AlertDto {
    id: i64,
    source: domain::alert::AlertSource,
    /// Alertmanager's fingerprint or the generic dedup key.
    fingerprint: String,
    name: String,
    status: domain::alert::AlertStatus,
    severity: domain::alert::AlertSeverity,
    labels: std::collections::BTreeMap<String, String>,
    annotations: std::collections::BTreeMap<String, String>,
    source_url: Option<String>,
    /// The Alertmanager group it last arrived in.
    group_key: Option<String>,
    /// The component it maps to; `null` when unmapped.
    #[schema(value_type = Option<String>, example = "service/1")]
    component: Option<ComponentKey>,
    first_seen: i64,
    last_seen: i64,
    resolved_at: Option<i64>,
    /// How many times it fired again after resolving.
    flap_count: u32,
    /// Where routing sent it: declared, attached, inbox or kept.
    route: String,
    incident_id: Option<i64>,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    silenced_until: Option<i64>,
    silenced_by: Option<String>,
    silence_reason: Option<String>,
}

impl From<crate::alerts::AlertRecord> for AlertDto {
    fn from(alert: crate::alerts::AlertRecord) -> Self {
        AlertDto {
            id: alert.id,
            source: alert.source,
            fingerprint: alert.fingerprint,
            name: alert.name,
            status: alert.status,
            severity: alert.severity,
            labels: alert.labels,
            annotations: alert.annotations,
            source_url: alert.source_url,
            group_key: alert.group_key,
            component: alert.component,
            first_seen: alert.first_seen,
            last_seen: alert.last_seen,
            resolved_at: alert.resolved_at,
            flap_count: alert.flap_count,
            route: alert.route,
            incident_id: alert.incident_id,
            acknowledged_at: alert.acknowledged_at,
            acknowledged_by: alert.acknowledged_by,
            silenced_until: alert.silenced_until,
            silenced_by: alert.silenced_by,
            silence_reason: alert.silence_reason,
        }
    }
}

/// What a delivery of alerts did.
#[derive(Serialize, ToSchema)]
pub struct IntakeDto {
    received: usize,
    /// Alerts seen for the first time.
    new: usize,
    resolved: usize,
    /// Incidents declared from these alerts.
    declared: Vec<i64>,
    /// Incidents these alerts were attached to.
    attached: Vec<i64>,
}

impl From<crate::services::alerts::IntakeReport> for IntakeDto {
    fn from(report: crate::services::alerts::IntakeReport) -> Self {
        IntakeDto {
            received: report.received,
            new: report.new,
            resolved: report.resolved,
            declared: report.declared,
            attached: report.attached,
        }
    }
}
