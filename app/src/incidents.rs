//! What the incident pages show of an incident, the server's
//! side of those pages ([`IncidentBackend`]), and the server functions that
//! read through it. Changes go through form posts and the JSON API, which the
//! server handles; nothing here writes.

use crate::domain::component::ComponentKey;
use crate::domain::health::ComponentStatus;
use crate::domain::incident::{Category, IncidentRole, Phase, PublicStatus, Severity};
use crate::domain::role::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An affected component with its live status (`None` when Wheelhouse does not know it now).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedComponent {
    pub key: ComponentKey,
    pub name: String,
    pub status: Option<ComponentStatus>,
}

/// Someone holding a role on an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleHolder {
    pub email: String,
    pub role: IncidentRole,
}

/// An incident. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentView {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub summary: String,
    pub status: PublicStatus,
    pub phase: Phase,
    pub components: Vec<AffectedComponent>,
    /// The commander first.
    pub roles: Vec<RoleHolder>,
    pub commander: Option<String>,
    pub declared_at: i64,
    pub declared_by: String,
    pub acknowledged_at: Option<i64>,
    pub contained_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// When the next stakeholder update is due; `None` when resolved or the severity has no cadence.
    pub next_update_due: Option<i64>,
    pub update_overdue: bool,
    /// An admin waived the two-person rule for this incident (break-glass).
    #[serde(default)]
    pub two_person_waived: bool,
    /// The title the public sees: the one set, or the neutral one offered at the first public update.
    #[serde(default)]
    pub public_title: String,
    /// Whether a public title was set (at a public update) yet.
    #[serde(default)]
    pub public_title_set: bool,
    /// The post-incident review, once the incident was resolved.
    #[serde(default)]
    pub review: Option<crate::domain::review::ReviewState>,
    /// When publishing the review closed the incident.
    #[serde(default)]
    pub closed_at: Option<i64>,
}

/// One timeline entry, as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineLine {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub text: String,
    pub decision: bool,
}

/// What a dry run showed before confirming.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    /// One line per object the action changes.
    pub changes: Vec<String>,
    /// Pods stopped, started or moved.
    pub pods: usize,
    /// Service components whose workloads it touches.
    pub components: Vec<String>,
}

/// A containment action on an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionView {
    pub id: i64,
    pub incident_id: i64,
    /// The action's name: cordon, drain, scale, …
    pub action: String,
    pub description: String,
    pub status: crate::domain::action::ActionStatus,
    pub planned_by: String,
    pub planned_at: i64,
    pub preview: Option<PreviewView>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
    pub result: Option<String>,
    /// What undoing it would do; `None` when it cannot be undone.
    pub undo: Option<String>,
    pub failure: Option<String>,
    pub finished_at: Option<i64>,
    pub undone_by: Option<String>,
    /// Per-pod progress of a drain, in words.
    pub progress: Vec<String>,
    /// Confirming needs someone other than the planner (drain, delete pod, isolate namespace, scale to zero).
    #[serde(default)]
    pub needs_second_person: bool,
    /// The protected namespace it acts in (only an admin confirms), if any.
    #[serde(default)]
    pub protected_namespace: Option<String>,
    /// Whether the person viewing the room may take its next step (confirm or undo); the server still decides.
    #[serde(default)]
    pub viewer_may_step: bool,
}

/// A choice in a picker: the value sent and the words shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// What the action pickers offer, from the live cluster state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pickers {
    pub nodes: Vec<Choice>,
    /// `kind/namespace/name`; the affected components' workloads first.
    pub workloads: Vec<Choice>,
    /// `namespace/name`; the affected components' pods first.
    pub pods: Vec<Choice>,
    pub namespaces: Vec<Choice>,
}

/// A capture of evidence, as the room lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLine {
    pub id: i64,
    /// `deployment/shop/checkout`, `node/worker-2`, …
    pub subject: String,
    pub captured_at: i64,
    pub captured_by: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A step of a matched playbook's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub index: usize,
    pub text: String,
    pub done: bool,
}

/// A suggested action with its parameters filled in from the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestionView {
    pub title: String,
    /// What its button plans (and previews) in one click.
    pub form: crate::domain::action::ActionForm,
    /// The action already planned for it on this incident: its id and status.
    pub action: Option<(i64, crate::domain::action::ActionStatus)>,
}

/// A playbook matching the incident, with its checklist and suggestions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceView {
    pub id: String,
    pub title: String,
    pub summary: String,
    /// What it matched on, in words.
    pub matched_by: Vec<String>,
    pub steps: Vec<StepView>,
    pub suggestions: Vec<SuggestionView>,
}

