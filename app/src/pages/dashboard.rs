//! `/` — the responders' first look: every component's status in colour and
//! words, why (on expand), since when, and whether the data is current.

use super::incidents::{SeverityBadge, update_due_text};
use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::{ConnectionIndicator, StatusBadge, since_text, status_class};
use crate::domain::health::ComponentStatus;
use crate::incidents::{IncidentList, load_incidents};
use crate::live::{ComponentTile, DashboardData, TileGroup, load_dashboard, refresh_live};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard" />
        <Guarded>
            <div class="page-head">
                <h1>"Dashboard"</h1>
                <a class="button primary" href="/incidents/new">"Declare an incident"</a>
            </div>
            <ActiveIncidents />
            <MyFollowUps />
            <super::maintenance::MaintenanceOverview links=true />
            <Board />
        </Guarded>
    }
}

/// The signed-in person's open follow-ups from past reviews.
#[component]
fn MyFollowUps() -> impl IntoView {
    let data = Resource::new(|| (), |_| crate::reviews::load_my_follow_ups());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.map(|summary| view! {
                    <super::review::FollowUpList summary heading="Your follow-ups" id="my-follow-ups" />
                })
            })}
        </Transition>
    }
}

/// The incidents under way, with overdue stakeholder updates flagged.
#[component]
fn ActiveIncidents() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_incidents(None, None, None));
    refresh_live(move || data.refetch());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { data.await.map(|list| view! { <ActiveList list /> }) })}
        </Transition>
    }
}

#[component]
fn ActiveList(list: IncidentList) -> impl IntoView {
    let now = list.now;
    if list.active.is_empty() {
        return view! { <p class="info" id="active-incidents">"No incident is under way."</p> }.into_any();
    }
    view! {
        <section class="active-incidents" id="active-incidents">
            <h2>"Incidents under way"</h2>
            <ul>
                {list.active.into_iter().map(|incident| {
                    let due = update_due_text(&incident, now);
                    view! {
                        <li data-incident=incident.id class:overdue=incident.update_overdue>
                            <SeverityBadge severity=incident.severity />" "
                            <a href=format!("/incidents/{}", incident.id)>{format!("#{} ", incident.id)}{incident.title.clone()}</a>
                            " — "{incident.status.as_str()}
                            {incident.commander.is_none().then(|| view! { " · "<strong class="no-commander">"nobody commands it yet"</strong> })}
                            {due.map(|due| view! { " · "<span class="update-due">{due}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
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
            {(tile.status != ComponentStatus::Operational).then(|| view! {
                <form method="post" action="/incidents/declare-now" class="declare-now"><CsrfField />
                    <input type="hidden" name="component" value=tile.key.to_string() />
                    <button type="submit" class="primary">"Declare now"</button>
                </form>
            })}
            <a class="declare-link" href=format!("/incidents/new?component={}", tile.key)>
                {if tile.status == ComponentStatus::Operational { "Declare an incident" } else { "Declare with details…" }}
            </a>
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
