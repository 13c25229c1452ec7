//! Shows a page only to those who may open it. The server enforces the same rule
//! (redirect to sign-in, or 403); this keeps the page honest about it.

use crate::domain::access::{Access, access_for};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Guarded(children: ChildrenFn) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let path = use_location().pathname.get_untracked();
    match access_for(&path, ctx.role()) {
        Access::Allowed => children().into_any(),
        Access::SignInRequired => view! {
            <section class="notice">
                <h1>"Sign in to continue"</h1>
                <p><a href=format!("/login?next={path}")>"Sign in"</a> " to open this page."</p>
            </section>
        }
        .into_any(),
        Access::Forbidden { required } => view! {
            <section class="notice" role="alert">
                <h1>"You don't have access to this page"</h1>
                <p>
                    "This page needs the role " <strong>{required.as_str()}</strong>
                    " or higher. Ask an administrator if you need it."
                </p>
            </section>
        }
        .into_any(),
    }
}
