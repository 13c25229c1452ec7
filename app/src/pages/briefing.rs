//! `/briefing` and `/incidents/:id/briefing` — the one-screen executive
//! briefing: active incidents by severity with their customer impact (the
//! latest executive update), duration, who leads, when the next update is
//! due and the decisions taken; and the last 30 days in numbers with a small
//! SVG chart drawn on the server. Prints on one page.

use super::incidents::SeverityBadge;
use crate::components::guard::Guarded;
use crate::components::status::clock;
use crate::incidents::{Briefing, BriefingIncident, Recent, duration_text, load_briefing};
use crate::live::refresh_live;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BriefingPage() -> impl IntoView {
    view! { <BriefingFor only=None /> }
}

#[component]
pub fn IncidentBriefingPage() -> impl IntoView {
    let params = use_params_map();
    let only = params.get_untracked().get("id").and_then(|id| id.parse::<i64>().ok());
    view! { <BriefingFor only=Some(only.unwrap_or(0)) /> }
}

#[component]
fn BriefingFor(only: Option<i64>) -> impl IntoView {
    let data = Resource::new(move || only, load_briefing);
    refresh_live(move || data.refetch());
    view! {
        <Title text="Briefing" />
        <Guarded>
            <div class="briefing">
                <h1>"Executive briefing"</h1>
                <Transition fallback=|| view! { <p class="loading">"Loading the briefing…"</p> }>
                    {move || Suspend::new(async move { data.await.map(|b| view! { <BriefingView b /> }) })}
                </Transition>
            </div>
        </Guarded>
    }
}

#[component]
fn BriefingView(b: Briefing) -> impl IntoView {
    let now = b.now;
    let mut active = b.active;
    active.sort_by_key(|i| (i.severity, i.declared_at));
    view! {
        <section id="briefing-active">
            {if active.is_empty() {
                view! { <p class="banner status-operational"><strong>"No incident is under way."</strong></p> }.into_any()
            } else {
                active.into_iter().map(|i| view! { <Card i now /> }).collect_view().into_any()
            }}
        </section>
        <Numbers recent=b.recent />
        <p class="info">{format!("As of {} UTC.", clock(now))}</p>
    }
}

#[component]
fn Card(i: BriefingIncident, now: i64) -> impl IntoView {
    let due = i.next_update_due.map(|due| {
        if i.update_overdue {
            format!("Update overdue since {} UTC", clock(due))
        } else {
            format!("Next update {} UTC", clock(due))
        }
    });
    view! {
        <article class="briefing-card" data-incident=i.id>
            <h2><SeverityBadge severity=i.severity />" "{i.title}</h2>
            <p class="impact">
                <strong>"Customer impact: "</strong>
                {i.impact.unwrap_or_else(|| "not yet described in an executive update.".to_owned())}
            </p>
            <p>
                {format!("{} for {}", i.status.as_str(), duration_text(now - i.declared_at))}
                " · Commander: "{i.commander.unwrap_or_else(|| "—".into())}
                " · Communications: "{i.communications_lead.unwrap_or_else(|| "—".into())}
            </p>
            {due.map(|d| view! { <p class:overdue=i.update_overdue>{d}</p> })}
            {(!i.decisions.is_empty()).then(|| view! {
                <div class="decisions">
                    <strong>"Decisions"</strong>
                    <ul>{i.decisions.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
                </div>
            })}
        </article>
    }
}

#[component]
fn Numbers(recent: Recent) -> impl IntoView {
    let total: usize = recent.by_severity.iter().map(|(_, n)| n).sum();
    let mean = |ms: Option<i64>| ms.map_or_else(|| "—".to_owned(), duration_text);
    let tallest = recent.per_day.iter().copied().max().unwrap_or(0).max(1);
    let bar_width = 8;
    let height = 40;
    view! {
        <section class="briefing-numbers" id="briefing-numbers">
            <h2>"Last 30 days"</h2>
            <dl class="facts">
                <div><dt>"Incidents declared"</dt><dd>{total}</dd></div>
                {recent.by_severity.iter().map(|(s, n)| view! { <div><dt>{s.as_str()}</dt><dd>{*n}</dd></div> }).collect_view()}
                <div><dt>"Mean time to acknowledge"</dt><dd>{mean(recent.mean_to_acknowledge)}</dd></div>
                <div><dt>"Mean time to resolve"</dt><dd>{mean(recent.mean_to_resolve)}</dd></div>
            </dl>
            <svg class="chart" viewBox=format!("0 0 {} {}", recent.per_day.len() * bar_width, height + 2)
                role="img" aria-label=format!("{total} incidents declared in the last 30 days, per day")>
                {recent.per_day.iter().enumerate().map(|(day, n)| {
                    let h = (*n * height) / tallest;
                    view! {
                        <rect x=day * bar_width y=height + 1 - h width=bar_width - 2 height=h.max(1) fill="#0b5cad">
                            <title>{format!("{n} incident(s), {} days ago", recent.per_day.len() - 1 - day)}</title>
                        </rect>
                    }
                }).collect_view()}
            </svg>
        </section>
    }
}
