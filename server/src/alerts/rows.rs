//! Alert rows as sqlx reads them, and their conversion to domain values (a
//! value this version cannot read is a decode error, not a panic).

use crate::db::DbError;
use domain::alert::{AlertInput, AlertSeverity, AlertSource, AlertStatus, AlertTrack, Outcome, RoutingRule};
use domain::component::ComponentKey;
use domain::incident::Severity;
use std::collections::BTreeMap;

/// One alert as stored. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: i64,
    pub source: AlertSource,
    pub fingerprint: String,
    pub name: String,
    pub status: AlertStatus,
    pub severity: AlertSeverity,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub source_url: Option<String>,
    pub group_key: Option<String>,
    pub component: Option<ComponentKey>,
    pub starts_at: Option<i64>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub last_change: i64,
    pub resolved_at: Option<i64>,
    pub flap_count: u32,
    /// `declared`, `attached`, `inbox` or `kept`.
    pub route: String,
    pub incident_id: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub silenced_until: Option<i64>,
    pub silenced_by: Option<String>,
    pub silence_reason: Option<String>,
}

impl AlertRecord {
    pub fn track(&self) -> AlertTrack {
        AlertTrack {
            status: self.status,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            last_change: self.last_change,
            flap_count: self.flap_count,
        }
    }

    /// The record after a repeat delivery of `input` folded into `track`.
    pub(super) fn updated(
        &self,
        input: &AlertInput,
        component: Option<ComponentKey>,
        group_key: Option<&str>,
        track: AlertTrack,
    ) -> AlertRecord {
        let resolved_at = match track.status {
            AlertStatus::Resolved => Some(
                self.resolved_at
                    .filter(|_| self.status == AlertStatus::Resolved)
                    .unwrap_or(track.last_change),
            ),
            AlertStatus::Firing => None,
        };
        AlertRecord {
            name: input.name.trim().to_owned(),
            status: track.status,
            severity: input.severity,
            labels: input.labels.clone(),
            annotations: input.annotations.clone(),
            source_url: input.source_url.clone().or_else(|| self.source_url.clone()),
            group_key: group_key.map(str::to_owned).or_else(|| self.group_key.clone()),
            component: component.or_else(|| self.component.clone()),
            starts_at: input.starts_at.or(self.starts_at),
            first_seen: track.first_seen,
            last_seen: track.last_seen,
            last_change: track.last_change,
            resolved_at,
            flap_count: track.flap_count,
            ..self.clone()
        }
    }

    /// The `summary` annotation, else `description`, else `message`.
    pub fn summary(&self) -> Option<&str> {
        ["summary", "description", "message"]
            .into_iter()
            .find_map(|k| self.annotations.get(k).map(String::as_str).filter(|s| !s.trim().is_empty()))
    }

    pub fn silenced_at(&self, now: i64) -> bool {
        self.silenced_until.is_some_and(|until| until > now)
    }
}

/// An Alertmanager group as last delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertGroup {
    pub key: String,
    pub receiver: String,
    pub labels: BTreeMap<String, String>,
    pub external_url: Option<String>,
    pub truncated_alerts: u32,
    pub last_seen: i64,
}

fn decode(what: &str, value: &str) -> DbError {
    DbError::Query(sqlx::Error::Decode(format!("unexpected {what} '{value}' in storage").into()))
}

fn map(json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[derive(sqlx::FromRow)]
pub(super) struct AlertRow {
    id: i64,
    source: String,
    fingerprint: String,
    name: String,
    status: String,
    severity: String,
    labels: String,
    annotations: String,
    source_url: Option<String>,
    group_key: Option<String>,
    component_key: Option<String>,
    starts_at: Option<i64>,
    first_seen: i64,
    last_seen: i64,
    last_change: i64,
    resolved_at: Option<i64>,
    flap_count: i64,
    route: String,
    incident_id: Option<i64>,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    silenced_until: Option<i64>,
    silenced_by: Option<String>,
    silence_reason: Option<String>,
}

impl AlertRow {
    pub(super) fn into_record(self) -> Result<AlertRecord, DbError> {
        let source = AlertSource::parse(&self.source).ok_or_else(|| decode("alert source", &self.source))?;
        let status = AlertStatus::parse(&self.status).map_err(|_| decode("alert status", &self.status))?;
        let severity =
            AlertSeverity::parse(&self.severity).map_err(|_| decode("alert severity", &self.severity))?;
        Ok(AlertRecord {
            id: self.id,
            source,
            fingerprint: self.fingerprint,
            name: self.name,
            status,
            severity,
            labels: map(&self.labels),
            annotations: map(&self.annotations),
            source_url: self.source_url,
            group_key: self.group_key,
            component: self.component_key.as_deref().and_then(ComponentKey::parse),
            starts_at: self.starts_at,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            last_change: self.last_change,
            resolved_at: self.resolved_at,
            flap_count: u32::try_from(self.flap_count).unwrap_or(u32::MAX),
            route: self.route,
            incident_id: self.incident_id,
            acknowledged_at: self.acknowledged_at,
            acknowledged_by: self.acknowledged_by,
            silenced_until: self.silenced_until,
            silenced_by: self.silenced_by,
            silence_reason: self.silence_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct GroupRow {
    group_key: String,
    receiver: String,
    labels: String,
    external_url: Option<String>,
    truncated_alerts: i64,
    last_seen: i64,
}

impl GroupRow {
    pub(super) fn into_group(self) -> AlertGroup {
        AlertGroup {
            key: self.group_key,
            receiver: self.receiver,
            labels: map(&self.labels),
            external_url: self.external_url,
            truncated_alerts: u32::try_from(self.truncated_alerts).unwrap_or(u32::MAX),
            last_seen: self.last_seen,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RuleRow {
    id: i64,
    severity: Option<String>,
    alertname: Option<String>,
    public_component: Option<i64>,
    outcome: String,
    declare_severity: Option<String>,
}

impl RuleRow {
    pub(super) fn into_rule(self) -> Result<(i64, RoutingRule), DbError> {
        let severity = self
            .severity
            .map(|s| AlertSeverity::parse(&s).map_err(|_| decode("rule severity", &s)))
            .transpose()?;
        let outcome = match (self.outcome.as_str(), self.declare_severity.as_deref()) {
            ("declare", Some(sev)) => {
                Outcome::Declare(Severity::parse(sev).map_err(|_| decode("rule severity", sev))?)
            }
            ("inbox", _) => Outcome::Inbox,
            ("keep", _) => Outcome::Keep,
            (other, _) => return Err(decode("rule outcome", other)),
        };
        let rule = RoutingRule {
            severity,
            alertname: self.alertname,
            public_component: self.public_component.map(|p| p != 0),
            outcome,
        };
        Ok((self.id, rule))
    }
}
