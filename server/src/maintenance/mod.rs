//! Maintenance windows as stored: the window, the cluster actions planned for
//! its start and end, and its log. State changes are conditional on the state
//! they leave (`UPDATE … WHERE state = $from`), so when two replicas or a
//! person and the clock move a window at once, exactly one of them does; each
//! change, with its log line and live event, commits in one transaction.

use crate::db::{Database, DbError};
use crate::events::EventHub;
use app::domain::action::ActionSpec;
use app::domain::component::ComponentKey;
use app::domain::maintenance::{
    LogLine, MaintenanceState, Phase, PlannedAction, PlannedStatus, Window, WindowInput,
};
use serde_json::json;
use sqlx::{Any, Transaction};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("there is no maintenance window {0}")]
    NotFound(i64),
    #[error("there is no planned action {0} on this window")]
    NoAction(i64),
    /// Someone (or the clock) moved it first.
    #[error("the window is {0} now")]
    Moved(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MaintenanceError {
    fn from(error: sqlx::Error) -> Self {
        MaintenanceError::Db(DbError::Query(error))
    }
}

type Result<T> = std::result::Result<T, MaintenanceError>;

const WINDOW_COLUMNS: &str = "id, title, description, starts_at, ends_at, state, components, created_by, created_at, \
                              updated_at, started_at, ended_at";

type WindowRow = (i64, String, String, i64, i64, String, String, String, i64, i64, Option<i64>, Option<i64>);

fn window(
    (
        id,
        title,
        description,
        starts_at,
        ends_at,
        state,
        components,
        created_by,
        created_at,
        updated_at,
        started_at,
        ended_at,
    ): WindowRow,
) -> Window {
    let components: Vec<String> = serde_json::from_str(&components).unwrap_or_default();
    Window {
        id,
        title,
        description,
        starts_at,
        ends_at,
        state: MaintenanceState::parse(&state).unwrap_or(MaintenanceState::Cancelled),
        components: components.iter().filter_map(|c| ComponentKey::parse(c)).collect(),
        created_by,
        created_at,
        updated_at,
        started_at,
        ended_at,
    }
}

const ACTION_COLUMNS: &str = "id, window_id, phase, spec, description, preview, status, planned_by, planned_at, \
                              confirmed_by, confirmed_at, result, failure, undo, finished_at";

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    window_id: i64,
    phase: String,
    spec: String,
    description: String,
    preview: String,
    status: String,
    planned_by: String,
    planned_at: i64,
    confirmed_by: Option<String>,
    confirmed_at: Option<i64>,
    result: Option<String>,
    failure: Option<String>,
    undo: Option<String>,
    finished_at: Option<i64>,
}

