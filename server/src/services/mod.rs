//! The service layer: one function per use case (declare, transition, assign a
//! role, add a note, render and publish an update, save a template, plan,
//! preview, confirm and undo an action, administer components, tokens and
//! webhooks, capture evidence, match playbooks and tick their steps, and the
//! reads beside them).
//!
//! Each takes the acting [`Principal`] and input, parses the input into domain
//! values, applies the domain rules through the ports, and answers domain
//! results or a [`ServiceError`]. Form handlers, JSON handlers and server
//! functions call these and nothing below them; they only authorise (through
//! the role extractors in `web::extract`) and map the answer.

pub mod actions;
pub mod admin;
pub mod alerts;
pub mod components;
mod error;
pub mod evidence;
pub mod incidents;
pub mod insights;
pub mod maintenance;
pub mod ports;
pub mod reviews;
pub mod subscribers;
pub mod updates;

pub use error::{ServiceError, ServiceResult};

use crate::accounts::{Accounts, User};
use crate::tokens::ApiToken;
use app::live::LiveBackend;
use domain::incident_lifecycle::Actor;
use domain::role::Role;
use ports::{ActionStore, Clock, IncidentStore, Notifier};
use std::sync::Arc;

/// The caller of a use case: a signed-in account or an API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Account(User),
    Token(ApiToken),
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Account(user) => user.role,
            Principal::Token(token) => token.role,
        }
    }

    /// The caller as the incident rules and the timeline see it.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Account(user) => Actor::account(user.id, &user.email, user.role),
            Principal::Token(token) => Actor::token(&token.name, token.role),
        }
    }

    /// A name for logs and for "created by" columns.
    pub fn name(&self) -> String {
        self.actor().name
    }
}

/// What the use cases act through. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub incidents: Arc<dyn IncidentStore>,
    pub actions: Arc<dyn ActionStore>,
    pub templates: crate::updates::Templates,
    pub notifier: Arc<dyn Notifier>,
    pub accounts: Accounts,
    pub components: crate::components::Components,
    pub tokens: crate::tokens::Tokens,
    pub webhooks: crate::webhooks::Webhooks,
    /// The in-memory view of the cluster's components (fed by the watchers).
    pub live: Arc<dyn LiveBackend>,
    pub clock: Arc<dyn Clock>,
    /// Each component's status history.
    pub history: crate::history::History,
    pub alerts: crate::alerts::Alerts,
    /// The cluster as alert labels are mapped to components.
    pub cluster: Arc<dyn alerts::ClusterDirectory>,
    pub alert_settings: AlertSettings,
    /// Alert deliveries route one at a time (see `alerts::ingest`).
    pub alert_routing: Arc<tokio::sync::Mutex<()>>,
    /// Captured evidence, kept immutable.
    pub evidence: crate::evidence::EvidenceStore,
    /// What reads evidence from the cluster.
    pub evidence_source: Arc<dyn ports::EvidenceSource>,
    pub playbooks: crate::playbooks::Playbooks,
    /// Post-incident reviews and follow-ups.
    pub reviews: crate::reviews::Reviews,
    /// Figures over a period, aggregated in SQL.
    pub insights: crate::insights::InsightsStore,
    /// Scheduled maintenance windows and their planned actions.
    pub maintenance: crate::maintenance::MaintenanceStore,
    /// Woken when a window moves here, so the components' overlay follows at once.
    pub maintenance_changed: Arc<tokio::sync::Notify>,
    /// What runs planned maintenance actions (the same actuator as incident actions).
    pub actuator: Arc<dyn ports::ClusterActuator>,
    /// Protected namespaces (admins only), as for incident actions.
    pub safety: Arc<domain::action::SafetyPolicy>,
    /// Status-page subscribers and their mail outbox.
    pub subscribers: crate::subscribers::Subscribers,
    /// How subscribers' mail goes out; `None` when no SMTP server is configured.
    pub mailer: Option<crate::subscribers::mail::Mailer>,
}

/// How alerts are handled, from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    pub storm: domain::alert::StormGuard,
    /// How long a component stays in partial or major outage before Wheelhouse raises its own alert.
    pub detection_after_ms: i64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings { storm: domain::alert::StormGuard::default(), detection_after_ms: 120_000 }
    }
}
