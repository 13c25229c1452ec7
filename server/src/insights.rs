//! Insights over a period, aggregated in SQL (one set of queries for SQLite
//! and PostgreSQL): counts grouped by month, severity, category and
//! component; nearest-rank percentiles through window functions; customer-
//! facing downtime from the status history with `LEAD`; follow-up counts.
//! Nothing here loads incidents into Rust to loop over them.

use crate::db::{Database, DbError};
use app::domain::calendar;
use app::domain::incident::{Category, Severity};
use app::domain::insights::{FollowUpFigures, Percentiles, Period};
use app::domain::uptime::DAY_MS;

#[derive(Clone)]
pub struct InsightsStore {
    db: Database,
}

/// What the store answers; names and trends are added by the service.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub by_month: Vec<(String, i64)>,
    pub by_severity: Vec<(Severity, i64)>,
    pub by_category: Vec<(Category, i64)>,
    pub acknowledge: Vec<(Severity, Percentiles)>,
    pub resolve: Vec<(Severity, Percentiles)>,
    /// `(component key, incidents)`, most first.
    pub components_by_incidents: Vec<(String, i64)>,
    /// `(component key, weighted downtime in ms)`, most first, every component with any.
    pub components_by_downtime: Vec<(String, i64)>,
    pub recovery: Percentiles,
    pub follow_ups: FollowUpFigures,
}

/// Median and p90 per severity, from the declaration to these columns.
#[derive(Clone, Debug, Default)]
pub struct Times {
    pub acknowledge: Vec<(Severity, Percentiles)>,
    pub resolve: Vec<(Severity, Percentiles)>,
}

const ACKNOWLEDGED: &str = "acknowledged_at";
const RESOLVED: &str = "resolved_at";

/// `[$1, $2)` on `declared_at`.
const IN_PERIOD: &str = "declared_at >= $1 AND declared_at < $2";

impl InsightsStore {
    pub fn new(db: Database) -> InsightsStore {
        InsightsStore { db }
    }

    pub async fn figures(&self, period: Period, top: usize, now: i64) -> Result<Figures, DbError> {
        Ok(Figures {
            by_month: self.by_month(period).await?,
            by_severity: self
                .grouped(&format!("SELECT severity, COUNT(*) FROM incidents WHERE {IN_PERIOD} GROUP BY severity"), period)
                .await?
                .into_iter()
                .filter_map(|(s, n)| Some((Severity::parse(&s).ok()?, n)))
                .collect(),
            by_category: self
                .grouped(&format!("SELECT category, COUNT(*) FROM incidents WHERE {IN_PERIOD} GROUP BY category"), period)
                .await?
                .into_iter()
                .filter_map(|(c, n)| Some((Category::parse(&c).ok()?, n)))
                .collect(),
            acknowledge: self.durations_by_severity(ACKNOWLEDGED, period).await?,
            resolve: self.durations_by_severity(RESOLVED, period).await?,
            components_by_incidents: self
                .grouped(
                    &format!(
                        "SELECT c.component_key, COUNT(*) AS n FROM incident_components c \
                         JOIN incidents i ON i.id = c.incident_id WHERE i.declared_at >= $1 AND i.declared_at < $2 \
                         GROUP BY c.component_key ORDER BY n DESC, c.component_key LIMIT {top}"
                    ),
                    period,
                )
                .await?,
            components_by_downtime: self.downtime(period).await?,
            recovery: self.recovery(period).await?,
            follow_ups: self.follow_ups(period, now).await?,
        })
    }

    /// Only the times to acknowledge and to resolve (what a trend compares).
    pub async fn times(&self, period: Period) -> Result<Times, DbError> {
        Ok(Times {
            acknowledge: self.durations_by_severity(ACKNOWLEDGED, period).await?,
            resolve: self.durations_by_severity(RESOLVED, period).await?,
        })
    }

    async fn grouped(&self, sql: &str, period: Period) -> Result<Vec<(String, i64)>, DbError> {
        Ok(sqlx::query_as(sql).bind(period.from).bind(period.to).fetch_all(&self.db.pool).await?)
    }

    /// Incidents per month: the month boundaries come from the calendar and
    /// bucket the rows in SQL (`CASE`), so both databases agree on months.
    async fn by_month(&self, period: Period) -> Result<Vec<(String, i64)>, DbError> {
        let starts = calendar::months(period.from, period.to);
        if starts.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = vec![period.from, period.to];
        let mut cases = String::from("CASE");
        for (index, start) in starts.iter().enumerate().skip(1) {
            binds.push(*start);
            cases.push_str(&format!(" WHEN declared_at < ${} THEN {}", binds.len(), index - 1));
        }
        cases.push_str(&format!(" ELSE {} END", starts.len() - 1));
        let sql = format!(
            "SELECT month, COUNT(*) FROM (SELECT CAST({cases} AS BIGINT) AS month FROM incidents WHERE {IN_PERIOD}) m \
             GROUP BY month"
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.db.pool).await?;
        Ok(starts
            .iter()
            .enumerate()
            .map(|(index, start)| {
                let n = rows.iter().find(|(m, _)| *m == index as i64).map_or(0, |(_, n)| *n);
                (calendar::month_label(*start), n)
            })
            .collect())
    }

