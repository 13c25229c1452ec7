//! Stakeholder updates over HTTP: rendering a template with an incident's
//! data, publishing (through the incident state machine), listing; and the
//! templates themselves. JSON under `/api/v1/…`, and the room's and the admin
//! page's form posts.

use super::AppState;
use super::api::api_error;
use super::auth::{page_context_of, read_form};
use super::incident_commands::refusal;
use super::incidents_api::ApiError;
use super::principal::{DenialResponse, Principal, authorise};
use super::render::{plain_error, render_page};
use crate::incident_pages::tiles_by_key;
use crate::incidents::{IncidentError, TimelineEntry};
use crate::updates::engine::TemplateError;
use crate::updates::{TemplateStoreError, UpdateInput, variables};
use app::domain::incident::Text;
use app::domain::incident_lifecycle::{Command, TimelineEvent};
use app::domain::role::Role;
use app::domain::update::{Audience, Purpose};
use app::page_context::{FormFeedback, UpdateDraft};
use axum::Json;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Incident(#[from] IncidentError),
    #[error("The template cannot be rendered: {0}")]
    Template(TemplateError),
    #[error("{message}")]
    Field { field: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] TemplateStoreError),
}

fn field(field: &'static str, message: &str) -> UpdateError {
    UpdateError::Field { field, message: message.to_owned() }
}

fn status_of(error: &UpdateError) -> (StatusCode, String, Option<&'static str>) {
    match error {
        UpdateError::Incident(error) => refusal(error),
        UpdateError::Template(error) => {
            (StatusCode::UNPROCESSABLE_ENTITY, error.to_string(), Some("template"))
        }
        UpdateError::Field { field, message } => {
            (StatusCode::UNPROCESSABLE_ENTITY, message.clone(), Some(*field))
        }
        UpdateError::Store(TemplateStoreError::Invalid(error)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, error.to_string(), Some("body"))
        }
        UpdateError::Store(TemplateStoreError::Db(source)) => {
            tracing::error!(
                error = source as &dyn std::error::Error,
                "a template could not be read or stored"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Templates are not available right now. Try again shortly.".into(),
                None,
            )
        }
    }
}

fn error_json(error: &UpdateError) -> Response {
    let (status, message, field) = status_of(error);
    api_error(status, &message, field)
}

fn audience_purpose(audience: &str, purpose: &str) -> Result<(Audience, Purpose), UpdateError> {
    let audience = Audience::parse(audience)
        .ok_or_else(|| field("audience", "The audience is public, internal or executive."))?;
    let purpose = Purpose::parse(purpose).ok_or_else(|| {
        field(
            "purpose",
            "The purpose is investigating, identified, monitoring, resolved, severity_change or maintenance.",
        )
    })?;
    Ok((audience, purpose))
}

/// Renders the audience's template for `purpose` with the incident's live data.
pub async fn render_update(
    state: &AppState,
    id: i64,
    audience: Audience,
    purpose: Purpose,
    input: &UpdateInput,
) -> Result<String, UpdateError> {
    let incident = state.incidents.get(id).await?.ok_or(IncidentError::NotFound(id))?;
    let timeline = state.incidents.timeline(id).await?;
    let template = state.templates.get(audience, purpose).await?;
    let tiles = tiles_by_key(state.live.as_ref());
    let context = variables(audience, &incident, &timeline, &tiles, input, crate::db::now_millis());
    crate::updates::engine::render(&template.body, &context).map_err(UpdateError::Template)
}

/// Publishes: the text on the timeline, the due timer reset, and for a public
/// update the public status moved to its purpose's when asked.
async fn publish(
    state: &AppState,
    id: i64,
    principal: &Principal,
    audience: Audience,
    purpose: Purpose,
    text: &str,
    move_status: bool,
) -> Result<Vec<TimelineEntry>, UpdateError> {
    let text = Text::update(text).map_err(|e| UpdateError::Field { field: e.field, message: e.message })?;
    let command = Command::PostUpdate { audience, purpose, text, move_status };
    let entries = state.incidents.run(id, &principal.actor(), command, crate::db::now_millis()).await?;
    // Committed: now tell the audience's receivers, in the background.
    if let Ok(Some(incident)) = state.incidents.get(id).await {
        state.webhooks.dispatch(id, &incident.title, &entries);
    }
    Ok(entries)
}

/// A published update.
#[derive(Serialize, ToSchema)]
pub struct UpdateView {
    id: i64,
    at: i64,
    author: String,
    audience: Audience,
    purpose: Purpose,
    text: String,
    /// Every delivery attempt to the audience's webhooks, oldest first.
    deliveries: Vec<DeliveryView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    webhook_id: i64,
    attempt: i64,
    /// delivered, retrying or gave_up.
    outcome: String,
    status_code: Option<i64>,
    error: Option<String>,
    at: i64,
}

