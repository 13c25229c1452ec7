//! The webhook admin's form posts: add a receiver for an audience, remove one.

use super::AppState;
use super::error::form_refused;
use super::extract::{Admin, Caller, FormPost};
use super::render::plain_error;
use app::page_context::FormFeedback;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    audience: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    url: String,
}

/// `POST /admin/webhooks`
pub async fn create(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<WebhookForm>,
) -> Response {
    match state.services.add_webhook(&principal, &form.audience, &form.format, &form.url).await {
        Ok(_) => Redirect::to("/admin/webhooks").into_response(),
        Err(error) => {
            let feedback = FormFeedback { template: Some(form.url), ..FormFeedback::default() };
            form_refused(&state, request, "/admin/webhooks", &error, feedback).await
        }
    }
}

/// `POST /admin/webhooks/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Admin>) -> Response {
    match state.services.remove_webhook(id).await {
        Ok(()) => Redirect::to("/admin/webhooks").into_response(),
        Err(error) => plain_error(super::error::status_of(&error), &error.to_string()),
    }
}