    /// Median and p90 (nearest rank) of `column - declared_at` per severity.
    async fn durations_by_severity(
        &self,
        column: &'static str,
        period: Period,
    ) -> Result<Vec<(Severity, Percentiles)>, DbError> {
        let sql = percentile_sql(&format!(
            "SELECT severity AS g, {column} - declared_at AS d FROM incidents WHERE {IN_PERIOD} AND {column} IS NOT NULL"
        ));
        let rows: Vec<(String, i64, Option<i64>, Option<i64>)> =
            sqlx::query_as(&sql).bind(period.from).bind(period.to).fetch_all(&self.db.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, count, p50, p90)| {
                Some((Severity::parse(&s).ok()?, Percentiles { count, p50, p90 }))
            })
            .collect())
    }

    /// DORA's failed deployment recovery time: declaration to resolution of the
    /// incidents in the period that a successful rollback contained.
    async fn recovery(&self, period: Period) -> Result<Percentiles, DbError> {
        let sql = percentile_sql(&format!(
            "SELECT 'all' AS g, resolved_at - declared_at AS d FROM incidents WHERE {IN_PERIOD} \
                 AND resolved_at IS NOT NULL AND id IN \
                 (SELECT incident_id FROM incident_actions WHERE name = $3 AND status = $4)"
        ));
        let row: Option<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(&sql)
            .bind(period.from)
            .bind(period.to)
            .bind("rollback")
            .bind("succeeded")
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row.map(|(_, count, p50, p90)| Percentiles { count, p50, p90 }).unwrap_or_default())
    }

    /// Weighted downtime per component in the period: each status change lasts
    /// until the next (`LEAD`), clipped to the period; a major outage counts in
    /// full, a partial outage as half.
    async fn downtime(&self, period: Period) -> Result<Vec<(String, i64)>, DbError> {
        let sql = "SELECT component_key, CAST(SUM(CASE WHEN status = $3 THEN (stop - start) \
                   ELSE (stop - start) / 2 END) AS BIGINT) AS weighted FROM ( \
                     SELECT component_key, status, \
                       CASE WHEN changed_at < $1 THEN $1 ELSE changed_at END AS start, \
                       CASE WHEN next_at IS NULL OR next_at > $2 THEN $2 ELSE next_at END AS stop \
                     FROM ( \
                       SELECT component_key, status, changed_at, \
                         LEAD(changed_at) OVER (PARTITION BY component_key ORDER BY changed_at, id) AS next_at \
                       FROM component_status_changes WHERE changed_at < $2 \
                     ) spans WHERE next_at IS NULL OR next_at > $1 \
                   ) clipped WHERE status IN ($3, $4) AND stop > start \
                   GROUP BY component_key ORDER BY weighted DESC, component_key";
        let rows: Vec<(String, i64)> = sqlx::query_as(sql)
            .bind(period.from)
            .bind(period.to.min(crate::db::now_millis()))
            .bind("major_outage")
            .bind("partial_outage")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows)
    }

    async fn follow_ups(&self, period: Period, now: i64) -> Result<FollowUpFigures, DbError> {
        let (opened, done, overdue): (Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT SUM(CASE WHEN created_at >= $1 AND created_at < $2 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN done_at >= $1 AND done_at < $2 AND status = $5 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN status = $3 AND due_day < $4 THEN 1 ELSE 0 END) FROM follow_ups",
        )
        .bind(period.from)
        .bind(period.to)
        .bind("open")
        .bind(now.div_euclid(DAY_MS))
        .bind("done")
        .fetch_one(&self.db.pool)
        .await?;
        Ok(FollowUpFigures {
            opened: opened.unwrap_or(0),
            done: done.unwrap_or(0),
            overdue: overdue.unwrap_or(0),
        })
    }
}

/// Nearest-rank median and p90 of `d` per group `g` of `source`, in SQL:
/// `ROW_NUMBER` and `COUNT` over each group, then the rows at ranks
/// ⌈n/2⌉ and ⌈9n/10⌉. Answers `(g, n, p50, p90)`.
fn percentile_sql(source: &str) -> String {
    format!(
        "SELECT g, MAX(n), MAX(CASE WHEN rn = (n + 1) / 2 THEN d END), MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN d END) \
         FROM (SELECT g, d, ROW_NUMBER() OVER (PARTITION BY g ORDER BY d) AS rn, COUNT(*) OVER (PARTITION BY g) AS n \
         FROM ({source}) durations) ranked GROUP BY g"
    )
}
