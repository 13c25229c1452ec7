//! `/admin/webhooks` — where published updates are sent, per audience, and
//! the latest delivery attempts of each receiver.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::update::Audience;
use crate::incidents::{WebhookRow, load_webhooks};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminWebhooksPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| load_webhooks());
    view! {
        <Title text="Webhooks" />
        <Guarded>
            <h1>"Webhooks"</h1>
            <p class="info">
                "Each published update is sent to the webhooks of its audience: a Slack-compatible "
                <code>"{\"text\": …}"</code>" or a generic JSON body. Failed deliveries are retried with back-off "
                "and every attempt is logged; a failing receiver never holds up publishing."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading webhooks…"</p> }>
                {move || Suspend::new(async move { rows.await.map(|rows| view! { <WebhooksView rows /> }) })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn WebhooksView(rows: Vec<WebhookRow>) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let typed = feedback.as_ref().and_then(|f| f.template.clone()).unwrap_or_default();
    view! {
        {feedback.clone().map(|f| view! { <p class="error" role="alert">{f.message}</p> })}
        <form method="post" action="/admin/webhooks" class="token-form"><CsrfField />
            <label for="hook-audience">"Audience"</label>
            <select id="hook-audience" name="audience">
                {Audience::ALL.into_iter().map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> }).collect_view()}
            </select>
            <label for="hook-format">"Format"</label>
            <select id="hook-format" name="format">
                <option value="slack">"Slack-compatible"</option>
                <option value="generic">"Generic JSON"</option>
            </select>
            <label for="hook-url">"URL"</label>
            <input id="hook-url" name="url" type="url" required value=typed />
            <button type="submit" class="primary">"Add webhook"</button>
        </form>
        {if rows.is_empty() {
            view! { <p class="empty-state">"No webhooks yet."</p> }.into_any()
        } else {
            view! {
                <ul class="action-list" id="webhooks">
                    {rows.into_iter().map(|w| view! {
                        <li data-webhook=w.id>
                            <p><strong>{w.audience.as_str()}</strong>" · "{w.format.clone()}" · "<code>{w.url.clone()}</code></p>
                            <p class="info">"Signing secret: "<code class="webhook-secret">{w.secret.clone()}</code>
                                " — each delivery carries "<code>"X-Wheelhouse-Delivery"</code>" (the same on every attempt) and "
                                <code>"X-Wheelhouse-Signature: t=…,v1=…"</code>", the HMAC-SHA256 of the timestamp, a dot and the body."</p>
                            <form method="post" action=format!("/admin/webhooks/{}/delete", w.id)><CsrfField /><button type="submit">"Remove"</button></form>
                            {(!w.deliveries.is_empty()).then(|| view! {
                                <ul class="progress">{w.deliveries.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}
