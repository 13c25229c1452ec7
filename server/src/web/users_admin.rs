//! The account admin's form posts: change a role, disable or enable, reset a
//! password (the new one is shown once, on the page this answers).

use super::AppState;
use super::error::form_refused;
use super::extract::{Admin, Caller, FormPost};
use super::render::render_with_feedback;
use crate::services::admin::AccountChange;
use app::page_context::FormFeedback;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

const PAGE: &str = "/admin/users";

async fn answered(
    state: &AppState,
    request: axum::extract::Request,
    outcome: crate::services::ServiceResult<FormFeedback>,
) -> Response {
    match outcome {
        Ok(feedback) => render_with_feedback(state, request, PAGE, StatusCode::OK, feedback).await,
        Err(error) => form_refused(state, request, PAGE, &error, FormFeedback::default()).await,
    }
}

fn said(message: String) -> FormFeedback {
    FormFeedback { message, ok: true, ..FormFeedback::default() }
}

/// `POST /admin/users/role`
pub async fn set_role(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<UserForm>,
) -> Response {
    let outcome = state.services.set_user_role(&principal, &form.email, &form.role).await.map(said);
    answered(&state, request, outcome).await
}

/// `POST /admin/users/disable`
pub async fn disable(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<UserForm>,
) -> Response {
    let outcome = state.services.change_user(&principal, &form.email, AccountChange::Disable).await.map(said);
    answered(&state, request, outcome).await
}

/// `POST /admin/users/enable`
pub async fn enable(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<UserForm>,
) -> Response {
    let outcome = state.services.change_user(&principal, &form.email, AccountChange::Enable).await.map(said);
    answered(&state, request, outcome).await
}

/// `POST /admin/users/reset-password`
pub async fn reset_password(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<UserForm>,
) -> Response {
    let outcome = state.services.reset_user_password(&principal, &form.email).await.map(|(email, password)| {
        FormFeedback {
            message: format!(
                "New password for {email}. Copy it now: it will not be shown again. Their sessions have ended."
            ),
            new_token: Some(password),
            ok: true,
            ..FormFeedback::default()
        }
    });
    answered(&state, request, outcome).await
}
