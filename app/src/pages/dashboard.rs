//! `/` — the responders' first look: every component's status in colour and
//! words, why (on expand), since when, and whether the data is current.

use super::NotYetAvailable;
use crate::components::guard::Guarded;
use crate::components::status::{ConnectionIndicator, StatusBadge, since_text, status_class};
use crate::live::{ComponentTile, DashboardData, TileGroup, load_dashboard, refresh_live};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <Guarded>
            <h1>"Dashboard"</h1>
            <Board />
            <NotYetAvailable
                heading="No incidents"
                what="Incident command is not part of this version yet; no incident can be declared here."
            />
        </Guarded>
    }
}

#[component]
fn Board() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_dashboard());
    refresh_live(move || data.refetch());
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading component health…"</p> }>
            {move || Suspend::new(async move { data.await.map(|data| view! { <BoardView data /> }) })}
        </Transition>
    }
}

#[component]
fn BoardView(data: DashboardData) -> impl IntoView {
    let now = data.link.now;
    let stale = data.link.is_stale();
    let body = if data.evaluated {
        data.groups.into_iter().map(|group| view! { <Group group now /> }).collect_view().into_any()
    } else {
        view! {
            <section class="empty-state">
                <h2>"Waiting for the cluster"</h2>
                <p>"Wheelhouse has not finished reading the cluster yet, so no status is shown rather than a guess."</p>
            </section>
        }
        .into_any()
    };
    view! {
        <ConnectionIndicator link=data.link />
        <div class="board" class:stale=stale>{body}</div>
    }
}

#[component]
fn Group(group: TileGroup, now: i64) -> impl IntoView {
    let hidden = group.operational_hidden;
    view! {
        <section class="tile-group">
            <h2>{group.name}</h2>
            <div class="tiles">
                {group.tiles.into_iter().map(|tile| view! { <Tile tile now /> }).collect_view()}
            </div>
            {(hidden > 0).then(|| view! { <p class="info">{format!("{hidden} more operational, not listed.")}</p> })}
        </section>
    }
}

#[component]
fn Tile(tile: ComponentTile, now: i64) -> impl IntoView {
    let reasons = tile.reasons.len();
    view! {
        <article class=format!("tile {}", status_class(tile.status)) data-component=tile.key.to_string()>
            <header>
                <h3>{tile.name}</h3>
                <StatusBadge status=tile.status />
            </header>
            <p class="since">{since_text(tile.since, now)}</p>
            {(!tile.description.is_empty()).then(|| view! { <p class="description">{tile.description}</p> })}
            {(reasons > 0).then(|| view! {
                <details>
                    <summary>{if reasons == 1 { "Why: 1 reason".to_owned() } else { format!("Why: {reasons} reasons") }}</summary>
                    <ul class="reasons">
                        {tile.reasons.into_iter().map(|r| view! {
                            <li><strong>{r.subject}</strong>": "{r.detail}</li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </article>
    }
}
