//! Rendering a Leptos page from a form handler, so that a refused form comes
//! back with its message, the right status code, and what was typed.

use super::AppState;
use app::page_context::{FormFeedback, PageContext};
use app::shell;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, Uri, header};

/// Renders the app for `path` (a local path with optional query) as if it had
/// been requested with GET, with `ctx` as its page context, and answers `status`.
pub async fn render_page(
    state: &AppState,
    request: Request,
    path: &str,
    status: StatusCode,
    ctx: PageContext,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    parts.method = Method::GET;
    parts.uri = path.parse::<Uri>().unwrap_or_else(|_| Uri::from_static("/"));
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.extensions.insert(ctx);
    let leptos = state.leptos.clone();
    let handler = leptos_axum::render_app_async_with_context(state.provide_page_services(), move || {
        shell(leptos.clone())
    });
    let mut response = handler(Request::from_parts(parts, Body::empty())).await.into_response();
    *response.status_mut() = status;
    response
}

/// Renders `path` for a form post with `feedback` (a message, what was typed, a
/// result to show) in the page context the request came with.
pub async fn render_with_feedback(
    state: &AppState,
    request: Request,
    path: &str,
    status: StatusCode,
    feedback: FormFeedback,
) -> Response {
    let Some(mut ctx) = request.extensions().get::<PageContext>().cloned() else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    ctx.feedback = Some(feedback);
    render_page(state, request, path, status, ctx).await
}

/// A one-sentence plain-text answer, for clients that are not browsing pages.
pub fn plain_error(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}