/// Everything the incident room shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRoom {
    pub incident: IncidentView,
    /// Newest first.
    pub timeline: Vec<TimelineLine>,
    /// Accounts that may be given a role (responders and admins), by e-mail address.
    pub people: Vec<String>,
    /// Newest first.
    pub actions: Vec<ActionView>,
    pub pickers: Pickers,
    /// A fresh idempotency key for each confirm and undo form on this render.
    pub form_key: String,
    pub now: i64,
    /// Captures, newest first.
    #[serde(default)]
    pub evidence: Vec<EvidenceLine>,
    /// Matched playbooks, best first.
    #[serde(default)]
    pub guidance: Vec<GuidanceView>,
}

/// A component that can be chosen as affected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentChoice {
    pub key: ComponentKey,
    pub name: String,
    pub group: String,
    pub status: ComponentStatus,
}

/// The incident list's filter, from the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentQuery {
    pub severity: Option<Severity>,
    pub status: Option<PublicStatus>,
    /// Resolved incidents resolved before this place (from a previous page's "older" link).
    pub resolved_before: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentList {
    pub active: Vec<IncidentView>,
    /// A page of them, most recently resolved first.
    pub resolved: Vec<IncidentView>,
    /// Where the next page of resolved incidents starts, when there is one.
    pub older: Option<String>,
    pub now: i64,
}

/// An API token as the admin page lists it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// An account as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub email: String,
    pub role: Role,
    /// When it was disabled; `None`: active.
    pub disabled_at: Option<i64>,
}

/// A stakeholder-update template as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRow {
    pub audience: crate::domain::update::Audience,
    pub purpose: crate::domain::update::Purpose,
    pub body: String,
    pub customised: bool,
}

/// A webhook as the admin page lists it, with its latest delivery attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: i64,
    pub audience: crate::domain::update::Audience,
    pub format: String,
    pub url: String,
    /// The signing secret receivers verify deliveries with (`X-Wheelhouse-Signature`).
    #[serde(default)]
    pub secret: String,
    /// Newest first: "incident 3, update 17, attempt 2: retrying (HTTP 500)".
    pub deliveries: Vec<String>,
}

/// A playbook as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookRow {
    pub id: String,
    pub title: String,
    pub source: String,
    pub shipped: bool,
    pub customised: bool,
    pub enabled: bool,
    pub updated_by: Option<String>,
}

/// One active incident on the executive briefing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefingIncident {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub status: PublicStatus,
    /// The latest executive update, which says the customer impact in plain words.
    pub impact: Option<String>,
    pub declared_at: i64,
    pub commander: Option<String>,
    pub communications_lead: Option<String>,
    pub next_update_due: Option<i64>,
    pub update_overdue: bool,
    pub decisions: Vec<String>,
}

/// The last 30 days in numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recent {
    /// Incidents declared, per severity, SEV1 first.
    pub by_severity: Vec<(Severity, usize)>,
    /// Mean time from declaration to acknowledgement, and to resolution (ms).
    pub mean_to_acknowledge: Option<i64>,
    pub mean_to_resolve: Option<i64>,
    /// Incidents declared per day, oldest first (30 entries).
    pub per_day: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Briefing {
    pub active: Vec<BriefingIncident>,
    pub recent: Recent,
    pub now: i64,
    /// Everyone's open follow-ups, soonest due first.
    #[serde(default)]
    pub follow_ups: crate::reviews::FollowUpSummary,
    /// Customer-facing downtime per public component over the last 30 days, most first.
    #[serde(default)]
    pub downtime: Vec<crate::reviews::Downtime>,
}

/// The server's side of the incident pages.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait IncidentBackend: Send + Sync + 'static {
    async fn list(&self, query: &IncidentQuery) -> Result<IncidentList, String>;
    /// `Ok(None)` when there is no such incident.
    async fn room(&self, id: i64, viewer: Option<&SignedInUserRef>) -> Result<Option<IncidentRoom>, String>;
    fn component_choices(&self) -> Vec<ComponentChoice>;
    /// The API tokens that automation drives incidents with.
    async fn api_tokens(&self) -> Result<Vec<TokenRow>, String>;
    /// Every account, disabled ones too.
    async fn users(&self) -> Result<Vec<UserRow>, String>;
    async fn templates(&self) -> Result<Vec<TemplateRow>, String>;
    async fn webhooks(&self) -> Result<Vec<WebhookRow>, String>;
    /// Status-page subscribers matching `search`, and whether subscriptions are offered.
    async fn subscribers(&self, search: &str) -> Result<(bool, Vec<SubscriberLine>), String>;
    /// Every playbook, for the admin page.
    async fn playbooks(&self) -> Result<Vec<PlaybookRow>, String>;
    /// The executive briefing: every active incident, or just `only`.
    async fn briefing(&self, only: Option<i64>) -> Result<Briefing, String>;
    /// An incident's post-incident review; `Ok(None)` when there is no such incident.
    async fn review(
        &self,
        id: i64,
        viewer: Option<&SignedInUserRef>,
    ) -> Result<Option<crate::reviews::ReviewPage>, String>;
    /// Insights for the period `from`..`to` (`YYYY-MM-DD`, both included; empty: the last 90 days).
    async fn insights(&self, from: &str, to: &str) -> Result<crate::domain::insights::Insights, String>;
    /// `/maintenance`: the windows and what the schedule form offers.
    async fn maintenance(&self) -> Result<crate::maintenance::MaintenanceList, String>;
    /// One window; `Ok(None)` when there is no such window.
    async fn maintenance_window(
        &self,
        id: i64,
        viewer: Option<String>,
    ) -> Result<Option<crate::maintenance::WindowPage>, String>;
    /// The open follow-ups `viewer` owns.
    async fn my_follow_ups(
        &self,
        viewer: &SignedInUserRef,
    ) -> Result<crate::reviews::FollowUpSummary, String>;
}

