//! `/alerts` — the alert inbox: firing and recently resolved alerts, grouped
//! as Alertmanager grouped them, newest first, live. From here a responder
//! acknowledges, silences for a while, declares an incident (prefilled) or
//! attaches to one under way. Every action is a plain form post.

use crate::alerts::{AlertGroupView, AlertInbox, AlertView, OpenIncident, load_alert_inbox};
use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::clock;
use crate::domain::alert::{AlertSeverity, AlertStatus};
use crate::incidents::duration_text;
use crate::live::refresh_live;
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.get();
        (q.get("include_kept").is_some(), q.get("include_silenced").is_some(), q.get("before"))
    };
    let data = Resource::new(filter, |(kept, silenced, before)| load_alert_inbox(kept, silenced, before));
    refresh_live(move || data.refetch());
    view! {
        <Title text="Alerts" />
        <Guarded>
            <div class="page-head">
                <h1>"Alerts"</h1>
            </div>
            <p class="info">
                "Alerts from Alertmanager, other monitors and Wheelhouse's own detections. "
                "The routing policy ("<a href="/admin/alert-routing">"admin"</a>") decides which open an incident by themselves."
            </p>
            <Feedback />
            <Transition fallback=|| view! { <p class="loading">"Loading alerts…"</p> }>
                {move || Suspend::new(async move { data.await.map(|inbox| view! { <Inbox inbox /> }) })}
            </Transition>
        </Guarded>
    }
}

#[component]
fn Feedback() -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    feedback.map(|f| view! { <p class="error" role="alert">{f.message}</p> })
}

#[component]
fn Inbox(inbox: AlertInbox) -> impl IntoView {
    let now = inbox.now;
    let toggles = view! {
        <form method="get" action="/alerts" class="filters">
            <label class="choice">
                <input type="checkbox" name="include_kept" value="1" checked=inbox.include_kept />
                "Show alerts kept out of sight (info)"
            </label>
            <label class="choice">
                <input type="checkbox" name="include_silenced" value="1" checked=inbox.include_silenced />
                "Show silenced alerts"
            </label>
            <button type="submit">"Apply"</button>
        </form>
    };
    let older = inbox.older.clone().map(|cursor| {
        let mut href = format!("/alerts?before={cursor}");
        if inbox.include_kept {
            href.push_str("&include_kept=1");
        }
        if inbox.include_silenced {
            href.push_str("&include_silenced=1");
        }
        view! { <p><a id="older-alerts" href=href>"Older alerts"</a></p> }
    });
    let under_way = inbox.under_way;
    let body = if inbox.groups.is_empty() {
        view! { <p class="empty-state" id="no-alerts">"No alert is firing, and none resolved in the last hour."</p> }
            .into_any()
    } else {
        inbox
            .groups
            .into_iter()
            .map(|group| view! { <Group group under_way=under_way.clone() now /> })
            .collect_view()
            .into_any()
    };
    view! { {toggles} <div id="alert-inbox">{body}</div> {older} }
}

#[component]
fn Group(group: AlertGroupView, under_way: Vec<OpenIncident>, now: i64) -> impl IntoView {
    let firing: Vec<String> =
        group.alerts.iter().filter(|a| a.status == AlertStatus::Firing).map(|a| a.id.to_string()).collect();
    let declare_all = (firing.len() > 1).then(|| {
        view! {
            <a class="button" href=format!("/incidents/new?alerts={}", firing.join(","))>
                {format!("Declare from these {} alerts", firing.len())}
            </a>
        }
    });
    let truncated = group.truncated_alerts;
    view! {
        <section class="alert-group" data-group=group.key.clone().unwrap_or_default()>
            <header class="page-head">
                <h2>{group.title}</h2>
                {declare_all}
            </header>
            {group.receiver.map(|r| view! { <p class="info">"Receiver: "{r}</p> })}
            {(truncated > 0).then(|| view! {
                <p class="warning truncated" role="status">
                    {format!("Alertmanager left {truncated} alerts of this group out of its last delivery (max_alerts); they are not shown here.")}
                </p>
            })}
            <ul class="alerts">
                {group.alerts.into_iter().map(|alert| view! { <Alert alert under_way=under_way.clone() now /> }).collect_view()}
            </ul>
        </section>
    }
}

fn severity_class(severity: AlertSeverity) -> &'static str {
    match severity {
        AlertSeverity::Critical => "badge alert-critical",
        AlertSeverity::Warning => "badge alert-warning",
        AlertSeverity::Info => "badge alert-info",
    }
}

