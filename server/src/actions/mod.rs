//! Containment actions on an incident: planned → previewed (server-side dry
//! run and blast radius) → confirmed once per idempotency key by the
//! commander, the operations lead or an admin → executed through the
//! [`actuator`] → recorded on the timeline with the result and the undo →
//! optionally undone. Drains, pod deletions, namespace isolation and scaling
//! to zero need a second person to confirm, and protected namespaces an admin
//! ([`app::domain::action::may_confirm`]), checked in the transaction that
//! starts the action. Each state change and its timeline event are written in
//! one transaction, so nothing is half-recorded.

pub mod actuator;
pub mod drain;
mod record;

pub use record::{ActionError, ActionRecord, Preview};

use crate::cluster::watch::Live;
use crate::components::Components;
use crate::coordination::Coordination;
use crate::db::{Database, now_millis};
use crate::events::EventHub;
use crate::incidents::{IncidentError, Incidents, append_event, live_data, load_state};
use crate::services::ports::ClusterActuator;
use actuator::{ActResult, Done};
use app::domain::action::{
    ActionSpec, ActionStatus, SafetyPolicy, Step, WorkloadKind, check_step, may_confirm,
};
use app::domain::incident_lifecycle::{Actor, Refusal, TimelineEvent};
use drain::PodProgress;
use record::{ActionRow, COLUMNS, from_row};
use serde_json::json;
use sqlx::{Any, Transaction};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a confirmation waits for its action to finish before answering
/// "executing" (a drain may go on; the room follows it live).
const WAIT_FOR_RESULT: Duration = Duration::from_secs(10);

/// Whether this run is the action itself or its undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    Action,
    Undo,
}

#[derive(Clone)]
pub struct Actions {
    db: Database,
    hub: Arc<EventHub>,
    incidents: Incidents,
    actuator: Arc<dyn ClusterActuator>,
    live: Arc<Live>,
    components: Components,
    policy: Arc<SafetyPolicy>,
    coordination: Coordination,
}

impl Actions {
    #[expect(clippy::too_many_arguments, reason = "the store's collaborators, wired once at start-up")]
    pub fn new(
        db: Database,
        hub: Arc<EventHub>,
        incidents: Incidents,
        actuator: Arc<dyn ClusterActuator>,
        live: Arc<Live>,
        components: Components,
        policy: SafetyPolicy,
        coordination: Coordination,
    ) -> Actions {
        Actions { db, hub, incidents, actuator, live, components, policy: Arc::new(policy), coordination }
    }

    /// The namespaces where only an admin may confirm actions.
    pub fn policy(&self) -> &SafetyPolicy {
        &self.policy
    }

