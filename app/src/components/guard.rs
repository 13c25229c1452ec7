//! Gives pages the [`PageContext`] and shows a page only to those who may open
//! it. The server enforces the same rule (redirect to sign-in, or 403); this
//! keeps the page honest about it.

use crate::domain::access::{Access, access_for};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The page context, loaded once per page by the layout.
pub type PageContextResource = Resource<Result<PageContext, ServerFnError>>;

/// Waits for the page context, provides it to `children`, and renders them.
/// A context that cannot be loaded becomes an error for the page's error boundary.
#[component]
pub fn WithPageContext(children: ChildrenFn) -> impl IntoView {
    let context = expect_context::<PageContextResource>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                context.await.map(|ctx| {
                    provide_context(ctx);
                    children.read_value()()
                })
            })}
        </Suspense>
    }
}

/// Like [`WithPageContext`], for pages that need a role (see [`access_for`]).
#[component]
pub fn Guarded(children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <WithPageContext>
            {move || {
                let ctx = expect_context::<PageContext>();
                let path = use_location().pathname.get_untracked();
                match access_for(&path, ctx.role()) {
                    Access::Allowed => children.read_value()().into_any(),
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
            }}
        </WithPageContext>
    }
}
