//! The Wheelhouse web application: pages, components, server functions and the
//! domain. Built with `ssr` into the server and with `hydrate` into the browser bundle.

// Deep view trees (the cluster page's tables) need more than the default 128.
#![recursion_limit = "256"]

pub mod alerts;
pub mod components;
/// The domain rules, a crate of their own (`app/domain`) so that they stay pure.
pub use domain;
pub mod incidents;
pub mod live;
pub mod maintenance;
pub mod page_context;
pub mod pages;
pub mod reviews;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use components::layout::Layout;
use pages::{
    admin::AdminPage,
    admin_alert_routing::AdminAlertRoutingPage,
    admin_components::AdminComponentsPage,
    admin_playbooks::AdminPlaybooksPage,
    admin_subscribers::AdminSubscribersPage,
    admin_templates::AdminTemplatesPage,
    admin_tokens::AdminTokensPage,
    admin_users::AdminUsersPage,
    admin_webhooks::AdminWebhooksPage,
    alerts::AlertsPage,
    briefing::{BriefingPage, IncidentBriefingPage},
    cluster::ClusterPage,
    dashboard::DashboardPage,
    incident_room::IncidentRoomPage,
    incidents::{DeclarePage, IncidentsPage},
    insights::InsightsPage,
    login::LoginPage,
    maintenance::{MaintenancePage, MaintenanceWindowPage},
    not_found::NotFound,
    review::ReviewPageView,
    setup::SetupPage,
};

/// The name the wasm bundle and stylesheet are published under in `/pkg`.
pub const OUTPUT_NAME: &str = "wheelhouse";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Allows our own scripts (the hydration loader carries this response's nonce),
/// WebAssembly compilation, and nothing from other origins.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce().map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// The application: the layout around every route. Every route renders
/// completely on the server before it is sent (`SsrMode::Async`), so each page
/// reads fully with JavaScript off.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let css = format!("/pkg/{OUTPUT_NAME}.css");
    view! {
        <Stylesheet id="wheelhouse" href=css />
        <Title formatter=|page: String| {
            if page.is_empty() { "Wheelhouse".to_owned() } else { format!("{page} · Wheelhouse") }
        } />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("incidents") view=IncidentsPage ssr=SsrMode::Async />
                    <Route path=path!("alerts") view=AlertsPage ssr=SsrMode::Async />
                    <Route path=path!("incidents/new") view=DeclarePage ssr=SsrMode::Async />
                    <Route path=path!("incidents/:id/briefing") view=IncidentBriefingPage ssr=SsrMode::Async />
                    <Route path=path!("incidents/:id/review") view=ReviewPageView ssr=SsrMode::Async />
                    <Route path=path!("incidents/:id") view=IncidentRoomPage ssr=SsrMode::Async />
                    <Route path=path!("cluster") view=ClusterPage ssr=SsrMode::Async />
                    <Route path=path!("maintenance") view=MaintenancePage ssr=SsrMode::Async />
                    <Route path=path!("maintenance/:id") view=MaintenanceWindowPage ssr=SsrMode::Async />
                    <Route path=path!("briefing") view=BriefingPage ssr=SsrMode::Async />
                    <Route path=path!("insights") view=InsightsPage ssr=SsrMode::Async />
                    <Route path=path!("admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("admin/components") view=AdminComponentsPage ssr=SsrMode::Async />
                    <Route path=path!("admin/tokens") view=AdminTokensPage ssr=SsrMode::Async />
                    <Route path=path!("admin/users") view=AdminUsersPage ssr=SsrMode::Async />
                    <Route path=path!("admin/templates") view=AdminTemplatesPage ssr=SsrMode::Async />
                    <Route path=path!("admin/playbooks") view=AdminPlaybooksPage ssr=SsrMode::Async />
                    <Route path=path!("admin/webhooks") view=AdminWebhooksPage ssr=SsrMode::Async />
                    <Route path=path!("admin/subscribers") view=AdminSubscribersPage ssr=SsrMode::Async />
                    <Route path=path!("admin/alert-routing") view=AdminAlertRoutingPage ssr=SsrMode::Async />
                    <Route path=path!("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("setup") view=SetupPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
