//! HTTP: the axum router with the Leptos pages, the form handlers, operations
//! endpoints, and the middleware every request passes through.

pub mod actions_api;
pub mod actions_forms;
pub mod alerts_api;
pub mod alerts_forms;
pub mod api;
pub mod auth;
pub mod components_admin;
pub mod context;
pub mod cross_site;
pub mod dto;
pub mod error;
pub mod evidence;
pub mod extract;
pub mod incidents_api;
pub mod incidents_forms;
pub mod limits;
pub mod maintenance;
pub mod metrics;
pub mod ops;
pub mod panics;
pub mod principal;
mod render;
pub mod reviews;
pub mod serve;
pub mod sse;
pub mod status;
mod stream_connection;
pub mod subscribers;
pub mod tokens_admin;
pub mod updates;
pub mod users_admin;
pub mod webhooks_admin;

use crate::accounts::Accounts;
use crate::components::Components;
use crate::db::Database;
use crate::events::EventHub;
use app::live::LiveBackend;
use app::page_context::ClusterSource;
use app::{App, shell};
use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use http::{HeaderValue, header};
use leptos::prelude::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::{Arc, LazyLock};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::SessionManagerLayer;

/// Largest request body accepted. Forms are small; nothing here uploads files.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A body declared larger than this is refused without being read; up to
/// this size it is read and dropped first, so that the client, still
/// sending, receives the refusal instead of a reset connection.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// Answers a body declared larger than [`MAX_BODY_BYTES`] with a clear 413
/// (JSON on `/api/`). Bodies without a declared length meet the limit layer.
async fn refuse_oversized(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    use futures_util::StreamExt;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(length) = declared.filter(|length| *length > MAX_BODY_BYTES as u64) else {
        return next.run(request).await;
    };
    let api = request.uri().path().starts_with("/api/");
    if length <= DRAIN_LIMIT {
        let mut body = request.into_body().into_data_stream();
        while let Some(Ok(_)) = body.next().await {}
    }
    let message = format!("The request body is larger than the limit of {} KiB.", MAX_BODY_BYTES / 1024);
    if api {
        error::api_error(http::StatusCode::PAYLOAD_TOO_LARGE, &message, None)
    } else {
        render::plain_error(http::StatusCode::PAYLOAD_TOO_LARGE, &message)
    }
}

/// What every handler may use: one shared value, so that handing it to a
/// handler or a middleware (per request, several times) is one reference
/// count, not one per field (profiled: cloning and dropping the fields took
/// about 40% of the CPU serving `/status`).
#[derive(Clone)]
pub struct AppState(Arc<AppStateFields>);

