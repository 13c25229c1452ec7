//! The JSON API for component health: current statuses with the cluster
//! link, and per-day uptime from the history. Errors are JSON with a message.

use super::AppState;
use super::dto::{ComponentsDto, UptimeDto};
use super::error::ApiError;
use super::extract::{ApiQuery, Caller, Responder};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

/// Every component's status, the reasons for it and since when, with the cluster link.
#[utoipa::path(get, path = "/api/v1/components", tag = "components",
    responses((status = 200, body = ComponentsDto), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn components(State(state): State<AppState>, _: Caller<Responder>) -> Response {
    Json(ComponentsDto::from(state.live.dashboard())).into_response()
}

#[derive(Deserialize, IntoParams)]
pub struct UptimeQuery {
    /// How many days back, 1 to 90 (default 90).
    days: Option<usize>,
}

/// A component's uptime per UTC day: milliseconds in each status, unknown when the
/// cluster was out of sight, and the impact-weighted uptime.
#[utoipa::path(get, path = "/api/v1/components/{kind}/{name}/uptime", tag = "components",
    params(("kind" = String, Path, description = "platform, node or service"), ("name" = String, Path), UptimeQuery),
    responses((status = 200, body = UptimeDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn uptime(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    _: Caller<Responder>,
    ApiQuery(query): ApiQuery<UptimeQuery>,
) -> Response {
    match state.services.uptime(&kind, &name, query.days).await {
        Ok((key, days)) => Json(UptimeDto::new(key, &days)).into_response(),
        Err(error) => error.into_response(),
    }
}
