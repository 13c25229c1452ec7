//! The incident JSON API under `/api/v1/incidents`: everything the incident
//! room does, for automation. Callers sign in or send a bearer API token;
//! errors are `{"error": {"message", "field"}}`. The OpenAPI document at
//! `/api/v1/openapi.json` is generated from these handlers and types.

use super::AppState;
use super::dto::{ActionDto, IncidentDto, TimelineEntryDto};
use super::error::{ApiError, ApiErrorDetail, api_error};
use super::extract::{Admin, ApiJson, ApiQuery, Caller, Responder};
use crate::incident_pages::tiles_by_key;
use crate::incidents::TimelineEntry;
use crate::services::incidents::{ListInput, PageInput, RoleInput, TransitionInput};
use crate::services::{ServiceError, ServiceResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::incident::DeclarationForm;
use http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// A new incident.
#[derive(Deserialize, ToSchema)]
pub struct DeclareRequest {
    #[schema(example = "Checkout returns errors")]
    title: String,
    /// SEV1 (worst) to SEV4.
    #[schema(example = "SEV2")]
    severity: String,
    /// application_failure, misconfiguration, resource_exhaustion, networking,
    /// infrastructure_node, security or external_dependency.
    #[schema(example = "application_failure")]
    category: String,
    /// Component keys, as listed by `GET /api/v1/components`.
    #[serde(default)]
    #[schema(example = json!(["service/1"]))]
    components: Vec<String>,
    #[serde(default)]
    summary: String,
    /// The commander's e-mail address; by default the caller (an API token must name one).
    #[serde(default)]
    commander: Option<String>,
    /// Ids of alerts (from `GET /api/v1/alerts`) this incident answers: they are attached to it.
    #[serde(default)]
    alerts: Vec<i64>,
}

/// Exactly one of the fields.
#[derive(Deserialize, ToSchema)]
pub struct TransitionRequest {
    /// investigating, identified, monitoring or resolved.
    status: Option<String>,
    /// identification, containment, eradication, recovery or post_incident.
    phase: Option<String>,
    /// SEV1 to SEV4.
    severity: Option<String>,
    /// The commander acknowledges the incident.
    acknowledge: Option<bool>,
    /// Reopens a resolved incident.
    reopen: Option<bool>,
    /// Takes command of an incident nobody commands (one declared from an alert).
    take_command: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    #[schema(example = "oncall@example.com")]
    email: String,
    /// incident_commander (a handover), communications_lead, operations_lead, scribe or subject_matter_expert.
    #[schema(example = "operations_lead")]
    role: String,
    /// Take the role away instead of giving it.
    #[serde(default)]
    remove: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct NoteRequest {
    text: String,
    /// Marks the note as a decision (listed on the briefing).
    #[serde(default)]
    decision: bool,
}

/// An incident after a change, with the timeline events the change made.
#[derive(Serialize, ToSchema)]
pub struct IncidentChange {
    incident: IncidentDto,
    events: Vec<TimelineEntryDto>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only this severity.
    severity: Option<String>,
    /// Only this public status.
    status: Option<String>,
    /// true: unresolved only; false: resolved only.
    active: Option<bool>,
    /// At most this many (1 to 500; default 100).
    limit: Option<u32>,
    /// Continue after the previous page: the cursor from its `Link: <…>; rel="next"` header.
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// At most this many (1 to 500; default 100).
    limit: Option<u32>,
    /// Continue after the previous page: the cursor from its `Link: <…>; rel="next"` header.
    cursor: Option<String>,
}

/// A page of a list as JSON, with `Link: <path?…&cursor=…>; rel="next"` when there is more.
pub(super) fn page_response<T: Serialize>(
    items: Vec<T>,
    next: Option<String>,
    path: &str,
    mut query: Vec<(&str, String)>,
) -> Response {
    let mut response = Json(items).into_response();
    if let Some(cursor) = next {
        query.push(("cursor", cursor));
        let link =
            format!("<{path}?{}>; rel=\"next\"", serde_urlencoded::to_string(&query).unwrap_or_default());
        if let Ok(value) = http::HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Wheelhouse API", description = "Incident command for Kubernetes: declare and run incidents."),
    paths(
        super::api::components, super::api::uptime,
        list, create, get_one, transition, assign_role, add_note, timeline, break_glass,
        super::actions_api::list, super::actions_api::plan, super::actions_api::get_one,
        super::actions_api::preview, super::actions_api::confirm, super::actions_api::undo,
        super::updates::api_render, super::updates::api_publish, super::updates::api_list,
        super::updates::api_templates, super::updates::api_save_template,
        super::alerts_api::alertmanager, super::alerts_api::generic, super::alerts_api::list,
        super::alerts_api::get_one, super::alerts_api::acknowledge, super::alerts_api::silence,
        super::alerts_api::attach,
        super::evidence::api_capture, super::evidence::api_list, super::evidence::api_document,
        super::evidence::api_guidance, super::evidence::api_tick, super::evidence::api_playbooks,
        super::evidence::api_save_playbook,
        super::reviews::api_get, super::reviews::api_save, super::reviews::api_state, super::reviews::api_star,
        super::reviews::api_impact_start, super::reviews::api_add_follow_up, super::reviews::api_update_follow_up, super::reviews::api_insights,
        super::maintenance::api_schedule, super::maintenance::api_list, super::maintenance::api_get,
        super::maintenance::api_edit, super::maintenance::api_step, super::maintenance::api_plan,
        super::maintenance::api_confirm, super::maintenance::api_undo
    ),
    components(schemas(ApiError, ApiErrorDetail, IncidentDto, TimelineEntryDto, IncidentChange, ActionDto, super::dto::PreviewDto, super::dto::AffectedComponentDto, super::dto::RoleHolderDto, super::dto::AlertDto, super::dto::IntakeDto, super::dto::EvidenceRefDto, super::evidence::EvidenceDto,
        super::reviews::ReviewDto, super::reviews::FollowUpDto, super::reviews::ReviewEntryDto,
        super::reviews::RevisionDto, super::reviews::DurationsDto, domain::review::Sections, domain::review::Factor,
        domain::review::FactorKind, domain::review::Times, domain::review::ImpactSource,
        domain::review::ComponentImpact, domain::review::ReviewState, domain::insights::Insights,
        domain::insights::Period, domain::insights::Percentiles, domain::insights::Trend,
        domain::insights::SeverityTimes, domain::insights::ComponentFigure, domain::insights::FollowUpFigures,
        super::maintenance::WindowDto, super::maintenance::PlannedDto, super::maintenance::LogDto,
        super::maintenance::WindowRequest, super::maintenance::PlannedRequest, super::maintenance::StepRequest)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "components", description = "Component health and uptime"),
        (name = "incidents", description = "Incidents, their roles and their timeline"),
        (name = "actions", description = "Containment actions: plan, preview, confirm, undo"),
        (name = "updates", description = "Stakeholder updates and their templates"),
        (name = "alerts", description = "Alerts in: Alertmanager and generic intake, and the inbox"),
        (name = "evidence", description = "Evidence from the cluster, playbooks and their suggested actions"),
        (name = "reviews", description = "Post-incident reviews and their follow-ups")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from /admin/tokens or `wheelhouse token create`."))
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => {
            api_error(StatusCode::INTERNAL_SERVER_ERROR, "The API description could not be written.", None)
        }
    }
}

async fn view_of(state: &AppState, id: i64) -> ServiceResult<IncidentDto> {
    let incident = state.services.incident(id).await?;
    Ok(IncidentDto::new(&incident, &tiles_by_key(state.live.as_ref()), crate::db::now_millis()))
}

/// Answers the incident after a change, with the timeline events the change made.
async fn changed(state: &AppState, id: i64, outcome: ServiceResult<Vec<TimelineEntry>>) -> Response {
    let change = async {
        let entries = outcome?;
        let incident = view_of(state, id).await?;
        Ok::<_, ServiceError>(IncidentChange {
            incident,
            events: entries.iter().map(TimelineEntryDto::from).collect(),
        })
    };
    match change.await {
        Ok(change) => Json(change).into_response(),
        Err(error) => error.into_response(),
    }
}

/// List incidents, worst severity first, then oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    responses((status = 200, body = Vec<IncidentDto>,
            headers(("link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there is a next page"))),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Responder>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    let mut again: Vec<(&str, String)> = Vec::new();
    for (name, value) in [("severity", &query.severity), ("status", &query.status)] {
        if let Some(value) = value {
            again.push((name, value.clone()));
        }
    }
    if let Some(active) = query.active {
        again.push(("active", active.to_string()));
    }
    if let Some(limit) = query.limit {
        again.push(("limit", limit.to_string()));
    }
    let input = ListInput {
        severity: query.severity,
        status: query.status,
        active: query.active,
        page: PageInput { limit: query.limit, cursor: query.cursor },
    };
    match state.services.incidents(&input).await {
        Ok(page) => {
            let (tiles, now) = (tiles_by_key(state.live.as_ref()), crate::db::now_millis());
            let views = page.items.iter().map(|i| IncidentDto::new(i, &tiles, now)).collect();
            page_response::<IncidentDto>(views, page.next, "/api/v1/incidents", again)
        }
        Err(error) => error.into_response(),
    }
}

