//! One module per route.

pub mod admin;
pub mod admin_alert_routing;
pub mod admin_components;
pub mod admin_playbooks;
pub mod admin_subscribers;
pub mod admin_templates;
pub mod admin_tokens;
pub mod admin_users;
pub mod admin_webhooks;
pub mod alerts;
pub mod briefing;
pub mod cluster;
pub mod dashboard;
pub mod incident_room;
pub mod incidents;
pub mod insights;
pub mod login;
pub mod maintenance;
pub mod not_found;
pub mod review;
pub mod setup;

use leptos::prelude::*;

/// What a page shows while the feature behind it is not built yet: says so
/// plainly instead of showing made-up data.
#[component]
fn NotYetAvailable(heading: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{heading}</h2>
            <p>{what}</p>
        </section>
    }
}