fn action(row: ActionRow) -> Option<PlannedAction> {
    let preview: serde_json::Value = serde_json::from_str(&row.preview).unwrap_or_default();
    Some(PlannedAction {
        id: row.id,
        window_id: row.window_id,
        phase: Phase::parse(&row.phase).ok()?,
        spec: serde_json::from_str(&row.spec).ok()?,
        description: row.description,
        preview: preview["changes"]
            .as_array()
            .map(|lines| lines.iter().filter_map(|l| l.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        pods: preview["pods"].as_u64().and_then(|p| usize::try_from(p).ok()).unwrap_or(0),
        status: PlannedStatus::parse(&row.status).ok()?,
        planned_by: row.planned_by,
        planned_at: row.planned_at,
        confirmed_by: row.confirmed_by,
        confirmed_at: row.confirmed_at,
        result: row.result,
        failure: row.failure,
        undo: row.undo.and_then(|u| serde_json::from_str(&u).ok()),
        finished_at: row.finished_at,
    })
}

#[derive(Clone, Debug)]
pub struct MaintenanceStore {
    db: Database,
    hub: Arc<EventHub>,
}

impl MaintenanceStore {
    pub fn new(db: Database, hub: Arc<EventHub>) -> MaintenanceStore {
        MaintenanceStore { db, hub }
    }

    async fn log_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        window_id: i64,
        actor: &str,
        text: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO maintenance_log (window_id, at, actor, text) VALUES ($1, $2, $3, $4)")
            .bind(window_id)
            .bind(now)
            .bind(actor)
            .bind(text)
            .execute(&mut **tx)
            .await?;
        self.hub.append(tx, "maintenance", &json!({"window": window_id, "text": text})).await?;
        Ok(())
    }

    /// Adds a line to the window's log (with a live event).
    pub async fn log(&self, window_id: i64, actor: &str, text: &str, now: i64) -> Result<()> {
        let mut tx = self.db.pool.begin().await?;
        self.log_in(&mut tx, window_id, actor, text, now).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(())
    }

    /// Stores a new window, `scheduled`, with its planned actions (already previewed).
    pub async fn create(
        &self,
        input: &WindowInput,
        actions: &[NewPlanned],
        by: &str,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.db.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO maintenance_windows (title, description, starts_at, ends_at, state, components, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $7) RETURNING id",
        )
        .bind(&input.title)
        .bind(&input.description)
        .bind(input.starts_at)
        .bind(input.ends_at)
        .bind(components_json(&input.components))
        .bind(by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let line = app::domain::maintenance::summary_line(&input.title, input.starts_at, input.ends_at);
        self.log_in(&mut tx, id, by, &format!("Scheduled: {line}."), now).await?;
        for planned in actions {
            self.add_action_in(&mut tx, id, planned, by, now).await?;
        }
        tx.commit().await?;
        self.hub.committed();
        Ok(id)
    }

    async fn add_action_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        window_id: i64,
        planned: &NewPlanned,
        by: &str,
        now: i64,
    ) -> Result<i64> {
        let NewPlanned { phase, spec, description, preview } = planned;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO maintenance_actions (window_id, phase, spec, description, preview, status, planned_by, planned_at) \
             VALUES ($1, $2, $3, $4, $5, 'planned', $6, $7) RETURNING id",
        )
        .bind(window_id)
        .bind(phase.as_str())
        .bind(serde_json::to_string(spec).unwrap_or_default())
        .bind(description)
        .bind(preview.to_string())
        .bind(by)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        let text = format!("Planned for its {phase}: {description} (previewed; waiting for confirmation).");
        self.log_in(tx, window_id, by, &text, now).await?;
        Ok(id)
    }

    /// Plans one more action on a window that has not finished.
    pub async fn add_action(&self, window_id: i64, planned: &NewPlanned, by: &str, now: i64) -> Result<i64> {
        let mut tx = self.db.pool.begin().await?;
        let id = self.add_action_in(&mut tx, window_id, planned, by, now).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(id)
    }

    pub async fn get(&self, id: i64) -> Result<Window> {
        let row: Option<WindowRow> =
            sqlx::query_as(&format!("SELECT {WINDOW_COLUMNS} FROM maintenance_windows WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await?;
        row.map(window).ok_or(MaintenanceError::NotFound(id))
    }

    /// Windows not finished, and those finished since `since`, the soonest first.
    pub async fn list(&self, since: i64) -> std::result::Result<Vec<Window>, DbError> {
        let rows: Vec<WindowRow> = sqlx::query_as(&format!(
            "SELECT {WINDOW_COLUMNS} FROM maintenance_windows \
             WHERE state IN ('scheduled', 'in_progress', 'verifying') OR ends_at >= $1 OR updated_at >= $1 \
             ORDER BY starts_at, id LIMIT 500"
        ))
        .bind(since)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(window).collect())
    }

    /// Windows whose start or end is due at `now`.
    pub async fn due(&self, now: i64) -> Result<Vec<Window>> {
        let rows: Vec<WindowRow> = sqlx::query_as(&format!(
            "SELECT {WINDOW_COLUMNS} FROM maintenance_windows \
             WHERE (state = 'scheduled' AND starts_at <= $1) OR (state = 'in_progress' AND ends_at <= $1) \
             ORDER BY starts_at, id"
        ))
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(window).collect())
    }

    /// The components of windows in progress or verifying, with the window's title.
    pub async fn under_maintenance(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT components, title FROM maintenance_windows WHERE state IN ('in_progress', 'verifying') ORDER BY id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .flat_map(|(components, title)| {
                let keys: Vec<String> = serde_json::from_str(&components).unwrap_or_default();
                keys.into_iter().map(move |key| (key, title.clone()))
            })
            .collect())
    }

    /// Changes what a window says (title, description, times, components).
    pub async fn update(&self, id: i64, input: &WindowInput, by: &str, now: i64) -> Result<()> {
        let mut tx = self.db.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE maintenance_windows SET title = $2, description = $3, starts_at = $4, ends_at = $5, components = $6, \
             updated_at = $7, version = version + 1 WHERE id = $1 AND state IN ('scheduled', 'in_progress')",
        )
        .bind(id)
        .bind(&input.title)
        .bind(&input.description)
        .bind(input.starts_at)
        .bind(input.ends_at)
        .bind(components_json(&input.components))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            drop(tx);
            let current = self.get(id).await?;
            return Err(MaintenanceError::Moved(current.state.as_str()));
        }
        let line = app::domain::maintenance::summary_line(&input.title, input.starts_at, input.ends_at);
        self.log_in(&mut tx, id, by, &format!("Changed: {line}."), now).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(())
    }

    /// Moves a window from `from` to `to` if nobody moved it first; logs `text`.
    pub async fn transition(
        &self,
        id: i64,
        from: MaintenanceState,
        to: MaintenanceState,
        by: &str,
        text: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.db.pool.begin().await?;
        let moment = match to {
            MaintenanceState::InProgress => ", started_at = $4",
            MaintenanceState::Verifying | MaintenanceState::Cancelled => ", ended_at = $4",
            _ => "",
        };
        let changed = sqlx::query(&format!(
            "UPDATE maintenance_windows SET state = $3, updated_at = $4, version = version + 1{moment} \
             WHERE id = $1 AND state = $2"
        ))
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            drop(tx);
            let current = self.get(id).await?;
            return Err(MaintenanceError::Moved(current.state.as_str()));
        }
        self.log_in(&mut tx, id, by, text, now).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(())
    }

    pub async fn actions(&self, window_id: i64) -> Result<Vec<PlannedAction>> {
        let rows: Vec<ActionRow> = sqlx::query_as(&format!(
            "SELECT {ACTION_COLUMNS} FROM maintenance_actions WHERE window_id = $1 ORDER BY phase DESC, id"
        ))
        .bind(window_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().filter_map(action).collect())
    }

    pub async fn action(&self, window_id: i64, id: i64) -> Result<PlannedAction> {
        let row: Option<ActionRow> = sqlx::query_as(&format!(
            "SELECT {ACTION_COLUMNS} FROM maintenance_actions WHERE window_id = $1 AND id = $2"
        ))
        .bind(window_id)
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.and_then(action).ok_or(MaintenanceError::NoAction(id))
    }

    pub async fn log_lines(&self, window_id: i64) -> Result<Vec<LogLine>> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT at, actor, text FROM maintenance_log WHERE window_id = $1 ORDER BY id")
                .bind(window_id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().map(|(at, actor, text)| LogLine { at, actor, text }).collect())
    }

    /// Moves a planned action from `from` to `to` if nobody moved it first, and
    /// records what the step says; logs `text`. Answers whether it moved.
    #[expect(clippy::too_many_arguments, reason = "one step's columns")]
    pub async fn step_action(
        &self,
        window_id: i64,
        id: i64,
        from: PlannedStatus,
        to: PlannedStatus,
        by: &str,
        outcome: Outcome<'_>,
        text: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.db.pool.begin().await?;
        let query = match outcome {
            Outcome::Confirmed => sqlx::query(
                "UPDATE maintenance_actions SET status = $4, confirmed_by = $5, confirmed_at = $6 \
                 WHERE window_id = $1 AND id = $2 AND status = $3",
            )
            .bind(window_id)
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(by)
            .bind(now),
            Outcome::Started => sqlx::query(
                "UPDATE maintenance_actions SET status = $4 WHERE window_id = $1 AND id = $2 AND status = $3",
            )
            .bind(window_id)
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str()),
            Outcome::Finished { result, failure, undo } => sqlx::query(
                "UPDATE maintenance_actions SET status = $4, result = $5, failure = $6, undo = $7, finished_at = $8 \
                 WHERE window_id = $1 AND id = $2 AND status = $3",
            )
            .bind(window_id)
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(result)
            .bind(failure)
            .bind(undo.map(|u| serde_json::to_string(u).unwrap_or_default()))
            .bind(now),
        };
        let moved = query.execute(&mut *tx).await?.rows_affected() == 1;
        if moved {
            self.log_in(&mut tx, window_id, by, text, now).await?;
            tx.commit().await?;
            self.hub.committed();
        }
        Ok(moved)
    }

    /// Actions left executing by a process that stopped (the leader runs them): failed.
    pub async fn fail_interrupted(&self, now: i64) -> Result<usize> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT window_id, id, description FROM maintenance_actions WHERE status = 'executing'",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let reason = "Wheelhouse stopped while this ran; check the cluster for what was done.";
        let mut count = 0;
        for (window_id, id, description) in rows {
            let finished = Outcome::Finished { result: None, failure: Some(reason), undo: None };
            let text = format!("Failed: {description}. {reason}");
            if self
                .step_action(
                    window_id,
                    id,
                    PlannedStatus::Executing,
                    PlannedStatus::Failed,
                    "wheelhouse",
                    finished,
                    &text,
                    now,
                )
                .await?
            {
                count += 1;
            }
        }
        Ok(count)
    }
}