fn updates_of(timeline: &[TimelineEntry]) -> Vec<UpdateView> {
    timeline
        .iter()
        .rev()
        .filter_map(|entry| match &entry.event {
            TimelineEvent::UpdatePosted { audience, purpose, text } => Some(UpdateView {
                id: entry.id,
                at: entry.at,
                author: entry.actor.clone(),
                audience: *audience,
                purpose: *purpose,
                text: text.clone(),
                deliveries: Vec::new(),
            }),
            _ => None,
        })
        .collect()
}

#[derive(Deserialize, ToSchema)]
pub struct RenderRequest {
    #[schema(example = "public")]
    audience: String,
    #[schema(example = "identified")]
    purpose: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    workaround: String,
}

#[derive(Serialize, ToSchema)]
pub struct Rendered {
    text: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PublishRequest {
    audience: String,
    purpose: String,
    text: String,
    /// For a public update: also move the public status to the purpose's (e.g. identified).
    #[serde(default)]
    move_status: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct TemplateRequest {
    /// The template; empty goes back to the shipped default.
    body: String,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateView {
    audience: Audience,
    purpose: Purpose,
    body: String,
    customised: bool,
}

async fn json_body<T: serde::de::DeserializeOwned>(
    request: Request,
    role: Role,
) -> Result<(Principal, T), Response> {
    let principal = authorise(request.extensions(), role).map_err(DenialResponse::json)?;
    let bytes = to_bytes(request.into_body(), super::MAX_BODY_BYTES)
        .await
        .map_err(|_| api_error(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.", None))?;
    let body = serde_json::from_slice(&bytes).map_err(|error| {
        api_error(StatusCode::BAD_REQUEST, &format!("The body is not the JSON expected: {error}."), None)
    })?;
    Ok((principal, body))
}

/// Render the audience's template with the incident's data (nothing is published).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates/render", tag = "updates", params(("id" = i64, Path)),
    request_body = RenderRequest, responses((status = 200, body = Rendered), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn api_render(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let (_, body) = match json_body::<RenderRequest>(request, Role::Responder).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let outcome = async {
        let (audience, purpose) = audience_purpose(&body.audience, &body.purpose)?;
        let input = UpdateInput { impact: body.impact, workaround: body.workaround };
        render_update(&state, id, audience, purpose, &input).await
    }
    .await;
    match outcome {
        Ok(text) => Json(Rendered { text }).into_response(),
        Err(error) => error_json(&error),
    }
}

/// Publish an update (the commander or the communications lead).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "updates", params(("id" = i64, Path)),
    request_body = PublishRequest,
    responses((status = 201, body = UpdateView), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn api_publish(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let (principal, body) = match json_body::<PublishRequest>(request, Role::Responder).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let outcome = async {
        let (audience, purpose) = audience_purpose(&body.audience, &body.purpose)?;
        publish(&state, id, &principal, audience, purpose, &body.text, body.move_status).await
    }
    .await;
    match outcome {
        Ok(entries) => match updates_of(&entries).pop() {
            Some(update) => (StatusCode::CREATED, Json(update)).into_response(),
            None => api_error(StatusCode::INTERNAL_SERVER_ERROR, "The update was not recorded.", None),
        },
        Err(error) => error_json(&error),
    }
}

/// The incident's published updates, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/updates", tag = "updates", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<UpdateView>), (status = 404, body = ApiError)))]
pub async fn api_list(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Responder) {
        return denied.json();
    }
    let outcome = async {
        state.incidents.get(id).await?.ok_or(IncidentError::NotFound(id))?;
        state.incidents.timeline(id).await
    }
    .await;
    let deliveries = state.webhooks.deliveries(id).await.unwrap_or_default();
    match outcome {
        Ok(timeline) => {
            let mut updates = updates_of(&timeline);
            for update in &mut updates {
                update.deliveries = deliveries
                    .iter()
                    .filter(|d| d.event_id == update.id)
                    .map(|d| DeliveryView {
                        webhook_id: d.webhook_id,
                        attempt: d.attempt,
                        outcome: d.outcome.clone(),
                        status_code: d.status_code,
                        error: d.error.clone(),
                        at: d.at,
                    })
                    .collect();
            }
            Json(updates).into_response()
        }
        Err(error) => error_json(&error.into()),
    }
}

fn template_view(t: crate::updates::TemplateRecord) -> TemplateView {
    TemplateView { audience: t.audience, purpose: t.purpose, body: t.body, customised: t.customised }
}

/// Every template, by audience and purpose.
#[utoipa::path(get, path = "/api/v1/templates", tag = "updates", responses((status = 200, body = Vec<TemplateView>)))]
pub async fn api_templates(State(state): State<AppState>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Responder) {
        return denied.json();
    }
    match state.templates.list().await {
        Ok(list) => Json(list.into_iter().map(template_view).collect::<Vec<_>>()).into_response(),
        Err(error) => error_json(&error.into()),
    }
}

/// Replace a template (admins). Refused with line, column and reason when it does not check.
#[utoipa::path(post, path = "/api/v1/templates/{audience}/{purpose}", tag = "updates",
    params(("audience" = String, Path), ("purpose" = String, Path)), request_body = TemplateRequest,
    responses((status = 200, body = TemplateView), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn api_save_template(
    State(state): State<AppState>,
    Path((audience, purpose)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (principal, body) = match json_body::<TemplateRequest>(request, Role::Admin).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let outcome = async {
        let (audience, purpose) = audience_purpose(&audience, &purpose)?;
        Ok::<_, UpdateError>(state.templates.save(audience, purpose, &body.body, &principal.name()).await?)
    }
    .await;
    match outcome {
        Ok(template) => Json(template_view(template)).into_response(),
        Err(error) => error_json(&error),
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    audience: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    workaround: String,
    #[serde(default)]
    text: String,
    move_status: Option<String>,
}

async fn refused(
    state: &AppState,
    request: Request,
    page: &str,
    error: &UpdateError,
    feedback: FormFeedback,
) -> Response {
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    let (status, message, field) = status_of(error);
    ctx.feedback = Some(FormFeedback { message, field: field.map(str::to_owned), ..feedback });
    render_page(state, request, page, status, ctx).await
}

/// `POST /incidents/{id}/updates/render`: the room again, with the rendered draft to edit.
pub async fn form_render(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(denied) = authorise(request.extensions(), Role::Responder) {
        return denied.page();
    }
    let (request, form) = match read_form::<UpdateForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let page = format!("/incidents/{id}");
    let draft = |text: String| UpdateDraft {
        audience: form.audience.clone(),
        purpose: form.purpose.clone(),
        impact: form.impact.clone(),
        workaround: form.workaround.clone(),
        text,
    };
    let outcome = async {
        let (audience, purpose) = audience_purpose(&form.audience, &form.purpose)?;
        let input = UpdateInput { impact: form.impact.clone(), workaround: form.workaround.clone() };
        render_update(&state, id, audience, purpose, &input).await
    }
    .await;
    match outcome {
        Ok(text) => {
            let Some(mut ctx) = page_context_of(&request) else {
                return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
            };
            ctx.feedback = Some(FormFeedback { update: Some(draft(text)), ..FormFeedback::default() });
            render_page(&state, request, &page, StatusCode::OK, ctx).await
        }
        Err(error) => {
            let feedback = FormFeedback { update: Some(draft(String::new())), ..FormFeedback::default() };
            refused(&state, request, &page, &error, feedback).await
        }
    }
}

/// `POST /incidents/{id}/updates`: publish the (edited) text.
pub async fn form_publish(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let principal = match authorise(request.extensions(), Role::Responder) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    let (request, form) = match read_form::<UpdateForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let move_status = form.move_status.as_deref().is_some_and(|v| v != "false");
    let outcome = async {
        let (audience, purpose) = audience_purpose(&form.audience, &form.purpose)?;
        publish(&state, id, &principal, audience, purpose, &form.text, move_status).await
    }
    .await;
    match outcome {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => {
            let draft = UpdateDraft {
                audience: form.audience,
                purpose: form.purpose,
                impact: form.impact,
                workaround: form.workaround,
                text: form.text,
            };
            let feedback = FormFeedback { update: Some(draft), ..FormFeedback::default() };
            refused(&state, request, &format!("/incidents/{id}"), &error, feedback).await
        }
    }
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    body: String,
}

/// `POST /admin/templates/{audience}/{purpose}`
pub async fn form_save_template(
    State(state): State<AppState>,
    Path((audience, purpose)): Path<(String, String)>,
    request: Request,
) -> Response {
    let principal = match authorise(request.extensions(), Role::Admin) {
        Ok(principal) => principal,
        Err(denied) => return denied.page(),
    };
    let (request, form) = match read_form::<TemplateForm>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let page = format!("/admin/templates?edit={audience}/{purpose}");
    let outcome = async {
        let (audience, purpose) = audience_purpose(&audience, &purpose)?;
        Ok::<_, UpdateError>(state.templates.save(audience, purpose, &form.body, &principal.name()).await?)
    }
    .await;
    match outcome {
        Ok(_) => Redirect::to(&format!("/admin/templates?saved={audience}/{purpose}")).into_response(),
        Err(error) => {
            let feedback = FormFeedback { template: Some(form.body), ..FormFeedback::default() };
            refused(&state, request, &page, &error, feedback).await
        }
    }
}
