//! The public JSON in the shape of Atlassian Statuspage's public API
//! (`/api/v2/summary.json`, `status.json`, `components.json`,
//! `incidents.json`), so that existing consumers of that API can read it.

use super::render::{banner, iso};
use super::{PublicData, PublicIncident, PublicMaintenance};
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
        "scheduled_maintenances": data
            .maintenances
            .iter()
            .filter(|m| m.upcoming() || m.active())
            .map(maintenance_value)
            .collect::<Vec<_>>(),
        "status": indicator(data),
    })
}

/// A window in Statuspage's shape: an incident with impact `maintenance`,
/// `scheduled_for`/`scheduled_until`, and one update per state it reached.
fn maintenance_value(m: &PublicMaintenance) -> Value {
    use app::domain::maintenance::MaintenanceState;
    let shown: Vec<Value> =
        m.components.iter().map(|(key, name)| json!({"code": key, "name": name})).collect();
    let mut updates = vec![(m.created_at, MaintenanceState::Scheduled)];
    if let Some(at) = m.started_at {
        updates.push((at, MaintenanceState::InProgress));
    }
    if let Some(at) = m.ended_at.filter(|_| m.state != MaintenanceState::Scheduled) {
        updates.push((at, MaintenanceState::Verifying));
    }
    if m.state == MaintenanceState::Completed {
        updates.push((m.updated_at, MaintenanceState::Completed));
    }
    let body = |state: MaintenanceState| match state {
        MaintenanceState::Scheduled => {
            format!("Scheduled for {} to {}. {}", iso(m.starts_at), iso(m.ends_at), m.description)
        }
        MaintenanceState::InProgress => "The maintenance is in progress.".to_owned(),
        MaintenanceState::Verifying => "The maintenance work is done; we are verifying.".to_owned(),
        _ => "The maintenance is completed.".to_owned(),
    };
    json!({
        "id": format!("maintenance-{}", m.id),
        "name": m.title,
        "status": m.state.as_str(),
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "monitoring_at": Value::Null,
        "resolved_at": (m.state == MaintenanceState::Completed).then(|| iso(m.updated_at)),
        "impact": "maintenance",
        "shortlink": Value::Null,
        "started_at": iso(m.started_at.unwrap_or(m.starts_at)),
        "page_id": "wheelhouse",
        "scheduled_for": iso(m.starts_at),
        "scheduled_until": iso(m.ends_at),
        "components": m.components.iter().map(|(key, name)| json!({"id": key, "name": name})).collect::<Vec<_>>(),
        "incident_updates": updates.iter().rev().enumerate().map(|(i, (at, state))| json!({
            "id": format!("maintenance-{}-{}", m.id, updates.len() - i),
            "status": state.as_str(),
            "body": body(*state),
            "incident_id": format!("maintenance-{}", m.id),
            "created_at": iso(*at),
            "updated_at": iso(*at),
            "display_at": iso(*at),
            "affected_components": shown,
        })).collect::<Vec<_>>(),
    })
}

/// `/api/v2/scheduled-maintenances.json` and its `upcoming` and `active` views.
pub fn maintenances(data: &PublicData, base_url: &str, shown: impl Fn(&PublicMaintenance) -> bool) -> Value {
    let mut windows: Vec<&PublicMaintenance> = data.maintenances.iter().filter(|m| shown(m)).collect();
    windows.sort_by_key(|m| std::cmp::Reverse(m.starts_at));
    json!({
        "page": page(data, base_url),
        "scheduled_maintenances": windows.into_iter().map(maintenance_value).collect::<Vec<_>>(),
    })
}
