//! `/maintenance` — scheduled maintenance for responders: the windows (upcoming,
//! in progress, recently finished) and the form that schedules one, with a
//! cluster action for its start and one for its end; and `/maintenance/:id`,
//! one window: its state and times, its planned actions (the dry run's
//! preview, confirm, result, undo), the buttons that move it by hand, its
//! edit form and its log. Every form posts without JavaScript.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::calendar::{date_time, date_time_input};
use crate::domain::maintenance::{MaintenanceState, Phase, PlannedAction, PlannedStatus, WindowForm};
use crate::incidents::Choice;
use crate::maintenance::{
    MaintenanceList, WindowPage, WindowSummary, load_maintenance, load_maintenance_window,
};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn refusal() -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    feedback.filter(|f| !f.message.is_empty()).map(|f| {
        let class = if f.ok { "info" } else { "error" };
        view! { <p class=class role="alert" id="form-message">{f.message}</p> }
    })
}

fn state_badge(state: MaintenanceState) -> impl IntoView {
    view! { <span class=format!("badge maintenance-{}", state.as_str())>{state.label()}</span> }
}

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let data = Resource::new(|| (), |()| load_maintenance());
    view! {
        <Title text="Maintenance" />
        <Guarded>
            <h1>"Maintenance"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    data.await.map(|list| view! { <Windows list /> })
                })}
            </Transition>
        </Guarded>
    }
}

#[component]
fn Windows(list: MaintenanceList) -> impl IntoView {
    let typed = expect_context::<PageContext>().feedback.and_then(|f| f.maintenance);
    let (open, done): (Vec<WindowSummary>, Vec<WindowSummary>) =
        list.windows.into_iter().partition(|w| !w.window.state.finished());
    view! {
        {refusal()}
        <section aria-labelledby="windows-heading">
            <h2 id="windows-heading">"Upcoming and in progress"</h2>
            {if open.is_empty() {
                view! { <p class="empty" id="no-windows">"No maintenance is scheduled."</p> }.into_any()
            } else {
                view! { <WindowTable windows=open /> }.into_any()
            }}
        </section>
        <section aria-labelledby="schedule-heading" class="maintenance-form">
            <h2 id="schedule-heading">"Schedule maintenance"</h2>
            <p class="hint">"Times are UTC. Its components show \u{201c}under maintenance\u{201d} from its start to its end, and the status page says so. Each planned action is previewed with a dry run now and runs at its time once someone confirms it (a drain needs someone other than you)."</p>
            <form method="post" action="/maintenance" id="schedule-form"><CsrfField />
                <WindowFields typed=typed.unwrap_or_default() components=list.components.clone() now=list.now />
                <fieldset>
                    <legend>"Cluster actions (optional)"</legend>
                    <PlannedFields prefix="start_" label="At its start" nodes=list.nodes.clone() workloads=list.workloads.clone() />
                    <PlannedFields prefix="end_" label="At its end" nodes=list.nodes workloads=list.workloads />
                </fieldset>
                <button type="submit">"Schedule"</button>
            </form>
        </section>
        {(!done.is_empty()).then(|| view! {
            <section aria-labelledby="done-heading">
                <h2 id="done-heading">"Finished in the last 30 days"</h2>
                <WindowTable windows=done />
            </section>
        })}
    }
}

