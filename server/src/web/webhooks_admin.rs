//! The webhook admin's form posts: add a receiver for an audience, remove one.

use super::AppState;
use super::auth::{page_context_of, read_form};
use super::principal::{DenialResponse, authorise};
use super::render::{plain_error, render_page};
use crate::webhooks::{Format, WebhookError};
use app::domain::role::Role;
use app::domain::update::Audience;
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
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
pub async fn create(State(state): State<AppState>, request: Request) -> Response {
    let principal = match authorise(request.extensions(), Role::Admin) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    let (request, form) = match read_form::<WebhookForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let outcome = match (Audience::parse(&form.audience), Format::parse(&form.format)) {
        (Some(audience), Some(format)) => {
            state.webhooks.create(audience, format, &form.url, &principal.name()).await
        }
        (None, _) => Err(WebhookError::Invalid("Choose the audience: public, internal or executive.".into())),
        (_, None) => Err(WebhookError::Invalid("Choose the format: slack or generic.".into())),
    };
    let (status, message) = match outcome {
        Ok(_) => return Redirect::to("/admin/webhooks").into_response(),
        Err(WebhookError::Invalid(message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(WebhookError::Db(error)) => {
            tracing::error!(error = &error as &dyn std::error::Error, "could not add a webhook");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The webhook could not be added right now. Try again shortly.".into(),
            )
        }
    };
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    ctx.feedback = Some(FormFeedback {
        message,
        field: Some("url".into()),
        template: Some(form.url),
        ..FormFeedback::default()
    });
    render_page(&state, request, "/admin/webhooks", status, ctx).await
}

/// `POST /admin/webhooks/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Admin) {
        return denied.page();
    }
    match state.webhooks.delete(id).await {
        Ok(()) => Redirect::to("/admin/webhooks").into_response(),
        Err(error) => {
            tracing::error!(error = &error as &dyn std::error::Error, "could not remove a webhook");
            plain_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The webhook could not be removed right now. Try again shortly.",
            )
        }
    }
}
