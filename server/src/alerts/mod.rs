//! Storage of alerts: one row per (source, key) that repeats update, the
//! Alertmanager groups they arrived in, and the routing policy. A delivery is
//! stored in one transaction with the live event that tells pages about it;
//! routing (declaring or attaching) happens after, in the service.

pub mod detection;
mod rows;

use crate::db::{Database, DbError};
use crate::events::EventHub;
use domain::alert::{
    AlertInput, AlertSeverity, AlertSource, AlertStatus, AlertTrack, Change, Outcome, RouteContext,
    RoutingRule, default_rules,
};
use domain::component::ComponentKey;
use rows::{AlertRow, GroupRow, RuleRow};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use rows::{AlertGroup, AlertRecord};

/// Firing and resolved-within-this-long alerts make the inbox.
pub const RECENT_MS: i64 = 3600 * 1000;

/// One alert of a delivery, with the component it maps to.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub input: AlertInput,
    pub component: Option<ComponentKey>,
}

/// The Alertmanager group a delivery belongs to.
#[derive(Clone, Debug)]
pub struct GroupInfo {
    pub key: String,
    pub receiver: String,
    pub labels: BTreeMap<String, String>,
    pub external_url: Option<String>,
    pub truncated_alerts: u32,
}

/// What a delivery did to one alert.
#[derive(Clone, Debug)]
pub struct Observed {
    pub record: AlertRecord,
    /// The record before this delivery; `None` when new.
    pub before: Option<AlertTrack>,
    pub change: Change,
}

/// Which alerts a list shows.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Also alerts the policy keeps out of sight (info by default).
    pub include_kept: bool,
    /// Also alerts silenced now.
    pub include_silenced: bool,
    /// Only ids below this (the next page).
    pub before: Option<i64>,
    pub limit: usize,
}

#[derive(Clone)]
pub struct Alerts {
    db: Database,
    hub: Arc<EventHub>,
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

const SELECT_ALERT: &str = "SELECT id, source, fingerprint, name, status, severity, labels, annotations, \
     source_url, group_key, component_key, starts_at, first_seen, last_seen, last_change, resolved_at, \
     flap_count, route, incident_id, acknowledged_at, acknowledged_by, silenced_until, silenced_by, \
     silence_reason FROM alerts";

impl Alerts {
    pub fn new(db: Database, hub: Arc<EventHub>) -> Alerts {
        Alerts { db, hub }
    }

