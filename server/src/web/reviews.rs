//! The post-incident review and its follow-ups, as forms and as JSON: save
//! the written sections (refused, the text comes back as typed), set the
//! impact start by hand, star timeline entries, move the review (publishing
//! closes the incident), add and change follow-ups, read it as JSON, and
//! export it as Markdown.

use super::AppState;
use super::error::{ApiError, form_refused};
use super::extract::{ApiJson, Caller, FormPost, Responder, Viewer};
use crate::services::ServiceResult;
use crate::services::reviews::{ImpactStartForm, Review};
use app::page_context::FormFeedback;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::review::{ComponentImpact, FollowUpForm, ReviewState, Sections, SectionsForm, Times};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One contributing factor as the API sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct FactorRequest {
    /// change, dependency, capacity, configuration, detection or process.
    pub kind: String,
    pub text: String,
}

/// The written sections, based on a revision (refused with 409 if someone saved
/// after it): as the API sends them (`factors`), or as the page posts them
/// (factors as repeated `factor_kind`/`factor_text` pairs).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ReviewRequest {
    /// The revision this edit is based on (0 before the first save).
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub detection: String,
    #[serde(default)]
    pub went_well: String,
    #[serde(default)]
    pub went_wrong: String,
    #[serde(default)]
    pub got_lucky: String,
    #[serde(default)]
    pub factors: Vec<FactorRequest>,
    #[serde(default)]
    #[schema(ignore)]
    pub factor_kind: Vec<String>,
    #[serde(default)]
    #[schema(ignore)]
    pub factor_text: Vec<String>,
}

