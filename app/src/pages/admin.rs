//! `/admin` — administration: users, components, templates, playbooks.

use crate::components::guard::Guarded;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin" />
        <Guarded>
            <h1>"Administration"</h1>
            <section class="admin-help">
                <h2><a href="/admin/users">"Accounts"</a></h2>
                <p>
                    "Change roles, disable accounts and reset passwords. Add an account from the command line: "
                    <code>"wheelhouse user add --email E --role admin|responder|viewer"</code>
                    " (the password is read from standard input, or generated and printed once); "
                    <code>"wheelhouse user list|disable|enable|set-role|reset-password"</code>" do the rest there."
                </p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/components">"Components"</a></h2>
                <p>"Define the business services whose health the dashboard and the status page show."</p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/tokens">"API tokens"</a></h2>
                <p>
                    "Create and revoke the tokens automation uses for the JSON API, or from the command line: "
                    <code>"wheelhouse token create --name N --role R"</code>"."
                </p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/templates">"Update templates"</a></h2>
                <p>"Edit the stakeholder-update templates for each audience and purpose."</p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/playbooks">"Playbooks"</a></h2>
                <p>"The checklists and suggested actions the incident room offers for known kinds of trouble; edit them or add your own."</p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/alert-routing">"Alert routing"</a></h2>
                <p>"Decide which alerts declare an incident by themselves, which go to the inbox and which are kept out of sight."</p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/webhooks">"Webhooks"</a></h2>
                <p>"Send published updates to Slack or any HTTP receiver, per audience, with a delivery log."</p>
            </section>
            <section class="admin-help">
                <h2><a href="/admin/subscribers">"Subscribers"</a></h2>
                <p>"Who subscribed to the status page, by e-mail or webhook: search, remove, export as CSV."</p>
            </section>
        </Guarded>
    }
}
