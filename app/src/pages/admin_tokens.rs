//! `/admin/tokens` — API tokens for automation: create (shown once), list, revoke.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::clock;
use crate::domain::role::Role;
use crate::incidents::{TokenRow, load_api_tokens};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminTokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| load_api_tokens());
    view! {
        <Title text="API tokens" />
        <Guarded>
            <h1>"API tokens"</h1>
            <p class="info">
                "CI pipelines, chat bots and alert routers call the JSON API (described at "
                <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>
                ") with a token sent as " <code>"Authorization: Bearer …"</code>
                ". A token acts with its role; it holds no role on an incident, so it must name a commander when it declares one. "
                "The " <code>"alerts"</code> " role is for monitors such as Alertmanager: it may post alerts and nothing else."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                {move || Suspend::new(async move { tokens.await.map(|rows| view! { <TokensView rows /> }) })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn TokensView(rows: Vec<TokenRow>) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let field = feedback.as_ref().and_then(|f| f.field.clone()).unwrap_or_default();
    view! {
        {feedback.clone().map(|f| match f.new_token {
            Some(token) => view! {
                <div class="notice" role="status">
                    <p>{f.message}</p>
                    <pre id="new-token">{token}</pre>
                </div>
            }.into_any(),
            None => view! { <p class="error" role="alert">{f.message}</p> }.into_any(),
        })}
        <form method="post" action="/admin/tokens" class="token-form"><CsrfField />
            <label for="token-name">"Name"</label>
            <input id="token-name" name="name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+"
                aria-invalid=(field == "name").then_some("true") placeholder="ci-pipeline" />
            <label for="token-role">"Role"</label>
            <select id="token-role" name="role">
                {Role::TOKEN_ROLES.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Responder>{r.as_str()}</option> }).collect_view()}
            </select>
            <button type="submit" class="primary">"Create token"</button>
        </form>
        {if rows.is_empty() {
            view! { <p class="empty-state">"No tokens yet."</p> }.into_any()
        } else {
            view! {
                <table class="data" id="tokens">
                    <thead><tr><th>"Name"</th><th>"Role"</th><th>"Created"</th><th>"Last used"</th><th>"State"</th><th></th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|t| view! {
                            <tr data-token=t.name.clone()>
                                <td>{t.name.clone()}</td>
                                <td>{t.role.as_str()}</td>
                                <td>{format!("{} UTC by {}", clock(t.created_at), t.created_by)}</td>
                                <td>{t.last_used_at.map_or_else(|| "never".to_owned(), |at| format!("{} UTC", clock(at)))}</td>
                                <td>{if t.revoked_at.is_some() { "revoked" } else { "active" }}</td>
                                <td>{t.revoked_at.is_none().then(|| view! {
                                    <form method="post" action=format!("/admin/tokens/{}/revoke", t.id)><CsrfField />
                                        <button type="submit">"Revoke"</button>
                                    </form>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
