//! Wheelhouse's own detection: watches the health board and raises an alert
//! into the same pipeline as Alertmanager's (source `wheelhouse`) when a
//! component stays in partial or major outage for longer than the setting,
//! and resolves it when the component recovers. So a cluster without
//! Prometheus still gets automatic detection, with the same routing.

use super::Incoming;
use crate::services::Services;
use domain::alert::{AlertStatus, Observed, own_detection};
use std::collections::HashMap;
use std::time::Duration;

/// How often the board is looked at.
const EVERY: Duration = Duration::from_secs(2);

/// Runs until the process ends.
pub async fn run(services: Services) {
    // What is firing already (from an earlier run), so that restarts neither repeat nor forget.
    let mut firing: HashMap<String, Incoming> = HashMap::new();
    match services.alerts.firing_own().await {
        Ok(records) => {
            for record in records {
                let input = domain::alert::AlertInput {
                    key: record.fingerprint.clone(),
                    status: AlertStatus::Firing,
                    name: record.name.clone(),
                    severity: record.severity,
                    labels: record.labels.clone(),
                    annotations: record.annotations.clone(),
                    starts_at: record.starts_at,
                    ends_at: None,
                    source_url: None,
                };
                firing.insert(record.fingerprint, Incoming { input, component: record.component });
            }
        }
        Err(error) => {
            tracing::warn!(
                error = &error as &dyn std::error::Error,
                "cannot read Wheelhouse's own firing alerts"
            );
        }
    }
    let mut interval = tokio::time::interval(EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = services.clock.now_millis();
        let after = services.alert_settings.detection_after_ms;
        let tiles = services.live.all_components();
        if tiles.is_empty() {
            continue;
        }
        let mut now_firing: HashMap<String, Incoming> = HashMap::new();
        for (_, tile) in &tiles {
            let observed = Observed {
                key: &tile.key,
                name: &tile.name,
                status: tile.status,
                since: tile.since,
                reasons: &tile.reasons,
            };
            if let Some(input) = own_detection(&observed, now, after) {
                now_firing.insert(input.key.clone(), Incoming { input, component: Some(tile.key.clone()) });
            }
        }
        let mut batch: Vec<Incoming> =
            now_firing.iter().filter(|(key, _)| !firing.contains_key(*key)).map(|(_, i)| i.clone()).collect();
        for (key, incoming) in &firing {
            if !now_firing.contains_key(key) {
                let mut resolved = incoming.clone();
                resolved.input.status = AlertStatus::Resolved;
                batch.push(resolved);
            }
        }
        if batch.is_empty() {
            continue;
        }
        match services.receive_detections(batch).await {
            Ok(report) => {
                tracing::info!(
                    alerts.new = report.new,
                    alerts.resolved = report.resolved,
                    incidents.declared = ?report.declared,
                    "Wheelhouse's own detection raised or resolved alerts"
                );
                firing = now_firing;
            }
            // Tried again at the next tick: `firing` still holds the last stored state.
            Err(error) => tracing::warn!(error = %error, "cannot store Wheelhouse's own alerts; will retry"),
        }
    }
}
