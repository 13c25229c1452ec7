//! Scheduled maintenance, as forms and as JSON: schedule a window (with an
//! action planned for its start and one for its end; more from its page),
//! change it, cancel, start or end it by hand, mark it completed, and
//! confirm or undo its planned actions. A refused form comes back as typed.

use super::AppState;
use super::error::{ApiError, form_refused};
use super::extract::{ApiJson, Caller, FormPost, Responder};
use crate::services::maintenance::{PlannedForm, WindowDetail};
use crate::services::{ServiceError, ServiceResult};
use app::page_context::FormFeedback;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::action::ActionForm;
use domain::maintenance::{LogLine, Manual, PlannedAction, Window, WindowForm};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A cluster action planned for a window's start or end (the fields of the action picker).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct PlannedRequest {
    /// `start` or `end`.
    pub phase: String,
    /// cordon, uncordon, drain, scale, restart, rollback, pause, resume, isolate_pod, isolate_namespace, delete_pod.
    pub action: String,
    #[serde(default)]
    pub node: String,
    #[serde(default)]
    pub workload: String,
    #[serde(default)]
    pub pod: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub replicas: String,
}

impl PlannedRequest {
    fn form(&self) -> PlannedForm {
        PlannedForm {
            phase: self.phase.clone(),
            action: ActionForm {
                action: self.action.clone(),
                node: self.node.clone(),
                workload: self.workload.clone(),
                pod: self.pod.clone(),
                namespace: self.namespace.clone(),
                replicas: self.replicas.clone(),
            },
        }
    }
}

/// A window as the API sends it; times `YYYY-MM-DDTHH:MM` in UTC.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct WindowRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub starts_at: String,
    pub ends_at: String,
    /// Component keys: `node/worker-3`, `service/4`, `platform/etcd`.
    pub components: Vec<String>,
    /// Previewed with a dry run now; each needs a confirmation before it runs.
    #[serde(default)]
    pub actions: Vec<PlannedRequest>,
}

impl WindowRequest {
    fn form(&self) -> WindowForm {
        WindowForm {
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            components: self.components.clone(),
        }
    }
}

/// The schedule form as the page posts it: the window, and one action for
/// its start (`start_*`) and one for its end (`end_*`), each optional.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SchedulePost {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub start_action: String,
    #[serde(default)]
    pub start_node: String,
    #[serde(default)]
    pub start_workload: String,
    #[serde(default)]
    pub end_action: String,
    #[serde(default)]
    pub end_node: String,
    #[serde(default)]
    pub end_workload: String,
}

impl SchedulePost {
    fn window(&self) -> WindowForm {
        WindowForm {
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            components: self.components.clone(),
        }
    }