#[component]
fn Alert(alert: AlertView, under_way: Vec<OpenIncident>, now: i64) -> impl IntoView {
    let id = alert.id;
    let firing = alert.status == AlertStatus::Firing;
    let status_text = match alert.resolved_at {
        Some(at) if !firing => format!("resolved {} ago", duration_text(now - at)),
        _ => format!("firing for {}", duration_text(now - alert.first_seen)),
    };
    let component = match (&alert.component, &alert.component_key) {
        (Some(name), _) => view! { <span class="component">{name.clone()}</span> }.into_any(),
        _ => view! { <span class="component unmapped">"unmapped"</span> }.into_any(),
    };
    let route = match (alert.route.as_str(), alert.incident) {
        ("declared", Some(incident)) => view! { <span>"Opened "<a href=format!("/incidents/{incident}")>{format!("incident #{incident}")}</a></span> }.into_any(),
        (_, Some(incident)) => view! { <span>"Attached to "<a href=format!("/incidents/{incident}")>{format!("incident #{incident}")}</a></span> }.into_any(),
        ("kept", None) => view! { <span>"Kept out of sight by the policy"</span> }.into_any(),
        _ => view! { <span>"In the inbox"</span> }.into_any(),
    };
    let declare_href = format!("/incidents/new?alerts={id}");
    let acknowledged = alert.acknowledged_by.clone().map(|by| {
        let at = alert.acknowledged_at.map(clock).unwrap_or_default();
        view! { <span class="acknowledged">{format!("Acknowledged by {by} at {at} UTC")}</span> }
    });
    let silenced = alert.silenced_until.map(|until| {
        let by = alert.silenced_by.clone().unwrap_or_default();
        let reason = alert.silence_reason.clone().unwrap_or_default();
        view! { <span class="silenced">{format!("Silenced until {} UTC by {by}: {reason}", clock(until))}</span> }
    });
    let attachable: Vec<OpenIncident> =
        under_way.into_iter().filter(|i| Some(i.id) != alert.incident).collect();
    view! {
        <li id=format!("alert-{id}") class="alert" data-alert=id data-status=if firing { "firing" } else { "resolved" }>
            <div class="alert-head">
                <span class=severity_class(alert.severity)>{alert.severity.as_str()}</span>" "
                <strong class="alert-name">{alert.name.clone()}</strong>" · "
                {component}" · "
                <span class="alert-status">{status_text}</span>
                {(alert.flap_count > 0).then(|| view! { " · "<span class="flaps">{format!("flapped {} times", alert.flap_count)}</span> })}
            </div>
            {alert.summary.clone().map(|s| view! { <p class="summary">{s}</p> })}
            {alert.description.clone().map(|d| view! { <p class="description">{d}</p> })}
            <p class="labels"><small>{alert.labels.join(", ")}</small></p>
            <p class="meta">
                {route}" · "
                {format!("first seen {} UTC, last seen {} UTC", clock(alert.first_seen), clock(alert.last_seen))}
                {alert.runbook_url.clone().map(|url| view! { " · "<a href=url rel="noopener noreferrer">"Runbook"</a> })}
                {alert.source_url.clone().map(|url| view! { " · "<a href=url rel="noopener noreferrer">"Source"</a> })}
                {format!(" · from {}", alert.source)}
            </p>
            <p class="meta">{acknowledged}{silenced}</p>
            <div class="alert-actions">
                {(alert.acknowledged_by.is_none()).then(|| view! {
                    <form method="post" action=format!("/alerts/{id}/acknowledge")><CsrfField />
                        <button type="submit">"Acknowledge"</button>
                    </form>
                })}
                {(firing && alert.incident.is_none()).then(|| view! {
                    <form method="post" action="/incidents/declare-now" class="inline"><CsrfField />
                        <input type="hidden" name="alerts" value=id.to_string() />
                        <button type="submit" class="primary">"Declare now"</button>
                    </form>
                    <a class="button" href=declare_href>"Declare with details…"</a>
                })}
                {(firing && !attachable.is_empty()).then(|| view! {
                    <form method="post" action=format!("/alerts/{id}/attach") class="inline"><CsrfField />
                        <label for=format!("attach-{id}")>"Attach to"</label>
                        <select id=format!("attach-{id}") name="incident">
                            {attachable.into_iter().map(|i| view! { <option value=i.id>{format!("#{} {}", i.id, i.title)}</option> }).collect_view()}
                        </select>
                        <button type="submit">"Attach"</button>
                    </form>
                })}
                <details class="silence">
                    <summary>"Silence…"</summary>
                    <form method="post" action=format!("/alerts/{id}/silence") class="inline"><CsrfField />
                        <label for=format!("minutes-{id}")>"For"</label>
                        <select id=format!("minutes-{id}") name="minutes">
                            <option value="30">"30 minutes"</option>
                            <option value="60" selected>"1 hour"</option>
                            <option value="240">"4 hours"</option>
                            <option value="1440">"1 day"</option>
                        </select>
                        <label for=format!("reason-{id}")>"Why"</label>
                        <input id=format!("reason-{id}") name="reason" required maxlength="500" placeholder="Known issue, fix deploying" />
                        <button type="submit">"Silence"</button>
                    </form>
                </details>
            </div>
        </li>
    }
}
