//! The ports the services act through, held as `Arc<dyn …>` so that tests can
//! put a fixed clock or another store behind them.

use crate::incidents::{Incident, IncidentError, IncidentFilter, Incidents, TimelineEntry};
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

/// A clock that always answers the same time (for tests).
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.0
    }
}

/// Where incidents, their roles and their timelines are kept.
#[async_trait::async_trait]
pub trait IncidentStore: Send + Sync + 'static {
    async fn declare(
        &self,
        actor: &Actor,
        declaration: &Declaration,
        commander: Person,
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
        commander: Person,
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
pub trait Notifier: Send + Sync + 'static {
    /// Starts delivering; never waits for a receiver.
    fn updates_published(&self, incident_id: i64, title: &str, entries: &[TimelineEntry]);
}

impl Notifier for crate::webhooks::Webhooks {
    fn updates_published(&self, incident_id: i64, title: &str, entries: &[TimelineEntry]) {
        self.dispatch(incident_id, title, entries);
    }
}
