//! The ports the services act through, held as `Arc<dyn …>` so that another
//! store, actuator or clock can stand behind them.

use crate::actions::actuator::{ActResult, Actuator, Done, DryRun};
use crate::actions::drain::Progress;
use crate::actions::{ActionError, ActionRecord, Actions};
use crate::incidents::{Incident, IncidentError, IncidentFilter, Incidents, TimelineEntry};
use domain::action::ActionSpec;
use domain::incident::Declaration;
use domain::incident_lifecycle::{Actor, Command, Person};

/// Time, in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    fn now_millis(&self) -> i64;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        crate::db::now_millis()
    }
}

/// Where incidents, their roles and their timelines are kept.
#[async_trait::async_trait]
pub trait IncidentStore: Send + Sync + 'static {
    async fn declare(
        &self,
        actor: &Actor,
        declaration: &Declaration,
        commander: Option<Person>,
        now: i64,
    ) -> Result<i64, IncidentError>;
    /// Decides `command`, then stores its events with the new state, or changes nothing.
    async fn run(
        &self,
        id: i64,
        actor: &Actor,
        command: Command,
        now: i64,
    ) -> Result<Vec<TimelineEntry>, IncidentError>;
    async fn get(&self, id: i64) -> Result<Option<Incident>, IncidentError>;
    async fn list(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, IncidentError>;
    async fn timeline(&self, id: i64) -> Result<Vec<TimelineEntry>, IncidentError>;
    /// Entries after the entry `after`, oldest first, at most `limit`.
    async fn timeline_page(
        &self,
        id: i64,
        after: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<TimelineEntry>, IncidentError>;
}

#[async_trait::async_trait]
impl IncidentStore for Incidents {
    async fn declare(
        &self,
        actor: &Actor,
        declaration: &Declaration,
        commander: Option<Person>,
        now: i64,
    ) -> Result<i64, IncidentError> {
        Incidents::declare(self, actor, declaration, commander, now).await
    }

    async fn run(
        &self,
        id: i64,
        actor: &Actor,
        command: Command,
        now: i64,
    ) -> Result<Vec<TimelineEntry>, IncidentError> {
        Incidents::run(self, id, actor, command, now).await
    }

    async fn get(&self, id: i64) -> Result<Option<Incident>, IncidentError> {
        Incidents::get(self, id).await
    }

    async fn list(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, IncidentError> {
        Incidents::list(self, filter).await
    }

    async fn timeline(&self, id: i64) -> Result<Vec<TimelineEntry>, IncidentError> {
        Incidents::timeline(self, id).await
    }

    async fn timeline_page(
        &self,
        id: i64,
        after: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<TimelineEntry>, IncidentError> {
        Incidents::timeline_page(self, id, after, limit).await
    }
}

/// Tells an audience's receivers about published updates, after they are committed.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Queues the deliveries durably; never waits for a receiver.
    async fn updates_published(&self, incident_id: i64, title: &str, entries: &[TimelineEntry]);
}

#[async_trait::async_trait]
impl Notifier for crate::webhooks::Webhooks {
    async fn updates_published(&self, incident_id: i64, title: &str, entries: &[TimelineEntry]) {
        if let Err(error) = self.enqueue(incident_id, title, entries).await {
            tracing::error!(
                incident.id = incident_id,
                error = &error as &dyn std::error::Error,
                "could not queue the webhook deliveries of published updates"
            );
        }
    }
}

/// Where containment actions and their lifecycle (plan, preview, confirm, undo) are kept.
#[async_trait::async_trait]
pub trait ActionStore: Send + Sync + 'static {
    /// An incident's actions, newest first.
    async fn list(&self, incident_id: i64) -> Result<Vec<ActionRecord>, ActionError>;
    async fn get(&self, incident_id: i64, id: i64) -> Result<ActionRecord, ActionError>;
    async fn plan(
        &self,
        incident_id: i64,
        actor: &Actor,
        spec: ActionSpec,
    ) -> Result<ActionRecord, ActionError>;
    /// Runs the dry run and stores the preview; changes nothing in the cluster.
    async fn preview(&self, incident_id: i64, id: i64, actor: &Actor) -> Result<ActionRecord, ActionError>;
    /// Runs the action once for `key`.
    async fn confirm(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
    ) -> Result<ActionRecord, ActionError>;
    /// Runs the recorded undo once for `key`.
    async fn undo(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
    ) -> Result<ActionRecord, ActionError>;
}

#[async_trait::async_trait]
impl ActionStore for Actions {
    async fn list(&self, incident_id: i64) -> Result<Vec<ActionRecord>, ActionError> {
        Actions::list(self, incident_id).await
    }

    async fn get(&self, incident_id: i64, id: i64) -> Result<ActionRecord, ActionError> {
        Actions::get(self, incident_id, id).await
    }

    async fn plan(
        &self,
        incident_id: i64,
        actor: &Actor,
        spec: ActionSpec,
    ) -> Result<ActionRecord, ActionError> {
        Actions::plan(self, incident_id, actor, spec).await
    }

    async fn preview(&self, incident_id: i64, id: i64, actor: &Actor) -> Result<ActionRecord, ActionError> {
        Actions::preview(self, incident_id, id, actor).await
    }

    async fn confirm(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
    ) -> Result<ActionRecord, ActionError> {
        Actions::confirm(self, incident_id, id, actor, key).await
    }

    async fn undo(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
    ) -> Result<ActionRecord, ActionError> {
        Actions::undo(self, incident_id, id, actor, key).await
    }
}

/// What changes the cluster: a server-side dry run, and the real run.
#[async_trait::async_trait]
pub trait ClusterActuator: Send + Sync + 'static {
    /// The API checks everything and changes nothing.
    async fn dry_run(&self, spec: &ActionSpec) -> ActResult<DryRun>;
    /// Runs `spec` for real; a drain reports each pod through `progress`.
    async fn execute(&self, spec: &ActionSpec, progress: Progress<'_>) -> ActResult<Done>;
}

#[async_trait::async_trait]
impl ClusterActuator for Actuator {
    async fn dry_run(&self, spec: &ActionSpec) -> ActResult<DryRun> {
        Actuator::dry_run(self, spec).await
    }

    async fn execute(&self, spec: &ActionSpec, progress: Progress<'_>) -> ActResult<Done> {
        Actuator::execute(self, spec, progress).await
    }
}

/// What reads evidence from the cluster (reads only; the actuator is the only writer).
#[async_trait::async_trait]
pub trait EvidenceSource: Send + Sync + 'static {
    /// Captures `subject` at `now`; fails only when the subject itself cannot be read.
    async fn capture(
        &self,
        subject: &domain::evidence::Subject,
        now: i64,
    ) -> ActResult<domain::evidence::Evidence>;
}

#[async_trait::async_trait]
impl EvidenceSource for crate::evidence::capture::KubeEvidence {
    async fn capture(
        &self,
        subject: &domain::evidence::Subject,
        now: i64,
    ) -> ActResult<domain::evidence::Evidence> {
        crate::evidence::capture::KubeEvidence::capture(self, subject, now).await
    }
}
