//! The API token admin's form posts: create (the token is shown once, on the
//! page this answers) and revoke.

use super::AppState;
use super::auth::{page_context_of, read_form};
use super::principal::{DenialResponse, authorise};
use super::render::{plain_error, render_page};
use crate::tokens::TokenError;
use app::domain::role::Role;
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
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
pub async fn create(State(state): State<AppState>, request: Request) -> Response {
    let principal = match authorise(request.extensions(), Role::Admin) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    let (request, form) = match read_form::<TokenForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    let outcome = match form.role.parse::<Role>() {
        Ok(role) => state.tokens.create(&form.name, role, &principal.name()).await,
        Err(error) => {
            ctx.feedback = Some(FormFeedback {
                message: error.to_string(),
                field: Some("role".into()),
                ..FormFeedback::default()
            });
            return render_page(&state, request, "/admin/tokens", StatusCode::UNPROCESSABLE_ENTITY, ctx)
                .await;
        }
    };
    let (status, feedback) = match outcome {
        Ok((token, secret)) => (
            StatusCode::CREATED,
            FormFeedback {
                message: format!("Token '{}' created. Copy it now: it will not be shown again.", token.name),
                new_token: Some(secret),
                ..FormFeedback::default()
            },
        ),
        Err(error @ (TokenError::BadName | TokenError::NameTaken(_))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FormFeedback {
                message: error.to_string(),
                field: Some("name".into()),
                ..FormFeedback::default()
            },
        ),
        Err(error) => {
            tracing::error!(error = &error as &dyn std::error::Error, "could not create an API token");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                FormFeedback {
                    message: "The token could not be created right now. Try again shortly.".into(),
                    ..FormFeedback::default()
                },
            )
        }
    };
    ctx.feedback = Some(feedback);
    render_page(&state, request, "/admin/tokens", status, ctx).await
}

/// `POST /admin/tokens/{id}/revoke`
pub async fn revoke(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Admin) {
        return denied.page();
    }
    match state.tokens.revoke(id).await {
        Ok(_) | Err(TokenError::NotFound) => Redirect::to("/admin/tokens").into_response(),
        Err(error) => {
            tracing::error!(error = &error as &dyn std::error::Error, "could not revoke an API token");
            plain_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The token could not be revoked right now. Try again shortly.",
            )
        }
    }
}
