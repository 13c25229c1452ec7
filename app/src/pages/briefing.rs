//! `/briefing` and `/incidents/:id/briefing` — the one-screen executive
//! briefing: active incidents by severity with their customer impact (the
//! latest executive update), duration, who leads, when the next update is
//! due and the decisions taken; and the last 30 days in numbers with a small
//! SVG chart drawn on the server. Prints on one page.

use super::incidents::SeverityBadge;
use crate::components::guard::Guarded;
use crate::components::status::clock;
use crate::domain::calendar::date_of_day;
use crate::domain::uptime::DAY_MS;
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
        <Numbers recent=b.recent now />
        <Downtime downtime=b.downtime />
        <super::maintenance::MaintenanceOverview />
        <super::review::FollowUpList summary=b.follow_ups heading="Follow-ups from reviews" id="briefing-follow-ups" />
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
fn Numbers(recent: Recent, now: i64) -> impl IntoView {
    let total: usize = recent.by_severity.iter().map(|(_, n)| n).sum();
    let mean = |ms: Option<i64>| ms.map_or_else(|| "—".to_owned(), duration_text);
    let tallest = recent.per_day.iter().copied().max().unwrap_or(0).max(1);
    let days = recent.per_day.len();
    // Room on the left for the scale and below for the dates.
    let (left, bar_width, height, bottom) = (24, 10, 60, 16);
    let width = left + days * bar_width;
    let today = now.div_euclid(DAY_MS);
    let date_of = |index: usize| date_of_day(today - (days as i64 - 1 - index as i64))[5..].to_owned();
    let marks: Vec<usize> = if days == 0 { Vec::new() } else { vec![0, days / 2, days - 1] };
    view! {
        <section class="briefing-numbers" id="briefing-numbers">
            <h2>"Last 30 days"</h2>
            <dl class="facts">
                <div><dt>"Incidents declared"</dt><dd>{total}</dd></div>
                {recent.by_severity.iter().map(|(s, n)| view! { <div><dt>{s.as_str()}</dt><dd>{*n}</dd></div> }).collect_view()}
                <div><dt>"Mean time to acknowledge"</dt><dd>{mean(recent.mean_to_acknowledge)}</dd></div>
                <div><dt>"Mean time to resolve"</dt><dd>{mean(recent.mean_to_resolve)}</dd></div>
            </dl>
            <svg class="chart" viewBox=format!("0 0 {width} {}", height + bottom + 2)
                role="img" aria-label=format!("{total} incidents declared in the last 30 days, per day; at most {tallest} a day")>
                <text x=left - 4 y=8 text-anchor="end" font-size="8">{tallest.to_string()}</text>
                <text x=left - 4 y=height + 1 text-anchor="end" font-size="8">"0"</text>
                <line x1=left - 2 y1=1 x2=left - 2 y2=height + 1 stroke="#666" stroke-width="0.5" />
                <line x1=left - 2 y1=height + 1 x2=width y2=height + 1 stroke="#666" stroke-width="0.5" />
                {recent.per_day.iter().enumerate().map(|(day, n)| {
                    let h = (*n * height) / tallest;
                    view! {
                        <rect x=left + day * bar_width y=height + 1 - h width=bar_width - 2 height=h.max(1) fill="#0b5cad">
                            <title>{format!("{}: {n} incident(s)", date_of(day))}</title>
                        </rect>
                    }
                }).collect_view()}
                {marks.into_iter().map(|day| view! {
                    <text x=left + day * bar_width + bar_width / 2 y=height + bottom text-anchor="middle" font-size="8">{date_of(day)}</text>
                }).collect_view()}
            </svg>
            <table class="chart-figures visually-hidden">
                <caption>"Incidents declared per day"</caption>
                <thead><tr><th scope="col">"Day"</th><th scope="col">"Incidents declared"</th></tr></thead>
                <tbody>
                    {recent.per_day.iter().enumerate().map(|(day, n)| view! { <tr><td>{date_of(day)}</td><td>{*n}</td></tr> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// Customer-facing downtime per public component, weighted as on the status page.
#[component]
fn Downtime(downtime: Vec<crate::reviews::Downtime>) -> impl IntoView {
    if downtime.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="briefing-downtime" id="briefing-downtime">
            <h2>"Customer-facing downtime, last 30 days"</h2>
            <table>
                <thead><tr><th scope="col">"Component"</th><th scope="col">"Downtime"</th></tr></thead>
                <tbody>
                    {downtime.into_iter().map(|d| view! {
                        <tr><th scope="row">{d.name}</th><td>{if d.weighted == 0 { "none".to_owned() } else { duration_text(d.weighted) }}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="info">"A major outage counts in full, a partial outage as half, as on the status page."</p>
        </section>
    }
    .into_any()
}
