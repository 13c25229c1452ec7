//! Containment actions in the JSON API, under `/api/v1/incidents/{id}/actions`:
//! plan, preview (dry run and blast radius), confirm with an idempotency key,
//! status, undo. The same role rules as the incident room.

use super::AppState;
use super::api::api_error;
use super::incident_commands::refusal;
use super::incidents_api::ApiError;
use super::principal::{DenialResponse, Principal, authorise};
use crate::actions::ActionError;
use crate::incident_pages::action_view;
use app::domain::action::{ActionFailure, ActionForm, ActionSpec};
use app::domain::incident_lifecycle::Refusal;
use app::domain::role::Role;
use app::incidents::ActionView;
use axum::Json;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;

/// An action to plan. Give the field the action needs.
#[derive(Deserialize, ToSchema, Default)]
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

/// The HTTP status, message and field for an action error.
pub fn action_refusal(error: &ActionError) -> (StatusCode, String, Option<&'static str>) {
    match error {
        ActionError::NotFound(id) => {
            (StatusCode::NOT_FOUND, format!("There is no action {id} on this incident."), None)
        }
        ActionError::Incident(error) => refusal(error),
        ActionError::Refused(Refusal::NotPermitted(m)) => (StatusCode::FORBIDDEN, m.clone(), None),
        ActionError::Refused(Refusal::Invalid(m)) => (StatusCode::CONFLICT, m.clone(), None),
        ActionError::DryRunFailed(failure) => {
            let status = match failure {
                ActionFailure::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
                ActionFailure::NotFound { .. } => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_GATEWAY,
            };
            (status, format!("The dry run failed: {}", failure.plain_words()), None)
        }
        ActionError::Field { field, message } => {
            (StatusCode::UNPROCESSABLE_ENTITY, message.clone(), Some(*field))
        }
        ActionError::Db(source) => {
            tracing::error!(error = source as &dyn std::error::Error, "an action could not be stored");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The action could not be recorded right now; nothing was done. Try again shortly.".into(),
                None,
            )
        }
    }
}

fn error_response(error: &ActionError) -> Response {
    let (status, message, field) = action_refusal(error);
    api_error(status, &message, field)
}

fn answer(outcome: Result<crate::actions::ActionRecord, ActionError>, created: bool) -> Response {
    match outcome {
        Ok(action) if created => (StatusCode::CREATED, Json(action_view(&action))).into_response(),
        Ok(action) => Json(action_view(&action)).into_response(),
        Err(error) => error_response(&error),
    }
}

/// Authorises, then reads an optional JSON body.
async fn read<T: serde::de::DeserializeOwned + Default>(
    request: Request,
) -> Result<(Principal, HeaderMap, T), Response> {
    let principal = authorise(request.extensions(), Role::Responder).map_err(DenialResponse::json)?;
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, super::MAX_BODY_BYTES)
        .await
        .map_err(|_| api_error(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.", None))?;
    let value = if bytes.iter().all(u8::is_ascii_whitespace) {
        T::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|error| {
            api_error(StatusCode::BAD_REQUEST, &format!("The body is not the JSON expected: {error}."), None)
        })?
    };
    Ok((principal, parts.headers, value))
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

/// The incident's actions, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/actions", tag = "actions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ActionView>), (status = 401, body = ApiError)))]
pub async fn list(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Responder) {
        return denied.json();
    }
    match state.actions.list(id).await {
        Ok(actions) => Json(actions.iter().map(action_view).collect::<Vec<_>>()).into_response(),
        Err(error) => error_response(&error),
    }
}

/// Plan an action (any responder may propose one).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions", tag = "actions", params(("id" = i64, Path)),
    request_body = PlanRequest,
    responses((status = 201, body = ActionView), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn plan(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let (principal, _, body) = match read::<PlanRequest>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let form = ActionForm {
        action: body.action,
        node: body.node,
        workload: body.workload,
        pod: body.pod,
        namespace: body.namespace,
        replicas: body.replicas.map(|r| r.to_string()).unwrap_or_default(),
    };
    let outcome = match ActionSpec::parse(&form) {
        Ok(spec) => state.actions.plan(id, &principal.actor(), spec).await,
        Err(error) => Err(ActionError::Field { field: error.field, message: error.message }),
    };
    answer(outcome, true)
}

/// One action, with its progress.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/actions/{action}", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = ActionView), (status = 404, body = ApiError)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Responder) {
        return denied.json();
    }
    answer(state.actions.get(id, action).await, false)
}

/// Preview: a server-side dry run (`dryRun=All`) and the blast radius. Changes nothing.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/preview", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = ActionView), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 502, description = "The cluster refused the dry run", body = ApiError),
        (status = 503, description = "The cluster could not be reached", body = ApiError)))]
pub async fn preview(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    let principal = match authorise(request.extensions(), Role::Responder) {
        Ok(principal) => principal,
        Err(denied) => return denied.json(),
    };
    answer(state.actions.preview(id, action, &principal.actor()).await, false)
}

/// Confirm and execute, once per idempotency key (the commander, the operations lead or an admin).
/// A failure in the cluster is recorded and answered with the action in status `failed`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/confirm", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ConfirmRequest,
    responses((status = 200, body = ActionView), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn confirm(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    let (principal, headers, body) = match read::<ConfirmRequest>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    answer(state.actions.confirm(id, action, &principal.actor(), &key_of(&headers, &body)).await, false)
}

/// Undo a succeeded action with its recorded undo, once per idempotency key.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/undo", tag = "actions",
    params(("id" = i64, Path), ("action" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ConfirmRequest,
    responses((status = 200, body = ActionView), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn undo(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    let (principal, headers, body) = match read::<ConfirmRequest>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    answer(state.actions.undo(id, action, &principal.actor(), &key_of(&headers, &body)).await, false)
}
