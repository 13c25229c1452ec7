//! Post-incident reviews as stored: the written sections with their impact
//! start set by hand, every edit as a numbered revision (who, when, what
//! changed), the timeline entries starred or unstarred by hand, and
//! follow-ups. The review's state lives on the incident row and moves through
//! the incident store, so the timeline records it.
//!
//! Saving checks, in the same transaction, that the review is open (the
//! incident resolved and the review not published) and that nobody saved a
//! newer revision meanwhile.

use crate::db::{Database, DbError};
use app::domain::incident_lifecycle::Person;
use app::domain::review::{FollowUp, FollowUpInput, FollowUpStatus, ReviewState, Sections};
use sqlx::{Any, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("incident {0} does not exist")]
    NotFound(i64),
    /// The review cannot change now (not open yet, or published).
    #[error("{0}")]
    Closed(String),
    /// Someone saved a newer revision since the editor loaded it.
    #[error("revision {revision} was saved by {author} meanwhile")]
    Stale { revision: i64, author: String },
    #[error("{0}")]
    NoSuch(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ReviewError {
    fn from(error: sqlx::Error) -> Self {
        ReviewError::Db(DbError::Query(error))
    }
}

/// The written part of a review as last saved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredReview {
    pub sections: Sections,
    /// The impact start set by hand, with its reason.
    pub impact_override: Option<(i64, String)>,
    /// 0 before the first edit.
    pub revision: i64,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
}

/// One edit of a review.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Revision {
    pub revision: i64,
    pub at: i64,
    pub author: String,
    pub changed: String,
}

/// A follow-up with what a list needs beside it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FollowUpRow {
    #[serde(flatten)]
    pub follow_up: FollowUp,
    pub incident_title: String,
}

#[derive(sqlx::FromRow)]
struct FollowUpRecord {
    id: i64,
    incident_id: i64,
    title: String,
    owner_id: Option<i64>,
    owner_email: Option<String>,
    due_day: Option<i64>,
    status: String,
    link: Option<String>,
    components: String,
    incident_title: String,
}

const SELECT_FOLLOW_UPS: &str = "SELECT f.id, f.incident_id, f.title, f.owner_id, u.email AS owner_email, f.due_day, \
     f.status, f.link, f.components, i.title AS incident_title \
     FROM follow_ups f JOIN incidents i ON i.id = f.incident_id LEFT JOIN users u ON u.id = f.owner_id";

fn follow_up_from(row: FollowUpRecord) -> FollowUpRow {
    FollowUpRow {
        follow_up: FollowUp {
            id: row.id,
            incident_id: row.incident_id,
            title: row.title,
            owner: row.owner_id.zip(row.owner_email).map(|(id, email)| Person { id, email }),
            due: row.due_day,
            // The column's CHECK admits only the three names.
            status: FollowUpStatus::parse(&row.status).unwrap_or(FollowUpStatus::Open),
            link: row.link,
            components: serde_json::from_str(&row.components).unwrap_or_default(),
        },
        incident_title: row.incident_title,
    }
}

/// Open follow-ups, and how many of them are overdue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowUpCounts {
    pub open: i64,
    pub overdue: i64,
}

#[derive(Clone)]
pub struct Reviews {
    db: Database,
}

impl Reviews {
    pub fn new(db: Database) -> Reviews {
        Reviews { db }
    }

    /// The review of incident `id` as last saved (empty before the first edit).
    pub async fn get(&self, id: i64) -> Result<StoredReview, ReviewError> {
        let mut conn = self.db.pool.acquire().await?;
        current(&mut conn, id).await
    }

    /// Saves the sections as revision `based_on + 1`; refused when someone saved
    /// after `based_on`, or when the review is not open. Answers the new revision.
    pub async fn save_sections(
        &self,
        id: i64,
        author: &str,
        sections: &Sections,
        based_on: i64,
        now: i64,
    ) -> Result<i64, ReviewError> {
        let mut tx = self.db.pool.begin().await?;
        let current = open_for_edit(&mut tx, id).await?;
        if current.revision != based_on {
            return Err(ReviewError::Stale {
                revision: current.revision,
                author: current.updated_by.unwrap_or_default(),
            });
        }
        let changed = sections.changed(&current.sections);
        if changed.is_empty() {
            return Ok(current.revision);
        }
        let next =
            StoredReview { sections: sections.clone(), impact_override: current.impact_override, ..current };
        let revision = write(&mut tx, id, author, &changed.join(", "), &next, now).await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Sets the impact start by hand with a reason (`None`: back to the computed one).
    pub async fn set_impact_start(
        &self,
        id: i64,
        author: &str,
        start: Option<(i64, String)>,
        now: i64,
    ) -> Result<i64, ReviewError> {
        let mut tx = self.db.pool.begin().await?;
        let current = open_for_edit(&mut tx, id).await?;
        let changed = match &start {
            Some((at, reason)) => {
                format!("Impact start set to {} ({reason})", app::domain::calendar::date_time(*at))
            }
            None => "Impact start computed from facts again".to_owned(),
        };
        let next = StoredReview { impact_override: start, ..current };
        let revision = write(&mut tx, id, author, &changed, &next, now).await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Every edit of the review, newest first.
    pub async fn revisions(&self, id: i64) -> Result<Vec<Revision>, ReviewError> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT revision, at, author, changed FROM review_revisions WHERE incident_id = $1 ORDER BY revision DESC",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(revision, at, author, changed)| Revision { revision, at, author, changed })
            .collect())
    }

