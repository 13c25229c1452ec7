//! The public status page and its feeds: served from the cached snapshot with
//! an ETag (a matching `If-None-Match` gets 304) and `Cache-Control`, so that
//! browsers and CDNs can help; no session is read for them.

use super::AppState;
use crate::status_page::{Rendered, Snapshot};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// How long browsers and CDNs may reuse an answer without asking again.
const MAX_AGE: &str = "public, max-age=5, stale-if-error=86400";
/// No script at all; our stylesheet and inline SVG only.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn serve(request: &Request, document: &Rendered) -> Response {
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == document.etag || tag.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, document.content_type)], document.body.as_str().to_owned()).into_response()
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&document.etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

macro_rules! document_handler {
    ($name:ident, $field:ident) => {
        pub async fn $name(State(state): State<AppState>, request: Request) -> Response {
            let snapshot: std::sync::Arc<Snapshot> = state.status_page.current();
            serve(&request, &snapshot.$field)
        }
    };
}

document_handler!(page, page);
document_handler!(history, history);
document_handler!(feed, feed);
document_handler!(summary, summary);
document_handler!(status, status);
document_handler!(components, components);
document_handler!(incidents, incidents);
document_handler!(maintenances, maintenances);
document_handler!(upcoming_maintenances, upcoming);
document_handler!(active_maintenances, active);
document_handler!(maintenance_calendar, calendar);
