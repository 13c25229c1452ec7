//! What the alert pages show (the inbox and the routing policy), the port the
//! server implements to provide it, and the server functions that read through
//! it. Acknowledging, silencing, attaching and editing the policy are form
//! posts the server handles; nothing here writes.

use crate::domain::alert::{AlertSeverity, AlertStatus};
#[cfg(feature = "ssr")]
use crate::domain::role::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One alert as the inbox shows it. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    /// `alertmanager`, `generic` or `wheelhouse`.
    pub source: String,
    pub name: String,
    pub status: AlertStatus,
    pub severity: AlertSeverity,
    /// The component's name, or `None` when unmapped (the labels say what it is about).
    pub component: Option<String>,
    pub component_key: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// `name=value`, alertname and severity left out.
    pub labels: Vec<String>,
    pub runbook_url: Option<String>,
    pub source_url: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub resolved_at: Option<i64>,
    pub flap_count: u32,
    /// `declared`, `attached`, `inbox` or `kept`.
    pub route: String,
    pub incident: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    /// Silenced (now) until then, by whom and why.
    pub silenced_until: Option<i64>,
    pub silenced_by: Option<String>,
    pub silence_reason: Option<String>,
}

/// Alerts that arrived together (one Alertmanager group, or one source).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroupView {
    /// The Alertmanager group key, when there is one (for "declare from the group").
    pub key: Option<String>,
    /// The group's labels in words, or the source.
    pub title: String,
    pub receiver: Option<String>,
    /// Alerts Alertmanager left out of its last delivery.
    pub truncated_alerts: u32,
    /// Newest first.
    pub alerts: Vec<AlertView>,
}

/// An incident an alert can be attached to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIncident {
    pub id: i64,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertInbox {
    /// Groups by their newest alert, newest first.
    pub groups: Vec<AlertGroupView>,
    pub under_way: Vec<OpenIncident>,
    pub include_kept: bool,
    pub include_silenced: bool,
    /// Where the next page starts, when there is more.
    pub older: Option<String>,
    pub now: i64,
}

/// One rule of the routing policy as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    pub id: i64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingPolicy {
    pub rules: Vec<RuleRow>,
    /// "by a@example.com at …", or `None` while the shipped defaults apply.
    pub customised: Option<String>,
    pub storm_limit: u32,
    pub detection_after_seconds: i64,
}

/// The server's side of the alert pages.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AlertBackend: Send + Sync + 'static {
    async fn inbox(
        &self,
        include_kept: bool,
        include_silenced: bool,
        before: Option<String>,
    ) -> Result<AlertInbox, String>;
    async fn policy(&self) -> Result<RoutingPolicy, String>;
    /// The declaration form prefilled from alerts (ids), for `/incidents/new`; `None` when none exists.
    async fn declaration_for(
        &self,
        alerts: Vec<i64>,
    ) -> Result<Option<crate::domain::incident::DeclarationForm>, String>;
}

#[cfg(feature = "ssr")]
fn backend(role: Role) -> Result<std::sync::Arc<dyn AlertBackend>, ServerFnError> {
    crate::live::authorise(role)?;
    use_context::<std::sync::Arc<dyn AlertBackend>>()
        .ok_or_else(|| ServerFnError::new("the alert data is not available"))
}

#[server]
pub async fn load_alert_inbox(
    include_kept: bool,
    include_silenced: bool,
    before: Option<String>,
) -> Result<AlertInbox, ServerFnError> {
    backend(Role::Responder)?.inbox(include_kept, include_silenced, before).await.map_err(ServerFnError::new)
}

#[server]
pub async fn load_alert_policy() -> Result<RoutingPolicy, ServerFnError> {
    backend(Role::Admin)?.policy().await.map_err(ServerFnError::new)
}

/// The declaration prefilled from alerts (`ids` comma-separated); `None` when none of them exists.
#[server]
pub async fn load_alert_declaration(
    ids: String,
) -> Result<Option<crate::domain::incident::DeclarationForm>, ServerFnError> {
    let ids: Vec<i64> = ids.split(',').filter_map(|id| id.trim().parse().ok()).take(500).collect();
    backend(Role::Responder)?.declaration_for(ids).await.map_err(ServerFnError::new)
}