    pub async fn list(&self, incident_id: i64) -> Result<Vec<ActionRecord>, ActionError> {
        let rows: Vec<ActionRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM incident_actions WHERE incident_id = $1 ORDER BY id DESC"
        ))
        .bind(incident_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().filter_map(from_row).collect())
    }

    pub async fn get(&self, incident_id: i64, id: i64) -> Result<ActionRecord, ActionError> {
        let row: Option<ActionRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM incident_actions WHERE id = $1 AND incident_id = $2"
        ))
        .bind(id)
        .bind(incident_id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.and_then(from_row).ok_or(ActionError::NotFound(id))
    }

    /// Plans an action (any responder may propose one); records it on the timeline.
    #[tracing::instrument(skip_all, fields(incident.id = incident_id, action = spec.name()))]
    pub async fn plan(
        &self,
        incident_id: i64,
        actor: &Actor,
        spec: ActionSpec,
    ) -> Result<ActionRecord, ActionError> {
        self.incidents.get(incident_id).await?.ok_or(IncidentError::NotFound(incident_id))?;
        let now = now_millis();
        let mut tx = self.db.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO incident_actions (incident_id, spec, name, status, planned_by, planned_at) \
             VALUES ($1, $2, $3, 'planned', $4, $5) RETURNING id",
        )
        .bind(incident_id)
        .bind(serde_json::to_string(&spec).unwrap_or_default())
        .bind(spec.name())
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let event = TimelineEvent::ActionPlanned { action: id, description: spec.to_string() };
        self.record(&mut tx, incident_id, actor, &event, now).await?;
        tx.commit().await?;
        self.hub.committed();
        self.get(incident_id, id).await
    }

    /// Runs the server-side dry run and works out the blast radius; changes nothing in the cluster.
    #[tracing::instrument(skip_all, fields(incident.id = incident_id, action.id = id))]
    pub async fn preview(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
    ) -> Result<ActionRecord, ActionError> {
        let action = self.get(incident_id, id).await?;
        check_step(action.status, Step::Preview, false)?;
        let dry_run = self.actuator.dry_run(&action.spec).await.map_err(ActionError::DryRunFailed)?;
        let preview = Preview { components: self.components_touched(&action.spec).await, dry_run };
        sqlx::query(
            "UPDATE incident_actions SET status = 'previewed', preview = $3, previewed_at = $4, version = version + 1 \
             WHERE id = $1 AND incident_id = $2 AND status IN ('planned', 'previewed')",
        )
        .bind(id)
        .bind(incident_id)
        .bind(serde_json::to_string(&preview).unwrap_or_default())
        .bind(now_millis())
        .execute(&self.db.pool)
        .await?;
        tracing::info!(actor = %actor.name, "action previewed");
        self.hub.notice("action", &json!({"incident": incident_id, "action": id}));
        self.get(incident_id, id).await
    }

    /// Confirms and executes the action once for `key`: a second confirmation
    /// with the same key (a double click, a retry) returns the first one's action.
    #[tracing::instrument(skip_all, fields(incident.id = incident_id, action.id = id))]
    pub async fn confirm(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
    ) -> Result<ActionRecord, ActionError> {
        self.start(incident_id, id, actor, key, Run::Action).await
    }

    /// Runs the recorded undo once for `key`.
    #[tracing::instrument(skip_all, fields(incident.id = incident_id, action.id = id))]
    pub async fn undo(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
    ) -> Result<ActionRecord, ActionError> {
        self.start(incident_id, id, actor, key, Run::Undo).await
    }

    async fn start(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        key: &str,
        run: Run,
    ) -> Result<ActionRecord, ActionError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(ActionError::Field {
                field: "idempotency_key",
                message: "Send an idempotency key (1 to 200 characters) with each confirmation.".into(),
            });
        }
        let key_column = if run == Run::Action { "confirm_key" } else { "undo_key" };
        let now = now_millis();
        let mut tx = self.db.pool.begin().await?;
        // The incident first (as incident commands take it), so that who commands and whether it
        // is resolved cannot change between this check and the start of the action.
        let incident_locked = sqlx::query("UPDATE incidents SET version = version + 1 WHERE id = $1")
            .bind(incident_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if incident_locked == 0 {
            return Err(IncidentError::NotFound(incident_id).into());
        }
        let state = load_state(&mut tx, incident_id).await?.ok_or(IncidentError::NotFound(incident_id))?;
        // Then the action, so two confirmations of one action take turns.
        let locked = sqlx::query(
            "UPDATE incident_actions SET version = version + 1 WHERE id = $1 AND incident_id = $2",
        )
        .bind(id)
        .bind(incident_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if locked == 0 {
            return Err(ActionError::NotFound(id));
        }
        let (status, existing_key, planned_by): (String, Option<String>, String) = sqlx::query_as(&format!(
            "SELECT status, {key_column}, planned_by FROM incident_actions WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if existing_key.as_deref() == Some(key) {
            drop(tx);
            return self.wait_for(incident_id, id).await;
        }
        let status = ActionStatus::parse(&status).unwrap_or(ActionStatus::Failed);
        let step = if run == Run::Action { Step::Confirm } else { Step::Undo };
        check_step(status, step, state.is_resolved() && run == Run::Action)?;
        let action = self.get(incident_id, id).await?;
        let spec = match run {
            Run::Action => action.spec.clone(),
            Run::Undo => action
                .undo
                .clone()
                .ok_or_else(|| Refusal::Invalid(format!("'{}' cannot be undone.", action.description)))?,
        };
        may_confirm(&state, actor, &spec, &planned_by, &self.policy)?;
        // Which process runs it, so that only a dead runner's actions are marked failed.
        let epoch = self.coordination.epoch().ok_or(ActionError::NotRegistered)?;
        let claimed = match run {
            Run::Action => sqlx::query(
                "UPDATE incident_actions SET status = 'executing', confirm_key = $2, confirmed_by = $3, confirmed_at = $4, \
                 runner = $5, runner_epoch = $6 WHERE id = $1",
            ),
            Run::Undo => sqlx::query(
                "UPDATE incident_actions SET status = 'executing', undo_key = $2, undone_by = $3, undone_at = $4, \
                 runner = $5, runner_epoch = $6 WHERE id = $1",
            ),
        }
        .bind(id)
        .bind(key)
        .bind(&actor.name)
        .bind(now)
        .bind(self.coordination.replica())
        .bind(epoch)
        .execute(&mut *tx)
        .await;
        match claimed {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(ActionError::Field {
                    field: "idempotency_key",
                    message: "This idempotency key was used for another action; send a new one.".into(),
                });
            }
            other => other?,
        };
        tx.commit().await?;
        tracing::info!(actor = %actor.name, action = %spec, "action confirmed; executing");
        self.hub.notice("action", &json!({"incident": incident_id, "action": id}));

        // Runs to the end even if the client goes away; the answer waits a little for it.
        let this = self.clone();
        let actor = actor.clone();
        let task = tokio::spawn(async move { this.execute(incident_id, id, &actor, spec, run).await });
        match tokio::time::timeout(WAIT_FOR_RESULT, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(_) => self.get(incident_id, id).await,
        }
    }

    async fn wait_for(&self, incident_id: i64, id: i64) -> Result<ActionRecord, ActionError> {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_RESULT;
        loop {
            let action = self.get(incident_id, id).await?;
            if action.status != ActionStatus::Executing || tokio::time::Instant::now() > deadline {
                return Ok(action);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn execute(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        spec: ActionSpec,
        run: Run,
    ) -> Result<ActionRecord, ActionError> {
        let progress: Arc<Mutex<Vec<PodProgress>>> = Arc::default();
        let flusher = {
            let (progress, db, hub) = (progress.clone(), self.db.clone(), self.hub.clone());
            tokio::spawn(async move {
                let mut written = 0;
                loop {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let snapshot = progress.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    if snapshot.len() != written {
                        written = snapshot.len();
                        let _ = sqlx::query("UPDATE incident_actions SET progress = $2 WHERE id = $1")
                            .bind(id)
                            .bind(serde_json::to_string(&snapshot).unwrap_or_default())
                            .execute(&db.pool)
                            .await;
                        hub.notice("action", &json!({"incident": incident_id, "action": id}));
                    }
                }
            })
        };
        let sink = progress.clone();
        let report = move |p: PodProgress| sink.lock().unwrap_or_else(|e| e.into_inner()).push(p);
        let outcome = self.actuator.execute(&spec, &report).await;
        flusher.abort();
        // The timeline names the action itself, also when this run is its undo.
        let description = match run {
            Run::Action => spec.to_string(),
            Run::Undo => self.get(incident_id, id).await.map_or_else(|_| spec.to_string(), |a| a.description),
        };
        let now = now_millis();
        let final_progress =
            serde_json::to_string(&*progress.lock().unwrap_or_else(|e| e.into_inner())).unwrap_or_default();
        // A database error here would leave the action `executing` until the next start:
        // the record is retried a few times before giving up.
        let mut waits = [250u64, 500, 1000, 2000, 4000].into_iter();
        loop {
            match self
                .store_outcome(incident_id, id, actor, &outcome, run, &description, &final_progress, now)
                .await
            {
                Ok(()) => break,
                Err(error) => match waits.next() {
                    Some(wait) => {
                        tracing::warn!(
                            action.id = id,
                            error = &error as &dyn std::error::Error,
                            "could not record an action's result; retrying"
                        );
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                    }
                    None => return Err(error),
                },
            }
        }
        match &outcome {
            Ok(_) => tracing::info!(incident.id = incident_id, action.id = id, "action finished"),
            Err(failure) => {
                tracing::warn!(incident.id = incident_id, action.id = id, failure = %failure.plain_words(), "action failed")
            }
        }
        self.get(incident_id, id).await
    }

    /// Stores how a run ended (the action's new state and its timeline event) in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn store_outcome(
        &self,
        incident_id: i64,
        id: i64,
        actor: &Actor,
        outcome: &ActResult<Done>,
        run: Run,
        description: &str,
        final_progress: &str,
        now: i64,
    ) -> Result<(), ActionError> {
        let description = description.to_owned();
        let mut tx = self.db.pool.begin().await?;
        let event = match (outcome, run) {
            (Ok(done), Run::Action) => {
                sqlx::query(
                    "UPDATE incident_actions SET status = 'succeeded', result = $2, undo = $3, finished_at = $4, progress = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(&done.result)
                .bind(done.undo.as_ref().map(|u| serde_json::to_string(u).unwrap_or_default()))
                .bind(now)
                .bind(final_progress)
                .execute(&mut *tx)
                .await?;
                TimelineEvent::ActionExecuted {
                    action: id,
                    description,
                    result: done.result.clone(),
                    undo: done.undo.as_ref().map(ToString::to_string),
                }
            }
            (Err(failure), Run::Action) => {
                sqlx::query(
                    "UPDATE incident_actions SET status = 'failed', failure = $2, finished_at = $3, progress = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(failure.plain_words())
                .bind(now)
                .bind(final_progress)
                .execute(&mut *tx)
                .await?;
                TimelineEvent::ActionFailed { action: id, description, reason: failure.plain_words() }
            }
            (Ok(done), Run::Undo) => {
                sqlx::query("UPDATE incident_actions SET status = 'undone', undone_at = $2, failure = NULL WHERE id = $1")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                TimelineEvent::ActionUndone { action: id, description, result: done.result.clone() }
            }
            (Err(failure), Run::Undo) => {
                // The action stays done; its undo can be tried again with a new key, and
                // the record says why this one failed (not only the timeline).
                sqlx::query(
                    "UPDATE incident_actions SET status = 'succeeded', undo_key = NULL, undone_by = NULL, \
                     undone_at = NULL, failure = $2 WHERE id = $1",
                )
                .bind(id)
                .bind(format!("The undo failed: {}", failure.plain_words()))
                .execute(&mut *tx)
                .await?;
                TimelineEvent::ActionFailed {
                    action: id,
                    description: format!("undo: {description}"),
                    reason: failure.plain_words(),
                }
            }
        };
        self.record(&mut tx, incident_id, actor, &event, now).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(())
    }

    /// Appends `event` to the incident's timeline inside `tx`, with its live event.
    async fn record(
        &self,
        tx: &mut Transaction<'static, Any>,
        incident_id: i64,
        actor: &Actor,
        event: &TimelineEvent,
        now: i64,
    ) -> Result<(), ActionError> {
        let entry = append_event(tx, incident_id, actor, event, now).await?;
        self.hub.append(tx, "incident", &live_data(&entry)).await?;
        Ok(())
    }

    /// Actions left executing by a process that is gone (it stopped
    /// mid-way: `gone(runner, epoch)` says so) are marked failed, with a
    /// timeline event telling people to check the cluster.
    pub async fn recover_interrupted(
        &self,
        gone: impl Fn(Option<&str>, Option<i64>) -> bool,
    ) -> Result<usize, ActionError> {
        let running: Vec<(i64, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT id, runner, runner_epoch FROM incident_actions WHERE status = 'executing'",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let actor = Actor { person: None, role: app::domain::role::Role::Admin, name: "wheelhouse".into() };
        let reason = "Wheelhouse stopped while this ran; check the cluster for what was done.".to_owned();
        let mut count = 0;
        for (id, _, _) in running.into_iter().filter(|(_, runner, epoch)| gone(runner.as_deref(), *epoch)) {
            let now = now_millis();
            let mut tx = self.db.pool.begin().await?;
            // Only if still executing: another replica may have recovered it, or it finished.
            let marked = sqlx::query(
                "UPDATE incident_actions SET status = 'failed', failure = $2, finished_at = $3 \
                 WHERE id = $1 AND status = 'executing'",
            )
            .bind(id)
            .bind(&reason)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 0 {
                continue;
            }
            let row: ActionRow =
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM incident_actions WHERE id = $1"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let Some(action) = from_row(row) else { continue };
            let event = TimelineEvent::ActionFailed {
                action: action.id,
                description: action.description,
                reason: reason.clone(),
            };
            self.record(&mut tx, action.incident_id, &actor, &event, now).await?;
            tx.commit().await?;
            count += 1;
        }
        if count > 0 {
            self.hub.committed();
        }
        Ok(count)
    }

    /// The service components whose workloads the action touches, from the live state.
    async fn components_touched(&self, spec: &ActionSpec) -> Vec<String> {
        let Ok(components) = self.components.list().await else { return Vec::new() };
        let state = self.live.read();
        components
            .into_iter()
            .filter(|c| {
                let definition = &c.definition;
                let workloads = state.matching(&definition.namespace, &definition.selector);
                match spec {
                    ActionSpec::Cordon { node }
                    | ActionSpec::Uncordon { node }
                    | ActionSpec::Drain { node } => workloads
                        .iter()
                        .any(|w| state.pods_of(w).iter().any(|p| p.node.as_deref() == Some(node))),
                    ActionSpec::Scale { kind, namespace, name, .. }
                    | ActionSpec::Restart { kind, namespace, name } => workloads
                        .iter()
                        .any(|w| w.kind == *kind && &w.namespace == namespace && &w.name == name),
                    ActionSpec::Rollback { namespace, name }
                    | ActionSpec::RollbackTo { namespace, name, .. }
                    | ActionSpec::Pause { namespace, name }
                    | ActionSpec::Resume { namespace, name } => workloads.iter().any(|w| {
                        w.kind == WorkloadKind::Deployment && &w.namespace == namespace && &w.name == name
                    }),
                    ActionSpec::IsolatePod { namespace, name }
                    | ActionSpec::ReleasePod { namespace, name, .. }
                    | ActionSpec::DeletePod { namespace, name } => workloads.iter().any(|w| {
                        state.pods_of(w).iter().any(|p| *p.namespace == **namespace && *p.name == **name)
                    }),
                    ActionSpec::IsolateNamespace { namespace }
                    | ActionSpec::DeletePolicy { namespace, .. } => &definition.namespace == namespace,
                }
            })
            .map(|c| c.definition.name)
            .collect()
    }
}
