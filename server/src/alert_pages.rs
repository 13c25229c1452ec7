//! The server's side of the alert pages: the inbox grouped as Alertmanager
//! grouped it, the routing policy, and declarations prefilled from alerts.
//! Reads only, through the services.

use crate::alerts::{AlertGroup, AlertRecord};
use crate::services::alerts::InboxInput;
use crate::services::incidents::{ListInput, PageInput};
use crate::services::{ServiceError, Services};
use app::alerts::{
    AlertBackend, AlertGroupView, AlertInbox, AlertView, OpenIncident, RoutingPolicy, RuleRow,
};
use app::domain::incident::DeclarationForm;
use std::collections::HashMap;

pub struct AlertPages {
    pub services: Services,
}

fn said(error: ServiceError) -> String {
    error.to_string()
}

fn view(alert: AlertRecord, names: &HashMap<String, String>, now: i64) -> AlertView {
    let component_key = alert.component.as_ref().map(|k| k.as_str().to_owned());
    let component = component_key.as_ref().map(|k| names.get(k).cloned().unwrap_or_else(|| k.clone()));
    let labels = alert
        .labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let annotation = |name: &str| alert.annotations.get(name).filter(|v| !v.trim().is_empty()).cloned();
    let silenced = alert.silenced_at(now);
    AlertView {
        id: alert.id,
        source: alert.source.as_str().to_owned(),
        summary: annotation("summary").or_else(|| annotation("message")),
        description: annotation("description"),
        runbook_url: annotation("runbook_url"),
        name: alert.name,
        status: alert.status,
        severity: alert.severity,
        component,
        component_key,
        labels,
        source_url: alert.source_url,
        first_seen: alert.first_seen,
        last_seen: alert.last_seen,
        resolved_at: alert.resolved_at,
        flap_count: alert.flap_count,
        route: alert.route,
        incident: alert.incident_id,
        acknowledged_by: alert.acknowledged_by,
        acknowledged_at: alert.acknowledged_at,
        silenced_until: alert.silenced_until.filter(|_| silenced),
        silenced_by: alert.silenced_by.filter(|_| silenced),
        silence_reason: alert.silence_reason.filter(|_| silenced),
    }
}

fn group_title(group: Option<&AlertGroup>, source: &str) -> String {
    match group {
        Some(group) if !group.labels.is_empty() => {
            group.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        }
        Some(_) => "Alertmanager (no grouping labels)".to_owned(),
        None if source == "wheelhouse" => "Wheelhouse's own detections".to_owned(),
        None => format!("{source} alerts"),
    }
}

#[async_trait::async_trait]
impl AlertBackend for AlertPages {
    async fn inbox(
        &self,
        include_kept: bool,
        include_silenced: bool,
        before: Option<String>,
    ) -> Result<AlertInbox, String> {
        let input = InboxInput { include_kept, include_silenced, limit: Some(200), cursor: before };
        let page = self.services.inbox(&input).await.map_err(said)?;
        let groups = self.services.alert_groups(&page.items).await.map_err(said)?;
        let groups: HashMap<String, AlertGroup> = groups.into_iter().map(|g| (g.key.clone(), g)).collect();
        let names: HashMap<String, String> = self
            .services
            .live
            .all_components()
            .into_iter()
            .map(|(_, tile)| (tile.key.as_str().to_owned(), tile.name))
            .collect();
        let now = self.services.clock.now_millis();
        // Grouped in the order of each group's newest alert (the list is newest first).
        let mut views: Vec<AlertGroupView> = Vec::new();
        let mut index: HashMap<(Option<String>, String), usize> = HashMap::new();
        for alert in page.items {
            let key = (alert.group_key.clone(), alert.source.as_str().to_owned());
            let at = *index.entry(key.clone()).or_insert_with(|| {
                let group = key.0.as_ref().and_then(|k| groups.get(k));
                views.push(AlertGroupView {
                    key: key.0.clone(),
                    title: group_title(group, &key.1),
                    receiver: group.map(|g| g.receiver.clone()),
                    truncated_alerts: group.map_or(0, |g| g.truncated_alerts),
                    alerts: Vec::new(),
                });
                views.len() - 1
            });
            views[at].alerts.push(view(alert, &names, now));
        }
        let active = ListInput {
            active: Some(true),
            page: PageInput { limit: Some(200), cursor: None },
            ..ListInput::default()
        };
        let under_way = self
            .services
            .incidents(&active)
            .await
            .map_err(said)?
            .items
            .into_iter()
            .map(|i| OpenIncident { id: i.id, title: i.title })
            .collect();
        Ok(AlertInbox { groups: views, under_way, include_kept, include_silenced, older: page.next, now })
    }

    async fn policy(&self) -> Result<RoutingPolicy, String> {
        let rules = self.services.alert_rules().await.map_err(said)?;
        let settings = self.services.alert_settings;
        Ok(RoutingPolicy {
            rules: rules.rules.into_iter().map(|(id, rule)| RuleRow { id, text: rule.describe() }).collect(),
            customised: rules.customised.map(|(_, by)| by),
            storm_limit: settings.storm.per_minute,
            detection_after_seconds: settings.detection_after_ms / 1000,
        })
    }

    async fn declaration_for(&self, alerts: Vec<i64>) -> Result<Option<DeclarationForm>, String> {
        match self.services.declaration_for_alerts(&alerts).await {
            Ok(form) => Ok(Some(form)),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(error) => Err(said(error)),
        }
    }
}
