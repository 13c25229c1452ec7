//! `/setup` — creates the first administrator with the one-time token that the
//! server logged at its first start. Refuses once any account exists.

use crate::components::csrf::CsrfField;
use crate::components::guard::WithPageContext;
use crate::domain::account::NewPassword;
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SetupPage() -> impl IntoView {
    view! { <WithPageContext><SetupForm /></WithPageContext> }
}

#[component]
fn SetupForm() -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let token = use_query_map().with_untracked(|q| q.get("token").unwrap_or_default());
    let email = ctx.feedback.as_ref().and_then(|f| f.email.clone()).unwrap_or_default();
    let message = ctx.feedback.map(|f| f.message);
    let body = if ctx.setup_open {
        view! {
            <p>"Create the first administrator account. The setup token was printed in the server log at start-up."</p>
            {message.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <form method="post" action="/setup"><CsrfField />
                <label>"Setup token" <input type="text" name="token" required value=token autocomplete="off" /></label>
                <label>"E-mail" <input type="email" name="email" autocomplete="username" required value=email /></label>
                <label>
                    {format!("Password (at least {} characters)", NewPassword::MIN_LEN)}
                    <input type="password" name="password" autocomplete="new-password" required minlength=NewPassword::MIN_LEN />
                </label>
                <label>"Password again" <input type="password" name="password_again" autocomplete="new-password" required /></label>
                <button type="submit">"Create administrator"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <p class="info">"Setup is complete: an account already exists. " <a href="/login">"Sign in"</a> " instead."</p>
        }
        .into_any()
    };
    view! {
        <Title text="Setup" />
        <section class="auth-form">
            <h1>"Set up Wheelhouse"</h1>
            {body}
        </section>
    }
}
