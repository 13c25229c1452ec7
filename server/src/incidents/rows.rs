//! Incident rows as sqlx reads them, and their conversion to the domain's
//! values (a value this version cannot read is a decode error, not a panic).

use super::{Incident, IncidentError, TimelineEntry};
use crate::db::DbError;
use domain::incident::{Category, Phase, PublicStatus, Severity};
use domain::incident_lifecycle::IncidentState;
use domain::review::ReviewState;

/// An `incidents` row as `SELECT_INCIDENT` reads it.
#[derive(sqlx::FromRow)]
pub(super) struct IncidentRecord {
    id: i64,
    title: String,
    category: String,
    summary: String,
    declared_by: String,
    #[sqlx(flatten)]
    state: StateRecord,
}

/// The columns that make an incident's [`IncidentState`].
#[derive(sqlx::FromRow)]
pub(super) struct StateRecord {
    severity: String,
    status: String,
    phase: String,
    declared_at: i64,
    acknowledged_at: Option<i64>,
    contained_at: Option<i64>,
    resolved_at: Option<i64>,
    last_update_at: i64,
    two_person_waived_at: Option<i64>,
    public_title: Option<String>,
    review_state: Option<String>,
    closed_at: Option<i64>,
}

pub(super) fn decode_error(what: &str, value: &str) -> IncidentError {
    IncidentError::Db(DbError::Query(sqlx::Error::Decode(
        format!("unexpected {what} '{value}' in storage").into(),
    )))
}

pub(super) fn entry_from_row(
    (id, incident_id, at, actor, payload): (i64, i64, i64, String, String),
) -> Result<TimelineEntry, IncidentError> {
    let event = serde_json::from_str(&payload).map_err(|_| decode_error("timeline event", &payload))?;
    Ok(TimelineEntry { id, incident_id, at, actor, event })
}

pub(super) fn incident_from_row(row: IncidentRecord) -> Result<Incident, IncidentError> {
    let state = state_from_row(row.state)?;
    let category = Category::parse(&row.category).map_err(|_| decode_error("category", &row.category))?;
    Ok(Incident {
        id: row.id,
        title: row.title,
        category,
        summary: row.summary,
        components: Vec::new(),
        declared_by: row.declared_by,
        state,
    })
}

pub(super) fn state_from_row(row: StateRecord) -> Result<IncidentState, IncidentError> {
    Ok(IncidentState {
        severity: Severity::parse(&row.severity).map_err(|_| decode_error("severity", &row.severity))?,
        status: PublicStatus::parse(&row.status).map_err(|_| decode_error("status", &row.status))?,
        phase: Phase::parse(&row.phase).map_err(|_| decode_error("phase", &row.phase))?,
        assignments: Vec::new(),
        declared_at: row.declared_at,
        acknowledged_at: row.acknowledged_at,
        contained_at: row.contained_at,
        resolved_at: row.resolved_at,
        last_update_at: row.last_update_at,
        running_actions: 0,
        two_person_waived: row.two_person_waived_at.is_some(),
        public_title: row.public_title,
        review: match row.review_state {
            Some(state) => {
                Some(ReviewState::parse(&state).map_err(|_| decode_error("review state", &state))?)
            }
            None => None,
        },
        closed_at: row.closed_at,
    })
}
