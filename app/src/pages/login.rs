//! `/login` — a plain form posted to the server, so it works with JavaScript off.

use crate::components::csrf::CsrfField;
use crate::components::guard::WithPageContext;
use crate::domain::access::safe_return_path;
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    view! { <WithPageContext><LoginForm /></WithPageContext> }
}

#[component]
fn LoginForm() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let next = use_query_map().with_untracked(|q| safe_return_path(q.get("next").as_deref()).to_owned());
    let email = ctx.feedback.as_ref().and_then(|f| f.email.clone()).unwrap_or_default();
    let message = ctx.feedback.map(|f| f.message);
    view! {
        <Title text="Sign in" />
        <section class="auth-form">
            <h1>"Sign in to Wheelhouse"</h1>
            {ctx.user.map(|u| view! { <p class="info">"You are signed in as " {u.email} "."</p> })}
            {message.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <form method="post" action="/login"><CsrfField />
                <input type="hidden" name="next" value=next />
                <label>"E-mail" <input type="email" name="email" autocomplete="username" required value=email /></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
