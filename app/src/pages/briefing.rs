//! `/briefing` — the one-screen executive briefing.

use super::NotYetAvailable;
use crate::components::guard::Guarded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BriefingPage() -> impl IntoView {
    view! {
        <Title text="Briefing" />
        <Guarded>
            <h1>"Executive briefing"</h1>
            <NotYetAvailable
                heading="No active incidents to brief"
                what="Incident command is not part of this version yet, so there is nothing to brief on."
            />
        </Guarded>
    }
}