#[component]
fn WindowTable(windows: Vec<WindowSummary>) -> impl IntoView {
    view! {
        <table class="maintenance-list">
            <thead><tr><th>"Window"</th><th>"State"</th><th>"Starts"</th><th>"Ends"</th><th>"Needs a look"</th></tr></thead>
            <tbody>
                {windows.into_iter().map(|line| {
                    let w = line.window;
                    let look_class = if line.failed > 0 { "error" } else { "" };
                    let look = match (line.failed, line.unconfirmed) {
                        (0, 0) => String::new(),
                        (0, n) => format!("{n} action(s) to confirm"),
                        (n, _) => format!("{n} action(s) failed or not run"),
                    };
                    view! {
                        <tr id=format!("window-{}", w.id) data-state=w.state.as_str()>
                            <td><a href=format!("/maintenance/{}", w.id)>{w.title}</a></td>
                            <td>{state_badge(w.state)}</td>
                            <td>{date_time(w.starts_at)}</td>
                            <td>{date_time(w.ends_at)}</td>
                            <td class=look_class>{look}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn WindowFields(typed: WindowForm, components: Vec<Choice>, now: i64) -> impl IntoView {
    let hour = 3_600_000;
    let start =
        if typed.starts_at.is_empty() { date_time_input(now + hour) } else { typed.starts_at.clone() };
    let end = if typed.ends_at.is_empty() { date_time_input(now + 2 * hour) } else { typed.ends_at.clone() };
    let chosen = typed.components.clone();
    view! {
        <label>"Title "<input type="text" name="title" required maxlength="200" value=typed.title /></label>
        <label>"Public description "<textarea name="description" rows="3" maxlength="5000">{typed.description}</textarea></label>
        <label>"Starts (UTC) "<input type="datetime-local" name="starts_at" required value=start /></label>
        <label>"Ends (UTC) "<input type="datetime-local" name="ends_at" required value=end /></label>
        <fieldset class="choices">
            <legend>"Components it concerns"</legend>
            {components.into_iter().map(|c| {
                let checked = chosen.contains(&c.value);
                view! {
                    <label class="choice"><input type="checkbox" name="components" value=c.value checked=checked />" "{c.label}</label>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn PlannedFields(
    prefix: &'static str,
    label: &'static str,
    nodes: Vec<Choice>,
    workloads: Vec<Choice>,
) -> impl IntoView {
    let actions: &[(&str, &str)] = &[
        ("", "nothing"),
        ("cordon", "cordon a node"),
        ("drain", "drain a node (cordons it first)"),
        ("uncordon", "uncordon a node"),
        ("restart", "restart a workload"),
        ("pause", "pause a Deployment's rollout"),
        ("resume", "resume a Deployment's rollout"),
    ];
    view! {
        <div class="planned" id=format!("{prefix}planned")>
            <label>{label}" "
                <select name=format!("{prefix}action")>
                    {actions.iter().map(|(value, text)| view! { <option value=*value>{*text}</option> }).collect_view()}
                </select>
            </label>
            <label>" node "
                <select name=format!("{prefix}node")>
                    <option value="">"—"</option>
                    {nodes.into_iter().map(|c| view! { <option value=c.value>{c.label}</option> }).collect_view()}
                </select>
            </label>
            <label>" or workload "
                <select name=format!("{prefix}workload")>
                    <option value="">"—"</option>
                    {workloads.into_iter().map(|c| view! { <option value=c.value>{c.label}</option> }).collect_view()}
                </select>
            </label>
        </div>
    }
}

#[component]
pub fn MaintenanceWindowPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.get().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let page = Resource::new(id, load_maintenance_window);
    view! {
        <Guarded>
            <Transition fallback=|| view! { <p class="loading">"Loading the window…"</p> }>
                {move || Suspend::new(async move {
                    page.await.map(|page| match page {
                        Some(page) => view! { <WindowView page /> }.into_any(),
                        None => view! {
                            <Title text="No such maintenance window" />
                            <h1>"No such maintenance window"</h1>
                            <p><a href="/maintenance">"All maintenance"</a></p>
                        }.into_any(),
                    })
                })}
            </Transition>
        </Guarded>
    }
}

#[component]
fn WindowView(page: WindowPage) -> impl IntoView {
    let w = page.window.clone();
    let id = w.id;
    let names: Vec<String> = w.components.iter().map(|k| page.name_of(k.as_str())).collect();
    let typed =
        expect_context::<PageContext>().feedback.and_then(|f| f.maintenance).unwrap_or_else(|| WindowForm {
            title: w.title.clone(),
            description: w.description.clone(),
            starts_at: date_time_input(w.starts_at),
            ends_at: date_time_input(w.ends_at),
            components: w.components.iter().map(|k| k.as_str().to_owned()).collect(),
        });
    let steps: Vec<(&str, &str)> = match w.state {
        MaintenanceState::Scheduled => vec![("start", "Start now"), ("cancel", "Cancel")],
        MaintenanceState::InProgress => vec![("end", "End now (runs its end actions)")],
        MaintenanceState::Verifying => vec![("complete", "Mark completed")],
        _ => vec![],
    };
    let editable = matches!(w.state, MaintenanceState::Scheduled | MaintenanceState::InProgress);
    let (start_actions, end_actions): (Vec<PlannedAction>, Vec<PlannedAction>) =
        page.actions.iter().cloned().partition(|a| a.phase == Phase::Start);
    let viewer = page.viewer.clone();
    view! {
        <Title text=format!("Maintenance: {}", w.title) />
        <article class="maintenance" id="maintenance" data-state=w.state.as_str()>
            <h1>{w.title.clone()}" "{state_badge(w.state)}</h1>
            <p id="window-times">{format!("{} to {}", date_time(w.starts_at), date_time(w.ends_at))}
                {w.started_at.map(|t| format!(" · started {}", date_time(t)))}
                {w.ended_at.map(|t| format!(" · ended {}", date_time(t)))}</p>
            <p id="window-components">"Components: "{names.join(", ")}</p>
            {(!w.description.is_empty()).then(|| view! { <p class="description">{w.description.clone()}</p> })}
            <p><a href="/maintenance">"All maintenance"</a>" · "<a href=format!("/api/v1/maintenance/{id}")>"JSON"</a></p>
            {refusal()}
            {(!steps.is_empty()).then(|| view! {
                <div class="steps">
                    {steps.into_iter().map(|(step, label)| view! {
                        <form method="post" action=format!("/maintenance/{id}/steps") class="inline"><CsrfField />
                            <input type="hidden" name="step" value=step />
                            <button type="submit" id=format!("step-{step}")>{label}</button>
                        </form>
                    }).collect_view()}
                </div>
            })}
            <section aria-labelledby="actions-heading">
                <h2 id="actions-heading">"Planned cluster actions"</h2>
                <PlannedList title="At its start" actions=start_actions viewer=viewer.clone() />
                <PlannedList title="At its end" actions=end_actions viewer=viewer />
                {(!w.state.finished()).then(|| view! {
                    <form method="post" action=format!("/maintenance/{id}/actions") class="plan-more"><CsrfField />
                        <label>"Plan another action for its "
                            <select name="phase">
                                {(w.state == MaintenanceState::Scheduled).then(|| view! { <option value="start">"start"</option> })}
                                <option value="end">"end"</option>
                            </select>
                        </label>
                        <PlannedFields prefix="" label="" nodes=page.nodes.clone() workloads=page.workloads.clone() />
                        <button type="submit">"Plan and preview"</button>
                    </form>
                })}
            </section>
            {editable.then(|| view! {
                <section aria-labelledby="edit-heading" class="maintenance-form">
                    <h2 id="edit-heading">"Change the window"</h2>
                    <form method="post" action=format!("/maintenance/{id}") id="edit-form"><CsrfField />
                        <WindowFields typed=typed.clone() components=page.components.clone() now=page.now />
                        <button type="submit">"Save"</button>
                    </form>
                </section>
            })}
            <section aria-labelledby="log-heading">
                <h2 id="log-heading">"Log"</h2>
                <ol class="maintenance-log" id="maintenance-log">
                    {page.log.iter().map(|line| view! {
                        <li><time>{date_time(line.at)}</time>" "<span class="actor">{line.actor.clone()}</span>": "{line.text.clone()}</li>
                    }).collect_view()}
                </ol>
            </section>
        </article>
    }
}

#[component]
fn PlannedList(title: &'static str, actions: Vec<PlannedAction>, viewer: Option<String>) -> impl IntoView {
    view! {
        <h3>{title}</h3>
        {if actions.is_empty() {
            view! { <p class="empty">"Nothing planned."</p> }.into_any()
        } else {
            view! {
                <ul class="planned-actions">
                    {actions.into_iter().map(|a| {
                        let own = viewer.as_deref() == Some(a.planned_by.as_str());
                        let window = a.window_id;
                        let confirm = (a.status == PlannedStatus::Planned).then(|| {
                            let hint = if own && a.spec.needs_second_person() {
                                "Someone other than you confirms this action."
                            } else {
                                ""
                            };
                            view! {
                                <form method="post" action=format!("/maintenance/{window}/actions/{}/confirm", a.id) class="inline"><CsrfField />
                                    <button type="submit" id=format!("confirm-{}", a.id)>"Confirm"</button>
                                </form>
                                <span class="hint">{hint}</span>
                            }
                        });
                        let undo = (a.status == PlannedStatus::Succeeded && a.undo.is_some()).then(|| view! {
                            <form method="post" action=format!("/maintenance/{window}/actions/{}/undo", a.id) class="inline"><CsrfField />
                                <button type="submit" id=format!("undo-{}", a.id)>"Undo"</button>
                            </form>
                        });
                        view! {
                            <li id=format!("action-{}", a.id) data-status=a.status.as_str()>
                                <strong>{a.description.clone()}</strong>" · "{a.status.as_str().replace('_', " ")}
                                " · planned by "{a.planned_by.clone()}
                                {a.confirmed_by.clone().map(|who| format!(" · confirmed by {who}"))}
                                <div class="preview">"Dry run: "{if a.preview.is_empty() { "no change".to_owned() } else { a.preview.join("; ") }}
                                    {(a.pods > 0).then(|| format!(" · {} pod(s) moved", a.pods))}</div>
                                {a.result.clone().map(|r| view! { <div class="result">{r}</div> })}
                                {a.failure.clone().map(|f| view! { <div class="error">{f}</div> })}
                                {confirm}{undo}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// Maintenance on the dashboard and the briefing: in progress, coming within a
/// week, and recent failures of planned actions (so that responders are told).
#[component]
pub fn MaintenanceOverview(#[prop(optional)] links: bool) -> impl IntoView {
    let data = Resource::new(|| (), |()| crate::maintenance::load_maintenance_overview());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.map(|windows| (!windows.is_empty()).then(|| view! {
                    <section class="maintenance-overview" id="maintenance-overview">
                        <h2>"Maintenance"</h2>
                        <ul>
                            {windows.into_iter().map(|line| {
                                let w = line.window;
                                let title = if links {
                                    view! { <a href=format!("/maintenance/{}", w.id)>{w.title.clone()}</a> }.into_any()
                                } else {
                                    view! { <span>{w.title.clone()}</span> }.into_any()
                                };
                                let alarm = (line.failed > 0).then(|| view! {
                                    <strong class="error">{format!(" · {} planned action(s) failed or not run", line.failed)}</strong>
                                });
                                view! {
                                    <li data-maintenance=w.id data-state=w.state.as_str()>
                                        {title}" "{state_badge(w.state)}" "
                                        {format!("{} to {}", date_time(w.starts_at), date_time(w.ends_at))}
                                        {alarm}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                }))
            })}
        </Transition>
    }
}
