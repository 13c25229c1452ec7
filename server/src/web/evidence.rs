//! Evidence, playbooks and one-click declaration, as forms and as JSON:
//! capture evidence, download it exactly as stored (its SHA-256 matches the
//! timeline's), read it as text, see the matched playbooks with their
//! suggested actions, tick checklist steps, edit playbooks (admins), and
//! declare from a red tile or an inbox alert in one click.

use super::AppState;
use super::error::{ApiError, form_refused};
use super::extract::{Admin, ApiJson, Caller, FormPost, Responder};
use crate::evidence::EvidenceRecord;
use crate::services::ServiceError;
use crate::services::evidence::{DeclareNowForm, TickForm};
use app::page_context::FormFeedback;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::playbook::Guidance;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A capture, as the API lists it (the document at its own URL).
#[derive(Serialize, ToSchema)]
pub struct EvidenceDto {
    id: i64,
    incident_id: i64,
    /// `deployment/shop/checkout`, `pod/shop/x`, `node/worker-2`, `control-plane`.
    subject: String,
    captured_at: i64,
    captured_by: String,
    /// Of the document's bytes as downloaded, lower-case hex.
    sha256: String,
    bytes: u64,
    /// Where the document is.
    href: String,
}

impl From<EvidenceRecord> for EvidenceDto {
    fn from(r: EvidenceRecord) -> Self {
        EvidenceDto {
            href: format!("/api/v1/incidents/{}/evidence/{}", r.incident_id, r.id),
            id: r.id,
            incident_id: r.incident_id,
            subject: r.subject,
            captured_at: r.captured_at,
            captured_by: r.captured_by,
            sha256: r.sha256,
            bytes: r.bytes,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CaptureRequest {
    #[schema(example = "deployment/shop/checkout")]
    pub subject: String,
}

#[derive(Deserialize, ToSchema)]
pub struct TickRequest {
    #[schema(example = "crash-loop")]
    pub playbook: String,
    /// The step's index, from 0.
    pub step: usize,
    pub done: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct PlaybookRequest {
    /// The playbook as YAML (see `/admin/playbooks` for the fields).
    pub source: String,
}

/// `POST /incidents/{id}/evidence`: the room's "Capture evidence" button.
pub async fn form_capture(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<CaptureRequest>,
) -> Response {
    match state.services.capture_evidence(&principal, id, &form.subject).await {
        Ok(record) => Redirect::to(&format!("/incidents/{id}#evidence-{}", record.id)).into_response(),
        Err(error) => {
            form_refused(&state, request, &format!("/incidents/{id}"), &error, FormFeedback::default()).await
        }
    }
}

/// `POST /incidents/{id}/playbook-steps`: tick or untick a checklist step.
pub async fn form_tick(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<TickForm>,
) -> Response {
    match state.services.tick_step(&principal, id, &form).await {
        Ok(()) => Redirect::to(&format!("/incidents/{id}#playbook-{}", form.playbook.trim())).into_response(),
        Err(error) => {
            form_refused(&state, request, &format!("/incidents/{id}"), &error, FormFeedback::default()).await
        }
    }
}

/// `POST /incidents/declare-now`: one click from a red tile or an inbox alert.
pub async fn form_declare_now(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<DeclareNowForm>,
) -> Response {
    match state.services.declare_now(&principal, &form).await {
        Ok(id) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => {
            let page = if form.alerts.trim().is_empty() { "/" } else { "/alerts" };
            form_refused(&state, request, page, &error, FormFeedback::default()).await
        }
    }
}

/// `POST /admin/playbooks`: save an edited or new playbook.
pub async fn form_save_playbook(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    FormPost { form, request }: FormPost<PlaybookRequest>,
) -> Response {
    match state.services.save_playbook(&principal, &form.source).await {
        Ok(playbook) => Redirect::to(&format!("/admin/playbooks?saved={}", playbook.id)).into_response(),
        Err(error) => {
            let feedback = FormFeedback { playbook: Some(form.source), ..FormFeedback::default() };
            form_refused(&state, request, "/admin/playbooks", &error, feedback).await
        }
    }
}

/// `POST /admin/playbooks/{id}/reset`: back to the shipped text, or removed if added.
pub async fn form_reset_playbook(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Caller(principal, _): Caller<Admin>,
    request: axum::extract::Request,
) -> Response {
    match state.services.reset_playbook(&principal, &id).await {
        Ok(()) => Redirect::to("/admin/playbooks").into_response(),
        Err(error) => {
            form_refused(&state, request, "/admin/playbooks", &error, FormFeedback::default()).await
        }
    }
}

/// Capture evidence about a workload, pod, node or the control plane now.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/evidence", tag = "evidence", params(("id" = i64, Path)),
    request_body = CaptureRequest,
    responses((status = 201, body = EvidenceDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, description = "No such incident, or the object is not in the cluster", body = ApiError),
        (status = 409, body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_capture(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<CaptureRequest>,
) -> Response {
    match state.services.capture_evidence(&principal, id, &body.subject).await {
        Ok(record) => (StatusCode::CREATED, Json(EvidenceDto::from(record))).into_response(),
        Err(error) => error.into_response(),
    }
}

/// An incident's captures, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence", tag = "evidence", params(("id" = i64, Path)),
    responses((status = 200, body = [EvidenceDto]), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_list(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Responder>) -> Response {
    match state.services.evidence_list(id).await {
        Ok(records) => Json(records.into_iter().map(EvidenceDto::from).collect::<Vec<_>>()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// One capture's document, byte for byte as stored: its SHA-256 is the one on the timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence/{evidence}", tag = "evidence",
    params(("id" = i64, Path), ("evidence" = i64, Path)),
    responses((status = 200, description = "The evidence document (JSON), as a download",
            headers(("x-evidence-sha256" = String, description = "SHA-256 of the body, hex"))),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_document(
    State(state): State<AppState>,
    Path((id, evidence)): Path<(i64, i64)>,
    _: Caller<Responder>,
) -> Response {
    match state.services.evidence_document(id, evidence).await {
        Ok((record, document)) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"incident-{id}-evidence-{evidence}.json\""),
                ),
                (header::HeaderName::from_static("x-evidence-sha256"), record.sha256),
            ],
            document,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /incidents/{id}/evidence/{evidence}`: the capture as text, to read in the browser.
pub async fn page_report(
    State(state): State<AppState>,
    Path((id, evidence)): Path<(i64, i64)>,
    _: Caller<Responder>,
) -> Response {
    let found = state.services.evidence_document(id, evidence).await.and_then(|(record, document)| {
        serde_json::from_str::<domain::evidence::Evidence>(&document)
            .map(|e| (record, e))
            .map_err(|error| ServiceError::internal("stored evidence does not read", &error))
    });
    match found {
        Ok((record, evidence)) => {
            let text = format!(
                "Incident #{id}, evidence #{} — captured by {} — SHA-256 {} ({} bytes as downloaded)\n\n{}",
                record.id,
                record.captured_by,
                record.sha256,
                record.bytes,
                domain::evidence::report(&evidence)
            );
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// The playbooks that match the incident's alerts and evidence, best first, with suggested actions.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/guidance", tag = "evidence", params(("id" = i64, Path)),
    responses((status = 200, description = "Matched playbooks: the playbook, what it matched on, suggested actions (each with the action form to plan)", body = Object),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_guidance(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: Caller<Responder>,
) -> Response {
    match state.services.guidance(id).await {
        Ok(guidance) => Json::<Vec<Guidance>>(guidance).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Tick or untick a step of a playbook's checklist (recorded on the timeline).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/playbook-steps", tag = "evidence", params(("id" = i64, Path)),
    request_body = TickRequest,
    responses((status = 204), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_tick(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<TickRequest>,
) -> Response {
    let form = TickForm { playbook: body.playbook, step: body.step.to_string(), done: body.done.to_string() };
    match state.services.tick_step(&principal, id, &form).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    }
}

/// A playbook as the API lists it.
#[derive(Serialize)]
struct PlaybookDto {
    #[serde(flatten)]
    playbook: domain::playbook::Playbook,
    source: String,
    shipped: bool,
    customised: bool,
}

/// Every playbook, shipped and added, with its YAML.
#[utoipa::path(get, path = "/api/v1/playbooks", tag = "evidence",
    responses((status = 200, body = Object), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_playbooks(State(state): State<AppState>, _: Caller<Responder>) -> Response {
    match state.services.playbook_list().await {
        Ok(entries) => Json(
            entries
                .into_iter()
                .map(|e| PlaybookDto {
                    playbook: e.playbook,
                    source: e.source,
                    shipped: e.shipped,
                    customised: e.customised,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(error) => error.into_response(),
    }
}

/// Save a playbook from YAML (a new id adds one); a refusal names the line and column.
#[utoipa::path(post, path = "/api/v1/playbooks", tag = "evidence", request_body = PlaybookRequest,
    responses((status = 200, body = Object), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, description = "The YAML does not read or check; the message names the line and column", body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_save_playbook(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Admin>,
    ApiJson(body): ApiJson<PlaybookRequest>,
) -> Response {
    match state.services.save_playbook(&principal, &body.source).await {
        Ok(playbook) => Json(playbook).into_response(),
        Err(error) => error.into_response(),
    }
}
