//! Extractors every handler shares: the caller, authorised for the least role
//! a route needs ([`Caller`]), a JSON body read with the API's error shape
//! ([`ApiJson`]) or query string ([`ApiQuery`]), and a form body that keeps the request for re-rendering the
//! page ([`FormPost`]).

use super::MAX_BODY_BYTES;
use super::error::api_error;
use super::principal::{DenialResponse, Principal, authorise};
use super::render::plain_error;
use axum::body::to_bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::Response;
use domain::role::Role;
use http::request::Parts;
use http::{StatusCode, header};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// The least role a route needs, as a type.
pub trait MinRole: Send + Sync + 'static {
    const ROLE: Role;
}

/// Posts alerts: an `alerts` token (or a responder or admin; not a viewer).
pub struct AlertSender;
/// Read-only: briefings and insights.
pub struct Viewer;
/// Runs incidents.
pub struct Responder;
/// Manages users, components, templates, webhooks.
pub struct Admin;

impl MinRole for AlertSender {
    const ROLE: Role = Role::Alerts;
}
impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl MinRole for Responder {
    const ROLE: Role = Role::Responder;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// The caller, if they hold at least `R`'s role; otherwise the request is
/// answered 401 or 403 (JSON under `/api/`, a plain page elsewhere) before any
/// body is read.
pub struct Caller<R: MinRole>(pub Principal, pub PhantomData<R>);

impl<R: MinRole> Caller<R> {
    pub fn principal(&self) -> &Principal {
        &self.0
    }
}

impl<S: Send + Sync, R: MinRole> FromRequestParts<S> for Caller<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match authorise(&parts.extensions, R::ROLE) {
            Ok(principal) => Ok(Caller(principal, PhantomData)),
            Err(denied) if parts.uri.path().starts_with("/api/") => Err(denied.json()),
            Err(denied) => Err(denied.page()),
        }
    }
}

/// A JSON request body. An empty body reads as `{}`; a body that is not
/// declared as JSON is refused 415 (so a cross-site "simple" request cannot
/// carry one), one too large 413, one that does not match `T` 400.
pub struct ApiJson<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let declared_json =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_json);
        let bytes = to_bytes(request.into_body(), MAX_BODY_BYTES).await.map_err(|_| {
            api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than {} KiB.", MAX_BODY_BYTES / 1024),
                None,
            )
        })?;
        let empty = bytes.iter().all(u8::is_ascii_whitespace);
        if !empty && !declared_json {
            return Err(api_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as JSON, with 'Content-Type: application/json'.",
                None,
            ));
        }
        let body: &[u8] = if empty { b"{}" } else { &bytes };
        serde_json::from_slice(body).map(ApiJson).map_err(|error| {
            api_error(StatusCode::BAD_REQUEST, &format!("The body is not the JSON expected: {error}."), None)
        })
    }
}

/// A query string for the JSON API; one that does not match `T` is refused 400
/// with the API's error body.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|error| {
            api_error(
                StatusCode::BAD_REQUEST,
                &format!("The query string is not as expected: {error}."),
                None,
            )
        })
    }
}

/// A form post's fields, with the request (without its body) kept to render
/// the page again if the form is refused.
pub struct FormPost<T> {
    pub form: T,
    pub request: Request,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormPost<T> {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| plain_error(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
        let form = serde_html_form::from_bytes(&bytes).map_err(|_| {
            plain_error(StatusCode::BAD_REQUEST, "The form could not be read. Reload the page and try again.")
        })?;
        Ok(FormPost { form, request: Request::from_parts(parts, axum::body::Body::empty()) })
    }
}

/// A checkbox or button counts as set when sent with any value but "false".
pub fn checked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.eq_ignore_ascii_case("false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_recognised_with_parameters_and_suffixes_but_text_is_not() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