    /// Stores one delivery: new alerts are inserted, known ones updated
    /// (never duplicated), and the group's truncation recorded.
    #[tracing::instrument(skip_all, fields(alerts.source = source.as_str(), alerts.count = batch.len()))]
    pub async fn observe(
        &self,
        source: AlertSource,
        batch: &[Incoming],
        group: Option<&GroupInfo>,
        now: i64,
    ) -> Result<Vec<Observed>, DbError> {
        let mut tx = self.db.pool.begin().await?;
        if let Some(group) = group {
            let labels = serde_json::to_string(&group.labels).unwrap_or_else(|_| "{}".into());
            sqlx::query(
                "INSERT INTO alert_groups (group_key, receiver, labels, external_url, truncated_alerts, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (group_key) DO UPDATE SET receiver = $2, \
                 labels = $3, external_url = $4, truncated_alerts = $5, last_seen = $6",
            )
            .bind(&group.key)
            .bind(&group.receiver)
            .bind(labels)
            .bind(group.external_url.as_deref())
            .bind(i64::from(group.truncated_alerts))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let mut known: HashMap<String, AlertRecord> = HashMap::new();
        let keys: Vec<&str> = batch.iter().map(|i| i.input.key.trim()).collect();
        for chunk in keys.chunks(200) {
            let sql = format!(
                "{SELECT_ALERT} WHERE source = $1 AND fingerprint IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query_as::<_, AlertRow>(&sql).bind(source.as_str());
            for key in chunk {
                query = query.bind(*key);
            }
            for row in query.fetch_all(&mut *tx).await? {
                let record = row.into_record()?;
                known.insert(record.fingerprint.clone(), record);
            }
        }
        let group_key = group.map(|g| g.key.as_str());
        let mut observed = Vec::with_capacity(batch.len());
        let mut new = 0;
        for incoming in batch {
            let input = &incoming.input;
            let key = input.key.trim();
            let status = input.effective_status(now);
            let before = known.get(key).map(AlertRecord::track);
            let (track, change) = AlertTrack::observe(before, status, now);
            let record = match known.get(key) {
                Some(existing) => {
                    let record = existing.updated(input, incoming.component.clone(), group_key, track);
                    update_alert(&mut tx, &record).await?;
                    record
                }
                None => {
                    new += 1;
                    insert_alert(&mut tx, source, input, incoming.component.as_ref(), group_key, track)
                        .await?
                }
            };
            known.insert(key.to_owned(), record.clone());
            observed.push(Observed { record, before, change });
        }
        let changed = observed.iter().filter(|o| o.change != Change::Repeated).count();
        self.hub
            .append(&mut tx, "alert", &json!({ "received": batch.len(), "new": new, "changed": changed }))
            .await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(observed)
    }

    /// Records where an alert went.
    pub async fn set_route(&self, id: i64, route: &str, incident: Option<i64>) -> Result<(), DbError> {
        sqlx::query("UPDATE alerts SET route = $2, incident_id = COALESCE($3, incident_id) WHERE id = $1")
            .bind(id)
            .bind(route)
            .bind(incident)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// What routing needs beyond the alert: an incident under way for its
    /// component, and how many alerts are new in the last minute.
    pub async fn route_context(
        &self,
        component: Option<&ComponentKey>,
        now: i64,
    ) -> Result<RouteContext, DbError> {
        let minute_ago = now - 60_000;
        let mut context = RouteContext::default();
        if let Some(component) = component {
            let under_way: Option<(i64,)> = sqlx::query_as(
                "SELECT i.id FROM incidents i JOIN incident_components c ON c.incident_id = i.id \
                 WHERE c.component_key = $1 AND i.status <> 'resolved' ORDER BY i.declared_at DESC, i.id DESC LIMIT 1",
            )
            .bind(component.as_str())
            .fetch_optional(&self.db.pool)
            .await?;
            context.incident_for_component = under_way.map(|(id,)| id);
            let (count,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE first_seen >= $1 AND component_key = $2")
                    .bind(minute_ago)
                    .bind(component.as_str())
                    .fetch_one(&self.db.pool)
                    .await?;
            context.new_for_component = u32::try_from(count).unwrap_or(u32::MAX);
        }
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE first_seen >= $1")
            .bind(minute_ago)
            .fetch_one(&self.db.pool)
            .await?;
        context.new_in_cluster = u32::try_from(count).unwrap_or(u32::MAX);
        // Only an incident opened during this storm: not one from alerts hours ago.
        let latest: Option<(i64,)> = sqlx::query_as(
            "SELECT a.incident_id FROM alerts a JOIN incidents i ON i.id = a.incident_id \
             WHERE a.route = 'declared' AND i.status <> 'resolved' AND i.declared_at >= $1 \
             ORDER BY i.declared_at DESC, i.id DESC LIMIT 1",
        )
        .bind(now - domain::alert::StormGuard::JOIN_WITHIN_MS)
        .fetch_optional(&self.db.pool)
        .await?;
        context.latest_alert_incident = latest.map(|(id,)| id);
        Ok(context)
    }

    /// The names of the alerts attached to an incident (what playbooks match on).
    pub async fn names_for_incident(&self, incident_id: i64) -> Result<Vec<String>, DbError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT name FROM alerts WHERE incident_id = $1 ORDER BY name")
                .bind(incident_id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    /// For the alerts attached to an incident: the earliest start (`startsAt`,
    /// else first sight) and the earliest time Wheelhouse received one.
    pub async fn first_times_for_incident(
        &self,
        incident_id: i64,
    ) -> Result<(Option<i64>, Option<i64>), DbError> {
        Ok(sqlx::query_as(
            "SELECT MIN(COALESCE(starts_at, first_seen)), MIN(first_seen) FROM alerts WHERE incident_id = $1",
        )
        .bind(incident_id)
        .fetch_one(&self.db.pool)
        .await?)
    }

    pub async fn get(&self, id: i64) -> Result<Option<AlertRecord>, DbError> {
        let row: Option<AlertRow> = sqlx::query_as(&format!("{SELECT_ALERT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(AlertRow::into_record).transpose()
    }

    /// Alerts by id, in the order asked (unknown ids left out).
    pub async fn get_many(&self, ids: &[i64]) -> Result<Vec<AlertRecord>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{SELECT_ALERT} WHERE id IN ({})", placeholders(1, ids.len()));
        let mut query = sqlx::query_as::<_, AlertRow>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let mut records: Vec<AlertRecord> = query
            .fetch_all(&self.db.pool)
            .await?
            .into_iter()
            .map(AlertRow::into_record)
            .collect::<Result<_, _>>()?;
        records.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok(records)
    }

    /// Firing alerts and those resolved within [`RECENT_MS`], newest first.
    pub async fn inbox(&self, filter: &AlertFilter, now: i64) -> Result<Vec<AlertRecord>, DbError> {
        let mut sql = format!("{SELECT_ALERT} WHERE (status = 'firing' OR resolved_at >= $1)");
        if !filter.include_kept {
            sql.push_str(" AND route <> 'kept'");
        }
        if !filter.include_silenced {
            sql.push_str(" AND (silenced_until IS NULL OR silenced_until <= $2)");
        } else {
            sql.push_str(" AND $2 = $2");
        }
        sql.push_str(" AND id < $3 ORDER BY id DESC LIMIT $4");
        let rows: Vec<AlertRow> = sqlx::query_as(&sql)
            .bind(now - RECENT_MS)
            .bind(now)
            .bind(filter.before.unwrap_or(i64::MAX))
            .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
            .fetch_all(&self.db.pool)
            .await?;
        rows.into_iter().map(AlertRow::into_record).collect()
    }

    /// The groups these keys name.
    pub async fn groups(&self, keys: &[&str]) -> Result<Vec<AlertGroup>, DbError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT group_key, receiver, labels, external_url, truncated_alerts, last_seen FROM alert_groups \
             WHERE group_key IN ({})",
            placeholders(1, keys.len())
        );
        let mut query = sqlx::query_as::<_, GroupRow>(&sql);
        for key in keys {
            query = query.bind(*key);
        }
        Ok(query.fetch_all(&self.db.pool).await?.into_iter().map(GroupRow::into_group).collect())
    }

    /// The firing alerts Wheelhouse itself raised.
    pub async fn firing_own(&self) -> Result<Vec<AlertRecord>, DbError> {
        let rows: Vec<AlertRow> =
            sqlx::query_as(&format!("{SELECT_ALERT} WHERE source = 'wheelhouse' AND status = 'firing'"))
                .fetch_all(&self.db.pool)
                .await?;
        rows.into_iter().map(AlertRow::into_record).collect()
    }

    pub async fn acknowledge(&self, id: i64, by: &str, now: i64) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE alerts SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND acknowledged_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(by)
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        self.announce(id, "acknowledged").await?;
        Ok(done == 1)
    }

    pub async fn silence(&self, id: i64, until: i64, by: &str, reason: &str) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE alerts SET silenced_until = $2, silenced_by = $3, silence_reason = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(until)
        .bind(by)
        .bind(reason)
        .execute(&self.db.pool)
        .await?;
        self.announce(id, "silenced").await
    }

    async fn announce(&self, id: i64, what: &str) -> Result<(), DbError> {
        let mut tx = self.db.pool.begin().await?;
        self.hub.append(&mut tx, "alert", &json!({ "alert": id, "changed": what })).await?;
        tx.commit().await?;
        self.hub.committed();
        Ok(())
    }

    /// The routing policy in force: the admin's rules, or the shipped defaults.
    pub async fn rules(&self) -> Result<PolicyRules, DbError> {
        let customised: Option<(i64, String)> =
            sqlx::query_as("SELECT customised_at, customised_by FROM alert_policy WHERE id = 1")
                .fetch_optional(&self.db.pool)
                .await?;
        let Some((at, by)) = customised else {
            let rules =
                default_rules().into_iter().enumerate().map(|(i, rule)| (i as i64 + 1, rule)).collect();
            return Ok(PolicyRules { rules, customised: None });
        };
        let rows: Vec<RuleRow> = sqlx::query_as(
            "SELECT id, severity, alertname, public_component, outcome, declare_severity FROM alert_rules \
             ORDER BY position, id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let rules = rows.into_iter().map(RuleRow::into_rule).collect::<Result<_, _>>()?;
        Ok(PolicyRules { rules, customised: Some((at, by)) })
    }

    /// Replaces the policy with `rules` (in order), as customised by `by`.
    pub async fn save_rules(&self, rules: &[RoutingRule], by: &str, now: i64) -> Result<(), DbError> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("DELETE FROM alert_rules").execute(&mut *tx).await?;
        for (position, rule) in rules.iter().enumerate() {
            let (outcome, declare) = match rule.outcome {
                Outcome::Declare(severity) => ("declare", Some(severity.as_str())),
                Outcome::Inbox => ("inbox", None),
                Outcome::Keep => ("keep", None),
            };
            sqlx::query(
                "INSERT INTO alert_rules (position, severity, alertname, public_component, outcome, declare_severity) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(position as i64)
            .bind(rule.severity.map(AlertSeverity::as_str))
            .bind(rule.alertname.as_deref())
            .bind(rule.public_component.map(i64::from))
            .bind(outcome)
            .bind(declare)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO alert_policy (id, customised_at, customised_by) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET customised_at = $1, customised_by = $2",
        )
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Back to the shipped defaults.
    pub async fn reset_rules(&self) -> Result<(), DbError> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("DELETE FROM alert_rules").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM alert_policy").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The policy's rules with their ids, and who customised it (`None`: the shipped defaults).
#[derive(Clone, Debug)]
pub struct PolicyRules {
    pub rules: Vec<(i64, RoutingRule)>,
    pub customised: Option<(i64, String)>,
}

async fn insert_alert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    source: AlertSource,
    input: &AlertInput,
    component: Option<&ComponentKey>,
    group_key: Option<&str>,
    track: AlertTrack,
) -> Result<AlertRecord, DbError> {
    let labels = serde_json::to_string(&input.labels).unwrap_or_else(|_| "{}".into());
    let annotations = serde_json::to_string(&input.annotations).unwrap_or_else(|_| "{}".into());
    let resolved_at = (track.status == AlertStatus::Resolved).then_some(track.last_change);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO alerts (source, fingerprint, name, status, severity, labels, annotations, source_url, \
         group_key, component_key, starts_at, first_seen, last_seen, last_change, resolved_at, flap_count, route) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'inbox') RETURNING id",
    )
    .bind(source.as_str())
    .bind(input.key.trim())
    .bind(input.name.trim())
    .bind(track.status.as_str())
    .bind(input.severity.as_str())
    .bind(labels)
    .bind(annotations)
    .bind(input.source_url.as_deref())
    .bind(group_key)
    .bind(component.map(ComponentKey::as_str))
    .bind(input.starts_at)
    .bind(track.first_seen)
    .bind(track.last_seen)
    .bind(track.last_change)
    .bind(resolved_at)
    .bind(i64::from(track.flap_count))
    .fetch_one(&mut **tx)
    .await?;
    Ok(AlertRecord {
        id,
        source,
        fingerprint: input.key.trim().to_owned(),
        name: input.name.trim().to_owned(),
        status: track.status,
        severity: input.severity,
        labels: input.labels.clone(),
        annotations: input.annotations.clone(),
        source_url: input.source_url.clone(),
        group_key: group_key.map(str::to_owned),
        component: component.cloned(),
        starts_at: input.starts_at,
        first_seen: track.first_seen,
        last_seen: track.last_seen,
        last_change: track.last_change,
        resolved_at,
        flap_count: track.flap_count,
        route: "inbox".to_owned(),
        incident_id: None,
        acknowledged_at: None,
        acknowledged_by: None,
        silenced_until: None,
        silenced_by: None,
        silence_reason: None,
    })
}

async fn update_alert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    record: &AlertRecord,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE alerts SET name = $2, status = $3, severity = $4, labels = $5, annotations = $6, source_url = $7, \
         group_key = $8, component_key = $9, starts_at = $10, last_seen = $11, last_change = $12, resolved_at = $13, \
         flap_count = $14 WHERE id = $1",
    )
    .bind(record.id)
    .bind(&record.name)
    .bind(record.status.as_str())
    .bind(record.severity.as_str())
    .bind(serde_json::to_string(&record.labels).unwrap_or_else(|_| "{}".into()))
    .bind(serde_json::to_string(&record.annotations).unwrap_or_else(|_| "{}".into()))
    .bind(record.source_url.as_deref())
    .bind(record.group_key.as_deref())
    .bind(record.component.as_ref().map(ComponentKey::as_str))
    .bind(record.starts_at)
    .bind(record.last_seen)
    .bind(record.last_change)
    .bind(record.resolved_at)
    .bind(i64::from(record.flap_count))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
