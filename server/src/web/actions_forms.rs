//! The incident room's action forms: plan (which previews at once), preview
//! again, confirm and undo, each confirm and undo form carrying the
//! idempotency key it was rendered with, so a double submission runs once.

use super::AppState;
use super::error::form_refused;
use super::extract::{Caller, FormPost, Responder};
use crate::actions::ActionRecord;
use crate::services::ServiceResult;
use crate::services::actions::Step;
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::action::ActionForm;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    idempotency_key: String,
}

/// Back to the room at the action, or the room again with the refusal.
async fn back(state: &AppState, request: Request, id: i64, outcome: ServiceResult<ActionRecord>) -> Response {
    match outcome {
        Ok(action) => Redirect::to(&format!("/incidents/{id}#action-{}", action.id)).into_response(),
        Err(error) => {
            form_refused(state, request, &format!("/incidents/{id}"), &error, FormFeedback::default()).await
        }
    }
}

/// `POST /incidents/{id}/actions`: plan, then preview straight away.
pub async fn plan(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<ActionForm>,
) -> Response {
    let outcome = state.services.plan_action(&principal, id, &form, true).await;
    back(&state, request, id, outcome).await
}

/// `POST /incidents/{id}/actions/{action}/preview`
pub async fn preview(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    request: Request,
) -> Response {
    let outcome = state.services.preview_action(&principal, id, action).await;
    back(&state, request, id, outcome).await
}

/// `POST /incidents/{id}/actions/{action}/confirm`
pub async fn confirm(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<KeyForm>,
) -> Response {
    let outcome =
        state.services.step_action(&principal, id, action, Step::Confirm, &form.idempotency_key).await;
    back(&state, request, id, outcome).await
}

/// `POST /incidents/{id}/actions/{action}/undo`
pub async fn undo(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<KeyForm>,
) -> Response {
    let outcome = state.services.step_action(&principal, id, action, Step::Undo, &form.idempotency_key).await;
    back(&state, request, id, outcome).await
}