#[cfg(feature = "ssr")]
pub(crate) fn backend(role: Role) -> Result<std::sync::Arc<dyn IncidentBackend>, ServerFnError> {
    crate::live::authorise(role)?;
    use_context::<std::sync::Arc<dyn IncidentBackend>>()
        .ok_or_else(|| ServerFnError::new("the incident data is not available"))
}

#[server]
pub async fn load_incidents(
    severity: Option<Severity>,
    status: Option<PublicStatus>,
    resolved_before: Option<String>,
) -> Result<IncidentList, ServerFnError> {
    let query = IncidentQuery { severity, status, resolved_before };
    backend(Role::Responder)?.list(&query).await.map_err(ServerFnError::new)
}

/// Who is looking at a room, so that it offers only the steps they may take.
pub type SignedInUserRef = crate::page_context::SignedInUser;

#[server]
pub async fn load_incident_room(id: i64) -> Result<Option<IncidentRoom>, ServerFnError> {
    let viewer = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::page_context::PageContext>().cloned())
        .and_then(|ctx| ctx.user);
    let room = backend(Role::Responder)?.room(id, viewer.as_ref()).await.map_err(ServerFnError::new)?;
    if let (None, Some(response)) = (&room, use_context::<leptos_axum::ResponseOptions>()) {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    Ok(room)
}

#[server]
pub async fn load_component_choices() -> Result<Vec<ComponentChoice>, ServerFnError> {
    Ok(backend(Role::Responder)?.component_choices())
}

#[server]
pub async fn load_api_tokens() -> Result<Vec<TokenRow>, ServerFnError> {
    backend(Role::Admin)?.api_tokens().await.map_err(ServerFnError::new)
}

#[server]
pub async fn load_users() -> Result<Vec<UserRow>, ServerFnError> {
    backend(Role::Admin)?.users().await.map_err(ServerFnError::new)
}

#[server]
pub async fn load_templates() -> Result<Vec<TemplateRow>, ServerFnError> {
    backend(Role::Admin)?.templates().await.map_err(ServerFnError::new)
}

#[server]
pub async fn load_webhooks() -> Result<Vec<WebhookRow>, ServerFnError> {
    backend(Role::Admin)?.webhooks().await.map_err(ServerFnError::new)
}

/// A status-page subscriber, as `/admin/subscribers` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberLine {
    pub id: i64,
    /// The address told, or a webhook subscriber's contact.
    pub email: String,
    /// Where a webhook subscriber's notices are posted.
    pub webhook_url: Option<String>,
    /// pending, confirmed or unsubscribed.
    pub state: String,
    /// Component names; empty: all.
    pub components: Vec<String>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

/// Subscribers whose address contains `search`, and whether subscriptions are offered at all.
#[server]
pub async fn load_subscribers(search: String) -> Result<(bool, Vec<SubscriberLine>), ServerFnError> {
    backend(Role::Admin)?.subscribers(&search).await.map_err(ServerFnError::new)
}

#[server]
pub async fn load_playbooks() -> Result<Vec<PlaybookRow>, ServerFnError> {
    backend(Role::Admin)?.playbooks().await.map_err(ServerFnError::new)
}

#[server]
pub async fn load_briefing(only: Option<i64>) -> Result<Briefing, ServerFnError> {
    backend(Role::Viewer)?.briefing(only).await.map_err(ServerFnError::new)
}

/// "3 h 12 min", "4 min", "20 s": a duration for people.
pub fn duration_text(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_the_right_scale() {
        assert_eq!(duration_text(20_000), "20 s");
        assert_eq!(duration_text(4 * 60_000 + 59_000), "4 min");
        assert_eq!(duration_text((3 * 3600 + 12 * 60) * 1000), "3 h 12 min");
        assert_eq!(duration_text((2 * 86_400 + 3600) * 1000), "2 d 1 h");
    }
}
