//! `/incidents/:id/review` — the blameless post-incident review: its state
//! (publishing closes the incident), the key times and customer impact
//! computed from facts with their definitions, the written sections, the
//! starred timeline (the whole timeline one click away), follow-ups and the
//! revisions. Every form posts without JavaScript; it prints on its own.

use super::incidents::SeverityBadge;
use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::calendar::{date_of_day, date_time, date_time_input};
use crate::domain::review::{
    ComponentImpact, DEFINITIONS, FactorKind, FollowUpForm, FollowUpStatus, ReviewState, Sections,
    SectionsForm, TEXT_SECTIONS, Times,
};
use crate::incidents::{Choice, duration_text};
use crate::page_context::PageContext;
use crate::reviews::{FollowUpLine, ReviewLine, ReviewPage, RevisionLine, load_review};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ReviewPageView() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.get().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let review = Resource::new(id, load_review);
    view! {
        <Guarded>
            <Transition fallback=|| view! { <p class="loading">"Loading the review…"</p> }>
                {move || Suspend::new(async move {
                    review.await.map(|review| match review {
                        Some(page) => view! { <Review page /> }.into_any(),
                        None => view! {
                            <Title text="No such incident" />
                            <h1>"No such incident"</h1>
                            <p><a href="/incidents">"All incidents"</a></p>
                        }.into_any(),
                    })
                })}
            </Transition>
        </Guarded>
    }
}

#[component]
fn Review(page: ReviewPage) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let id = page.incident.id;
    let incident = page.incident.clone();
    let editable = page.may_write && matches!(page.state, Some(ReviewState::Draft | ReviewState::InReview));
    let state_text = match (page.state, page.closed_at) {
        (None, _) => "The review opens when the incident is resolved.".to_owned(),
        (Some(state), Some(closed)) => {
            format!("Review {} · incident closed {}", state.label().to_lowercase(), date_time(closed))
        }
        (Some(state), None) => format!("Review: {}", state.label().to_lowercase()),
    };
    view! {
        <Title text=format!("Review of #{id} {}", incident.title) />
        <article class="review" id="review" data-review-state=page.state.map(|s| s.as_str()).unwrap_or("none")>
            <header class="review-header">
                <h1><SeverityBadge severity=incident.severity />" "{format!("Review of #{id}: {}", incident.title)}</h1>
                <p class="review-state" id="review-state">{state_text}</p>
                <p class="no-print">
                    <a href=format!("/incidents/{id}")>"Incident room"</a>" · "
                    <a href=format!("/incidents/{id}/review.md")>"Markdown"</a>" · "
                    <a href=format!("/api/v1/incidents/{id}/review")>"JSON"</a>
                    " · Printing this page prints the review alone."
                </p>
                <StateButtons id state=page.state may_write=page.may_write may_publish=page.may_publish />
            </header>
            {feedback.as_ref().filter(|f| !f.message.is_empty()).map(|f| view! {
                <p class="error" role="alert" id="refusal">{f.message.clone()}</p>
            })}
            <KeyTimes id times=page.times.clone() editable typed=feedback.as_ref().and_then(|f| f.impact_start.clone()) />
            <Impact impact=page.impact.clone() />
            <WrittenSections id sections=page.sections.clone() revision=page.revision editable
                typed=feedback.as_ref().and_then(|f| f.review.clone()) />
            <ReviewTimeline id lines=page.timeline.clone() editable />
            <FollowUps id items=page.follow_ups.clone() people=page.people.clone() components=page.components.clone()
                may_write=page.may_write && page.state.is_some() typed=feedback.as_ref().and_then(|f| f.follow_up.clone()) />
            <Revisions revisions=page.revisions.clone() />
        </article>
    }
}

#[component]
fn StateButtons(id: i64, state: Option<ReviewState>, may_write: bool, may_publish: bool) -> impl IntoView {
    let buttons: Vec<(ReviewState, &'static str)> = match state {
        Some(ReviewState::Draft) if may_write => vec![(ReviewState::InReview, "Send for review")],
        Some(ReviewState::InReview) => {
            let mut b = Vec::new();
            if may_publish {
                b.push((ReviewState::Published, "Publish and close the incident"));
            }
            if may_write {
                b.push((ReviewState::Draft, "Back to draft"));
            }
            b
        }
        _ => Vec::new(),
    };
    view! {
        <div class="review-actions no-print" id="review-state-actions">
            {buttons.into_iter().map(|(to, label)| view! {
                <form method="post" action=format!("/incidents/{id}/review/state")><CsrfField />
                    <input type="hidden" name="state" value=to.as_str() />
                    <button type="submit" class:primary=to == ReviewState::Published>{label}</button>
                </form>
            }).collect_view()}
        </div>
    }
}