impl AppState {
    pub fn new(fields: AppStateFields) -> AppState {
        AppState(Arc::new(fields))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateFields;

    fn deref(&self) -> &AppStateFields {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct AppStateFields {
    pub leptos: LeptosOptions,
    pub db: Database,
    pub accounts: Accounts,
    pub components: Components,
    pub cluster: ClusterSource,
    pub metrics: Arc<metrics::HttpMetrics>,
    pub events: Arc<EventHub>,
    pub history: crate::history::History,
    pub incidents: crate::incidents::Incidents,
    pub tokens: crate::tokens::Tokens,
    pub actions: crate::actions::Actions,
    pub templates: crate::updates::Templates,
    pub status_page: Arc<crate::status_page::StatusPage>,
    pub webhooks: crate::webhooks::Webhooks,
    /// The use cases every entry point calls.
    pub services: crate::services::Services,
    /// What the incident pages read, given to them through the Leptos context.
    pub incident_pages: Arc<dyn app::incidents::IncidentBackend>,
    /// What the live pages read, given to them through the Leptos context.
    pub live: Arc<dyn LiveBackend>,
    /// What the alert pages read, given to them through the Leptos context.
    pub alert_pages: Arc<dyn app::alerts::AlertBackend>,
    /// The configured public origin (`--public-url`); state-changing requests
    /// made with a session must come from it (or, without one, from the host they name).
    pub public_origin: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Becomes `true` when the server shuts down: long-lived streams end then.
    pub stop: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    /// The context every page render and server function gets.
    pub fn provide_page_services(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let live = self.live.clone();
        let incidents = self.incident_pages.clone();
        let alerts = self.alert_pages.clone();
        move || {
            leptos::prelude::provide_context(live.clone());
            leptos::prelude::provide_context(incidents.clone());
            leptos::prelude::provide_context(alerts.clone());
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// A route that changes something, the least role it needs (`None`: anyone,
/// e.g. signing in), and its handler. The router adds mutating routes only
/// from this table, and the authorisation matrix test walks it, so no such
/// route goes unchecked. Where a path also answers GET (`/api/v1/incidents`),
/// the GET is added here too, as axum wants one method router per path.
pub struct MutatingRoute {
    pub path: &'static str,
    pub needs: Option<app::domain::role::Role>,
    pub handler: fn() -> axum::routing::MethodRouter<AppState>,
}

/// Every mutating route (all answer POST).
pub const MUTATING_ROUTES: &[MutatingRoute] = {
    use app::domain::role::Role::{Admin, Alerts, Responder};
    const fn anyone(
        path: &'static str,
        handler: fn() -> axum::routing::MethodRouter<AppState>,
    ) -> MutatingRoute {
        MutatingRoute { path, needs: None, handler }
    }
    const fn needs(
        path: &'static str,
        role: app::domain::role::Role,
        handler: fn() -> axum::routing::MethodRouter<AppState>,
    ) -> MutatingRoute {
        MutatingRoute { path, needs: Some(role), handler }
    }
    &[
        anyone("/login", || post(auth::login)),
        anyone("/status/subscribe", || post(subscribers::subscribe)),
        anyone("/status/subscribe/confirm", || post(subscribers::confirm).get(subscribers::confirm_page)),
        anyone("/status/unsubscribe", || post(subscribers::unsubscribe).get(subscribers::unsubscribe_page)),
        needs("/admin/subscribers/{id}/remove", Admin, || post(subscribers::remove)),
        anyone("/setup", || post(auth::setup)),
        anyone("/logout", || post(auth::logout)),
        needs("/admin/components", Admin, || post(components_admin::create)),
        needs("/admin/components/{id}", Admin, || post(components_admin::update)),
        needs("/admin/components/{id}/delete", Admin, || post(components_admin::delete)),
        needs("/admin/tokens", Admin, || post(tokens_admin::create)),
        needs("/admin/tokens/{id}/revoke", Admin, || post(tokens_admin::revoke)),
        needs("/admin/users/role", Admin, || post(users_admin::set_role)),
        needs("/admin/users/disable", Admin, || post(users_admin::disable)),
        needs("/admin/users/enable", Admin, || post(users_admin::enable)),
        needs("/admin/users/reset-password", Admin, || post(users_admin::reset_password)),
        needs("/maintenance", Responder, || post(maintenance::form_schedule)),
        needs("/maintenance/{id}", Responder, || post(maintenance::form_edit)),
        needs("/maintenance/{id}/steps", Responder, || post(maintenance::form_step)),
        needs("/maintenance/{id}/actions", Responder, || post(maintenance::form_plan)),
        needs("/maintenance/{id}/actions/{action}/confirm", Responder, || post(maintenance::form_confirm)),
        needs("/maintenance/{id}/actions/{action}/undo", Responder, || post(maintenance::form_undo)),
        needs("/api/v1/maintenance", Responder, || {
            post(maintenance::api_schedule).get(maintenance::api_list)
        }),
        needs("/api/v1/maintenance/{id}", Responder, || {
            post(maintenance::api_edit).get(maintenance::api_get)
        }),
        needs("/api/v1/maintenance/{id}/steps", Responder, || post(maintenance::api_step)),
        needs("/api/v1/maintenance/{id}/actions", Responder, || post(maintenance::api_plan)),
        needs("/api/v1/maintenance/{id}/actions/{action}/confirm", Responder, || {
            post(maintenance::api_confirm)
        }),
        needs("/api/v1/maintenance/{id}/actions/{action}/undo", Responder, || post(maintenance::api_undo)),
        needs("/incidents", Responder, || post(incidents_forms::create)),
        needs("/incidents/{id}/transitions", Responder, || post(incidents_forms::transition)),
        needs("/incidents/{id}/roles", Responder, || post(incidents_forms::assign_role)),
        needs("/incidents/{id}/notes", Responder, || post(incidents_forms::add_note)),
        needs("/incidents/{id}/break-glass", Admin, || post(incidents_forms::break_glass)),
        needs("/api/v1/incidents/{id}/break-glass", Admin, || post(incidents_api::break_glass)),
        needs("/api/v1/incidents", Responder, || post(incidents_api::create).get(incidents_api::list)),
        needs("/api/v1/incidents/{id}/transitions", Responder, || post(incidents_api::transition)),
        needs("/api/v1/incidents/{id}/roles", Responder, || post(incidents_api::assign_role)),
        needs("/api/v1/incidents/{id}/notes", Responder, || post(incidents_api::add_note)),
        needs("/incidents/{id}/updates/render", Responder, || post(updates::form_render)),
        needs("/incidents/{id}/updates", Responder, || post(updates::form_publish)),
        needs("/api/v1/incidents/{id}/updates/render", Responder, || post(updates::api_render)),
        needs("/api/v1/incidents/{id}/updates", Responder, || {
            post(updates::api_publish).get(updates::api_list)
        }),
        needs("/admin/templates/{audience}/{purpose}", Admin, || post(updates::form_save_template)),
        needs("/api/v1/templates/{audience}/{purpose}", Admin, || post(updates::api_save_template)),
        needs("/admin/webhooks", Admin, || post(webhooks_admin::create)),
        needs("/admin/webhooks/{id}/delete", Admin, || post(webhooks_admin::delete)),
        needs("/incidents/{id}/actions", Responder, || post(actions_forms::plan)),
        needs("/incidents/{id}/actions/{action}/preview", Responder, || post(actions_forms::preview)),
        needs("/incidents/{id}/actions/{action}/confirm", Responder, || post(actions_forms::confirm)),
        needs("/incidents/{id}/actions/{action}/undo", Responder, || post(actions_forms::undo)),
        needs("/api/v1/incidents/{id}/actions", Responder, || post(actions_api::plan).get(actions_api::list)),
        needs("/api/v1/incidents/{id}/actions/{action}/preview", Responder, || post(actions_api::preview)),
        needs("/api/v1/incidents/{id}/actions/{action}/confirm", Responder, || post(actions_api::confirm)),
        needs("/api/v1/incidents/{id}/actions/{action}/undo", Responder, || post(actions_api::undo)),
        needs("/api/v1/alerts/alertmanager", Alerts, || post(alerts_api::alertmanager)),
        needs("/api/v1/alerts", Alerts, || post(alerts_api::generic).get(alerts_api::list)),
        needs("/api/v1/alerts/{id}/acknowledge", Responder, || post(alerts_api::acknowledge)),
        needs("/api/v1/alerts/{id}/silence", Responder, || post(alerts_api::silence)),
        needs("/api/v1/alerts/{id}/attach", Responder, || post(alerts_api::attach)),
        needs("/alerts/{id}/acknowledge", Responder, || post(alerts_forms::acknowledge)),
        needs("/alerts/{id}/silence", Responder, || post(alerts_forms::silence)),
        needs("/alerts/{id}/attach", Responder, || post(alerts_forms::attach)),
        needs("/admin/alert-routing", Admin, || post(alerts_forms::add_rule)),
        needs("/admin/alert-routing/{id}/delete", Admin, || post(alerts_forms::delete_rule)),
        needs("/admin/alert-routing/reset", Admin, || post(alerts_forms::reset_rules)),
        needs("/incidents/declare-now", Responder, || post(evidence::form_declare_now)),
        needs("/incidents/{id}/evidence", Responder, || post(evidence::form_capture)),
        needs("/incidents/{id}/playbook-steps", Responder, || post(evidence::form_tick)),
        needs("/api/v1/incidents/{id}/evidence", Responder, || {
            post(evidence::api_capture).get(evidence::api_list)
        }),
        needs("/api/v1/incidents/{id}/playbook-steps", Responder, || post(evidence::api_tick)),
        needs("/admin/playbooks", Admin, || post(evidence::form_save_playbook)),
        needs("/admin/playbooks/{id}/reset", Admin, || post(evidence::form_reset_playbook)),
        needs("/api/v1/playbooks", Admin, || post(evidence::api_save_playbook).get(evidence::api_playbooks)),
        needs("/incidents/{id}/review", Responder, || post(reviews::form_save)),
        needs("/incidents/{id}/review/state", Responder, || post(reviews::form_state)),
        needs("/incidents/{id}/review/stars", Responder, || post(reviews::form_star)),
        needs("/incidents/{id}/review/impact-start", Responder, || post(reviews::form_impact_start)),
        needs("/incidents/{id}/follow-ups", Responder, || post(reviews::form_add_follow_up)),
        needs("/incidents/{id}/follow-ups/{follow_up}", Responder, || post(reviews::form_update_follow_up)),
        needs("/api/v1/incidents/{id}/review/sections", Responder, || post(reviews::api_save)),
        needs("/api/v1/incidents/{id}/review/state", Responder, || post(reviews::api_state)),
        needs("/api/v1/incidents/{id}/review/stars", Responder, || post(reviews::api_star)),
        needs("/api/v1/incidents/{id}/review/impact-start", Responder, || post(reviews::api_impact_start)),
        needs("/api/v1/incidents/{id}/follow-ups", Responder, || post(reviews::api_add_follow_up)),
        needs("/api/v1/incidents/{id}/follow-ups/{follow_up}", Responder, || {
            post(reviews::api_update_follow_up)
        }),
    ]
};

/// Every registered server function's path and method (for the authorisation matrix test).
pub fn server_functions() -> Vec<(&'static str, http::Method)> {
    leptos::server_fn::axum::server_fn_paths().collect()
}

/// The app's routes, listed once per process. Listing them renders the app with
/// resource loading suspended through a process-global flag, and a resource
/// first polled by any request while that flag is up never resolves (leptos
/// issue 4773); listing once, before any router exists, keeps requests clear of it.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// Builds the whole router. Layers listed later wrap those listed earlier, so a
/// request meets them bottom-up: tracing, metrics, headers, compression, body
/// limit, session, page context, the cross-site check, access check, then the route.
///
/// The public status documents (`/status`, its feeds and the Statuspage JSON)
/// are routed apart, through [`public_documents`]: they are cached snapshots
/// for anonymous readers, so no session, page context, cross-site or access
/// check applies, and they come compressed already.
pub fn router(
    state: AppState,
    sessions: SessionManagerLayer<crate::session_store::SqlSessionStore>,
) -> Router {
    let routes = ROUTES.clone();
    let leptos = state.leptos.clone();
    let services = state.provide_page_services();
    let metrics = state.metrics.clone();
    let mut router = Router::new();
    for route in MUTATING_ROUTES {
        router = router.route(route.path, (route.handler)());
    }
    let application = router
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/v1/events", get(sse::events))
        .route("/api/v1/components", get(api::components))
        .route("/api/v1/components/{kind}/{name}/uptime", get(api::uptime))
        .route("/api/v1/openapi.json", get(incidents_api::openapi))
        .route("/api/v1/incidents/{id}", get(incidents_api::get_one))
        .route("/api/v1/incidents/{id}/timeline", get(incidents_api::timeline))
        .route("/api/v1/incidents/{id}/actions/{action}", get(actions_api::get_one))
        .route("/api/v1/alerts/{id}", get(alerts_api::get_one))
        .route("/api/v1/incidents/{id}/evidence/{evidence}", get(evidence::api_document))
        .route("/api/v1/incidents/{id}/guidance", get(evidence::api_guidance))
        .route("/incidents/{id}/evidence/{evidence}", get(evidence::page_report))
        .route("/api/v1/incidents/{id}/review", get(reviews::api_get))
        .route("/incidents/{id}/review.md", get(reviews::markdown))
        .route("/insights.csv", get(reviews::insights_csv))
        .route("/api/v1/insights", get(reviews::api_insights))
        .route("/api/v1/templates", get(updates::api_templates))
        .route("/admin/subscribers.csv", get(subscribers::csv))
        .leptos_routes_with_context(&state, routes, services, move || shell(leptos.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panics::caught))
        .layer(from_fn(panics::explain))
        .layer(from_fn(limits::request_timeout))
        .layer(from_fn(context::enforce_access))
        .layer(from_fn_with_state(state.clone(), cross_site::guard))
        .layer(from_fn_with_state(state.clone(), context::attach_page_context))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(from_fn(refuse_oversized))
        .layer(CompressionLayer::new());
    let application = observed(secured(application), &metrics, tracing::Level::INFO);
    let documents = Router::new()
        .route("/status", get(status::page))
        .route("/status/history", get(status::history))
        .route("/status/feed.atom", get(status::feed))
        .route("/api/v2/summary.json", get(status::summary))
        .route("/api/v2/status.json", get(status::status))
        .route("/api/v2/components.json", get(status::components))
        .route("/api/v2/incidents.json", get(status::incidents))
        .route("/api/v2/scheduled-maintenances.json", get(status::maintenances))
        .route("/api/v2/scheduled-maintenances/upcoming.json", get(status::upcoming_maintenances))
        .route("/api/v2/scheduled-maintenances/active.json", get(status::active_maintenances))
        .route("/status/maintenance.ics", get(status::maintenance_calendar));
    application.merge(public_documents(documents, &metrics)).with_state(state)
}

/// The public documents' layers: a panic is still a 500, the security headers
/// and metrics are the same as everywhere, and each request is logged at
/// DEBUG rather than INFO (a public page under a traffic spike would flood the
/// log; the request metrics count every one by route and status).
fn public_documents(documents: Router<AppState>, metrics: &Arc<metrics::HttpMetrics>) -> Router<AppState> {
    let documents = documents.layer(tower_http::catch_panic::CatchPanicLayer::custom(panics::caught));
    observed(secured(documents), metrics, tracing::Level::DEBUG)
}

/// The security headers every answer carries, unless it set its own.
fn secured(router: Router<AppState>) -> Router<AppState> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Pages set their own policy with a per-response nonce (app::shell);
        // everything else (JSON, text, assets) gets the strictest one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
}

/// Request metrics, and a span and a log line per request at `level`.
fn observed(
    router: Router<AppState>,
    metrics: &Arc<metrics::HttpMetrics>,
    level: tracing::Level,
) -> Router<AppState> {
    router.layer(from_fn_with_state(metrics.clone(), metrics::track)).layer(
        TraceLayer::new_for_http()
            .make_span_with(move |request: &Request| {
                let route =
                    request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
                macro_rules! span {
                    ($level:expr) => {
                        tracing::span!(
                            $level,
                            "http.request",
                            http.method = %request.method(),
                            http.route = route,
                            http.path = %request.uri().path(),
                        )
                    };
                }
                if level == tracing::Level::DEBUG {
                    span!(tracing::Level::DEBUG)
                } else {
                    span!(tracing::Level::INFO)
                }
            })
            .on_response(DefaultOnResponse::new().level(level)),
    )
}
