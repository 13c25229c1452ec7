//! HTTP: the axum router with the Leptos pages, the form handlers, operations
//! endpoints, and the middleware every request passes through.

pub mod api;
pub mod auth;
pub mod components_admin;
pub mod context;
pub mod metrics;
pub mod ops;
mod render;
pub mod sse;

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

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub db: Database,
    pub accounts: Accounts,
    pub components: Components,
    pub cluster: ClusterSource,
    pub metrics: Arc<metrics::HttpMetrics>,
    pub events: Arc<EventHub>,
    pub history: crate::history::History,
    /// What the live pages read, given to them through the Leptos context.
    pub live: Arc<dyn LiveBackend>,
}

impl AppState {
    /// The context every page render and server function gets.
    pub fn provide_page_services(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let live = self.live.clone();
        move || leptos::prelude::provide_context(live.clone())
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The app's routes, listed once per process. Listing them renders the app with
/// resource loading suspended through a process-global flag, and a resource
/// first polled by any request while that flag is up never resolves (leptos
/// issue 4773); listing once, before any router exists, keeps requests clear of it.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// Builds the whole router. Layers listed later wrap those listed earlier, so a
/// request meets them bottom-up: tracing, metrics, headers, compression, body
/// limit, session, page context, access check, then the route.
pub fn router(
    state: AppState,
    sessions: SessionManagerLayer<crate::session_store::SqlSessionStore>,
) -> Router {
    let routes = ROUTES.clone();
    let leptos = state.leptos.clone();
    let services = state.provide_page_services();
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup", post(auth::setup))
        .route("/admin/components", post(components_admin::create))
        .route("/admin/components/{id}", post(components_admin::update))
        .route("/admin/components/{id}/delete", post(components_admin::delete))
        .route("/api/v1/events", get(sse::events))
        .route("/api/v1/components", get(api::components))
        .route("/api/v1/components/{kind}/{name}/uptime", get(api::uptime))
        .leptos_routes_with_context(&state, routes, services, move || shell(leptos.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn(context::enforce_access))
        .layer(from_fn_with_state(state.clone(), context::attach_page_context))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
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
        .layer(from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route =
                        request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!(
                        "http.request",
                        http.method = %request.method(),
                        http.route = route,
                        http.path = %request.uri().path(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}
