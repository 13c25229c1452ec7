//! HTTP: the axum router with the Leptos pages, the form handlers, operations
//! endpoints, and the middleware every request passes through.

pub mod auth;
pub mod context;
pub mod metrics;
pub mod ops;
mod render;

use crate::accounts::Accounts;
use crate::db::Database;
use app::page_context::ClusterSource;
use app::{App, shell};
use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use http::{HeaderValue, header};
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::SessionManagerLayer;

/// Largest request body accepted. Forms are small; nothing here uploads files.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What every handler may use.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub db: Database,
    pub accounts: Accounts,
    pub cluster: ClusterSource,
    pub metrics: Arc<metrics::HttpMetrics>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Builds the whole router. Layers listed later wrap those listed earlier, so a
/// request meets them bottom-up: tracing, metrics, headers, compression, body
/// limit, session, page context, access check, then the route.
pub fn router(
    state: AppState,
    sessions: SessionManagerLayer<crate::session_store::SqlSessionStore>,
) -> Router {
    let routes = generate_route_list(App);
    let leptos = state.leptos.clone();
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup", post(auth::setup))
        .leptos_routes(&state, routes, move || shell(leptos.clone()))
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
