//! Stakeholder updates over HTTP: rendering a template with an incident's
//! data, publishing (through the incident state machine), listing; and the
//! templates themselves. JSON under `/api/v1/…`, and the room's and the admin
//! page's form posts. Each calls the one service function of its use case.

use super::AppState;
use super::error::{ApiError, form_refused};
use super::extract::{Admin, ApiJson, Caller, FormPost, Responder, checked};
use crate::incidents::TimelineEntry;
use crate::services::updates::PublishInput;
use crate::updates::UpdateInput;
use app::page_context::{FormFeedback, UpdateDraft};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::incident_lifecycle::TimelineEvent;
use domain::update::{Audience, Purpose};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// For a public update: the title the public sees. Absent on the first public update: a
    /// neutral title naming the public components; later: unchanged.
    #[serde(default)]
    public_title: Option<String>,
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

/// Render the audience's template with the incident's data (nothing is published).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates/render", tag = "updates", params(("id" = i64, Path)),
    request_body = RenderRequest,
    responses((status = 200, body = Rendered), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 413, body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_render(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: Caller<Responder>,
    ApiJson(body): ApiJson<RenderRequest>,
) -> Response {
    let input = UpdateInput { impact: body.impact, workaround: body.workaround };
    match state.services.render_update(id, &body.audience, &body.purpose, &input).await {
        Ok(text) => Json(Rendered { text }).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Publish an update (the commander or the communications lead).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "updates", params(("id" = i64, Path)),
    request_body = PublishRequest,
    responses((status = 201, body = UpdateView), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_publish(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<PublishRequest>,
) -> Response {
    let input = PublishInput {
        audience: body.audience,
        purpose: body.purpose,
        text: body.text,
        move_status: body.move_status,
        public_title: body.public_title,
    };
    match state.services.publish_update(&principal, id, &input).await {
        Ok(entries) => match updates_of(&entries).pop() {
            Some(update) => (StatusCode::CREATED, Json(update)).into_response(),
            None => crate::services::ServiceError::internal(
                "a published update is missing from the events it made",
                &std::io::Error::other("no update_posted event"),
            )
            .into_response(),
        },
        Err(error) => error.into_response(),
    }
}

/// The incident's published updates, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/updates", tag = "updates", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<UpdateView>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_list(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Responder>) -> Response {
    let (timeline, deliveries) = match state.services.updates_with_deliveries(id).await {
        Ok(read) => read,
        Err(error) => return error.into_response(),
    };
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

fn template_view(t: crate::updates::TemplateRecord) -> TemplateView {
    TemplateView { audience: t.audience, purpose: t.purpose, body: t.body, customised: t.customised }
}

/// Every template, by audience and purpose.
#[utoipa::path(get, path = "/api/v1/templates", tag = "updates",
    responses((status = 200, body = Vec<TemplateView>), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_templates(State(state): State<AppState>, _: Caller<Responder>) -> Response {
    match state.services.templates().await {
        Ok(list) => Json(list.into_iter().map(template_view).collect::<Vec<_>>()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Replace a template (admins). Refused with line, column and reason when it does not check.
#[utoipa::path(post, path = "/api/v1/templates/{audience}/{purpose}", tag = "updates",
    params(("audience" = String, Path), ("purpose" = String, Path)), request_body = TemplateRequest,
    responses((status = 200, body = TemplateView), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_save_template(
    State(state): State<AppState>,
    Path((audience, purpose)): Path<(String, String)>,
    Caller(principal, _): Caller<Admin>,
    ApiJson(body): ApiJson<TemplateRequest>,
) -> Response {
    match state.services.save_template(&principal, &audience, &purpose, &body.body).await {
        Ok(template) => Json(template_view(template)).into_response(),
        Err(error) => error.into_response(),
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
    #[serde(default)]
    public_title: String,
}

impl UpdateForm {
    fn draft(&self, text: String) -> UpdateDraft {
        UpdateDraft {
            audience: self.audience.clone(),
            purpose: self.purpose.clone(),
            impact: self.impact.clone(),
            workaround: self.workaround.clone(),
            text,
            public_title: self.public_title.clone(),
        }
    }
}

/// `POST /incidents/{id}/updates/render`: the room again, with the rendered draft to edit.
pub async fn form_render(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: Caller<Responder>,
    FormPost { form, request }: FormPost<UpdateForm>,
) -> Response {
    let page = format!("/incidents/{id}");
    let input = UpdateInput { impact: form.impact.clone(), workaround: form.workaround.clone() };
    match state.services.render_update(id, &form.audience, &form.purpose, &input).await {
        Ok(text) => {
            let feedback = FormFeedback { update: Some(form.draft(text)), ..FormFeedback::default() };
            super::render::render_with_feedback(&state, request, &page, StatusCode::OK, feedback).await
        }
        Err(error) => {
            let feedback =
                FormFeedback { update: Some(form.draft(String::new())), ..FormFeedback::default() };
            form_refused(&state, request, &page, &error, feedback).await
        }
    }
}

/// `POST /incidents/{id}/updates`: publish the (edited) text.
pub async fn form_publish(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<UpdateForm>,
) -> Response {
    let input = PublishInput {
        audience: form.audience.clone(),
        purpose: form.purpose.clone(),
        text: form.text.clone(),
        move_status: checked(&form.move_status),
        public_title: Some(form.public_title.clone()),
    };
    match state.services.publish_update(&principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => {
            let feedback =
                FormFeedback { update: Some(form.draft(form.text.clone())), ..FormFeedback::default() };
            form_refused(&state, request, &format!("/incidents/{id}"), &error, feedback).await
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
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<TemplateForm>,
) -> Response {
    match state.services.save_template(&principal, &audience, &purpose, &form.body).await {
        Ok(_) => Redirect::to(&format!("/admin/templates?saved={audience}/{purpose}")).into_response(),
        Err(error) => {
            let page = format!("/admin/templates?edit={audience}/{purpose}");
            let feedback = FormFeedback { template: Some(form.body), ..FormFeedback::default() };
            form_refused(&state, request, &page, &error, feedback).await
        }
    }
}
