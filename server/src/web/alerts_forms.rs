//! The alert pages' form posts: acknowledge, silence and attach from the
//! inbox, and the routing policy's rules (add, delete, back to the defaults).
//! Each calls one service function and answers a redirect, or the page again
//! with the refusal.

use super::AppState;
use super::error::form_refused;
use super::extract::{Admin, Caller, FormPost, Responder};
use crate::services::ServiceResult;
use app::domain::alert::RuleForm;
use app::page_context::FormFeedback;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SilenceForm {
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct AttachForm {
    #[serde(default)]
    incident: String,
}

#[derive(Deserialize)]
pub struct Empty {}

/// Back to `page` at the alert's row, or the page again with why not.
async fn answered<T>(
    state: &AppState,
    request: axum::extract::Request,
    page: &str,
    anchor: &str,
    outcome: ServiceResult<T>,
    feedback: FormFeedback,
) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&format!("{page}{anchor}")).into_response(),
        Err(error) => form_refused(state, request, page, &error, feedback).await,
    }
}

/// `POST /alerts/{id}/acknowledge`
pub async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { request, .. }: FormPost<Empty>,
) -> Response {
    let outcome = state.services.acknowledge_alert(&principal, id).await;
    answered(&state, request, "/alerts", &format!("#alert-{id}"), outcome, FormFeedback::default()).await
}

/// `POST /alerts/{id}/silence`
pub async fn silence(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<SilenceForm>,
) -> Response {
    let outcome = state.services.silence_alert(&principal, id, &form.minutes, &form.reason).await;
    let feedback = FormFeedback { silence: Some((id, form.minutes, form.reason)), ..FormFeedback::default() };
    answered(&state, request, "/alerts", "", outcome, feedback).await
}

/// `POST /alerts/{id}/attach`
pub async fn attach(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<AttachForm>,
) -> Response {
    let outcome = state.services.attach_alert(&principal, id, &form.incident).await;
    answered(&state, request, "/alerts", &format!("#alert-{id}"), outcome, FormFeedback::default()).await
}

/// `POST /admin/alert-routing`
pub async fn add_rule(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<RuleForm>,
) -> Response {
    let outcome = state.services.add_alert_rule(&principal, &form).await;
    let feedback = FormFeedback { rule: Some(form), ..FormFeedback::default() };
    answered(&state, request, "/admin/alert-routing", "", outcome, feedback).await
}

/// `POST /admin/alert-routing/{id}/delete`
pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Admin>,
    FormPost { request, .. }: FormPost<Empty>,
) -> Response {
    let outcome = state.services.delete_alert_rule(&principal, id).await;
    answered(&state, request, "/admin/alert-routing", "", outcome, FormFeedback::default()).await
}

/// `POST /admin/alert-routing/reset`
pub async fn reset_rules(
    State(state): State<AppState>,
    _: Caller<Admin>,
    FormPost { request, .. }: FormPost<Empty>,
) -> Response {
    let outcome = state.services.reset_alert_rules().await;
    answered(&state, request, "/admin/alert-routing", "", outcome, FormFeedback::default()).await
}
