//! The server's side of `/maintenance`, `/maintenance/:id` and
//! `/admin/subscribers`: the windows
//! through the use cases, and what the forms offer (components, nodes and
//! workloads) from the live cluster state.

use crate::incident_pages::{IncidentPages, pickers};
use app::domain::component::ComponentKind;
use app::incidents::Choice;
use app::maintenance::{MaintenanceList, WindowPage, WindowSummary};

/// Every component a window can concern: services and the platform first, then nodes.
fn component_choices(pages: &IncidentPages) -> Vec<Choice> {
    let mut all: Vec<(bool, String, Choice)> = pages
        .live
        .all_components()
        .into_iter()
        .map(|(group, tile)| {
            let label = if group.is_empty() { tile.name.clone() } else { format!("{} ({group})", tile.name) };
            (
                tile.kind == ComponentKind::Node,
                tile.name,
                Choice { value: tile.key.as_str().to_owned(), label },
            )
        })
        .collect();
    all.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    all.into_iter().map(|(_, _, choice)| choice).collect()
}

fn failed(error: crate::services::ServiceError) -> String {
    error.to_string()
}

pub async fn list(pages: &IncidentPages) -> Result<MaintenanceList, String> {
    let windows = pages.services.maintenance_list().await.map_err(failed)?;
    let pickers = pickers(&pages.live_state, &[]);
    Ok(MaintenanceList {
        windows: windows
            .into_iter()
            .map(|line| WindowSummary {
                window: line.window,
                unconfirmed: line.unconfirmed,
                failed: line.failed,
            })
            .collect(),
        components: component_choices(pages),
        nodes: pickers.nodes,
        workloads: pickers.workloads,
        now: pages.services.clock.now_millis(),
    })
}

pub async fn window(
    pages: &IncidentPages,
    id: i64,
    viewer: Option<String>,
) -> Result<Option<WindowPage>, String> {
    let detail = match pages.services.maintenance_detail(id).await {
        Ok(detail) => detail,
        Err(crate::services::ServiceError::NotFound(_)) => return Ok(None),
        Err(error) => return Err(failed(error)),
    };
    let pickers = pickers(&pages.live_state, &[]);
    Ok(Some(WindowPage {
        window: detail.window,
        actions: detail.actions,
        log: detail.log,
        components: component_choices(pages),
        nodes: pickers.nodes,
        workloads: pickers.workloads,
        viewer,
        now: pages.services.clock.now_millis(),
    }))
}

/// `/admin/subscribers`: the subscribers, their components by name.
pub async fn subscribers(
    pages: &IncidentPages,
    search: &str,
) -> Result<(bool, Vec<app::incidents::SubscriberLine>), String> {
    // Only admins reach this (the server function's role check).
    let rows = pages.services.subscribers_list(search).await.map_err(failed)?;
    let names = component_choices(pages);
    let lines = rows
        .into_iter()
        .map(|row| {
            let keys: Vec<String> = serde_json::from_str(&row.components).unwrap_or_default();
            app::incidents::SubscriberLine {
                id: row.id,
                email: row.contact.clone().unwrap_or_else(|| row.address.clone()),
                webhook_url: (row.channel == "webhook").then(|| row.address.clone()),
                state: row.state,
                components: keys
                    .iter()
                    .map(|k| {
                        names.iter().find(|c| c.value == *k).map_or_else(|| k.clone(), |c| c.label.clone())
                    })
                    .collect(),
                created_at: row.created_at,
                confirmed_at: row.confirmed_at,
            }
        })
        .collect();
    Ok((pages.services.subscriptions_offered(), lines))
}
