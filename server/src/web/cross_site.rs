//! Refuses cross-site requests that would act with a visitor's session: a
//! state-changing request (any method but GET, HEAD, OPTIONS) not made with an
//! API token must come from Wheelhouse's own origin, by its `Origin` header,
//! else by `Sec-Fetch-Site`; when a browser sends neither, a signed-in
//! session's request must carry the session's anti-forgery token (the `csrf`
//! form field every form has, or an `X-CSRF-Token` header). API tokens are
//! exempt: a browser never attaches one by itself.

use super::AppState;
use super::MAX_BODY_BYTES;
use super::context::CsrfToken;
use super::error::api_error;
use super::principal::Principal;
use super::render::plain_error;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode, header};

/// The header a script may send the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What the headers say about where a request came from.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    SameOrigin,
    CrossSite(String),
    /// Neither `Origin` nor `Sec-Fetch-Site`: an older client, or not a browser.
    Unknown,
}

/// The host (and port) a request names, for comparing with `Origin` when no public URL is set.
fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

fn verdict(headers: &HeaderMap, public_origin: Option<&str>) -> Verdict {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let same = match public_origin {
            Some(expected) => origin == expected,
            // Without a configured public URL, the origin must name the host the request was sent to.
            None => origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && Some(rest) == host(headers).map(str::to_ascii_lowercase).as_deref()
            }),
        };
        return if same { Verdict::SameOrigin } else { Verdict::CrossSite(format!("Origin {origin}")) };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") | Some("none") => Verdict::SameOrigin,
        Some(other) => Verdict::CrossSite(format!("Sec-Fetch-Site {other}")),
        None => Verdict::Unknown,
    }
}

/// Compares without stopping at the first difference.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(serde::Deserialize)]
struct TokenField {
    csrf: Option<String>,
}

fn refuse(api: bool, message: &str) -> Response {
    if api {
        api_error(StatusCode::FORBIDDEN, message, None)
    } else {
        plain_error(StatusCode::FORBIDDEN, message)
    }
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    if matches!(request.extensions().get::<Principal>(), Some(Principal::Token(_))) {
        return next.run(request).await;
    }
    let api = request.uri().path().starts_with("/api/");
    match verdict(request.headers(), state.public_origin.as_deref()) {
        Verdict::SameOrigin => next.run(request).await,
        Verdict::CrossSite(from) => {
            tracing::warn!(http.path = %request.uri().path(), request.from = %from, "cross-site request refused");
            refuse(
                api,
                "This request came from another site, so Wheelhouse refused it: forms and API calls made with \
                 your session are accepted from Wheelhouse's own pages only. If you followed a link or a bookmark, \
                 open the page in Wheelhouse and try again.",
            )
        }
        Verdict::Unknown => {
            let Some(CsrfToken(expected)) = request.extensions().get::<CsrfToken>().cloned() else {
                // Nobody is signed in: nothing of theirs to act with (signing in itself is throttled).
                return next.run(request).await;
            };
            if let Some(sent) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
                return if same_token(sent, &expected) {
                    next.run(request).await
                } else {
                    refuse(
                        api,
                        "The anti-forgery token does not match this session. Reload the page and try again.",
                    )
                };
            }
            let (parts, body) = request.into_parts();
            let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
                return refuse(api, "The form is too large to check.");
            };
            let sent = serde_html_form::from_bytes::<TokenField>(&bytes).ok().and_then(|f| f.csrf);
            if sent.as_deref().is_some_and(|sent| same_token(sent, &expected)) {
                next.run(Request::from_parts(parts, Body::from(bytes))).await
            } else {
                refuse(
                    api,
                    "This form could not be checked as coming from Wheelhouse (its anti-forgery token is missing \
                     or out of date), so nothing was changed. Reload the page and try again.",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn the_origin_must_be_the_public_url_or_the_host_asked() {
        let same =
            headers(&[("host", "wheelhouse.example.com"), ("origin", "https://wheelhouse.example.com")]);
        assert_eq!(verdict(&same, Some("https://wheelhouse.example.com")), Verdict::SameOrigin);
        assert_eq!(verdict(&same, None), Verdict::SameOrigin);
        let evil = headers(&[("host", "wheelhouse.example.com"), ("origin", "http://evil.example")]);
        assert!(matches!(verdict(&evil, None), Verdict::CrossSite(_)));
        assert!(matches!(verdict(&evil, Some("https://wheelhouse.example.com")), Verdict::CrossSite(_)));
        let plain_http =
            headers(&[("host", "wheelhouse.example.com"), ("origin", "http://wheelhouse.example.com")]);
        assert!(
            matches!(verdict(&plain_http, Some("https://wheelhouse.example.com")), Verdict::CrossSite(_)),
            "the scheme counts once a public URL is set"
        );
        let null = headers(&[("host", "w"), ("origin", "null")]);
        assert!(matches!(verdict(&null, None), Verdict::CrossSite(_)));
    }

    #[test]
    fn without_an_origin_sec_fetch_site_decides_and_without_either_the_token_does() {
        assert!(matches!(
            verdict(&headers(&[("sec-fetch-site", "cross-site")]), None),
            Verdict::CrossSite(_)
        ));
        assert!(matches!(verdict(&headers(&[("sec-fetch-site", "same-site")]), None), Verdict::CrossSite(_)));
        assert_eq!(verdict(&headers(&[("sec-fetch-site", "same-origin")]), None), Verdict::SameOrigin);
        assert_eq!(verdict(&headers(&[("host", "w")]), None), Verdict::Unknown);
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
