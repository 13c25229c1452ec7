//! Component status history: every change as it happened, the stretches when
//! the cluster could not be seen, and the per-day breakdown for uptime bars.

use crate::db::{Database, DbError};
use crate::events::EventHub;
use app::domain::component::ComponentKey;
use app::domain::component_health::StatusChange;
use app::domain::health::ComponentStatus;
use app::domain::uptime::{Blind, DAY_MS, DayBreakdown, Recorded, daily};
use serde_json::json;

/// How long history is kept: more than the 90 days the status page shows.
pub const RETENTION_DAYS: i64 = 100;

#[derive(Clone, Debug)]
pub struct History {
    db: Database,
}

fn parse_status(text: &str) -> Option<ComponentStatus> {
    serde_json::from_value(json!(text)).ok()
}

impl History {
    pub fn new(db: Database) -> History {
        History { db }
    }

    /// Each component's latest recorded status and when it began.
    pub async fn latest(&self) -> Result<Vec<(ComponentKey, ComponentStatus, i64)>, DbError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT c.component_key, c.status, c.changed_at FROM component_status_changes c \
             JOIN (SELECT component_key, MAX(id) AS id FROM component_status_changes GROUP BY component_key) latest \
             ON latest.id = c.id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, status, at)| Some((ComponentKey::parse(&key)?, parse_status(&status)?, at)))
            .collect())
    }

    /// Stores status changes, and a live event for each change from a known
    /// status (a component seen for the first time is history, not news), in
    /// one transaction.
    #[tracing::instrument(skip_all, fields(changes = changes.len()))]
    pub async fn record(&self, changes: &[StatusChange], hub: &EventHub) -> Result<(), DbError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.pool.begin().await?;
        let mut announced = false;
        for change in changes {
            let reasons = serde_json::to_string(&change.reasons).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "INSERT INTO component_status_changes (component_key, status, reasons, changed_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(change.key.as_str())
            .bind(change.to.as_str())
            .bind(reasons)
            .bind(change.at)
            .execute(&mut *tx)
            .await?;
            if change.from.is_some() {
                let data = json!({
                    "component": change.key,
                    "name": change.name,
                    "from": change.from,
                    "status": change.to,
                    "reasons": change.reasons,
                    "at": change.at,
                });
                hub.append(&mut tx, "component", &data).await?;
                announced = true;
            }
        }
        tx.commit().await?;
        if announced {
            hub.committed();
        }
        Ok(())
    }

    /// Stores a change of the link to the cluster as a live event; `visible`
    /// `Some(false)` opens a blind span at `at`, `Some(true)` closes it.
    pub async fn record_link(
        &self,
        visible: Option<bool>,
        at: i64,
        hub: &EventHub,
        data: &serde_json::Value,
    ) -> Result<(), DbError> {
        let mut tx = self.db.pool.begin().await?;
        match visible {
            Some(true) => {
                sqlx::query("UPDATE cluster_blind_spans SET ended_at = $1 WHERE ended_at IS NULL")
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(false) => {
                let (open,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM cluster_blind_spans WHERE ended_at IS NULL")
                        .fetch_one(&mut *tx)
                        .await?;
                if open == 0 {
                    sqlx::query("INSERT INTO cluster_blind_spans (started_at) VALUES ($1)")
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            None => {}
        }
        hub.append(&mut tx, "cluster", data).await?;
        tx.commit().await?;
        hub.committed();
        Ok(())
    }

    /// Closes a blind span left open by a previous run that stopped while the
    /// cluster was out of sight: the time since is unknown, not uptime.
    pub async fn close_stale_blind_spans(&self, at: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE cluster_blind_spans SET ended_at = $1 WHERE ended_at IS NULL")
            .bind(at)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// The last `days` UTC days (today included) for one component.
    pub async fn daily(
        &self,
        key: &ComponentKey,
        days: usize,
        now: i64,
    ) -> Result<Vec<DayBreakdown>, DbError> {
        let first_day = now.div_euclid(DAY_MS) - days as i64 + 1;
        let (changes, blind) = self.since(key, first_day * DAY_MS).await?;
        Ok(daily(&changes, &blind, first_day, days, now))
    }

    /// A component's status changes from `start` on, led by the last change
    /// before it (the status the period starts with), and the blind spans
    /// that reach past `start`.
    pub async fn since(
        &self,
        key: &ComponentKey,
        start: i64,
    ) -> Result<(Vec<Recorded>, Vec<Blind>), DbError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT changed_at, status FROM component_status_changes WHERE component_key = $1 AND \
             (changed_at >= $2 OR id = (SELECT MAX(id) FROM component_status_changes WHERE component_key = $1 AND changed_at < $2)) \
             ORDER BY changed_at, id",
        )
        .bind(key.as_str())
        .bind(start)
        .fetch_all(&self.db.pool)
        .await?;
        let changes: Vec<Recorded> = rows
            .into_iter()
            .filter_map(|(at, status)| Some(Recorded { at, status: parse_status(&status)? }))
            .collect();
        let spans: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT started_at, ended_at FROM cluster_blind_spans WHERE ended_at IS NULL OR ended_at > $1",
        )
        .bind(start)
        .fetch_all(&self.db.pool)
        .await?;
        let blind: Vec<Blind> = spans.into_iter().map(|(start, end)| Blind { start, end }).collect();
        Ok((changes, blind))
    }

    /// Deletes history older than [`RETENTION_DAYS`], keeping each
    /// component's last change before the cut, which the oldest day starts from.
    pub async fn prune(&self, now: i64) -> Result<(), DbError> {
        let cutoff = now - RETENTION_DAYS * DAY_MS;
        sqlx::query(
            "DELETE FROM component_status_changes WHERE changed_at < $1 AND id NOT IN \
             (SELECT MAX(id) FROM component_status_changes WHERE changed_at < $1 GROUP BY component_key)",
        )
        .bind(cutoff)
        .execute(&self.db.pool)
        .await?;
        sqlx::query("DELETE FROM cluster_blind_spans WHERE ended_at < $1")
            .bind(cutoff)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}
