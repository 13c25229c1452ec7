//! `/` — the responders' first look: component health and open incidents.

use super::NotYetAvailable;
use crate::components::guard::Guarded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <Guarded>
            <h1>"Dashboard"</h1>
            <NotYetAvailable
                heading="No component health yet"
                what="This version of Wheelhouse does not watch the cluster yet, so there is no component health to show. Live health per component arrives with the cluster watch."
            />
            <NotYetAvailable
                heading="No incidents"
                what="Incident command is not part of this version yet; no incident can be declared here."
            />
        </Guarded>
    }
}
