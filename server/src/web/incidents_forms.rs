//! The incident pages' form posts: declare, transitions, roles, notes. They
//! work without JavaScript: success redirects back to the incident room; a
//! refusal renders the page again with the reason and what was typed.

use super::AppState;
use super::auth::{page_context_of, read_form};
use super::incident_commands::{RoleInput, TransitionInput, declare, note_command, refusal};
use super::principal::{DenialResponse, Principal, authorise};
use super::render::{plain_error, render_page};
use crate::incidents::IncidentError;
use app::domain::incident::DeclarationForm;
use app::domain::incident_lifecycle::Command;
use app::domain::role::Role;
use app::page_context::FormFeedback;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

#[derive(Deserialize)]
pub struct TransitionForm {
    status: Option<String>,
    phase: Option<String>,
    severity: Option<String>,
    acknowledge: Option<String>,
    reopen: Option<String>,
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

/// A checkbox or button counts as set when sent with any value but "false".
fn checked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.eq_ignore_ascii_case("false"))
}

/// Authorises a form post and reads its fields.
async fn read<T: DeserializeOwned>(request: Request) -> Result<(Request, Principal, T), Response> {
    let principal = authorise(request.extensions(), Role::Responder).map_err(DenialResponse::page)?;
    let (request, form) = read_form::<T>(request).await?;
    Ok((request, principal, form))
}

/// Renders `page` again with the refusal of `error`.
async fn refused(
    state: &AppState,
    request: Request,
    page: &str,
    error: &IncidentError,
    feedback: FormFeedback,
) -> Response {
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    let (status, message, field) = refusal(error);
    ctx.feedback = Some(FormFeedback { message, field: field.map(str::to_owned), ..feedback });
    render_page(state, request, page, status, ctx).await
}

/// `POST /incidents`: declare.
pub async fn create(State(state): State<AppState>, request: Request) -> Response {
    let (request, principal, form) = match read::<DeclarationForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    match declare(&state, &principal, &form).await {
        Ok(id) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => {
            let feedback = FormFeedback { declaration: Some(form), ..FormFeedback::default() };
            refused(&state, request, "/incidents/new", &error, feedback).await
        }
    }
}

/// Runs a command from the incident room and goes back to it.
async fn run(
    state: &AppState,
    request: Request,
    id: i64,
    principal: &Principal,
    command: Result<Command, IncidentError>,
    feedback: FormFeedback,
) -> Response {
    let outcome = match command {
        Ok(command) => state.incidents.run(id, &principal.actor(), command, crate::db::now_millis()).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => refused(state, request, &format!("/incidents/{id}"), &error, feedback).await,
    }
}

/// `POST /incidents/{id}/transitions`
pub async fn transition(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let (request, principal, form) = match read::<TransitionForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let input = TransitionInput {
        status: form.status,
        phase: form.phase,
        severity: form.severity,
        acknowledge: checked(&form.acknowledge),
        reopen: checked(&form.reopen),
    };
    let command = input.command().map_err(IncidentError::from);
    run(&state, request, id, &principal, command, FormFeedback::default()).await
}

/// `POST /incidents/{id}/roles`
pub async fn assign_role(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let (request, principal, form) = match read::<RoleForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let input = RoleInput { email: form.email, role: form.role, remove: checked(&form.remove) };
    let command = input.command(&state).await;
    run(&state, request, id, &principal, command, FormFeedback::default()).await
}

/// `POST /incidents/{id}/notes`
pub async fn add_note(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let (request, principal, form) = match read::<NoteForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let command = note_command(&form.text, checked(&form.decision));
    let feedback = FormFeedback { note: Some(form.text), ..FormFeedback::default() };
    run(&state, request, id, &principal, command, feedback).await
}
