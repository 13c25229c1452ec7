//! `/admin/subscribers` — who subscribed to the status page (by e-mail or webhook):
//! search, remove, export as CSV.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::calendar::date_time;
use crate::incidents::{SubscriberLine, load_subscribers};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminSubscribersPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.get().get("q").unwrap_or_default();
    let rows = Resource::new(search, load_subscribers);
    view! {
        <Title text="Subscribers" />
        <Guarded>
            <h1>"Subscribers"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading subscribers…"</p> }>
                {move || Suspend::new(async move {
                    rows.await.map(|(offered, rows)| view! { <SubscribersView offered rows search=search() /> })
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn SubscribersView(offered: bool, rows: Vec<SubscriberLine>, search: String) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let csv = format!("/admin/subscribers.csv?q={}", search.replace('&', "%26").replace('#', "%23"));
    view! {
        {feedback.filter(|f| !f.message.is_empty()).map(|f| view! { <p class="error" role="alert">{f.message}</p> })}
        {(!offered).then(|| view! {
            <p class="info" id="subscriptions-off">"The status page offers no subscriptions: start Wheelhouse with --smtp-url and --mail-from to offer them."</p>
        })}
        <form method="get" action="/admin/subscribers" class="inline">
            <label>"Address or URL contains "<input type="search" name="q" value=search /></label>" "
            <button type="submit">"Search"</button>" "<a href=csv>"Download as CSV"</a>
        </form>
        <table class="subscribers" id="subscribers">
            <thead><tr><th>"Address"</th><th>"State"</th><th>"Components"</th><th>"Subscribed"</th><th>"Confirmed"</th><th></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|row| view! {
                    <tr data-subscriber=row.id>
                        <td>
                            {row.email.clone()}
                            {row.webhook_url.clone().map(|url| view! { <br /><small class="webhook-url">"webhook: "{url}</small> })}
                        </td>
                        <td>{row.state.clone()}</td>
                        <td>{if row.components.is_empty() { "all".to_owned() } else { row.components.join(", ") }}</td>
                        <td>{date_time(row.created_at)}</td>
                        <td>{row.confirmed_at.map(date_time).unwrap_or_default()}</td>
                        <td>
                            <form method="post" action=format!("/admin/subscribers/{}/remove", row.id)><CsrfField />
                                <button type="submit">"Remove"</button>
                            </form>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