/// Declare an incident.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = DeclareRequest,
    responses((status = 201, body = IncidentDto, headers(("location" = String))),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<DeclareRequest>,
) -> Response {
    let form = DeclarationForm {
        title: body.title,
        severity: body.severity,
        category: body.category,
        components: body.components,
        summary: body.summary,
        commander: body.commander.unwrap_or_default(),
        alerts: body.alerts.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
    };
    let outcome = async {
        let id = state.services.declare(&principal, &form).await?;
        view_of(&state, id).await
    };
    match outcome.await {
        Ok(view) => {
            let location = format!("/api/v1/incidents/{}", view.id);
            (StatusCode::CREATED, [(header::LOCATION, location)], Json(view)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// One incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = i64, Path)),
    responses((status = 200, body = IncidentDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn get_one(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Responder>) -> Response {
    match view_of(&state, id).await {
        Ok(view) => Json(view).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Change the status, phase or severity, acknowledge, reopen, or take command.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transitions", tag = "incidents", params(("id" = i64, Path)),
    request_body = TransitionRequest,
    responses((status = 200, body = IncidentChange), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Not allowed in the incident's state", body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn transition(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<TransitionRequest>,
) -> Response {
    let input = TransitionInput {
        status: body.status,
        phase: body.phase,
        severity: body.severity,
        acknowledge: body.acknowledge.unwrap_or(false),
        reopen: body.reopen.unwrap_or(false),
        take_command: body.take_command.unwrap_or(false),
    };
    changed(&state, id, state.services.transition(&principal, id, &input).await).await
}

/// Give someone a role (the commander role is handed over), or take one away.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/roles", tag = "incidents", params(("id" = i64, Path)),
    request_body = RoleRequest,
    responses((status = 200, body = IncidentChange), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn assign_role(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Response {
    let input = RoleInput { email: body.email, role: body.role, remove: body.remove };
    changed(&state, id, state.services.assign_role(&principal, id, &input).await).await
}

/// Add a note, or record a decision.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents", params(("id" = i64, Path)),
    request_body = NoteRequest,
    responses((status = 200, body = IncidentChange), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn add_note(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<NoteRequest>,
) -> Response {
    changed(&state, id, state.services.add_note(&principal, id, &body.text, body.decision).await).await
}

#[derive(Deserialize, ToSchema)]
pub struct BreakGlassRequest {
    /// Why one person may plan and confirm alone on this incident (recorded on the timeline).
    #[schema(example = "Alone on call; the drain cannot wait for a second person.")]
    reason: String,
}

/// Break-glass: an admin waives the two-person rule for this incident, with a reason.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/break-glass", tag = "actions", params(("id" = i64, Path)),
    request_body = BreakGlassRequest,
    responses((status = 200, body = IncidentChange), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn break_glass(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Admin>,
    ApiJson(body): ApiJson<BreakGlassRequest>,
) -> Response {
    changed(&state, id, state.services.waive_two_person_rule(&principal, id, &body.reason).await).await
}

/// The timeline, oldest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Vec<TimelineEntryDto>,
            headers(("link" = String, description = "`<…&cursor=…>; rel=\"next\"` when there is a next page"))),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn timeline(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    _: Caller<Responder>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Response {
    let again: Vec<(&str, String)> =
        query.limit.map(|limit| ("limit", limit.to_string())).into_iter().collect();
    let page = PageInput { limit: query.limit, cursor: query.cursor };
    match state.services.timeline_page(id, &page).await {
        Ok(page) => {
            let lines = page.items.iter().map(TimelineEntryDto::from).collect();
            page_response::<TimelineEntryDto>(
                lines,
                page.next,
                &format!("/api/v1/incidents/{id}/timeline"),
                again,
            )
        }
        Err(error) => error.into_response(),
    }
}
