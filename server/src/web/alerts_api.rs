//! The alert JSON API: intake from Alertmanager (its webhook payload, version
//! 4) and from other monitors (the generic shape), authenticated with an API
//! token whose role is `alerts` (or a responder's); and the inbox for
//! automation: list, read, acknowledge, silence, attach.

use super::AppState;
use super::dto::{AlertDto, IntakeDto};
use super::error::ApiError;
use super::extract::{AlertSender, ApiJson, ApiQuery, Caller, Responder};
use super::incidents_api::page_response;
use crate::services::alerts::{AlertmanagerPayload, GenericAlert, InboxInput};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Alertmanager's webhook payload, version 4 (as its `webhook_configs` send it).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct AlertmanagerRequest {
    #[schema(example = "4")]
    version: String,
    group_key: String,
    truncated_alerts: u32,
    /// firing or resolved.
    status: String,
    receiver: String,
    group_labels: BTreeMap<String, String>,
    common_labels: BTreeMap<String, String>,
    common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: String,
    alerts: Vec<AlertmanagerAlertRequest>,
}

/// One alert of an Alertmanager payload.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct AlertmanagerAlertRequest {
    status: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    /// RFC 3339.
    starts_at: String,
    /// RFC 3339; Alertmanager sends 0001-01-01T00:00:00Z for "no end".
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: String,
    fingerprint: String,
}

/// An alert from any other monitor (CloudWatch through SNS, Azure action groups, Datadog, scripts).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct GenericAlertRequest {
    #[schema(example = "Disk almost full on db-1")]
    title: String,
    /// firing (default) or resolved.
    status: Option<String>,
    /// critical, warning (default) or info.
    severity: Option<String>,
    /// Repeats with the same key update one alert; the title when absent.
    dedup_key: Option<String>,
    /// `namespace` with `deployment`, `statefulset`, `daemonset` or `pod`, or `node`, map it to a component.
    labels: Option<BTreeMap<String, String>>,
    description: Option<String>,
    source_url: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct InboxQuery {
    /// Also alerts the routing policy keeps out of sight (info, by default).
    #[serde(default)]
    include_kept: bool,
    /// Also alerts silenced now.
    #[serde(default)]
    include_silenced: bool,
    /// At most this many (1 to 500; default 100).
    limit: Option<u32>,
    /// Continue after the previous page: the cursor from its `Link: <…>; rel="next"` header.
    cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SilenceRequest {
    /// 1 to 10080 (a week).
    #[schema(example = 60)]
    minutes: u32,
    #[schema(example = "Known: the deploy window runs until 15:00.")]
    reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AttachRequest {
    /// An incident under way.
    incident: i64,
}

/// Receive an Alertmanager delivery (point a `webhook_configs` receiver here).
#[utoipa::path(post, path = "/api/v1/alerts/alertmanager", tag = "alerts", request_body = AlertmanagerRequest,
    responses((status = 200, body = IntakeDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, description = "Another payload version, or a field that cannot be read", body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn alertmanager(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AlertSender>,
    ApiJson(payload): ApiJson<AlertmanagerPayload>,
) -> Response {
    match state.services.receive_alertmanager(&principal, &payload).await {
        Ok(report) => Json(IntakeDto::from(report)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Receive one alert in the generic shape.
#[utoipa::path(post, path = "/api/v1/alerts", tag = "alerts", request_body = GenericAlertRequest,
    responses((status = 200, body = IntakeDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn generic(
    State(state): State<AppState>,
    Caller(principal, _): Caller<AlertSender>,
    ApiJson(alert): ApiJson<GenericAlert>,
) -> Response {
    match state.services.receive_generic(&principal, &alert).await {
        Ok(report) => Json(IntakeDto::from(report)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The inbox: firing and recently resolved alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(InboxQuery),
    responses((status = 200, body = [AlertDto], headers(("link" = String, description = "rel=\"next\" when there is more"))),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Responder>,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Response {
    let input = InboxInput {
        include_kept: query.include_kept,
        include_silenced: query.include_silenced,
        limit: query.limit,
        cursor: query.cursor,
    };
    match state.services.inbox(&input).await {
        Ok(page) => {
            let mut kept = Vec::new();
            if query.include_kept {
                kept.push(("include_kept", "true".to_owned()));
            }
            if query.include_silenced {
                kept.push(("include_silenced", "true".to_owned()));
            }
            if let Some(limit) = query.limit {
                kept.push(("limit", limit.to_string()));
            }
            let items: Vec<AlertDto> = page.items.into_iter().map(AlertDto::from).collect();
            page_response(items, page.next, "/api/v1/alerts", kept)
        }
        Err(error) => error.into_response(),
    }
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = AlertDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn get_one(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Responder>) -> Response {
    match state.services.alert(id).await {
        Ok(alert) => Json(AlertDto::from(alert)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Acknowledge an alert: someone is looking at it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = AlertDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Already acknowledged", body = ApiError), (status = 413, body = ApiError),
        (status = 415, body = ApiError), (status = 503, body = ApiError)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
) -> Response {
    match state.services.acknowledge_alert(&principal, id).await {
        Ok(alert) => Json(AlertDto::from(alert)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Silence an alert inside Wheelhouse for a while, saying why.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/silence", tag = "alerts", params(("id" = i64, Path)),
    request_body = SilenceRequest,
    responses((status = 200, body = AlertDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 413, body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn silence(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<SilenceRequest>,
) -> Response {
    match state.services.silence_alert(&principal, id, &body.minutes.to_string(), &body.reason).await {
        Ok(alert) => Json(AlertDto::from(alert)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Attach an alert to an incident under way (recorded on its timeline).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/attach", tag = "alerts", params(("id" = i64, Path)),
    request_body = AttachRequest,
    responses((status = 200, body = AlertDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn attach(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<AttachRequest>,
) -> Response {
    match state.services.attach_alert(&principal, id, &body.incident.to_string()).await {
        Ok(alert) => Json(AlertDto::from(alert)).into_response(),
        Err(error) => error.into_response(),
    }
}
