//! `/incidents` — active and resolved incidents, filtered by severity and
//! status (in the URL), worst severity first then oldest; and
//! `/incidents/new` — the declaration form, with each severity's definition.

use crate::alerts::load_alert_declaration;
use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::clock;
use crate::domain::incident::{Category, DeclarationForm, PublicStatus, Severity};
use crate::incidents::{
    ComponentChoice, IncidentList, IncidentQuery, IncidentView, duration_text, load_component_choices,
    load_incidents,
};
use crate::live::refresh_live;
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn IncidentsPage() -> impl IntoView {
    view! {
        <Title text="Incidents" />
        <Guarded>
            <div class="page-head">
                <h1>"Incidents"</h1>
                <a class="button primary" href="/incidents/new">"Declare an incident"</a>
            </div>
            <IncidentLists />
        </Guarded>
    }
}

#[component]
fn IncidentLists() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.get();
        IncidentQuery {
            severity: q.get("severity").and_then(|s| Severity::parse(&s).ok()),
            status: q.get("status").and_then(|s| PublicStatus::parse(&s).ok()),
            resolved_before: q.get("resolved_before").filter(|c| !c.is_empty()),
        }
    };
    let data = Resource::new(filter, |q| load_incidents(q.severity, q.status, q.resolved_before));
    refresh_live(move || data.refetch());
    view! {
        <Filters query=filter() />
        <Transition fallback=|| view! { <p class="loading">"Loading incidents…"</p> }>
            {move || Suspend::new(async move {
                let query = filter();
                data.await.map(|list| view! { <Lists list query /> })
            })}
        </Transition>
    }
}

