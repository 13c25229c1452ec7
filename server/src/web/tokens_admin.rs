//! The API token admin's form posts: create (the token is shown once, on the
//! page this answers) and revoke.

use super::AppState;
use super::error::form_refused;
use super::extract::{Admin, Caller, FormPost};
use super::render::{plain_error, render_with_feedback};
use app::page_context::FormFeedback;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/tokens`
pub async fn create(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<TokenForm>,
) -> Response {
    match state.services.create_token(&principal, &form.name, &form.role).await {
        Ok((token, secret)) => {
            let feedback = FormFeedback {
                message: format!("Token '{}' created. Copy it now: it will not be shown again.", token.name),
                new_token: Some(secret),
                ..FormFeedback::default()
            };
            render_with_feedback(&state, request, "/admin/tokens", StatusCode::CREATED, feedback).await
        }
        Err(error) => form_refused(&state, request, "/admin/tokens", &error, FormFeedback::default()).await,
    }
}

/// `POST /admin/tokens/{id}/revoke`
pub async fn revoke(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Admin>) -> Response {
    match state.services.revoke_token(id).await {
        Ok(()) => Redirect::to("/admin/tokens").into_response(),
        Err(error) => plain_error(super::error::status_of(&error), &error.to_string()),
    }
}