#[component]
fn KeyTimes(id: i64, times: Times, editable: bool, typed: Option<(String, String)>) -> impl IntoView {
    let (at, reason) = typed.unwrap_or_else(|| {
        (date_time_input(times.impact_start), times.impact_reason.clone().unwrap_or_default())
    });
    let source = match &times.impact_reason {
        Some(reason) => format!("Set by hand: {reason}"),
        None => format!("Taken from {}.", times.impact_source.label()),
    };
    view! {
        <section id="times" aria-labelledby="times-heading">
            <h2 id="times-heading">"Key times"</h2>
            <table class="key-times">
                <thead><tr><th scope="col">"Moment"</th><th scope="col">"When (UTC)"</th><th scope="col">"Since impact start"</th></tr></thead>
                <tbody>
                    {times.rows().into_iter().map(|(name, when, since)| view! {
                        <tr data-time=name.to_lowercase().replace(' ', "-")>
                            <th scope="row">{name}</th>
                            <td>{when.map_or_else(|| "—".to_owned(), date_time)}</td>
                            <td>{if name == "Impact start" { String::new() } else { since.map_or_else(|| "—".to_owned(), duration_text) }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="info">{source}</p>
            <details class="definitions">
                <summary>"How these are measured"</summary>
                <dl>{DEFINITIONS.iter().map(|(term, text)| view! { <dt>{*term}</dt><dd>{*text}</dd> }).collect_view()}</dl>
            </details>
            {editable.then(|| view! {
                <form method="post" action=format!("/incidents/{id}/review/impact-start") class="inline no-print"><CsrfField />
                    <label>"Impact start (UTC) "<input type="datetime-local" name="at" value=at /></label>" "
                    <label>"Why "<input type="text" name="reason" value=reason required=true /></label>" "
                    <button type="submit">"Set the impact start"</button>
                </form>
            })}
        </section>
    }
}

fn minutes(ms: i64) -> String {
    format!("{} min", (ms + 30_000) / 60_000)
}

#[component]
fn Impact(impact: Vec<ComponentImpact>) -> impl IntoView {
    view! {
        <section id="impact" aria-labelledby="impact-heading">
            <h2 id="impact-heading">"Customer impact"</h2>
            {if impact.is_empty() {
                view! { <p class="info">"No public component was affected."</p> }.into_any()
            } else {
                view! {
                    <table class="impact">
                        <thead><tr>
                            <th scope="col">"Component"</th><th scope="col">"Major outage"</th><th scope="col">"Partial outage"</th>
                            <th scope="col">"Degraded"</th><th scope="col">"Maintenance"</th><th scope="col">"Unknown"</th>
                            <th scope="col">"Weighted downtime"</th>
                        </tr></thead>
                        <tbody>
                            {impact.into_iter().map(|c| view! {
                                <tr data-component=c.component.clone()>
                                    <th scope="row">{c.name}</th>
                                    <td>{minutes(c.major_outage)}</td><td>{minutes(c.partial_outage)}</td>
                                    <td>{minutes(c.degraded_performance)}</td><td>{minutes(c.under_maintenance)}</td>
                                    <td>{minutes(c.unknown)}</td><td class="weighted">{minutes(c.weighted_downtime)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="info">"From impact start to resolution. Weighted as on the status page: a major outage counts in full, a partial outage as half."</p>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn WrittenSections(
    id: i64,
    sections: Sections,
    revision: i64,
    editable: bool,
    typed: Option<SectionsForm>,
) -> impl IntoView {
    if !editable {
        return view! {
            <section id="sections" aria-label="The review">
                {TEXT_SECTIONS.iter().map(|(field, heading, _)| {
                    let text = sections.text(field).to_owned();
                    view! {
                        <h2>{*heading}</h2>
                        {if text.is_empty() { view! { <p class="info">"Not written."</p> }.into_any() } else { view! { <p class="prose" data-section=*field>{text}</p> }.into_any() }}
                    }
                }).collect_view()}
                <h2>"Contributing factors"</h2>
                <ul class="factors">
                    {sections.factors.iter().map(|f| view! { <li><strong>{f.kind.as_str()}</strong>": "{f.text.clone()}</li> }).collect_view()}
                </ul>
            </section>
        }
        .into_any();
    }
    let text_of = |field: &str| -> String {
        match &typed {
            Some(form) => {
                form.texts.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone()).unwrap_or_default()
            }
            None => sections.text(field).to_owned(),
        }
    };
    let mut factors: Vec<(String, String)> = match &typed {
        Some(form) => form.factors.clone(),
        None => sections.factors.iter().map(|f| (f.kind.as_str().to_owned(), f.text.clone())).collect(),
    };
    factors.extend(std::iter::repeat_n((String::new(), String::new()), 3));
    view! {
        <section id="sections" aria-label="The review">
            <form method="post" action=format!("/incidents/{id}/review") class="review-form"><CsrfField />
                <input type="hidden" name="revision" value=revision.to_string() />
                {TEXT_SECTIONS.iter().take(2).map(|(field, heading, hint)| view! {
                    <label class="section"><h2>{*heading}</h2>
                        {(!hint.is_empty()).then(|| view! { <span class="hint">{*hint}</span> })}
                        <textarea name=*field rows="4">{text_of(field)}</textarea>
                    </label>
                }).collect_view()}
                <fieldset class="factors">
                    <legend><h2>"Contributing factors"</h2></legend>
                    <p class="hint">"What made this possible or worse: systems and conditions, not people."</p>
                    {factors.into_iter().enumerate().map(|(n, (kind, text))| view! {
                        <div class="factor">
                            <label>{format!("Factor {} type ", n + 1)}
                                <select name="factor_kind">
                                    {FactorKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=kind == k.as_str()>{k.as_str()}</option> }).collect_view()}
                                </select>
                            </label>" "
                            <label>"what "<input type="text" name="factor_text" value=text size="60" /></label>
                        </div>
                    }).collect_view()}
                </fieldset>
                {TEXT_SECTIONS.iter().skip(2).map(|(field, heading, hint)| view! {
                    <label class="section"><h2>{*heading}</h2>
                        {(!hint.is_empty()).then(|| view! { <span class="hint">{*hint}</span> })}
                        <textarea name=*field rows="3">{text_of(field)}</textarea>
                    </label>
                }).collect_view()}
                <button type="submit" class="primary no-print">"Save the review"</button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn ReviewTimeline(id: i64, lines: Vec<ReviewLine>, editable: bool) -> impl IntoView {
    let star = move |line: &ReviewLine| {
        editable.then(|| {
            view! {
                <form method="post" action=format!("/incidents/{id}/review/stars") class="star no-print"><CsrfField />
                    <input type="hidden" name="event" value=line.id.to_string() />
                    <input type="hidden" name="starred" value=(!line.starred).to_string() />
                    <button type="submit" aria-pressed=line.starred.to_string()
                        aria-label={if line.starred { "Unstar" } else { "Star" }}>{if line.starred { "★" } else { "☆" }}</button>
                </form>
            }
        })
    };
    let starred: Vec<ReviewLine> = lines.iter().filter(|l| l.starred).cloned().collect();
    view! {
        <section id="review-timeline" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <ol class="timeline key-events">
                {starred.iter().map(|line| view! {
                    <li id=format!("entry-{}", line.id) data-entry=line.id>
                        <time>{date_time(line.at)}</time>" "<span class="text">{line.text.clone()}</span>" "
                        <span class="actor">{format!("({})", line.actor)}</span>{star(line)}
                    </li>
                }).collect_view()}
            </ol>
            <details class="whole-timeline no-print" id="whole-timeline">
                <summary>{format!("The whole timeline ({} entries)", lines.len())}</summary>
                <ol class="timeline">
                    {lines.iter().map(|line| view! {
                        <li data-entry=line.id class:starred=line.starred>
                            <time>{date_time(line.at)}</time>" "<span class="text">{line.text.clone()}</span>" "
                            <span class="actor">{format!("({})", line.actor)}</span>{star(line)}
                        </li>
                    }).collect_view()}
                </ol>
            </details>
        </section>
    }
}

#[component]
fn FollowUps(
    id: i64,
    items: Vec<FollowUpLine>,
    people: Vec<String>,
    components: Vec<Choice>,
    may_write: bool,
    typed: Option<FollowUpForm>,
) -> impl IntoView {
    let typed = typed.unwrap_or_default();
    view! {
        <section id="follow-ups" aria-labelledby="follow-ups-heading">
            <h2 id="follow-ups-heading">"Follow-ups"</h2>
            {items.is_empty().then(|| view! { <p class="info">"None yet."</p> })}
            <table class="follow-ups">
                <thead><tr><th scope="col">"Follow-up"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"Status"</th><th scope="col">"Link"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|line| {
                        let f = line.follow_up.clone();
                        view! {
                            <tr id=format!("follow-up-{}", f.id) data-follow-up=f.id class:overdue=line.overdue>
                                <td>{f.title.clone()}</td>
                                <td>{f.owner.as_ref().map_or_else(|| "—".to_owned(), |p| p.email.clone())}</td>
                                <td>{f.due.map_or_else(|| "—".to_owned(), date_of_day)}{line.overdue.then(|| view! { " "<span class="badge overdue">"Overdue"</span> })}</td>
                                <td>{if may_write { view! { <FollowUpStatusForm id line=line.clone() /> }.into_any() } else { view! { <span>{f.status.label()}</span> }.into_any() }}</td>
                                <td>{f.link.clone().map(|l| { let text = l.clone(); view! { <a href=l rel="noopener noreferrer">{text}</a> } })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {may_write.then(|| view! {
                <form method="post" action=format!("/incidents/{id}/follow-ups") class="follow-up-form no-print"><CsrfField />
                    <h3>"Add a follow-up"</h3>
                    <label>"What "<input type="text" name="title" value=typed.title.clone() required=true size="50" /></label>" "
                    <label>"Owner "
                        <select name="owner">
                            <option value="">"Nobody yet"</option>
                            {people.iter().map(|p| view! { <option value=p.clone() selected=typed.owner == *p>{p.clone()}</option> }).collect_view()}
                        </select>
                    </label>" "
                    <label>"Due "<input type="date" name="due" value=typed.due.clone() /></label>" "
                    <label>"Tracker link "<input type="url" name="link" value=typed.link.clone() placeholder="https://tracker.example/OPS-12" /></label>" "
                    {(!components.is_empty()).then(|| view! {
                        <fieldset class="inline"><legend>"Components"</legend>
                            {components.iter().map(|c| view! {
                                <label><input type="checkbox" name="components" value=c.value.clone() checked=typed.components.contains(&c.value) />" "{c.label.clone()}</label>" "
                            }).collect_view()}
                        </fieldset>
                    })}
                    <button type="submit">"Add the follow-up"</button>
                </form>
            })}
        </section>
    }
}

/// A row's status changer: posts the follow-up back with the new status.
#[component]
fn FollowUpStatusForm(id: i64, line: FollowUpLine) -> impl IntoView {
    let f = line.follow_up;
    view! {
        <form method="post" action=format!("/incidents/{id}/follow-ups/{}", f.id) class="inline"><CsrfField />
            <input type="hidden" name="title" value=f.title.clone() />
            <input type="hidden" name="owner" value=f.owner.as_ref().map(|p| p.email.clone()).unwrap_or_default() />
            <input type="hidden" name="due" value=f.due.map(date_of_day).unwrap_or_default() />
            <input type="hidden" name="link" value=f.link.clone().unwrap_or_default() />
            {f.components.iter().map(|c| view! { <input type="hidden" name="components" value=c.clone() /> }).collect_view()}
            <select name="status" aria-label="Status">
                {FollowUpStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=*s == f.status>{s.label()}</option> }).collect_view()}
            </select>" "
            <button type="submit">"Save"</button>
        </form>
    }
}

#[component]
fn Revisions(revisions: Vec<RevisionLine>) -> impl IntoView {
    view! {
        <section id="revisions" class="no-print" aria-labelledby="revisions-heading">
            <h2 id="revisions-heading">"Revisions"</h2>
            {revisions.is_empty().then(|| view! { <p class="info">"Nothing saved yet."</p> })}
            <ul class="revisions">
                {revisions.into_iter().map(|r| view! {
                    <li data-revision=r.revision>{format!("#{} · {} · {} — {}", r.revision, date_time(r.at), r.author, r.changed)}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Open follow-ups as a short list (the dashboard's "yours", the briefing's
/// "everyone's"), overdue ones flagged.
#[component]
pub fn FollowUpList(
    summary: crate::reviews::FollowUpSummary,
    heading: &'static str,
    id: &'static str,
) -> impl IntoView {
    if summary.items.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="follow-up-list" id=id>
            <h2>{heading}</h2>
            <p class="info">{format!("{} open, {} overdue.", summary.open, summary.overdue)}</p>
            <ul>
                {summary.items.into_iter().map(|line| {
                    let f = line.follow_up;
                    view! {
                        <li data-follow-up=f.id class:overdue=line.overdue>
                            <a href=format!("/incidents/{}/review#follow-up-{}", f.incident_id, f.id)>{f.title.clone()}</a>
                            {format!(" — #{} {}", f.incident_id, line.incident_title)}
                            {f.owner.map(|o| format!(" · {}", o.email))}
                            {f.due.map(|d| format!(" · due {}", date_of_day(d)))}
                            {line.overdue.then(|| view! { " "<span class="badge overdue">"Overdue"</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