/// A planned action to store, previewed already.
#[derive(Clone, Debug)]
pub struct NewPlanned {
    pub phase: Phase,
    pub spec: ActionSpec,
    pub description: String,
    /// The dry run's answer: `{"changes": [...], "pods": N}`.
    pub preview: serde_json::Value,
}

/// What a step of a planned action records.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    Confirmed,
    Started,
    Finished { result: Option<&'a str>, failure: Option<&'a str>, undo: Option<&'a ActionSpec> },
}

fn components_json(components: &[ComponentKey]) -> String {
    serde_json::to_string(&components.iter().map(ComponentKey::as_str).collect::<Vec<_>>())
        .unwrap_or_default()
}

/// Which components are under maintenance now, as every replica's health
/// engine applies it: read from the database when a window moves here and
/// every few seconds (a window moved by another replica).
#[derive(Debug, Default)]
pub struct Overlay {
    current: std::sync::RwLock<Vec<(String, String)>>,
    /// Woken when the set changes.
    pub changed: tokio::sync::Notify,
}

impl Overlay {
    /// (component key, window title) for each component under maintenance.
    pub fn current(&self) -> Vec<(String, String)> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, under: Vec<(String, String)>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if *current != under {
            *current = under;
            self.changed.notify_one();
        }
    }

    /// Keeps the overlay up to date until the process ends.
    pub async fn keep(self: Arc<Overlay>, store: MaintenanceStore, moved: Arc<tokio::sync::Notify>) {
        loop {
            match store.under_maintenance().await {
                Ok(under) => self.set(under),
                Err(error) => tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "cannot read which components are under maintenance"
                ),
            }
            tokio::select! {
                () = moved.notified() => {}
                () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            }
        }
    }
}

/// The leader's clock for maintenance: fails what a stopped leader left
/// running, then starts and ends windows as they come due, every second.
pub async fn run_schedule(services: crate::services::Services) {
    match services.maintenance.fail_interrupted(crate::db::now_millis()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            actions = n,
            "maintenance actions left running by a stopped process were marked failed"
        ),
        Err(error) => tracing::warn!(
            error = &error as &dyn std::error::Error,
            "cannot check for interrupted maintenance actions"
        ),
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = services.run_due_maintenance().await {
            tracing::warn!(error = %error, "cannot run due maintenance windows; will retry");
        }
    }
}