    /// Stars set by hand: `(timeline entry, starred)`.
    pub async fn stars(&self, id: i64) -> Result<Vec<(i64, bool)>, ReviewError> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT event_id, starred FROM review_stars WHERE incident_id = $1")
                .bind(id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().map(|(event, starred)| (event, starred != 0)).collect())
    }

    /// Stars or unstars timeline entry `event` of incident `id`.
    pub async fn set_star(
        &self,
        id: i64,
        event: i64,
        starred: bool,
        by: &str,
        now: i64,
    ) -> Result<(), ReviewError> {
        let mut tx = self.db.pool.begin().await?;
        open_for_edit(&mut tx, id).await?;
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM incident_events WHERE id = $1 AND incident_id = $2")
                .bind(event)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(ReviewError::NoSuch(format!("Incident #{id} has no timeline entry #{event}.")));
        }
        sqlx::query(
            "INSERT INTO review_stars (incident_id, event_id, starred, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (incident_id, event_id) DO UPDATE SET starred = $3, changed_by = $4, changed_at = $5",
        )
        .bind(id)
        .bind(event)
        .bind(i64::from(starred))
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a follow-up (owner already looked up); recorded as a revision. Answers its id.
    pub async fn add_follow_up(
        &self,
        id: i64,
        author: &str,
        input: &FollowUpInput,
        owner: Option<i64>,
        now: i64,
    ) -> Result<i64, ReviewError> {
        let mut tx = self.db.pool.begin().await?;
        let current = review_exists(&mut tx, id).await?;
        let (follow_up,): (i64,) = sqlx::query_as(
            "INSERT INTO follow_ups (incident_id, title, owner_id, due_day, status, link, components, created_at, \
             created_by, updated_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10) RETURNING id",
        )
        .bind(id)
        .bind(&input.title)
        .bind(owner)
        .bind(input.due)
        .bind(input.status.as_str())
        .bind(input.link.as_deref())
        .bind(serde_json::to_string(&input.components).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .bind(author)
        .bind((input.status != FollowUpStatus::Open).then_some(now))
        .fetch_one(&mut *tx)
        .await?;
        write(&mut tx, id, author, &format!("Follow-up #{follow_up} added: {}", input.title), &current, now)
            .await?;
        tx.commit().await?;
        Ok(follow_up)
    }

    /// Changes follow-up `follow_up` of incident `id`; recorded as a revision.
    pub async fn update_follow_up(
        &self,
        id: i64,
        follow_up: i64,
        author: &str,
        input: &FollowUpInput,
        owner: Option<i64>,
        now: i64,
    ) -> Result<(), ReviewError> {
        let mut tx = self.db.pool.begin().await?;
        let current = review_exists(&mut tx, id).await?;
        let changed = sqlx::query(
            "UPDATE follow_ups SET title = $3, owner_id = $4, due_day = $5, \
             done_at = CASE WHEN $6 = 'open' THEN NULL WHEN status = 'open' THEN $9 ELSE done_at END, \
             status = $6, link = $7, components = $8, updated_at = $9 WHERE id = $1 AND incident_id = $2",
        )
        .bind(follow_up)
        .bind(id)
        .bind(&input.title)
        .bind(owner)
        .bind(input.due)
        .bind(input.status.as_str())
        .bind(input.link.as_deref())
        .bind(serde_json::to_string(&input.components).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(ReviewError::NoSuch(format!("Incident #{id} has no follow-up #{follow_up}.")));
        }
        let what = format!("Follow-up #{follow_up} changed: {} ({})", input.title, input.status.label());
        write(&mut tx, id, author, &what, &current, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The follow-ups of incident `id`, oldest first.
    pub async fn follow_ups(&self, id: i64) -> Result<Vec<FollowUpRow>, ReviewError> {
        let rows: Vec<FollowUpRecord> =
            sqlx::query_as(&format!("{SELECT_FOLLOW_UPS} WHERE f.incident_id = $1 ORDER BY f.id"))
                .bind(id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().map(follow_up_from).collect())
    }

    /// Open follow-ups, soonest due first (none last); only `owner`'s when given; at most `limit`.
    pub async fn open_follow_ups(
        &self,
        owner: Option<i64>,
        limit: usize,
    ) -> Result<Vec<FollowUpRow>, ReviewError> {
        let filter = if owner.is_some() { " AND f.owner_id = $2" } else { "" };
        let sql = format!(
            "{SELECT_FOLLOW_UPS} WHERE f.status = $1{filter} \
             ORDER BY CASE WHEN f.due_day IS NULL THEN 1 ELSE 0 END, f.due_day, f.id LIMIT {limit}"
        );
        let mut query = sqlx::query_as::<_, FollowUpRecord>(&sql).bind(FollowUpStatus::Open.as_str());
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        Ok(query.fetch_all(&self.db.pool).await?.into_iter().map(follow_up_from).collect())
    }

    /// How many follow-ups are open, and overdue at `today` (days since 1970-01-01).
    pub async fn follow_up_counts(&self, today: i64) -> Result<FollowUpCounts, ReviewError> {
        let (open, overdue): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN due_day < $2 THEN 1 ELSE 0 END) FROM follow_ups WHERE status = $1",
        )
        .bind(FollowUpStatus::Open.as_str())
        .bind(today)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(FollowUpCounts { open, overdue: overdue.unwrap_or(0) })
    }
}

