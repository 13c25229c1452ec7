//! A panic in a handler becomes a 500 with an error id — JSON under `/api/`, a
//! page elsewhere — and is logged once with that id, instead of a dropped
//! connection.

use super::error::{ApiError, ApiErrorDetail};
use super::render::plain_error;
use axum::Json;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use std::any::Any;

/// Carries the error id from the panic handler to [`explain`].
const ERROR_ID_HEADER: &str = "x-wheelhouse-error-id";

/// For `tower_http::catch_panic::CatchPanicLayer::custom`: logs the panic under a fresh id.
pub fn caught(payload: Box<dyn Any + Send + 'static>) -> http::Response<String> {
    let detail = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    let bytes: [u8; 6] = rand::random();
    let error_id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    tracing::error!(error.id = %error_id, panic = detail, "a request handler panicked");
    http::Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(ERROR_ID_HEADER, &error_id)
        .body(String::new())
        .unwrap_or_default()
}

/// Turns a caught panic into the answer people and clients read.
pub async fn explain(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let Some(error_id) =
        response.headers().get(ERROR_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
    else {
        return response;
    };
    let message = format!(
        "Something went wrong on Wheelhouse's side and the request was not completed (error id {error_id})."
    );
    if api {
        let detail = ApiErrorDetail { message, field: None, error_id: Some(error_id) };
        (StatusCode::INTERNAL_SERVER_ERROR, Json(ApiError { error: detail })).into_response()
    } else {
        plain_error(StatusCode::INTERNAL_SERVER_ERROR, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("boom in a handler")
    }

    fn router() -> axum::Router {
        axum::Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(caught))
            .layer(axum::middleware::from_fn(explain))
    }

    async fn call(path: &str) -> (StatusCode, String) {
        let response =
            router().oneshot(Request::get(path).body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_panic_is_a_500_with_an_error_id_as_json_or_a_page() {
        let (status, body) = call("/api/v1/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"]["error_id"].as_str().map(str::len), Some(12), "{json}");
        assert!(!body.contains("boom"), "the panic message stays in the log");
        let (status, body) = call("/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("error id"), "{body}");
        assert_eq!(call("/fine").await, (StatusCode::OK, "fine".to_owned()));
    }
}
