//! `/incidents` — active and resolved incidents.

use super::NotYetAvailable;
use crate::components::guard::Guarded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn IncidentsPage() -> impl IntoView {
    view! {
        <Title text="Incidents" />
        <Guarded>
            <h1>"Incidents"</h1>
            <NotYetAvailable
                heading="No incidents recorded"
                what="Declaring and running incidents is not part of this version yet."
            />
        </Guarded>
    }
}