/// The review in `tx`, refused unless its incident is resolved and its review is not published.
async fn open_for_edit(tx: &mut Transaction<'static, Any>, id: i64) -> Result<StoredReview, ReviewError> {
    let state = review_state(tx, id).await?;
    match state {
        None => Err(ReviewError::Closed("The review opens when the incident is resolved.".into())),
        Some(ReviewState::Published) => Err(ReviewError::Closed(
            "The review is published and the incident closed; reopen the incident to change it.".into(),
        )),
        Some(_) => current(tx, id).await,
    }
}

/// The review in `tx`, refused until it exists (follow-ups may change after publication).
async fn review_exists(tx: &mut Transaction<'static, Any>, id: i64) -> Result<StoredReview, ReviewError> {
    match review_state(tx, id).await? {
        None => Err(ReviewError::Closed("The review opens when the incident is resolved.".into())),
        Some(_) => current(tx, id).await,
    }
}

/// Takes the incident's write lock (as the incident store does) and reads the review state.
async fn review_state(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<Option<ReviewState>, ReviewError> {
    let locked = sqlx::query("UPDATE incidents SET version = version + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(ReviewError::NotFound(id));
    }
    let (state,): (Option<String>,) = sqlx::query_as("SELECT review_state FROM incidents WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(state.and_then(|s| ReviewState::parse(&s).ok()))
}

/// A `reviews` row.
#[derive(sqlx::FromRow)]
struct ReviewRow {
    sections: String,
    impact_start: Option<i64>,
    impact_reason: Option<String>,
    revision: i64,
    updated_at: i64,
    updated_by: String,
}

async fn current(conn: &mut sqlx::AnyConnection, id: i64) -> Result<StoredReview, ReviewError> {
    let row: Option<ReviewRow> = sqlx::query_as(
        "SELECT sections, impact_start, impact_reason, revision, updated_at, updated_by FROM reviews \
         WHERE incident_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => StoredReview::default(),
        Some(row) => StoredReview {
            sections: serde_json::from_str(&row.sections).unwrap_or_default(),
            impact_override: row.impact_start.map(|at| (at, row.impact_reason.unwrap_or_default())),
            revision: row.revision,
            updated_at: Some(row.updated_at),
            updated_by: Some(row.updated_by),
        },
    })
}

/// Writes `review` as the next revision, with `changed` saying what changed; answers its number.
async fn write(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    author: &str,
    changed: &str,
    review: &StoredReview,
    now: i64,
) -> Result<i64, ReviewError> {
    let revision = review.revision + 1;
    let sections = serde_json::to_string(&review.sections).unwrap_or_else(|_| "{}".into());
    let (start, reason) = match &review.impact_override {
        Some((at, reason)) => (Some(*at), Some(reason.as_str())),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO reviews (incident_id, sections, impact_start, impact_reason, revision, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (incident_id) DO UPDATE SET sections = $2, \
         impact_start = $3, impact_reason = $4, revision = $5, updated_at = $6, updated_by = $7",
    )
    .bind(id)
    .bind(&sections)
    .bind(start)
    .bind(reason)
    .bind(revision)
    .bind(now)
    .bind(author)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO review_revisions (incident_id, revision, at, author, changed, sections, impact_start, impact_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(revision)
    .bind(now)
    .bind(author)
    .bind(changed)
    .bind(&sections)
    .bind(start)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(revision)
}
