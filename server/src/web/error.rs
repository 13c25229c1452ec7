//! How a [`ServiceError`] reaches people: one JSON error body for the API
//! (with its OpenAPI schema), one status code per kind, and the form path
//! that renders the page again with the message and what was typed.

use super::AppState;
use super::render::render_with_feedback;
use crate::services::ServiceError;
use app::page_context::FormFeedback;
use axum::Json;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every failed API call.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    pub(super) error: ApiErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ApiErrorDetail {
    /// A sentence for people.
    pub(super) message: String,
    /// The request field at fault, when there is one.
    pub(super) field: Option<String>,
    /// For faults on Wheelhouse's side: the id under which the cause was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error_id: Option<String>,
}

/// A JSON error: `{"error": {"message": …, "field": …}}`.
pub fn api_error(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    let detail =
        ApiErrorDetail { message: message.to_owned(), field: field.map(str::to_owned), error_id: None };
    (status, Json(ApiError { error: detail })).into_response()
}

/// The HTTP status of each kind of refusal.
pub fn status_of(error: &ServiceError) -> StatusCode {
    match error {
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Conflict(_) => StatusCode::CONFLICT,
        ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Refused(_) => StatusCode::BAD_GATEWAY,
        ServiceError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let detail = ApiErrorDetail {
            message: self.to_string(),
            field: self.field().map(str::to_owned),
            error_id: self.error_id().map(str::to_owned),
        };
        (status_of(&self), Json(ApiError { error: detail })).into_response()
    }
}

/// Renders `page` again for a refused form: the message (with the field it is
/// about) above what was typed, which `feedback` carries back.
pub async fn form_refused(
    state: &AppState,
    request: Request,
    page: &str,
    error: &ServiceError,
    feedback: FormFeedback,
) -> Response {
    let feedback =
        FormFeedback { message: error.to_string(), field: error.field().map(str::to_owned), ..feedback };
    render_with_feedback(state, request, page, status_of(error), feedback).await
}
