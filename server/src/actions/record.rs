//! What is stored about an action: its record as read back, the preview shown
//! before confirming, the row it is read from, and the store's error type.

use super::actuator::DryRun;
use super::drain::PodProgress;
use crate::db::DbError;
use crate::incidents::IncidentError;
use app::domain::action::{ActionFailure, ActionSpec, ActionStatus};
use app::domain::incident_lifecycle::Refusal;
use serde::{Deserialize, Serialize};

/// The preview shown before confirming.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub dry_run: DryRun,
    /// Service components whose workloads the action touches.
    pub components: Vec<String>,
}

/// An action as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionRecord {
    pub id: i64,
    pub incident_id: i64,
    pub spec: ActionSpec,
    pub description: String,
    pub status: ActionStatus,
    pub planned_by: String,
    pub planned_at: i64,
    pub preview: Option<Preview>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
    pub result: Option<String>,
    pub undo: Option<ActionSpec>,
    pub failure: Option<String>,
    pub finished_at: Option<i64>,
    pub undone_by: Option<String>,
    pub undone_at: Option<i64>,
    pub progress: Vec<PodProgress>,
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("there is no action {0} on this incident")]
    NotFound(i64),
    #[error(transparent)]
    Incident(#[from] IncidentError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The dry run failed: nothing was planned further and nothing changed.
    #[error("{}", .0.plain_words())]
    DryRunFailed(ActionFailure),
    #[error("{message}")]
    Field { field: &'static str, message: String },
    /// This replica has not yet registered its lease, so it cannot vouch for running an action.
    #[error("this replica is not registered yet")]
    NotRegistered,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ActionError {
    fn from(error: sqlx::Error) -> Self {
        ActionError::Db(DbError::Query(error))
    }
}

/// An `incident_actions` row as [`COLUMNS`] reads it; JSON columns still as text.
#[derive(sqlx::FromRow)]
pub(super) struct ActionRow {
    id: i64,
    incident_id: i64,
    spec: String,
    status: String,
    planned_by: String,
    planned_at: i64,
    preview: Option<String>,
    confirmed_by: Option<String>,
    confirmed_at: Option<i64>,
    result: Option<String>,
    undo: Option<String>,
    failure: Option<String>,
    finished_at: Option<i64>,
    undone_by: Option<String>,
    undone_at: Option<i64>,
    progress: Option<String>,
}

pub(super) const COLUMNS: &str = "id, incident_id, spec, status, planned_by, planned_at, preview, confirmed_by, \
     confirmed_at, result, undo, failure, finished_at, undone_by, undone_at, progress";

/// The record of a row; `None` for a row whose spec or status this version cannot read.
pub(super) fn from_row(row: ActionRow) -> Option<ActionRecord> {
    let spec: ActionSpec = serde_json::from_str(&row.spec).ok()?;
    Some(ActionRecord {
        id: row.id,
        incident_id: row.incident_id,
        description: spec.to_string(),
        spec,
        status: ActionStatus::parse(&row.status)?,
        planned_by: row.planned_by,
        planned_at: row.planned_at,
        preview: row.preview.and_then(|p| serde_json::from_str(&p).ok()),
        confirmed_by: row.confirmed_by,
        confirmed_at: row.confirmed_at,
        result: row.result,
        undo: row.undo.and_then(|u| serde_json::from_str(&u).ok()),
        failure: row.failure,
        finished_at: row.finished_at,
        undone_by: row.undone_by,
        undone_at: row.undone_at,
        progress: row.progress.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default(),
    })
}
