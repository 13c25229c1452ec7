//! Incident storage: the incident row (the current state), its roles and
//! affected components, and its append-only timeline. Every command runs in
//! one transaction that first bumps the incident's version, which takes the
//! row's write lock on both backends, so commands on one incident run one at a
//! time and the state and the timeline never disagree.

use crate::db::{Database, DbError};
use crate::events::EventHub;
use app::domain::component::ComponentKey;
use app::domain::incident::{Category, Declaration, IncidentRole, PublicStatus, Severity};
use app::domain::incident_lifecycle::{
    Actor, Assignment, Command, IncidentState, Person, Refusal, TimelineEvent, apply, decide,
};
use serde::Serialize;
use serde_json::json;
use sqlx::{Any, Transaction};
use std::sync::Arc;

/// An incident as pages and the API show it.
#[derive(Clone, Debug, Serialize)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub category: Category,
    pub summary: String,
    pub components: Vec<ComponentKey>,
    pub declared_by: String,
    pub state: IncidentState,
}

/// One timeline entry.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub incident_id: i64,
    pub at: i64,
    pub actor: String,
    #[serde(flatten)]
    pub event: TimelineEvent,
}

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("incident {0} does not exist")]
    NotFound(i64),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{message}")]
    Field { field: &'static str, message: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for IncidentError {
    fn from(error: sqlx::Error) -> Self {
        IncidentError::Db(DbError::Query(error))
    }
}

/// A value bound into a query built at run time.
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

mod paging;
mod rows;

pub use paging::{IncidentCursor, IncidentFilter, ResolvedCursor};
use rows::{IncidentRecord, StateRecord, decode_error, entry_from_row, incident_from_row, state_from_row};

#[derive(Clone)]
pub struct Incidents {
    db: Database,
    hub: Arc<EventHub>,
}

const SELECT_INCIDENT: &str = "SELECT id, title, severity, category, summary, status, phase, declared_at, declared_by, \
     acknowledged_at, contained_at, resolved_at, last_update_at, two_person_waived_at, public_title, review_state, closed_at \
     FROM incidents";

impl Incidents {
    pub fn new(db: Database, hub: Arc<EventHub>) -> Incidents {
        Incidents { db, hub }
    }

