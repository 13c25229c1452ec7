//! Containment actions in the JSON API, under `/api/v1/incidents/{id}/actions`:
//! plan, preview (dry run and blast radius), confirm with an idempotency key,
//! status, undo. The same role rules as the incident room, through the same services.

use super::AppState;
use super::dto::ActionDto;
use super::error::ApiError;
use super::extract::{ApiJson, Caller, Responder};
use crate::actions::ActionRecord;
use crate::services::ServiceResult;
use crate::services::actions::Step;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::action::ActionForm;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;

/// An action to plan. Give the field the action needs.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PlanRequest {
    /// cordon, uncordon, drain, scale, restart, rollback, pause, resume,
    /// isolate_pod, isolate_namespace or delete_pod.
    #[schema(example = "cordon")]
    action: String,
    /// For node actions.
    #[serde(default)]
    #[schema(example = "worker-1")]
    node: String,
    /// For workload actions: kind/namespace/name.
    #[serde(default)]
    #[schema(example = "deployment/shop/checkout")]
    workload: String,
    /// For pod actions: namespace/name.
    #[serde(default)]
    pod: String,
    /// For isolate_namespace.
    #[serde(default)]
    namespace: String,
    /// For scale.
    #[serde(default)]
    replicas: Option<u32>,
}

/// A confirmation or undo. The key may come in the `Idempotency-Key` header instead.
#[derive(Deserialize, ToSchema, Default)]
pub struct ConfirmRequest {
    /// The same key on a retried or doubled request runs the action once.
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// The idempotency key from the header, else from the body.
fn key_of(headers: &HeaderMap, body: &ConfirmRequest) -> String {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| body.idempotency_key.clone())
        .unwrap_or_default()
}

fn answer(outcome: ServiceResult<ActionRecord>, created: bool) -> Response {
    match outcome {
        Ok(action) if created => (StatusCode::CREATED, Json(ActionDto::from(&action))).into_response(),
        Ok(action) => Json(ActionDto::from(&action)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The incident's actions, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/actions", tag = "actions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ActionDto>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn list(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Responder>) -> Response {
    match state.services.actions(id).await {
        Ok(actions) => Json(actions.iter().map(ActionDto::from).collect::<Vec<_>>()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Plan an action (any responder may propose one).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions", tag = "actions", params(("id" = i64, Path)),
    request_body = PlanRequest,
    responses((status = 201, body = ActionDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 413, body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn plan(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<PlanRequest>,
) -> Response {
    let form = ActionForm {
        action: body.action,
        node: body.node,
        workload: body.workload,
        pod: body.pod,
        namespace: body.namespace,
        replicas: body.replicas.map(|r| r.to_string()).unwrap_or_default(),
    };
    answer(state.services.plan_action(&principal, id, &form, false).await, true)
}

/// One action, with its progress.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/actions/{action}", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = ActionDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    _: Caller<Responder>,
) -> Response {
    answer(state.services.action(id, action).await, false)
}

/// Preview: a server-side dry run (`dryRun=All`) and the blast radius. Changes nothing.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/preview", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = ActionDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 502, description = "The cluster refused the dry run", body = ApiError),
        (status = 503, description = "The cluster could not be reached", body = ApiError)))]
pub async fn preview(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
) -> Response {
    answer(state.services.preview_action(&principal, id, action).await, false)
}

/// Confirm and execute, once per idempotency key (the commander, the operations lead or an admin).
/// A failure in the cluster is recorded and answered with the action in status `failed`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/confirm", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ConfirmRequest,
    responses((status = 200, body = ActionDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn confirm(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Response {
    let key = key_of(&headers, &body);
    answer(state.services.step_action(&principal, id, action, Step::Confirm, &key).await, false)
}

/// Undo a succeeded action with its recorded undo, once per idempotency key.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/undo", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ConfirmRequest,
    responses((status = 200, body = ActionDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn undo(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Response {
    let key = key_of(&headers, &body);
    answer(state.services.step_action(&principal, id, action, Step::Undo, &key).await, false)
}
