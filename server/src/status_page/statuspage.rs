//! The public JSON in the shape of Atlassian Statuspage's public API
//! (`/api/v2/summary.json`, `status.json`, `components.json`,
//! `incidents.json`), so that existing consumers of that API can read it.

use super::render::{banner, iso};
use super::{PublicData, PublicIncident};
use app::domain::health::ComponentStatus;
use app::domain::incident::Severity;
use serde_json::{Value, json};

pub fn symbol(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "✓",
        ComponentStatus::UnderMaintenance => "🔧",
        ComponentStatus::DegradedPerformance => "▲",
        ComponentStatus::PartialOutage => "◐",
        ComponentStatus::MajorOutage => "✕",
    }
}

fn page(data: &PublicData, base_url: &str) -> Value {
    json!({
        "id": "wheelhouse",
        "name": "System status",
        "url": format!("{base_url}/status"),
        "time_zone": "Etc/UTC",
        "updated_at": iso(data.built_at),
    })
}

fn indicator(data: &PublicData) -> Value {
    let (indicator, _, text) = banner(data);
    // Statuspage knows none, minor, major, critical (and maintenance).
    json!({"indicator": indicator, "description": text})
}

fn impact(severity: Severity) -> &'static str {
    match severity {
        Severity::Sev1 => "critical",
        Severity::Sev2 => "major",
        Severity::Sev3 => "minor",
        Severity::Sev4 => "none",
    }
}

fn component_values(data: &PublicData) -> Vec<Value> {
    data.components
        .iter()
        .enumerate()
        .map(|(position, c)| {
            json!({
                "id": c.key,
                "name": c.name,
                "status": c.status.as_str(),
                "created_at": iso(c.since),
                "updated_at": iso(c.since),
                "position": position + 1,
                "description": if c.description.is_empty() { Value::Null } else { json!(c.description) },
                "showcase": true,
                "start_date": Value::Null,
                "group_id": Value::Null,
                "page_id": "wheelhouse",
                "group": false,
                "only_show_if_degraded": false,
            })
        })
        .collect()
}

fn incident_value(incident: &PublicIncident) -> Value {
    let shown: Vec<Value> =
        incident.components.iter().map(|(key, name)| json!({"code": key, "name": name})).collect();
    let monitoring_at = incident
        .updates
        .iter()
        .filter(|u| u.purpose == app::domain::update::Purpose::Monitoring)
        .map(|u| u.at)
        .min();
    json!({
        "id": incident.id.to_string(),
        "name": incident.title,
        "status": incident.status.as_str(),
        "created_at": iso(incident.declared_at),
        "updated_at": iso(incident.updated_at),
        "monitoring_at": monitoring_at.map(iso),
        "resolved_at": incident.resolved_at.map(iso),
        "started_at": iso(incident.declared_at),
        "impact": impact(incident.severity),
        "shortlink": Value::Null,
        "page_id": "wheelhouse",
        "components": incident.components.iter().map(|(key, name)| json!({"id": key, "name": name})).collect::<Vec<_>>(),
        "incident_updates": incident.updates.iter().map(|u| json!({
            "id": u.id.to_string(),
            "status": u.purpose.public_status().map_or(incident.status.as_str(), |s| s.as_str()),
            "body": u.text,
            "incident_id": incident.id.to_string(),
            "created_at": iso(u.at),
            "updated_at": iso(u.at),
            "display_at": iso(u.at),
            "affected_components": shown,
        })).collect::<Vec<_>>(),
    })
}

pub fn status(data: &PublicData, base_url: &str) -> Value {
    json!({"page": page(data, base_url), "status": indicator(data)})
}

pub fn components(data: &PublicData, base_url: &str) -> Value {
    json!({"page": page(data, base_url), "components": component_values(data)})
}

pub fn incidents(data: &PublicData, base_url: &str) -> Value {
    json!({"page": page(data, base_url), "incidents": data.incidents.iter().take(50).map(incident_value).collect::<Vec<_>>()})
}

pub fn summary(data: &PublicData, base_url: &str) -> Value {
    json!({
        "page": page(data, base_url),
        "components": component_values(data),
        "incidents": data.active().map(incident_value).collect::<Vec<_>>(),
        "scheduled_maintenances": [],
        "status": indicator(data),
    })
}
