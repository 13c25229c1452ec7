//! A bound on how long a request may take: every route but the live event
//! stream answers within [`REQUEST_TIMEOUT`] or is stopped with a 503 that says so.

use super::error::api_error;
use super::render::plain_error;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use std::time::Duration;

/// Longer than anything a request does (a confirmation waits 10 s for its action).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Streaming routes, which stay open by design.
pub fn streams(path: &str) -> bool {
    path == "/api/v1/events"
}

pub async fn request_timeout(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if streams(&path) {
        return next.run(request).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(http.path = %path, "request stopped after the time limit");
            let message = format!(
                "The request took longer than {} s and was stopped. Anything it started may still finish; check before trying again.",
                REQUEST_TIMEOUT.as_secs()
            );
            if path.starts_with("/api/") {
                api_error(StatusCode::SERVICE_UNAVAILABLE, &message, None)
            } else {
                plain_error(StatusCode::SERVICE_UNAVAILABLE, &message)
            }
        }
    }
}
