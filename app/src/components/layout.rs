//! The frame around every page: drill banner, navigation, user menu, and the
//! page context that pages read.

use crate::components::csrf::CsrfField;
use crate::components::guard::PageContextResource;
use crate::domain::access::Area;
use crate::page_context::{ClusterSource, PageContext, SignedInUser, load_page_context};
use leptos::prelude::*;

/// Loads the page context once per page and draws the frame around `children`
/// (the routes). Pages read the same context through
/// [`WithPageContext`](crate::components::guard::WithPageContext).
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let context: PageContextResource = Resource::new(|| (), |_| load_page_context());
    provide_context(context);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                context.await.ok().map(|ctx| view! {
                    <DrillBanner source=ctx.cluster />
                    <Header ctx=ctx />
                })
            })}
        </Suspense>
        <main id="main">
            <ErrorBoundary fallback=|errors| view! { <PageError errors /> }>{children()}</ErrorBoundary>
        </main>
    }
}

#[component]
fn DrillBanner(source: ClusterSource) -> impl IntoView {
    (source == ClusterSource::Drill).then(|| {
        view! {
            <div class="drill-banner" role="status">
                <strong>"Drill cluster"</strong>
                " — Wheelhouse is showing its built-in simulated cluster, not a real one. "
                "Actions here change nothing outside Wheelhouse."
            </div>
        }
    })
}

#[component]
fn Header(ctx: PageContext) -> impl IntoView {
    let role = ctx.role();
    let links = Area::NAVIGATION
        .into_iter()
        .filter(|area| area.visible_to(role))
        .map(|area| view! { <li><a href=area.path()>{area.label()}</a></li> })
        .collect_view();
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Wheelhouse"</a>
            <nav aria-label="Main"><ul>{links}</ul></nav>
            {match ctx.user {
                Some(user) => view! { <UserMenu user /> }.into_any(),
                None => view! { <a class="sign-in" href="/login">"Sign in"</a> }.into_any(),
            }}
        </header>
    }
}

/// The signed-in user's name; a button reveals account details. Signing out is
/// a plain form, so it works with JavaScript off.
#[component]
fn UserMenu(user: SignedInUser) -> impl IntoView {
    let (open, set_open) = signal(false);
    let email = user.email.clone();
    view! {
        <div class="user-menu">
            <button
                type="button"
                class="user-menu-toggle"
                aria-expanded=move || open.get().to_string()
                aria-controls="user-menu-panel"
                on:click=move |_| set_open.update(|o| *o = !*o)
            >
                <span class="user-email">{user.email.clone()}</span>
                <span class="user-role">{user.role.as_str()}</span>
            </button>
            <div id="user-menu-panel" class="user-menu-panel" hidden=move || !open.get()>
                <p>"Signed in as " <strong>{email}</strong> " with the role " <em>{user.role.as_str()}</em> "."</p>
            </div>
            <form method="post" action="/logout" class="sign-out"><CsrfField />
                <button type="submit">"Sign out"</button>
            </form>
        </div>
    }
}

#[component]
fn PageError(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <section class="page-error" role="alert">
            <h1>"Something went wrong on this page"</h1>
            <p>"The rest of Wheelhouse still works. Reload the page, or go back to the dashboard."</p>
            <ul>
                {move || {
                    errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()
                }}
            </ul>
        </section>
    }
}