    /// Declares an incident commanded by `commander` (`None`: nobody until a
    /// responder takes command, for incidents declared from alerts); returns its id.
    #[tracing::instrument(skip_all, fields(incident.severity = %declaration.severity))]
    pub async fn declare(
        &self,
        actor: &Actor,
        declaration: &Declaration,
        commander: Option<Person>,
        now: i64,
    ) -> Result<i64, IncidentError> {
        let state = match &commander {
            Some(person) => IncidentState::declared(declaration.severity, person.clone(), now),
            None => IncidentState::declared_without_commander(declaration.severity, now),
        };
        let mut tx = self.db.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO incidents (title, severity, category, summary, status, phase, declared_at, declared_by, last_update_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) RETURNING id",
        )
        .bind(declaration.title.as_str())
        .bind(state.severity.as_str())
        .bind(declaration.category.as_str())
        .bind(declaration.summary.as_str())
        .bind(state.status.as_str())
        .bind(state.phase.as_str())
        .bind(now)
        .bind(&actor.name)
        .fetch_one(&mut *tx)
        .await?;
        for key in &declaration.components {
            sqlx::query("INSERT INTO incident_components (incident_id, component_key) VALUES ($1, $2)")
                .bind(id)
                .bind(key.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(commander) = &commander {
            insert_role(&mut tx, id, commander, IncidentRole::IncidentCommander, now).await?;
        }
        let event = TimelineEvent::Declared {
            title: declaration.title.as_str().to_owned(),
            severity: declaration.severity,
            category: declaration.category,
            components: declaration.components.iter().map(|k| k.as_str().to_owned()).collect(),
            summary: declaration.summary.as_str().to_owned(),
            commander,
        };
        let entry = append_event(&mut tx, id, actor, &event, now).await?;
        self.hub.append(&mut tx, "incident", &live_data(&entry)).await?;
        tx.commit().await?;
        self.hub.committed();
        tracing::info!(incident.id = id, "incident declared");
        Ok(id)
    }

    /// Runs `command` on incident `id` for `actor`: decides, stores the state
    /// and the events, and announces them, or changes nothing.
    #[tracing::instrument(skip_all, fields(incident.id = id))]
    pub async fn run(
        &self,
        id: i64,
        actor: &Actor,
        command: Command,
        now: i64,
    ) -> Result<Vec<TimelineEntry>, IncidentError> {
        let mut tx = self.db.pool.begin().await?;
        // The write lock first: two commands on one incident take turns from here.
        let locked = sqlx::query("UPDATE incidents SET version = version + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if locked == 0 {
            return Err(IncidentError::NotFound(id));
        }
        let mut state = load_state(&mut tx, id).await?.ok_or(IncidentError::NotFound(id))?;
        let before = state.clone();
        let events = decide(&state, actor, command)?;
        let mut entries = Vec::with_capacity(events.len());
        for event in &events {
            apply(&mut state, event, now);
            entries.push(append_event(&mut tx, id, actor, event, now).await?);
        }
        store_state(&mut tx, id, &before, &state, now).await?;
        for entry in &entries {
            self.hub.append(&mut tx, "incident", &live_data(entry)).await?;
        }
        tx.commit().await?;
        self.hub.committed();
        for entry in &entries {
            tracing::info!(incident.id = id, incident.event = entry.event.kind(), actor = %actor.name, "incident changed");
        }
        Ok(entries)
    }

    pub async fn get(&self, id: i64) -> Result<Option<Incident>, IncidentError> {
        let row: Option<IncidentRecord> = sqlx::query_as(&format!("{SELECT_INCIDENT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut incident = incident_from_row(row)?;
        incident.state.assignments = self.assignments(id).await?;
        incident.components = self.components_of(id).await?;
        Ok(Some(incident))
    }

    /// Incidents matching `filter`, worst severity first, then oldest first.
    /// The filter runs in SQL; roles and components are read for the matches only.
    pub async fn list(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, IncidentError> {
        let mut conditions = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let mut bind = |value: Bind<'static>| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if let Some(severity) = filter.severity {
            conditions.push(format!("severity = {}", bind(Bind::Text(severity.as_str()))));
        }
        if let Some(status) = filter.status {
            conditions.push(format!("status = {}", bind(Bind::Text(status.as_str()))));
        }
        if let Some(active) = filter.active {
            let resolved = bind(Bind::Text(PublicStatus::Resolved.as_str()));
            conditions.push(format!("status {} {resolved}", if active { "<>" } else { "=" }));
        }
        if let Some(since) = filter.declared_since {
            conditions.push(format!("declared_at >= {}", bind(Bind::Int(since))));
        }
        if filter.public_only {
            // Timeline payloads are the events as serde writes them: {"kind":"update_posted","audience":"public",…}.
            conditions.push(format!(
                "id IN (SELECT incident_id FROM incident_events WHERE kind = 'update_posted' AND payload LIKE {})",
                bind(Bind::Text("%\"audience\":\"public\"%"))
            ));
        }
        if let Some(after) = filter.after {
            let (severity, at, id) = (
                bind(Bind::Text(after.severity.as_str())),
                bind(Bind::Int(after.declared_at)),
                bind(Bind::Int(after.id)),
            );
            conditions.push(format!(
                "(severity > {severity} OR (severity = {severity} AND \
                 (declared_at > {at} OR (declared_at = {at} AND id > {id}))))"
            ));
        }
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let limit_sql = filter.limit.map(|limit| format!(" LIMIT {limit}")).unwrap_or_default();
        let sql = format!("{SELECT_INCIDENT}{filter_sql} ORDER BY severity, declared_at, id{limit_sql}");
        self.fetch(&sql, binds).await
    }

    /// Resolved incidents, most recently resolved first, matching `severity`,
    /// resolved before `before` (a place in that order), at most `limit`.
    pub async fn resolved(
        &self,
        severity: Option<Severity>,
        before: Option<ResolvedCursor>,
        limit: usize,
    ) -> Result<Vec<Incident>, IncidentError> {
        let mut sql = format!("{SELECT_INCIDENT} WHERE status = $1 AND resolved_at IS NOT NULL");
        let mut binds: Vec<Bind> = vec![Bind::Text(PublicStatus::Resolved.as_str())];
        if let Some(severity) = severity {
            binds.push(Bind::Text(severity.as_str()));
            sql.push_str(&format!(" AND severity = ${}", binds.len()));
        }
        if let Some(before) = before {
            binds.push(Bind::Int(before.resolved_at));
            binds.push(Bind::Int(before.id));
            let (at, id) = (binds.len() - 1, binds.len());
            sql.push_str(&format!(" AND (resolved_at < ${at} OR (resolved_at = ${at} AND id < ${id}))"));
        }
        sql.push_str(&format!(" ORDER BY resolved_at DESC, id DESC LIMIT {limit}"));
        self.fetch(&sql, binds).await
    }

    /// Runs a `SELECT_INCIDENT` query built at run time, then fills in the
    /// role holders and affected components of what it found.
    async fn fetch(&self, sql: &str, binds: Vec<Bind<'_>>) -> Result<Vec<Incident>, IncidentError> {
        let mut query = sqlx::query_as::<_, IncidentRecord>(sql);
        for value in binds {
            query = match value {
                Bind::Text(text) => query.bind(text),
                Bind::Int(int) => query.bind(int),
            };
        }
        let mut incidents = query
            .fetch_all(&self.db.pool)
            .await?
            .into_iter()
            .map(incident_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_details(&mut incidents).await?;
        Ok(incidents)
    }

    /// Fills in the role holders and affected components of `incidents`, two queries in all.
    async fn with_details(&self, incidents: &mut [Incident]) -> Result<(), IncidentError> {
        if incidents.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
        let roles = self.assignments_of(&ids).await?;
        let components = self.components_of_all(&ids).await?;
        for incident in incidents {
            incident.state.assignments =
                roles.iter().filter(|(id, _)| *id == incident.id).map(|(_, a)| a.clone()).collect();
            incident.components =
                components.iter().filter(|(id, _)| *id == incident.id).map(|(_, k)| k.clone()).collect();
        }
        Ok(())
    }

    /// The entries of the given kinds (e.g. `note`) on the timelines of the
    /// incidents `ids`, oldest first, in one query.
    pub async fn events_of_kinds(
        &self,
        ids: &[i64],
        kinds: &[&str],
    ) -> Result<Vec<TimelineEntry>, IncidentError> {
        if ids.is_empty() || kinds.is_empty() {
            return Ok(Vec::new());
        }
        let kind_placeholders =
            (ids.len() + 1..=ids.len() + kinds.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT id, incident_id, at, actor, payload FROM incident_events \
             WHERE incident_id IN ({}) AND kind IN ({kind_placeholders}) ORDER BY id",
            placeholders(ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String, String)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        for kind in kinds {
            query = query.bind(*kind);
        }
        query.fetch_all(&self.db.pool).await?.into_iter().map(entry_from_row).collect()
    }

    /// The timeline, oldest first.
    pub async fn timeline(&self, id: i64) -> Result<Vec<TimelineEntry>, IncidentError> {
        self.timeline_page(id, None, None).await
    }

    /// Timeline entries after the entry `after` (none: from the start), oldest first, at most `limit`.
    pub async fn timeline_page(
        &self,
        id: i64,
        after: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<TimelineEntry>, IncidentError> {
        let limit_sql = limit.map(|limit| format!(" LIMIT {limit}")).unwrap_or_default();
        let rows: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(&format!(
            "SELECT id, incident_id, at, actor, payload FROM incident_events \
             WHERE incident_id = $1 AND id > $2 ORDER BY id{limit_sql}"
        ))
        .bind(id)
        .bind(after.unwrap_or(0))
        .fetch_all(&self.db.pool)
        .await?;
        rows.into_iter().map(entry_from_row).collect()
    }

    async fn assignments(&self, id: i64) -> Result<Vec<Assignment>, IncidentError> {
        let mut conn = self.db.pool.acquire().await?;
        load_assignments(&mut conn, &[id]).await.map(|all| all.into_iter().map(|(_, a)| a).collect())
    }

    /// The role holders of the incidents `ids`.
    async fn assignments_of(&self, ids: &[i64]) -> Result<Vec<(i64, Assignment)>, IncidentError> {
        let mut conn = self.db.pool.acquire().await?;
        load_assignments(&mut conn, ids).await
    }

    async fn components_of(&self, id: i64) -> Result<Vec<ComponentKey>, IncidentError> {
        Ok(self.components_of_all(&[id]).await?.into_iter().map(|(_, k)| k).collect())
    }

    /// The affected components of the incidents `ids`.
    async fn components_of_all(&self, ids: &[i64]) -> Result<Vec<(i64, ComponentKey)>, IncidentError> {
        let sql = format!(
            "SELECT incident_id, component_key FROM incident_components WHERE incident_id IN ({}) \
             ORDER BY component_key",
            placeholders(ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.db.pool).await?;
        Ok(rows.into_iter().filter_map(|(id, key)| Some((id, ComponentKey::parse(&key)?))).collect())
    }
}

/// `$1, $2, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub(crate) async fn load_state(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<Option<IncidentState>, IncidentError> {
    let row: Option<StateRecord> = sqlx::query_as(
        "SELECT severity, status, phase, declared_at, acknowledged_at, contained_at, resolved_at, last_update_at, \
         two_person_waived_at, public_title, review_state, closed_at \
         FROM incidents WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut state = state_from_row(row)?;
    state.assignments = load_assignments(tx, &[id]).await?.into_iter().map(|(_, a)| a).collect();
    let (running,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM incident_actions WHERE incident_id = $1 AND status = 'executing'",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    state.running_actions = u32::try_from(running).unwrap_or(u32::MAX);
    Ok(Some(state))
}

/// Role holders, the commander first, then by role and e-mail address.
async fn load_assignments(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
) -> Result<Vec<(i64, Assignment)>, IncidentError> {
    const SELECT: &str = "SELECT r.incident_id, u.id, u.email, r.role FROM incident_roles r \
         JOIN users u ON u.id = r.user_id";
    const ORDER: &str = "ORDER BY r.incident_id, r.assigned_at, r.role, u.email";
    let sql = format!("{SELECT} WHERE r.incident_id IN ({}) {ORDER}", placeholders(ids.len()));
    let mut query = sqlx::query_as::<_, (i64, i64, String, String)>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut assignments: Vec<(i64, Assignment)> = rows
        .into_iter()
        .map(|(incident, user, email, role)| {
            let role = IncidentRole::parse(&role).map_err(|_| decode_error("incident role", &role))?;
            Ok((incident, Assignment { person: Person { id: user, email }, role }))
        })
        .collect::<Result<_, IncidentError>>()?;
    assignments.sort_by_key(|(incident, a)| (*incident, a.role != IncidentRole::IncidentCommander));
    Ok(assignments)
}

async fn insert_role(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    person: &Person,
    role: IncidentRole,
    now: i64,
) -> Result<(), IncidentError> {
    sqlx::query(
        "INSERT INTO incident_roles (incident_id, user_id, role, assigned_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(person.id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes the new state: the incident row and the role holders that changed.
async fn store_state(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    before: &IncidentState,
    after: &IncidentState,
    now: i64,
) -> Result<(), IncidentError> {
    sqlx::query(
        "UPDATE incidents SET severity = $2, status = $3, phase = $4, acknowledged_at = $5, contained_at = $6, \
         resolved_at = $7, last_update_at = $8, two_person_waived_at = COALESCE(two_person_waived_at, $9), \
         public_title = $10, review_state = $11, closed_at = $12 WHERE id = $1",
    )
    .bind(id)
    .bind(after.severity.as_str())
    .bind(after.status.as_str())
    .bind(after.phase.as_str())
    .bind(after.acknowledged_at)
    .bind(after.contained_at)
    .bind(after.resolved_at)
    .bind(after.last_update_at)
    .bind((after.two_person_waived && !before.two_person_waived).then_some(now))
    .bind(after.public_title.as_deref())
    .bind(after.review.map(|r| r.as_str()))
    .bind(after.closed_at)
    .execute(&mut **tx)
    .await?;
    for gone in before.assignments.iter().filter(|a| !after.assignments.contains(a)) {
        sqlx::query("DELETE FROM incident_roles WHERE incident_id = $1 AND user_id = $2 AND role = $3")
            .bind(id)
            .bind(gone.person.id)
            .bind(gone.role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    for new in after.assignments.iter().filter(|a| !before.assignments.contains(a)) {
        insert_role(tx, id, &new.person, new.role, now).await?;
    }
    Ok(())
}

pub(crate) async fn append_event(
    tx: &mut Transaction<'static, Any>,
    incident_id: i64,
    actor: &Actor,
    event: &TimelineEvent,
    at: i64,
) -> Result<TimelineEntry, IncidentError> {
    let payload = serde_json::to_string(event).map_err(|_| decode_error("timeline event", event.kind()))?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO incident_events (incident_id, at, actor, actor_user_id, kind, payload) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(incident_id)
    .bind(at)
    .bind(&actor.name)
    .bind(actor.person.as_ref().map(|p| p.id))
    .bind(event.kind())
    .bind(payload)
    .fetch_one(&mut **tx)
    .await?;
    Ok(TimelineEntry { id, incident_id, at, actor: actor.name.clone(), event: event.clone() })
}

/// What an `incident` live event carries.
pub(crate) fn live_data(entry: &TimelineEntry) -> serde_json::Value {
    json!({
        "incident": entry.incident_id,
        "event": entry.id,
        "kind": entry.event.kind(),
        "actor": entry.actor,
        "at": entry.at,
        "text": entry.event.describe(),
    })
}
