//! The incident room's action forms: plan (which previews at once), preview
//! again, confirm and undo, each confirm and undo form carrying the
//! idempotency key it was rendered with, so a double submission runs once.

use super::AppState;
use super::actions_api::action_refusal;
use super::auth::{page_context_of, read_form};
use super::principal::{DenialResponse, authorise};
use super::render::{plain_error, render_page};
use crate::actions::ActionError;
use app::domain::action::{ActionForm, ActionSpec};
use app::domain::role::Role;
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    idempotency_key: String,
}

fn back(id: i64, action: Option<i64>) -> Response {
    match action {
        Some(action) => Redirect::to(&format!("/incidents/{id}#action-{action}")).into_response(),
        None => Redirect::to(&format!("/incidents/{id}")).into_response(),
    }
}

async fn refused(state: &AppState, request: Request, id: i64, error: &ActionError) -> Response {
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    let (status, message, field) = action_refusal(error);
    ctx.feedback = Some(FormFeedback { message, field: field.map(str::to_owned), ..FormFeedback::default() });
    render_page(state, request, &format!("/incidents/{id}"), status, ctx).await
}

/// `POST /incidents/{id}/actions`: plan, then preview straight away.
pub async fn plan(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let principal = match authorise(request.extensions(), Role::Responder) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    let (request, form) = match read_form::<ActionForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let actor = principal.actor();
    let planned = match ActionSpec::parse(&form) {
        Ok(spec) => state.actions.plan(id, &actor, spec).await,
        Err(error) => Err(ActionError::Field { field: error.field, message: error.message }),
    };
    let action = match planned {
        Ok(action) => action,
        Err(error) => return refused(&state, request, id, &error).await,
    };
    match state.actions.preview(id, action.id, &actor).await {
        Ok(_) => back(id, Some(action.id)),
        Err(error) => refused(&state, request, id, &error).await,
    }
}

/// `POST /incidents/{id}/actions/{action}/preview`
pub async fn preview(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    let principal = match authorise(request.extensions(), Role::Responder) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    match state.actions.preview(id, action, &principal.actor()).await {
        Ok(_) => back(id, Some(action)),
        Err(error) => refused(&state, request, id, &error).await,
    }
}

/// `POST /incidents/{id}/actions/{action}/confirm`
pub async fn confirm(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    step(state, id, action, request, false).await
}

/// `POST /incidents/{id}/actions/{action}/undo`
pub async fn undo(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    request: Request,
) -> Response {
    step(state, id, action, request, true).await
}

async fn step(state: AppState, id: i64, action: i64, request: Request, undo: bool) -> Response {
    let principal = match authorise(request.extensions(), Role::Responder) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    let (request, form) = match read_form::<KeyForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let actor = principal.actor();
    let outcome = if undo {
        state.actions.undo(id, action, &actor, &form.idempotency_key).await
    } else {
        state.actions.confirm(id, action, &actor, &form.idempotency_key).await
    };
    match outcome {
        Ok(_) => back(id, Some(action)),
        Err(error) => refused(&state, request, id, &error).await,
    }
}
