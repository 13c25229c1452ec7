//! The incident pages' form posts: declare, transitions, roles, notes. They
//! work without JavaScript: success redirects back to the incident room; a
//! refusal renders the page again with the reason and what was typed.

use super::AppState;
use super::error::form_refused;
use super::extract::{Admin, Caller, FormPost, Responder, checked};
use crate::services::ServiceResult;
use crate::services::incidents::{RoleInput, TransitionInput};
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::incident::DeclarationForm;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TransitionForm {
    status: Option<String>,
    phase: Option<String>,
    severity: Option<String>,
    acknowledge: Option<String>,
    reopen: Option<String>,
    take_command: Option<String>,
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    remove: Option<String>,
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    text: String,
    decision: Option<String>,
}

/// Back to the room, or the room again with the refusal.
async fn back_to_room<T>(
    state: &AppState,
    request: Request,
    id: i64,
    outcome: ServiceResult<T>,
    feedback: FormFeedback,
) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => form_refused(state, request, &format!("/incidents/{id}"), &error, feedback).await,
    }
}

/// `POST /incidents`: declare.
pub async fn create(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<DeclarationForm>,
) -> Response {
    match state.services.declare(&principal, &form).await {
        Ok(id) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => {
            let feedback = FormFeedback { declaration: Some(form), ..FormFeedback::default() };
            form_refused(&state, request, "/incidents/new", &error, feedback).await
        }
    }
}

/// `POST /incidents/{id}/transitions`
pub async fn transition(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<TransitionForm>,
) -> Response {
    let input = TransitionInput {
        status: form.status,
        phase: form.phase,
        severity: form.severity,
        acknowledge: checked(&form.acknowledge),
        reopen: checked(&form.reopen),
        take_command: checked(&form.take_command),
    };
    let outcome = state.services.transition(&principal, id, &input).await;
    back_to_room(&state, request, id, outcome, FormFeedback::default()).await
}

/// `POST /incidents/{id}/roles`
pub async fn assign_role(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<RoleForm>,
) -> Response {
    let input = RoleInput { email: form.email, role: form.role, remove: checked(&form.remove) };
    let outcome = state.services.assign_role(&principal, id, &input).await;
    back_to_room(&state, request, id, outcome, FormFeedback::default()).await
}

#[derive(Deserialize)]
pub struct BreakGlassForm {
    #[serde(default)]
    reason: String,
}

/// `POST /incidents/{id}/break-glass`
pub async fn break_glass(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<BreakGlassForm>,
) -> Response {
    let outcome = state.services.waive_two_person_rule(&principal, id, &form.reason).await;
    back_to_room(&state, request, id, outcome, FormFeedback::default()).await
}

/// `POST /incidents/{id}/notes`
pub async fn add_note(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<NoteForm>,
) -> Response {
    let outcome = state.services.add_note(&principal, id, &form.text, checked(&form.decision)).await;
    let feedback = FormFeedback { note: Some(form.text), ..FormFeedback::default() };
    back_to_room(&state, request, id, outcome, feedback).await
}
