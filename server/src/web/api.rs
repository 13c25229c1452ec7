//! The JSON API for component health: current statuses with the cluster
//! link, and per-day uptime from the history. Errors are JSON with a message.

use super::AppState;
use super::error::api_error;
use super::extract::{ApiQuery, Caller, Responder};
use app::domain::component::ComponentKey;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

/// `GET /api/v1/components`
pub async fn components(State(state): State<AppState>, _: Caller<Responder>) -> Response {
    let board = state.live.dashboard();
    let components: Vec<_> = board
        .groups
        .into_iter()
        .flat_map(|group| {
            let name = group.name;
            group.tiles.into_iter().map(move |tile| {
                json!({
                    "key": tile.key,
                    "name": tile.name,
                    "description": tile.description,
                    "kind": tile.kind,
                    "group": name,
                    "visibility": tile.visibility,
                    "status": tile.status,
                    "reasons": tile.reasons,
                    "since": tile.since,
                })
            })
        })
        .collect();
    Json(json!({
        "cluster": {
            "link": board.link.link,
            "since": board.link.since,
            "last_contact": board.link.last_contact,
            "stale": board.link.is_stale(),
            "now": board.link.now,
        },
        "evaluated": board.evaluated,
        "components": components,
    }))
    .into_response()
}

#[derive(Deserialize)]
pub struct UptimeQuery {
    days: Option<usize>,
}

/// `GET /api/v1/components/{kind}/{name}/uptime?days=90`
pub async fn uptime(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    _: Caller<Responder>,
    ApiQuery(query): ApiQuery<UptimeQuery>,
) -> Response {
    let Some(key) = ComponentKey::parse(&format!("{kind}/{name}")) else {
        return api_error(
            StatusCode::NOT_FOUND,
            "No such component: use platform/NAME, node/NAME or service/ID.",
            None,
        );
    };
    let days = query.days.unwrap_or(90);
    if !(1..=90).contains(&days) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, "days must be between 1 and 90.", Some("days"));
    }
    match state.history.daily(&key, days, crate::db::now_millis()).await {
        Ok(breakdown) => {
            let days: Vec<_> = breakdown
                .iter()
                .map(|day| {
                    json!({
                        "day": day.day,
                        "uptime": day.uptime(),
                        "millis": day,
                    })
                })
                .collect();
            Json(json!({ "component": key, "days": days })).into_response()
        }
        Err(error) => {
            tracing::error!(error = &error as &dyn std::error::Error, "cannot read the status history");
            api_error(StatusCode::SERVICE_UNAVAILABLE, "The history cannot be read right now.", None)
        }
    }
}
