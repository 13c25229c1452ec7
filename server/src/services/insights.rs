//! Insights over a period (incidents by month, severity and category; time to
//! acknowledge and resolve with their trend; the components with the most
//! incidents and the most customer-facing downtime; failed deployment recovery
//! time; follow-ups), for the page, its CSV and the API alike.

use super::{ServiceError, ServiceResult, Services};
use domain::component::Visibility;
use domain::insights::{ComponentFigure, Insights, Period, SeverityTimes, TOP, Trend};
use std::collections::HashMap;

/// The period as asked for: `YYYY-MM-DD` days, both included; empty: the last 90 days.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct InsightsQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl Services {
    pub async fn insights(&self, query: &InsightsQuery) -> ServiceResult<Insights> {
        let now = self.clock.now_millis();
        let period = Period::parse(&query.from, &query.to, now)?;
        let unavailable =
            |e: crate::db::DbError| ServiceError::unavailable("The insights cannot be read right now.", &e);
        let figures = self.insights.figures(period, TOP, now).await.map_err(unavailable)?;
        let before = self.insights.times(period.previous()).await.map_err(unavailable)?;
        let components = self
            .components
            .list()
            .await
            .map_err(|e| ServiceError::unavailable("The components cannot be read right now.", &e))?;
        let mut names: HashMap<String, String> = self
            .live
            .all_components()
            .into_iter()
            .map(|(_, tile)| (tile.key.to_string(), tile.name))
            .collect();
        for component in &components {
            names.insert(component.key().to_string(), component.definition.name.clone());
        }
        let public: Vec<String> = components
            .iter()
            .filter(|c| c.definition.visibility == Visibility::Public)
            .map(|c| c.key().to_string())
            .collect();
        let figure = |(key, value): (String, i64)| ComponentFigure {
            name: names.get(&key).cloned().unwrap_or_else(|| key.clone()),
            component: key,
            value,
        };
        let p50 = |list: &[(domain::incident::Severity, domain::insights::Percentiles)], s| {
            list.iter().find(|(severity, _)| *severity == s).and_then(|(_, p)| p.p50)
        };
        let times = domain::incident::Severity::ALL
            .iter()
            .map(|&severity| {
                let find = |list: &[(domain::incident::Severity, domain::insights::Percentiles)]| {
                    list.iter().find(|(s, _)| *s == severity).map(|(_, p)| *p).unwrap_or_default()
                };
                let acknowledge = find(&figures.acknowledge);
                let resolve = find(&figures.resolve);
                SeverityTimes {
                    severity,
                    acknowledge_trend: Trend::of(acknowledge.p50, p50(&before.acknowledge, severity)),
                    resolve_trend: Trend::of(resolve.p50, p50(&before.resolve, severity)),
                    acknowledge,
                    resolve,
                }
            })
            .collect();
        Ok(Insights {
            period,
            by_month: figures.by_month,
            by_severity: figures.by_severity,
            by_category: figures.by_category,
            times,
            components_by_incidents: figures.components_by_incidents.into_iter().map(figure).collect(),
            components_by_downtime: figures
                .components_by_downtime
                .into_iter()
                .filter(|(key, _)| public.contains(key))
                .take(TOP)
                .map(figure)
                .collect(),
            recovery: figures.recovery,
            follow_ups: figures.follow_ups,
        })
    }
}
