//! `/status` — the public status page. Shows public data only.

use super::NotYetAvailable;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StatusPage() -> impl IntoView {
    view! {
        <Title text="Status" />
        <h1>"System status"</h1>
        <NotYetAvailable
            heading="No public components yet"
            what="No component has been published on this status page yet."
        />
    }
}