    fn planned(&self) -> Vec<PlannedForm> {
        let one = |phase: &str, action: &str, node: &str, workload: &str| PlannedForm {
            phase: phase.to_owned(),
            action: ActionForm {
                action: action.to_owned(),
                node: node.to_owned(),
                workload: workload.to_owned(),
                ..ActionForm::default()
            },
        };
        vec![
            one("start", &self.start_action, &self.start_node, &self.start_workload),
            one("end", &self.end_action, &self.end_node, &self.end_workload),
        ]
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct StepRequest {
    /// cancel (before it starts), start (now), end (now: runs its end actions), complete (after verifying).
    pub step: String,
}

fn parse_step(raw: &str) -> ServiceResult<Manual> {
    match raw.trim() {
        "cancel" => Ok(Manual::Cancel),
        "start" => Ok(Manual::StartNow),
        "end" => Ok(Manual::EndNow),
        "complete" => Ok(Manual::Complete),
        other => Err(ServiceError::invalid(
            "step",
            format!("Unknown step \u{201c}{other}\u{201d}: expected cancel, start, end or complete."),
        )),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlannedDto {
    id: i64,
    /// `start` or `end`.
    phase: String,
    description: String,
    /// What the dry run said it would change.
    preview: Vec<String>,
    pods: usize,
    /// planned, confirmed, executing, succeeded, failed, undone, skipped.
    status: String,
    planned_by: String,
    confirmed_by: Option<String>,
    result: Option<String>,
    failure: Option<String>,
    may_undo: bool,
    finished_at: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LogDto {
    at: i64,
    actor: String,
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct WindowDto {
    id: i64,
    title: String,
    description: String,
    starts_at: i64,
    ends_at: i64,
    /// scheduled, in_progress, verifying, completed, cancelled.
    state: String,
    components: Vec<String>,
    created_by: String,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    actions: Vec<PlannedDto>,
    log: Vec<LogDto>,
}

fn planned_dto(action: PlannedAction) -> PlannedDto {
    PlannedDto {
        id: action.id,
        phase: action.phase.as_str().to_owned(),
        description: action.description,
        preview: action.preview,
        pods: action.pods,
        status: action.status.as_str().to_owned(),
        planned_by: action.planned_by,
        confirmed_by: action.confirmed_by,
        result: action.result,
        failure: action.failure,
        may_undo: action.undo.is_some() && action.status == domain::maintenance::PlannedStatus::Succeeded,
        finished_at: action.finished_at,
    }
}

fn window_dto(window: Window, actions: Vec<PlannedAction>, log: Vec<LogLine>) -> WindowDto {
    WindowDto {
        id: window.id,
        title: window.title,
        description: window.description,
        starts_at: window.starts_at,
        ends_at: window.ends_at,
        state: window.state.as_str().to_owned(),
        components: window.components.iter().map(|c| c.as_str().to_owned()).collect(),
        created_by: window.created_by,
        started_at: window.started_at,
        ended_at: window.ended_at,
        actions: actions.into_iter().map(planned_dto).collect(),
        log: log.into_iter().map(|l| LogDto { at: l.at, actor: l.actor, text: l.text }).collect(),
    }
}

/// The window again after a change, as JSON.
async fn api_answer<T>(state: &AppState, id: i64, result: ServiceResult<T>, status: StatusCode) -> Response {
    if let Err(error) = result {
        return error.into_response();
    }
    match state.services.maintenance_detail(id).await {
        Ok(WindowDetail { window, actions, log }) => {
            (status, Json(window_dto(window, actions, log))).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// Schedule a maintenance window; its planned actions are previewed with a dry run first (nothing is stored if one fails).
#[utoipa::path(post, path = "/api/v1/maintenance", tag = "maintenance", request_body = WindowRequest,
    responses((status = 201, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_schedule(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<WindowRequest>,
) -> Response {
    let planned: Vec<PlannedForm> = body.actions.iter().map(PlannedRequest::form).collect();
    match state.services.schedule_maintenance(&principal, &body.form(), &planned).await {
        Ok(window) => api_answer(&state, window.id, Ok(()), StatusCode::CREATED).await,
        Err(error) => error.into_response(),
    }
}

/// Maintenance windows not finished, and those finished in the last 30 days, the soonest first.
#[utoipa::path(get, path = "/api/v1/maintenance", tag = "maintenance",
    responses((status = 200, body = Vec<WindowDto>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_list(State(state): State<AppState>, _: Caller<Responder>) -> Response {
    let lines = match state.services.maintenance_list().await {
        Ok(lines) => lines,
        Err(error) => return error.into_response(),
    };
    let mut windows = Vec::with_capacity(lines.len());
    for line in lines {
        match state.services.maintenance_detail(line.window.id).await {
            Ok(WindowDetail { window, actions, log }) => windows.push(window_dto(window, actions, log)),
            Err(error) => return error.into_response(),
        }
    }
    Json(windows).into_response()
}

/// One maintenance window with its planned actions and its log.
#[utoipa::path(get, path = "/api/v1/maintenance/{id}", tag = "maintenance", params(("id" = i64, Path)),
    responses((status = 200, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_get(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Responder>) -> Response {
    api_answer(&state, id, Ok(()), StatusCode::OK).await
}

/// Change a window's title, description, times or components (before it ends).
#[utoipa::path(post, path = "/api/v1/maintenance/{id}", tag = "maintenance", params(("id" = i64, Path)),
    request_body = WindowRequest,
    responses((status = 200, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<WindowRequest>,
) -> Response {
    let result = state.services.edit_maintenance(&principal, id, &body.form()).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Cancel, start now, end now (its end actions run) or mark completed.
#[utoipa::path(post, path = "/api/v1/maintenance/{id}/steps", tag = "maintenance", params(("id" = i64, Path)),
    request_body = StepRequest,
    responses((status = 200, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_step(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<StepRequest>,
) -> Response {
    let result = match parse_step(&body.step) {
        Ok(step) => state.services.move_maintenance(&principal, id, step).await,
        Err(error) => Err(error),
    };
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Plan one more action for the window's start (before it starts) or end (previewed with a dry run).
#[utoipa::path(post, path = "/api/v1/maintenance/{id}/actions", tag = "maintenance", params(("id" = i64, Path)),
    request_body = PlannedRequest,
    responses((status = 201, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_plan(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<PlannedRequest>,
) -> Response {
    let result = state.services.plan_maintenance_action(&principal, id, &body.form()).await;
    api_answer(&state, id, result, StatusCode::CREATED).await
}

/// Confirm a planned action (someone other than its planner for a drain, delete, isolate or scale to zero).
#[utoipa::path(post, path = "/api/v1/maintenance/{id}/actions/{action}/confirm", tag = "maintenance",
    params(("id" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_confirm(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
) -> Response {
    let result = state.services.confirm_maintenance_action(&principal, id, action).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Undo a planned action that ran.
#[utoipa::path(post, path = "/api/v1/maintenance/{id}/actions/{action}/undo", tag = "maintenance",
    params(("id" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = WindowDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_undo(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
) -> Response {
    let result = state.services.undo_maintenance_action(&principal, id, action).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Back to the window's page (at `anchor`), or the page again with the refusal and what was typed.
async fn to_window<T>(
    state: &AppState,
    request: axum::extract::Request,
    id: i64,
    result: ServiceResult<T>,
    anchor: impl FnOnce(&T) -> String,
    feedback: FormFeedback,
) -> Response {
    match result {
        Ok(value) => Redirect::to(&format!("/maintenance/{id}{}", anchor(&value))).into_response(),
        Err(error) => form_refused(state, request, &format!("/maintenance/{id}"), &error, feedback).await,
    }
}

/// After a step of a planned action: its place on the window's page.
async fn to_action(
    state: &AppState,
    request: axum::extract::Request,
    id: i64,
    result: ServiceResult<PlannedAction>,
) -> Response {
    to_window(state, request, id, result, |a| format!("#action-{}", a.id), FormFeedback::default()).await
}

/// `POST /maintenance`: schedule a window.
pub async fn form_schedule(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<SchedulePost>,
) -> Response {
    match state.services.schedule_maintenance(&principal, &form.window(), &form.planned()).await {
        Ok(window) => Redirect::to(&format!("/maintenance/{}", window.id)).into_response(),
        Err(error) => {
            let feedback = FormFeedback { maintenance: Some(form.window()), ..FormFeedback::default() };
            form_refused(&state, request, "/maintenance", &error, feedback).await
        }
    }
}

/// `POST /maintenance/{id}`: change a window.
pub async fn form_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<WindowForm>,
) -> Response {
    let result = state.services.edit_maintenance(&principal, id, &form).await;
    let feedback = FormFeedback { maintenance: Some(form), ..FormFeedback::default() };
    to_window(&state, request, id, result, |_| String::new(), feedback).await
}

/// The step form: which step.
#[derive(Clone, Debug, Deserialize)]
pub struct StepPost {
    #[serde(default)]
    pub step: String,
}

/// `POST /maintenance/{id}/steps`: cancel, start, end or complete.
pub async fn form_step(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<StepPost>,
) -> Response {
    let result = match parse_step(&form.step) {
        Ok(step) => state.services.move_maintenance(&principal, id, step).await,
        Err(error) => Err(error),
    };
    to_window(&state, request, id, result, |_| String::new(), FormFeedback::default()).await
}

/// `POST /maintenance/{id}/actions`: plan one more action.
pub async fn form_plan(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<PlannedRequest>,
) -> Response {
    let result = state.services.plan_maintenance_action(&principal, id, &form.form()).await;
    to_action(&state, request, id, result).await
}

/// `POST /maintenance/{id}/actions/{action}/confirm`.
pub async fn form_confirm(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    FormPost { request, .. }: FormPost<StepPost>,
) -> Response {
    let result = state.services.confirm_maintenance_action(&principal, id, action).await;
    to_action(&state, request, id, result).await
}

/// `POST /maintenance/{id}/actions/{action}/undo`.
pub async fn form_undo(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    FormPost { request, .. }: FormPost<StepPost>,
) -> Response {
    let result = state.services.undo_maintenance_action(&principal, id, action).await;
    to_action(&state, request, id, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_form_reads_every_ticked_component_and_both_planned_actions() {
        let body = "csrf=x&title=Kernel+upgrade&starts_at=2030-01-01T10%3A00&ends_at=2030-01-01T11%3A00\
                    &components=node%2Fworker-3&components=service%2F1&start_action=drain&start_node=worker-3\
                    &start_workload=&end_action=uncordon&end_node=worker-3&end_workload=";
        let form: SchedulePost = serde_html_form::from_str(body).unwrap();
        assert_eq!(form.window().components, ["node/worker-3", "service/1"]);
        let planned = form.planned();
        assert_eq!((planned[0].phase.as_str(), planned[0].action.action.as_str()), ("start", "drain"));
        assert_eq!((planned[1].phase.as_str(), planned[1].action.node.as_str()), ("end", "worker-3"));
        let one: WindowForm = serde_html_form::from_str("title=T&components=node%2Fworker-3").unwrap();
        assert_eq!(one.components, ["node/worker-3"], "the edit form posts a WindowForm as it is");
    }
}
