//! Errors as `metav1.Status` objects, the way the API server reports them.

use crate::store::StoreError;
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// An API error: HTTP code, reason and message, plus optional details.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, reason, message: message.into(), details: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn not_found(plural: &str, name: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("{plural} \"{name}\" not found"))
            .with_details(json!({"name": name, "kind": plural}))
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let message = error.to_string();
        match error {
            StoreError::NotFound { kind, name } => ApiError::not_found(&kind, &name),
            StoreError::NamespaceNotFound(ns) => ApiError::not_found("namespaces", &ns),
            StoreError::AlreadyExists { kind, name } => {
                ApiError::new(StatusCode::CONFLICT, "AlreadyExists", message)
                    .with_details(json!({"name": name, "kind": kind}))
            }
            StoreError::Conflict { plural, name } => ApiError::new(StatusCode::CONFLICT, "Conflict", message)
                .with_details(json!({"name": name, "kind": plural})),
            StoreError::Invalid { kind, name, reason } => {
                // "spec.x: Required value: …" is the field and what is wrong with it, as kubectl prints causes.
                let (field, what) = reason.split_once(": ").unwrap_or(("", reason.as_str()));
                let cause_reason = if what.starts_with("Required value") {
                    "FieldValueRequired"
                } else {
                    "FieldValueInvalid"
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", message).with_details(json!({
                    "name": name,
                    "kind": kind,
                    "causes": [{"reason": cause_reason, "message": what, "field": field}],
                }))
            }
            StoreError::Gone { .. } => ApiError::new(StatusCode::GONE, "Expired", message),
            StoreError::BadRequest(_) => ApiError::bad_request(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code, Json(self.status())).into_response()
    }
}

/// The `Status` a successful delete of a whole collection or an eviction returns.
pub fn success(code: StatusCode) -> Response {
    (code, Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code.as_u16()})))
        .into_response()
}
