//! What `/maintenance` and `/maintenance/:id` show, and the server functions
//! that read them through [`crate::incidents::IncidentBackend`]. Changes go
//! through form posts and the JSON API.

use crate::domain::maintenance::{LogLine, PlannedAction, Window};
use crate::incidents::Choice;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A window in the list, with what needs a look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSummary {
    pub window: Window,
    /// Planned actions waiting for a confirmation.
    pub unconfirmed: usize,
    /// Planned actions that failed or were not run.
    pub failed: usize,
}

/// `/maintenance`: the windows and the schedule form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceList {
    pub windows: Vec<WindowSummary>,
    /// Components a window can concern (key, name).
    pub components: Vec<Choice>,
    /// Nodes, for the planned actions.
    pub nodes: Vec<Choice>,
    /// Workloads (`kind/namespace/name`), for the planned actions.
    pub workloads: Vec<Choice>,
    pub now: i64,
}

/// `/maintenance/:id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowPage {
    pub window: Window,
    pub actions: Vec<PlannedAction>,
    pub log: Vec<LogLine>,
    /// Every component (key, name), for names and the edit form.
    pub components: Vec<Choice>,
    pub nodes: Vec<Choice>,
    pub workloads: Vec<Choice>,
    /// Who is looking (a planner cannot confirm their own drain; the server still decides).
    pub viewer: Option<String>,
    pub now: i64,
}

impl WindowPage {
    /// A component's name, or its key when it is gone.
    pub fn name_of(&self, key: &str) -> String {
        self.components.iter().find(|c| c.value == key).map_or_else(|| key.to_owned(), |c| c.label.clone())
    }
}

/// What the dashboard and the briefing show: windows in progress or
/// verifying, those starting within a week, and those finished in the last
/// day with an action that failed or was not run.
#[server]
pub async fn load_maintenance_overview() -> Result<Vec<WindowSummary>, ServerFnError> {
    let list = crate::incidents::backend(crate::domain::role::Role::Viewer)?
        .maintenance()
        .await
        .map_err(ServerFnError::new)?;
    Ok(list
        .windows
        .into_iter()
        .filter(|line| crate::domain::maintenance::on_overview(&line.window, line.failed, list.now))
        .collect())
}

#[server]
pub async fn load_maintenance() -> Result<MaintenanceList, ServerFnError> {
    crate::incidents::backend(crate::domain::role::Role::Responder)?
        .maintenance()
        .await
        .map_err(ServerFnError::new)
}

#[server]
pub async fn load_maintenance_window(id: i64) -> Result<Option<WindowPage>, ServerFnError> {
    let viewer = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::page_context::PageContext>().cloned())
        .and_then(|ctx| ctx.user)
        .map(|user| user.email);
    let page = crate::incidents::backend(crate::domain::role::Role::Responder)?
        .maintenance_window(id, viewer)
        .await
        .map_err(ServerFnError::new)?;
    if let (None, Some(response)) = (&page, use_context::<leptos_axum::ResponseOptions>()) {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    Ok(page)
}