impl ReviewRequest {
    fn form(&self) -> SectionsForm {
        let texts = [
            ("summary", &self.summary),
            ("impact", &self.impact),
            ("trigger", &self.trigger),
            ("resolution", &self.resolution),
            ("detection", &self.detection),
            ("went_well", &self.went_well),
            ("went_wrong", &self.went_wrong),
            ("got_lucky", &self.got_lucky),
        ];
        let posted = self.factor_kind.iter().cloned().zip(self.factor_text.iter().cloned());
        let sent = self.factors.iter().map(|f| (f.kind.clone(), f.text.clone()));
        SectionsForm {
            texts: texts.iter().map(|(k, v)| ((*k).to_owned(), (*v).clone())).collect(),
            factors: sent.chain(posted).collect(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ReviewStateRequest {
    /// draft, in_review or published (publishing closes the incident).
    pub state: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct StarRequest {
    /// The timeline entry's id.
    pub event: i64,
    pub starred: bool,
}

/// The star form: the entry and `true`/`false`.
#[derive(Clone, Debug, Deserialize)]
pub struct StarPost {
    pub event: i64,
    #[serde(default)]
    pub starred: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ImpactStartRequest {
    /// `YYYY-MM-DDTHH:MM` (UTC); with `reason` empty too, the computed start comes back.
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct FollowUpRequest {
    pub title: String,
    /// The owner's e-mail address (an account).
    #[serde(default)]
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub due: Option<String>,
    /// open, done or wont_do (default open).
    #[serde(default)]
    pub status: Option<String>,
    /// A link to the team's tracker.
    #[serde(default)]
    pub link: Option<String>,
    /// Component keys.
    #[serde(default)]
    pub components: Vec<String>,
}

impl FollowUpRequest {
    fn form(self) -> FollowUpForm {
        FollowUpForm {
            title: self.title,
            owner: self.owner.unwrap_or_default(),
            due: self.due.unwrap_or_default(),
            status: self.status.unwrap_or_default(),
            link: self.link.unwrap_or_default(),
            components: self.components,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpDto {
    id: i64,
    incident_id: i64,
    title: String,
    owner: Option<String>,
    /// `YYYY-MM-DD`.
    due: Option<String>,
    /// open, done or wont_do.
    status: String,
    overdue: bool,
    link: Option<String>,
    components: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewEntryDto {
    id: i64,
    at: i64,
    actor: String,
    kind: String,
    text: String,
    starred: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RevisionDto {
    revision: i64,
    at: i64,
    author: String,
    changed: String,
}

/// Durations from the impact start, in milliseconds (`null`: it did not happen).
#[derive(Serialize, ToSchema)]
pub struct DurationsDto {
    to_detect: Option<i64>,
    to_acknowledge: Option<i64>,
    to_mitigate: Option<i64>,
    to_resolve: Option<i64>,
}

/// A post-incident review with the times and customer impact computed from facts.
#[derive(Serialize, ToSchema)]
pub struct ReviewDto {
    incident_id: i64,
    title: String,
    /// `null` until the incident is resolved.
    state: Option<ReviewState>,
    closed_at: Option<i64>,
    /// Send it back when saving the sections.
    revision: i64,
    sections: Sections,
    times: Times,
    durations: DurationsDto,
    impact: Vec<ComponentImpact>,
    /// The whole timeline, oldest first, with the key entries starred.
    timeline: Vec<ReviewEntryDto>,
    follow_ups: Vec<FollowUpDto>,
    /// Newest first.
    revisions: Vec<RevisionDto>,
}

fn follow_up_dto(row: &crate::reviews::FollowUpRow, now: i64) -> FollowUpDto {
    let f = &row.follow_up;
    FollowUpDto {
        id: f.id,
        incident_id: f.incident_id,
        title: f.title.clone(),
        owner: f.owner.as_ref().map(|p| p.email.clone()),
        due: f.due.map(domain::calendar::date_of_day),
        status: f.status.as_str().to_owned(),
        overdue: f.overdue(now),
        link: f.link.clone(),
        components: f.components.clone(),
    }
}

fn review_dto(review: Review, now: i64) -> ReviewDto {
    let times = review.times;
    ReviewDto {
        incident_id: review.incident.id,
        title: review.incident.title,
        state: review.incident.state.review,
        closed_at: review.incident.state.closed_at,
        revision: review.stored.revision,
        sections: review.stored.sections,
        durations: DurationsDto {
            to_detect: times.time_to_detect(),
            to_acknowledge: times.time_to_acknowledge(),
            to_mitigate: times.time_to_mitigate(),
            to_resolve: times.time_to_resolve(),
        },
        times,
        impact: review.impact,
        timeline: review
            .timeline
            .into_iter()
            .map(|(entry, starred)| ReviewEntryDto {
                id: entry.id,
                at: entry.at,
                actor: entry.actor,
                kind: entry.event.kind().to_owned(),
                text: entry.event.describe(),
                starred,
            })
            .collect(),
        follow_ups: review.follow_ups.iter().map(|row| follow_up_dto(row, now)).collect(),
        revisions: review
            .revisions
            .into_iter()
            .map(|r| RevisionDto { revision: r.revision, at: r.at, author: r.author, changed: r.changed })
            .collect(),
    }
}

fn review_page(id: i64, anchor: &str) -> String {
    format!("/incidents/{id}/review#{anchor}")
}

/// Answers a form post: to the review page at `anchor`, or the page again with the refusal and what was typed.
async fn form_answer<T>(
    state: &AppState,
    request: axum::extract::Request,
    id: i64,
    anchor: &str,
    result: ServiceResult<T>,
    feedback: FormFeedback,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&review_page(id, anchor)).into_response(),
        Err(error) => {
            form_refused(state, request, &format!("/incidents/{id}/review"), &error, feedback).await
        }
    }
}

/// `POST /incidents/{id}/review`: save the written sections.
pub async fn form_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<ReviewRequest>,
) -> Response {
    let sections = form.form();
    let result = state.services.save_review(&principal, id, &sections, form.revision).await;
    let feedback = FormFeedback { review: Some(sections), ..FormFeedback::default() };
    form_answer(&state, request, id, "sections", result, feedback).await
}

/// `POST /incidents/{id}/review/state`: move the review.
pub async fn form_state(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<ReviewStateRequest>,
) -> Response {
    let result = state.services.move_review(&principal, id, &form.state).await;
    form_answer(&state, request, id, "review-state", result, FormFeedback::default()).await
}

/// `POST /incidents/{id}/review/stars`: star or unstar a timeline entry.
pub async fn form_star(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<StarPost>,
) -> Response {
    let starred = matches!(form.starred.trim(), "true" | "1" | "on");
    let result = state.services.star(&principal, id, form.event, starred).await;
    form_answer(&state, request, id, &format!("entry-{}", form.event), result, FormFeedback::default()).await
}

/// `POST /incidents/{id}/review/impact-start`: set the impact start by hand, with a reason.
pub async fn form_impact_start(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<ImpactStartForm>,
) -> Response {
    let result = state.services.set_impact_start(&principal, id, &form).await;
    let feedback = FormFeedback { impact_start: Some((form.at, form.reason)), ..FormFeedback::default() };
    form_answer(&state, request, id, "times", result, feedback).await
}

/// `POST /incidents/{id}/follow-ups`: add a follow-up.
pub async fn form_add_follow_up(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<FollowUpForm>,
) -> Response {
    let result = state.services.add_follow_up(&principal, id, &form).await;
    let feedback = FormFeedback { follow_up: Some(form), ..FormFeedback::default() };
    form_answer(&state, request, id, "follow-ups", result, feedback).await
}

/// `POST /incidents/{id}/follow-ups/{follow_up}`: change a follow-up (e.g. mark it done).
pub async fn form_update_follow_up(
    State(state): State<AppState>,
    Path((id, follow_up)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    FormPost { form, request }: FormPost<FollowUpForm>,
) -> Response {
    let result = state.services.update_follow_up(&principal, id, follow_up, &form).await;
    form_answer(&state, request, id, &format!("follow-up-{follow_up}"), result, FormFeedback::default()).await
}

/// `GET /incidents/{id}/review.md`: the review as Markdown, for a team's wiki.
pub async fn markdown(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Viewer>) -> Response {
    match state.services.review_markdown(id).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response(),
        Err(error) => error.into_response(),
    }
}

/// A post-incident review: sections, times and customer impact computed from facts, timeline, follow-ups, revisions.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/review", tag = "reviews", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 503, body = ApiError)))]
pub async fn api_get(State(state): State<AppState>, Path(id): Path<i64>, _: Caller<Viewer>) -> Response {
    match state.services.review(id).await {
        Ok(review) => Json(review_dto(review, state.services.clock.now_millis())).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The review again after a change, as JSON.
async fn api_answer<T>(state: &AppState, id: i64, result: ServiceResult<T>, status: StatusCode) -> Response {
    if let Err(error) = result {
        return error.into_response();
    }
    match state.services.review(id).await {
        Ok(review) => (status, Json(review_dto(review, state.services.clock.now_millis()))).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Save the written sections (a 409 names who saved a newer revision).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/review/sections", tag = "reviews", params(("id" = i64, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = ReviewDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "The review is not open, or someone saved a newer revision", body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<ReviewRequest>,
) -> Response {
    let result = state.services.save_review(&principal, id, &body.form(), body.revision).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Move the review: draft, in_review, published (publishing closes the incident; commander or admin).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/review/state", tag = "reviews", params(("id" = i64, Path)),
    request_body = ReviewStateRequest,
    responses((status = 200, body = ReviewDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_state(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<ReviewStateRequest>,
) -> Response {
    let result = state.services.move_review(&principal, id, &body.state).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Star or unstar a timeline entry in the review.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/review/stars", tag = "reviews", params(("id" = i64, Path)),
    request_body = StarRequest,
    responses((status = 204), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_star(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<StarRequest>,
) -> Response {
    match state.services.star(&principal, id, body.event, body.starred).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    }
}

/// Set the impact start by hand with a reason (both empty: computed from facts again).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/review/impact-start", tag = "reviews", params(("id" = i64, Path)),
    request_body = ImpactStartRequest,
    responses((status = 200, body = ReviewDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_impact_start(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<ImpactStartRequest>,
) -> Response {
    let form = ImpactStartForm { at: body.at, reason: body.reason };
    let result = state.services.set_impact_start(&principal, id, &form).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// Add a follow-up to the review.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/follow-ups", tag = "reviews", params(("id" = i64, Path)),
    request_body = FollowUpRequest,
    responses((status = 201, body = ReviewDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_add_follow_up(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<FollowUpRequest>,
) -> Response {
    let result = state.services.add_follow_up(&principal, id, &body.form()).await;
    api_answer(&state, id, result, StatusCode::CREATED).await
}

/// Change a follow-up (its owner may too).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/follow-ups/{follow_up}", tag = "reviews",
    params(("id" = i64, Path), ("follow_up" = i64, Path)), request_body = FollowUpRequest,
    responses((status = 200, body = ReviewDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_update_follow_up(
    State(state): State<AppState>,
    Path((id, follow_up)): Path<(i64, i64)>,
    Caller(principal, _): Caller<Responder>,
    ApiJson(body): ApiJson<FollowUpRequest>,
) -> Response {
    let result = state.services.update_follow_up(&principal, id, follow_up, &body.form()).await;
    api_answer(&state, id, result, StatusCode::OK).await
}

/// `GET /insights.csv?from=&to=`: the insights' figures as CSV.
pub async fn insights_csv(
    State(state): State<AppState>,
    _: Caller<Viewer>,
    super::extract::ApiQuery(query): super::extract::ApiQuery<crate::services::insights::InsightsQuery>,
) -> Response {
    match state.services.insights(&query).await {
        Ok(insights) => {
            let (from, to) = insights.period.days();
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"wheelhouse-insights-{from}-{to}.csv\""),
                    ),
                ],
                domain::insights::csv(&insights),
            )
                .into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// Figures over a period (default: the last 90 days): incidents by month, severity and category; time to
/// acknowledge and resolve by severity (median, p90, trend); components with the most incidents and the most
/// customer-facing downtime; failed deployment recovery time; follow-ups.
#[utoipa::path(get, path = "/api/v1/insights", tag = "reviews",
    params(("from" = Option<String>, Query, description = "First day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD")),
    responses((status = 200, body = domain::insights::Insights), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn api_insights(
    State(state): State<AppState>,
    _: Caller<Viewer>,
    super::extract::ApiQuery(query): super::extract::ApiQuery<crate::services::insights::InsightsQuery>,
) -> Response {
    match state.services.insights(&query).await {
        Ok(insights) => Json(insights).into_response(),
        Err(error) => error.into_response(),
    }
}
