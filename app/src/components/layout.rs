//! The frame around every page: drill banner, navigation, user menu.

use crate::domain::access::Area;
use crate::page_context::{ClusterSource, PageContext, SignedInUser, load_page_context};
use leptos::prelude::*;

/// Loads the page context once, provides it to the pages, and draws the frame.
#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    let context = Resource::new(|| (), |_| load_page_context());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match context.await {
                    Ok(ctx) => {
                        provide_context(ctx.clone());
                        view! {
                            <DrillBanner source=ctx.cluster />
                            <Header ctx=ctx />
                            <main id="main">
                                <ErrorBoundary fallback=|errors| view! { <PageError errors /> }>
                                    {children.read_value()()}
                                </ErrorBoundary>
                            </main>
                        }
                            .into_any()
                    }
                    Err(err) => view! { <ContextUnavailable message=err.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
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
            <form method="post" action="/logout" class="sign-out">
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

#[component]
fn ContextUnavailable(message: String) -> impl IntoView {
    view! {
        <main id="main">
            <section class="page-error" role="alert">
                <h1>"Wheelhouse could not load this page"</h1>
                <p>"Reload the page. If this keeps happening, the server log says why."</p>
                <p class="detail">{message}</p>
            </section>
        </main>
    }
}
