//! The public status page and its feeds: served from the cached snapshot with
//! an ETag (a matching `If-None-Match` gets 304) and `Cache-Control`, so that
//! browsers and CDNs can help; gzip-compressed once per snapshot, not per
//! request; the body shared with the socket, not copied. No session is read
//! for them: they are routed outside the session and page layers (see
//! `web::router`), so nothing stands between the snapshot and the socket but
//! the request log and metrics.

use super::AppState;
use crate::status_page::{Rendered, Snapshot};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// How long browsers and CDNs may reuse an answer without asking again.
const MAX_AGE: &str = "public, max-age=5, stale-if-error=86400";
/// No script at all; our stylesheet and inline SVG only.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|value| {
        value.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused =
                parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q == 0.0)));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

fn serve(request: &Request, document: &Rendered) -> Response {
    let gzip = !document.gzip.is_empty() && accepts_gzip(request.headers());
    let etag = if gzip { &document.gzip_etag } else { &document.etag };
    let fresh =
        request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|tags| {
            tags.split(',').any(|tag| tag.trim().as_bytes() == etag.as_bytes() || tag.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = if gzip { document.gzip.clone() } else { document.body.clone() };
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(header::CONTENT_TYPE, document.content_type.clone());
        if gzip {
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
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

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_is_sent_to_clients_that_take_it() {
        let with = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::ACCEPT_ENCODING, value.parse().unwrap());
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts_gzip(&http::HeaderMap::new()));
    }
}