#[component]
fn Filters(query: IncidentQuery) -> impl IntoView {
    view! {
        <form class="filters" method="get" action="/incidents">
            <label>"Severity "
                <select name="severity">
                    <option value="">"Any"</option>
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=query.severity == Some(s)>{s.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Status "
                <select name="status">
                    <option value="">"Any"</option>
                    {PublicStatus::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=query.status == Some(*s)>{s.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </form>
    }
}

/// This page with the same filters, its resolved list starting at `resolved_before`.
fn incidents_link(query: &IncidentQuery, resolved_before: Option<&str>) -> String {
    let mut params = Vec::new();
    if let Some(severity) = query.severity {
        params.push(format!("severity={}", severity.as_str()));
    }
    if let Some(status) = query.status {
        params.push(format!("status={}", status.as_str()));
    }
    if let Some(cursor) = resolved_before {
        // Cursors are digits and a dot: nothing to escape.
        params.push(format!("resolved_before={cursor}"));
    }
    if params.is_empty() { "/incidents".to_owned() } else { format!("/incidents?{}", params.join("&")) }
}

#[component]
fn Lists(list: IncidentList, query: IncidentQuery) -> impl IntoView {
    let now = list.now;
    let older = list.older.as_deref().map(|cursor| incidents_link(&query, Some(cursor)));
    let newest = query.resolved_before.is_some().then(|| incidents_link(&query, None));
    view! {
        <section>
            <h2>"Active"</h2>
            <IncidentTable incidents=list.active now empty="No active incidents." id="active-incidents" />
        </section>
        <section>
            <h2>"Resolved"</h2>
            <IncidentTable incidents=list.resolved now empty="No resolved incidents." id="resolved-incidents" />
            <p class="pager">
                {newest.map(|href| view! { <a href=href>"← Most recently resolved"</a> " " })}
                {older.map(|href| view! { <a href=href rel="next" id="older-resolved">"Older resolved incidents →"</a> })}
            </p>
        </section>
    }
}

/// A severity in words and colour.
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! {
        <span class=format!("badge severity-{}", severity.as_str().to_lowercase()) title=severity.definition()>
            {severity.as_str()}
        </span>
    }
}

/// "due 14:30:00 UTC (in 12 min)" or "overdue since 14:30:00 UTC".
pub fn update_due_text(incident: &IncidentView, now: i64) -> Option<String> {
    let due = incident.next_update_due?;
    Some(if incident.update_overdue {
        format!("Update overdue since {} UTC ({} ago)", clock(due), duration_text(now - due))
    } else {
        format!("Next update due {} UTC (in {})", clock(due), duration_text(due - now))
    })
}

#[component]
fn IncidentTable(
    incidents: Vec<IncidentView>,
    now: i64,
    empty: &'static str,
    id: &'static str,
) -> impl IntoView {
    if incidents.is_empty() {
        return view! { <p class="empty-state" id=id>{empty}</p> }.into_any();
    }
    view! {
        <table class="data" id=id>
            <thead><tr>
                <th>"Severity"</th><th>"Incident"</th><th>"Status"</th><th>"Phase"</th>
                <th>"Commander"</th><th>"Duration"</th><th>"Updates"</th>
            </tr></thead>
            <tbody>
                {incidents.into_iter().map(|incident| {
                    let due = update_due_text(&incident, now);
                    let end = incident.resolved_at.unwrap_or(now);
                    view! {
                        <tr data-incident=incident.id>
                            <td><SeverityBadge severity=incident.severity /></td>
                            <td><a href=format!("/incidents/{}", incident.id)>{format!("#{} ", incident.id)}{incident.title.clone()}</a></td>
                            <td>{incident.status.as_str()}</td>
                            <td>
                                {incident.phase.label()}
                                {incident.review.map(|review| view! {
                                    " · "<a href=format!("/incidents/{}/review", incident.id)>
                                        {if incident.closed_at.is_some() { "closed".to_owned() } else { format!("review {}", review.label().to_lowercase()) }}
                                    </a>
                                })}
                            </td>
                            <td>{incident.commander.clone().unwrap_or_default()}</td>
                            <td>{duration_text(end - incident.declared_at)}</td>
                            <td class:overdue=incident.update_overdue>{due.unwrap_or_else(|| "—".to_owned())}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn DeclarePage() -> impl IntoView {
    view! {
        <Title text="Declare an incident" />
        <Guarded>
            <h1>"Declare an incident"</h1>
            <DeclareForm />
        </Guarded>
    }
}

#[component]
fn DeclareForm() -> impl IntoView {
    let choices = Resource::new(|| (), |_| load_component_choices());
    // `?alerts=1,2`: prefilled from those alerts, which the new incident then answers.
    let alerts = use_query_map().get_untracked().get("alerts").filter(|ids| !ids.trim().is_empty());
    let prefill = Resource::new(
        move || alerts.clone(),
        |alerts| async move {
            match alerts {
                Some(ids) => load_alert_declaration(ids).await,
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading components…"</p> }>
            {move || Suspend::new(async move {
                let prefill = prefill.await?;
                choices.await.map(|choices| view! { <DeclareFields choices prefill /> })
            })}
        </Suspense>
    }
}

#[component]
fn DeclareFields(choices: Vec<ComponentChoice>, prefill: Option<DeclarationForm>) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let query = use_query_map().get_untracked();
    let feedback = ctx.feedback.clone();
    let typed = feedback.as_ref().and_then(|f| f.declaration.clone()).or(prefill).unwrap_or_else(|| {
        DeclarationForm {
            severity: "SEV3".to_owned(),
            category: query.get("category").unwrap_or_default(),
            components: query.get("component").into_iter().collect(),
            title: query.get("title").unwrap_or_default(),
            ..DeclarationForm::default()
        }
    });
    let from_alerts = (!typed.alerts.is_empty()).then(|| {
        let count = typed.alerts.split(',').count();
        view! {
            <p class="info" id="from-alerts">
                {format!("Prefilled from {count} alert(s); they will be attached to the new incident.")}
            </p>
        }
    });
    let field = feedback.as_ref().and_then(|f| f.field.clone()).unwrap_or_default();
    let invalid = move |name: &str| (field == name).then_some("true");
    let severity = Severity::parse(&typed.severity).ok();
    let category = Category::parse(&typed.category).ok();
    view! {
        {feedback.map(|f| view! { <p class="error" role="alert">{f.message}</p> })}
        {from_alerts}
        <form class="declare" method="post" action="/incidents"><CsrfField />
            <input type="hidden" name="alerts" value=typed.alerts.clone() />
            <label for="title">"Title"</label>
            <input id="title" name="title" required maxlength="200" value=typed.title.clone()
                aria-invalid=invalid("title") placeholder="What is wrong, in a few words" />

            <fieldset aria-invalid=invalid("severity")>
                <legend>"Severity"</legend>
                {Severity::ALL.into_iter().map(|s| view! {
                    <label class="choice">
                        <input type="radio" name="severity" value=s.as_str() checked=severity == Some(s) required />
                        <strong>{s.as_str()}</strong>" — "{s.definition()}
                    </label>
                }).collect_view()}
            </fieldset>

            <label for="category">"Category"</label>
            <select id="category" name="category" required aria-invalid=invalid("category")>
                <option value="" selected=category.is_none()>"Choose…"</option>
                {Category::ALL.iter().map(|c| view! {
                    <option value=c.as_str() selected=category == Some(*c)>{c.label()}</option>
                }).collect_view()}
            </select>

            <fieldset aria-invalid=invalid("components")>
                <legend>"Affected components"</legend>
                {choices.is_empty().then(|| view! { <p class="info">"No components are known yet."</p> })}
                {choices.into_iter().map(|choice| {
                    let key = choice.key.to_string();
                    let checked = typed.components.contains(&key);
                    view! {
                        <label class="choice">
                            <input type="checkbox" name="components" value=key.clone() checked=checked />
                            {choice.name}" "<small>{format!("({}, {})", choice.group, choice.status.label())}</small>
                        </label>
                    }
                }).collect_view()}
            </fieldset>

            <label for="summary">"Summary"</label>
            <textarea id="summary" name="summary" rows="4" maxlength="10000" aria-invalid=invalid("summary")
                placeholder="What is known: symptoms, who is affected, since when">{typed.summary.clone()}</textarea>

            <label for="commander">"Incident commander (e-mail address; empty: you)"</label>
            <input id="commander" name="commander" type="email" value=typed.commander.clone()
                aria-invalid=invalid("commander") />

            <button type="submit" class="primary">"Declare"</button>
        </form>
    }
}
