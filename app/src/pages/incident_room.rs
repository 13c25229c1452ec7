//! `/incidents/:id` — the incident room: where the incident stands, who holds
//! which role, the affected components' live status, the timeline newest
//! first, and the forms that move it on. Every form posts without
//! JavaScript; with it, the room follows changes made by others live.

use super::incidents::{SeverityBadge, update_due_text};
use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::{StatusBadge, clock};
use crate::domain::action::ActionStatus;
use crate::domain::incident::{IncidentRole, Phase, PublicStatus, Severity};
use crate::domain::role::Role;
use crate::incidents::{
    ActionView, Choice, EvidenceLine, GuidanceView, IncidentRoom, IncidentView, Pickers, SuggestionView,
    TimelineLine, duration_text, load_incident_room,
};
use crate::live::refresh_live;
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn IncidentRoomPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.get().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let room = Resource::new(id, load_incident_room);
    refresh_live(move || room.refetch());
    view! {
        <Guarded>
            <Transition fallback=|| view! { <p class="loading">"Loading the incident…"</p> }>
                {move || Suspend::new(async move {
                    room.await.map(|room| match room {
                        Some(room) => view! { <Room room /> }.into_any(),
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
fn Room(room: IncidentRoom) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let feedback = ctx.feedback.clone();
    let incident = room.incident;
    let now = room.now;
    let id = incident.id;
    view! {
        <Title text=format!("#{id} {}", incident.title) />
        <Header incident=incident.clone() now />
        {feedback.as_ref().filter(|f| !f.message.is_empty()).map(|f| view! {
            <p class="error" role="alert" id="refusal">{f.message.clone()}</p>
        })}
        <div class="room">
            <div class="room-main">
                <Guidance id guidance=room.guidance resolved=incident.resolved_at.is_some() />
                <Controls incident=incident.clone() />
                <UpdateComposer id draft=feedback.clone().and_then(|f| f.update) public_title=incident.public_title.clone() public_title_set=incident.public_title_set />
                <Actions id actions=room.actions pickers=room.pickers.clone() form_key=room.form_key waived=incident.two_person_waived resolved=incident.resolved_at.is_some() />
                <Evidence id evidence=room.evidence pickers=room.pickers.clone() />
                <NoteComposer id typed=feedback.and_then(|f| f.note).unwrap_or_default() />
                <Timeline lines=room.timeline />
            </div>
            <aside class="room-side">
                <Affected incident=incident.clone() />
                <Roles incident people=room.people />
            </aside>
        </div>
    }
}

/// The matched playbooks, best first: what matched, the suggested actions (the
/// top one as the primary button: one click plans it and shows its dry run),
/// and the checklist, each step ticked on the timeline.
#[component]
fn Guidance(id: i64, guidance: Vec<GuidanceView>, resolved: bool) -> impl IntoView {
    if guidance.is_empty() {
        return ().into_any();
    }
    let mut first = true;
    view! {
        <section class="guidance" id="guidance" aria-label="Playbooks">
            <h2>"Playbooks and suggested actions"</h2>
            {guidance.into_iter().map(|g| {
                let top = std::mem::take(&mut first);
                view! { <PlaybookCard id playbook=g top resolved /> }
            }).collect_view()}
        </section>
    }
    .into_any()
}

#[component]
fn PlaybookCard(id: i64, playbook: GuidanceView, top: bool, resolved: bool) -> impl IntoView {
    let book = playbook.id.clone();
    view! {
        <article class="playbook" id=format!("playbook-{}", playbook.id) data-playbook=playbook.id.clone()>
            <h3>{playbook.title.clone()}</h3>
            <p class="matched">{format!("Matched on: {}", playbook.matched_by.join("; "))}</p>
            {(!playbook.summary.is_empty()).then(|| view! { <p class="summary">{playbook.summary.clone()}</p> })}
            {(!playbook.suggestions.is_empty() && !resolved).then(|| view! {
                <ul class="suggestions">
                    {playbook.suggestions.into_iter().enumerate().map(|(n, s)| view! {
                        <li><Suggestion id suggestion=s primary=top && n == 0 /></li>
                    }).collect_view()}
                </ul>
            })}
            <ol class="checklist">
                {playbook.steps.into_iter().map(|step| {
                    let book = book.clone();
                    view! {
                        <li class:done=step.done>
                            <form method="post" action=format!("/incidents/{id}/playbook-steps")><CsrfField />
                                <input type="hidden" name="playbook" value=book />
                                <input type="hidden" name="step" value=step.index.to_string() />
                                <input type="hidden" name="done" value=(!step.done).to_string() />
                                <span class="step">{step.text}</span>" "
                                <button type="submit" class="tick" aria-pressed=step.done.to_string()>
                                    {if step.done { "Done — undo" } else { "Mark done" }}
                                </button>
                            </form>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </article>
    }
}

/// One suggested action: a button that plans it and runs its dry run, or a
/// link to the action already planned for it.
#[component]
fn Suggestion(id: i64, suggestion: SuggestionView, primary: bool) -> impl IntoView {
    if let Some((action, status)) = suggestion.action {
        return view! {
            <p class="suggested planned">
                {suggestion.title.clone()}" — "
                <a href=format!("#action-{action}")>{format!("action #{action}: {}", status.as_str())}</a>
            </p>
        }
        .into_any();
    }
    let form = suggestion.form;
    view! {
        <form method="post" action=format!("/incidents/{id}/actions") class="suggested"><CsrfField />
            <input type="hidden" name="action" value=form.action />
            <input type="hidden" name="node" value=form.node />
            <input type="hidden" name="workload" value=form.workload />
            <input type="hidden" name="pod" value=form.pod />
            <input type="hidden" name="namespace" value=form.namespace />
            <input type="hidden" name="replicas" value=form.replicas />
            <button type="submit" class:primary=primary>{suggestion.title}</button>
            <small>" (plans it and shows the dry run; nothing changes until you confirm)"</small>
        </form>
    }
    .into_any()
}

/// Evidence captured for the incident, and the button that captures more.
#[component]
fn Evidence(id: i64, evidence: Vec<EvidenceLine>, pickers: Pickers) -> impl IntoView {
    view! {
        <section class="evidence" id="evidence">
            <h2>"Evidence"</h2>
            {evidence.is_empty().then(|| view! {
                <p class="info">"Nothing captured yet. Wheelhouse captures the affected workloads and nodes when an incident is declared."</p>
            })}
            <ul class="evidence-list">
                {evidence.into_iter().map(|e| view! {
                    <li id=format!("evidence-{}", e.id) data-evidence=e.id data-sha256=e.sha256.clone()>
                        <strong>{format!("#{} {}", e.id, e.subject)}</strong>
                        {format!(" — {} UTC by {}, {} KiB, SHA-256 {}… ", clock(e.captured_at), e.captured_by, e.bytes.div_ceil(1024), e.sha256.chars().take(12).collect::<String>())}
                        <a href=format!("/incidents/{id}/evidence/{}", e.id)>"Read"</a>" · "
                        <a href=format!("/api/v1/incidents/{id}/evidence/{}", e.id) download="">"Download (JSON)"</a>
                    </li>
                }).collect_view()}
            </ul>
            <form method="post" action=format!("/incidents/{id}/evidence") class="capture"><CsrfField />
                <label for="capture-subject">"Capture evidence from"</label>
                <select id="capture-subject" name="subject" required>
                    <optgroup label="Workloads">{pickers.workloads.into_iter().map(|c| view! { <option value=c.value>{c.label}</option> }).collect_view()}</optgroup>
                    <optgroup label="Pods">{pickers.pods.into_iter().map(|c| view! { <option value=format!("pod/{}", c.value)>{c.label}</option> }).collect_view()}</optgroup>
                    <optgroup label="Nodes">{pickers.nodes.into_iter().map(|c| view! { <option value=format!("node/{}", c.value)>{c.label}</option> }).collect_view()}</optgroup>
                    <option value="control-plane">"The control plane"</option>
                </select>
                <button type="submit">"Capture evidence"</button>
            </form>
        </section>
    }
}

#[component]
fn Header(incident: IncidentView, now: i64) -> impl IntoView {
    let end = incident.resolved_at.unwrap_or(now);
    let due = update_due_text(&incident, now);
    view! {
        <header class="incident-head" data-incident=incident.id>
            <p class="crumbs"><a href="/incidents">"Incidents"</a>" · "<a href=format!("/incidents/{}/briefing", incident.id)>"Briefing"</a></p>
            <h1>{format!("#{} ", incident.id)}{incident.title.clone()}</h1>
            <dl class="facts">
                <div><dt>"Severity"</dt><dd><SeverityBadge severity=incident.severity /></dd></div>
                <div><dt>"Status"</dt><dd data-field="status">{incident.status.as_str()}</dd></div>
                <div><dt>"Phase"</dt><dd data-field="phase">{incident.phase.label()}</dd></div>
                <div><dt>"Elapsed"</dt><dd>{duration_text(end - incident.declared_at)}</dd></div>
                <div><dt>"Commander"</dt><dd data-field="commander">{incident.commander.clone().unwrap_or_else(|| "nobody yet".to_owned())}</dd></div>
                <div><dt>"Declared"</dt><dd>{format!("{} UTC by {}", clock(incident.declared_at), incident.declared_by)}</dd></div>
                <div><dt>"Acknowledged"</dt><dd>{incident.acknowledged_at.map_or_else(|| "not yet".to_owned(), |t| format!("{} UTC", clock(t)))}</dd></div>
                {incident.contained_at.map(|t| view! { <div><dt>"Contained"</dt><dd>{format!("{} UTC", clock(t))}</dd></div> })}
                {incident.resolved_at.map(|t| view! { <div><dt>"Resolved"</dt><dd>{format!("{} UTC", clock(t))}</dd></div> })}
                {incident.closed_at.map(|t| view! { <div><dt>"Closed"</dt><dd data-field="closed">{format!("{} UTC", clock(t))}</dd></div> })}
            </dl>
            {incident.review.map(|review| view! {
                <p class="review-link" id="review-link">
                    <a href=format!("/incidents/{}/review", incident.id) class="button">
                        {format!("Post-incident review ({})", review.label().to_lowercase())}
                    </a>
                </p>
            })}
            {due.map(|due| view! { <p class="update-due" class:overdue=incident.update_overdue role="status">{due}</p> })}
            {(!incident.summary.is_empty()).then(|| view! { <p class="summary">{incident.summary.clone()}</p> })}
        </header>
    }
}

/// The transition forms: one button per allowed move; the server decides.
#[component]
fn Controls(incident: IncidentView) -> impl IntoView {
    let action = format!("/incidents/{}/transitions", incident.id);
    let resolved = incident.status == PublicStatus::Resolved;
    let statuses: Vec<PublicStatus> =
        PublicStatus::ALL.iter().copied().filter(|s| *s != incident.status).collect();
    let phases: Vec<Phase> = Phase::ALL.iter().copied().filter(|p| *p != incident.phase).collect();
    view! {
        <section class="controls" aria-label="Move the incident on">
            {(incident.commander.is_none() && !resolved).then(|| view! {
                <form method="post" action=action.clone() id="take-command"><CsrfField />
                    <p class="warning" role="status">"This incident was declared from an alert and nobody commands it yet."</p>
                    <button type="submit" name="take_command" value="true" class="primary">"Take command"</button>
                </form>
            })}
            {(incident.acknowledged_at.is_none() && incident.commander.is_some()).then(|| view! {
                <form method="post" action=action.clone()><CsrfField />
                    <button type="submit" name="acknowledge" value="true" class="primary">"Acknowledge (commander)"</button>
                </form>
            })}
            {if resolved {
                view! {
                    <form method="post" action=action.clone()><CsrfField />
                        <button type="submit" name="reopen" value="true">"Reopen"</button>
                    </form>
                }.into_any()
            } else {
                view! {
                    <form method="post" action=action.clone() class="button-row"><CsrfField />
                        <span>"Status: "</span>
                        {statuses.into_iter().map(|s| view! {
                            <button type="submit" name="status" value=s.as_str()>{s.as_str()}</button>
                        }).collect_view()}
                    </form>
                }.into_any()
            }}
            <form method="post" action=action.clone() class="button-row"><CsrfField />
                <span>"Phase: "</span>
                {phases.into_iter().map(|p| view! {
                    <button type="submit" name="phase" value=p.as_str()>{p.label()}</button>
                }).collect_view()}
            </form>
            <form method="post" action=action class="button-row"><CsrfField />
                <label>"Severity "
                    <select name="severity">
                        {Severity::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s == incident.severity title=s.definition()>
                                {format!("{} — {}", s.as_str(), s.definition().split(':').next().unwrap_or_default())}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Change severity"</button>
            </form>
        </section>
    }
}

#[component]
fn NoteComposer(id: i64, typed: String) -> impl IntoView {
    view! {
        <form class="note" method="post" action=format!("/incidents/{id}/notes")><CsrfField />
            <label for="note-text">"Note"</label>
            <textarea id="note-text" name="text" rows="3" maxlength="10000" required
                placeholder="What was seen, tried or decided">{typed}</textarea>
            <label class="choice"><input type="checkbox" name="decision" value="true" />" This is a decision"</label>
            <button type="submit">"Add to the timeline"</button>
        </form>
    }
}

#[component]
fn Timeline(lines: Vec<TimelineLine>) -> impl IntoView {
    view! {
        <section>
            <h2>"Timeline"</h2>
            <ol class="timeline" id="timeline" reversed>
                {lines.into_iter().map(|line| view! {
                    <li data-kind=line.kind.clone() class:decision=line.decision>
                        <time>{format!("{} UTC", clock(line.at))}</time>" "
                        <span class="actor">{line.actor}</span>" "
                        {line.decision.then(|| view! { <span class="badge decision">"Decision"</span>" " })}
                        <span class="text">{line.text}</span>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn Affected(incident: IncidentView) -> impl IntoView {
    view! {
        <section>
            <h2>"Affected components"</h2>
            {incident.components.is_empty().then(|| view! { <p class="info">"None named."</p> })}
            <ul class="affected">
                {incident.components.into_iter().map(|c| view! {
                    <li data-component=c.key.to_string()>
                        {c.name}" "
                        {match c.status {
                            Some(status) => view! { <StatusBadge status /> }.into_any(),
                            None => view! { <span class="badge">"unknown now"</span> }.into_any(),
                        }}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Roles(incident: IncidentView, people: Vec<String>) -> impl IntoView {
    let action = format!("/incidents/{}/roles", incident.id);
    view! {
        <section>
            <h2>"Roles"</h2>
            <table class="data" id="roles">
                <tbody>
                    {IncidentRole::ALL.iter().map(|role| {
                        let holders: Vec<String> = incident.roles.iter().filter(|h| h.role == *role).map(|h| h.email.clone()).collect();
                        let action = action.clone();
                        view! {
                            <tr data-role=role.as_str()>
                                <th scope="row">{role.label()}</th>
                                <td>
                                    {if holders.is_empty() { Some("—") } else { None }}
                                    {holders.into_iter().map(|email| {
                                        let removable = *role != IncidentRole::IncidentCommander;
                                        view! {
                                            <span class="holder">{email.clone()}
                                                {removable.then(|| view! {
                                                    <form method="post" action=action.clone() class="inline"><CsrfField />
                                                        <input type="hidden" name="email" value=email.clone() />
                                                        <input type="hidden" name="role" value=role.as_str() />
                                                        <button type="submit" name="remove" value="true" class="link"
                                                            aria-label=format!("Remove {email} as {}", role.label())>"remove"</button>
                                                    </form>
                                                })}
                                            </span>
                                        }
                                    }).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <form method="post" action=action class="assign"><CsrfField />
                <label for="assign-email">"Person"</label>
                <input id="assign-email" name="email" type="email" list="people" required />
                <datalist id="people">
                    {people.into_iter().map(|p| view! { <option value=p></option> }).collect_view()}
                </datalist>
                <label for="assign-role">"Role"</label>
                <select id="assign-role" name="role">
                    {IncidentRole::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
                <button type="submit">"Assign (commander: hand over)"</button>
            </form>
        </section>
    }
}

/// Containment actions: the planning form (which previews at once) and each
/// action with its preview, confirm, result, progress and undo.
#[component]
fn Actions(
    id: i64,
    actions: Vec<ActionView>,
    pickers: Pickers,
    form_key: String,
    waived: bool,
    resolved: bool,
) -> impl IntoView {
    let options = |choices: Vec<Choice>| {
        choices.into_iter().map(|c| view! { <option value=c.value>{c.label}</option> }).collect_view()
    };
    let admin =
        use_context::<PageContext>().and_then(|ctx| ctx.role()).is_some_and(|r| r.satisfies(Role::Admin));
    let policy = if waived {
        view! {
            <p class="warning" id="two-person-policy" role="status">
                "Break-glass: an admin waived the two-person rule for this incident (the reason is on the timeline). "
                "Protected namespaces still need an admin."
            </p>
        }
        .into_any()
    } else {
        view! {
            <p class="info" id="two-person-policy">
                "Draining a node, deleting a pod, isolating a namespace and scaling to zero need a second person: "
                "someone other than whoever planned it (the commander, the operations lead or an admin) confirms. "
                "Actions in kube-system and Wheelhouse's own namespace need an admin."
            </p>
        }
        .into_any()
    };
    let break_glass = (admin && !waived && !resolved).then(|| {
        view! {
            <details class="break-glass">
                <summary>"Break-glass: waive the two-person rule for this incident…"</summary>
                <form method="post" action=format!("/incidents/{id}/break-glass")><CsrfField />
                    <label for="break-glass-reason">"Why (recorded on the timeline)"</label>
                    <textarea id="break-glass-reason" name="reason" required maxlength="10000"
                        placeholder="Alone on call at 3 a.m.; the drain cannot wait for a second person"></textarea>
                    <button type="submit" class="danger">"Waive the rule"</button>
                </form>
            </details>
        }
    });
    view! {
        <section class="actions" id="actions">
            <h2>"Containment actions"</h2>
            {policy}
            {break_glass}
            <form method="post" action=format!("/incidents/{id}/actions") class="plan"><CsrfField />
                <label for="plan-action">"Action"</label>
                <select id="plan-action" name="action" required>
                    <option value="cordon">"Cordon node"</option>
                    <option value="uncordon">"Uncordon node"</option>
                    <option value="drain">"Drain node"</option>
                    <option value="scale">"Scale workload"</option>
                    <option value="restart">"Restart workload"</option>
                    <option value="rollback">"Roll back deployment"</option>
                    <option value="pause">"Pause rollout"</option>
                    <option value="resume">"Resume rollout"</option>
                    <option value="isolate_pod">"Isolate pod"</option>
                    <option value="delete_pod">"Delete pod"</option>
                    <option value="isolate_namespace">"Isolate namespace"</option>
                </select>
                <label for="plan-node">"Node (node actions)"</label>
                <select id="plan-node" name="node"><option value="">"—"</option>{options(pickers.nodes)}</select>
                <label for="plan-workload">"Workload (workload actions)"</label>
                <select id="plan-workload" name="workload"><option value="">"—"</option>{options(pickers.workloads)}</select>
                <label for="plan-replicas">"Replicas (scale)"</label>
                <input id="plan-replicas" name="replicas" type="number" min="0" max="1000" />
                <label for="plan-pod">"Pod (pod actions)"</label>
                <select id="plan-pod" name="pod"><option value="">"—"</option>{options(pickers.pods)}</select>
                <label for="plan-namespace">"Namespace (isolate namespace)"</label>
                <select id="plan-namespace" name="namespace"><option value="">"—"</option>{options(pickers.namespaces)}</select>
                <button type="submit">"Plan and preview"</button>
            </form>
            <ol class="action-list">
                {actions.into_iter().map(|a| view! { <ActionItem id action=a form_key=form_key.clone() /> }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn ActionItem(id: i64, action: ActionView, form_key: String) -> impl IntoView {
    let base = format!("/incidents/{id}/actions/{}", action.id);
    let key = format!("{form_key}-{}", action.id);
    let undo_key = format!("{key}-undo");
    view! {
        <li id=format!("action-{}", action.id) data-action=action.id data-status=action.status.as_str()>
            <p>
                <strong>{format!("#{} ", action.id)}{action.description.clone()}</strong>
                " — "<span class="action-status">{action.status.as_str()}</span>
                <small>{format!(" (planned by {})", action.planned_by)}</small>
            </p>
            {action.preview.clone().map(|p| view! {
                <div class="preview">
                    <p>"Dry run: "{format!("{} pod(s) affected", p.pods)}
                        {(!p.components.is_empty()).then(|| format!("; components: {}", p.components.join(", ")))}</p>
                    <ul>{p.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                </div>
            })}
            {(!action.progress.is_empty()).then(|| view! {
                <ul class="progress">{action.progress.clone().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
            {action.result.clone().map(|r| view! { <p class="result">{r}</p> })}
            {action.failure.clone().map(|f| view! { <p class="error">{f}</p> })}
            {(action.needs_second_person && matches!(action.status, ActionStatus::Planned | ActionStatus::Previewed)).then(|| view! {
                <p class="info second-person">{format!("Needs a second person: someone other than {} confirms.", action.planned_by)}</p>
            })}
            {action.protected_namespace.clone().map(|ns| view! {
                <p class="info protected">{format!("Namespace {ns} is protected: an admin confirms.")}</p>
            })}
            {match action.status {
                ActionStatus::Planned => view! {
                    <form method="post" action=format!("{base}/preview")><CsrfField /><button type="submit">"Preview"</button></form>
                }.into_any(),
                ActionStatus::Previewed | ActionStatus::Succeeded if !action.viewer_may_step => ().into_any(),
                ActionStatus::Previewed => view! {
                    <form method="post" action=format!("{base}/confirm")><CsrfField />
                        <input type="hidden" name="idempotency_key" value=key />
                        <button type="submit" class="danger">"Confirm and run"</button>
                    </form>
                }.into_any(),
                ActionStatus::Succeeded if action.undo.is_some() => view! {
                    <form method="post" action=format!("{base}/undo")><CsrfField />
                        <input type="hidden" name="idempotency_key" value=undo_key />
                        <button type="submit">{format!("Undo: {}", action.undo.clone().unwrap_or_default())}</button>
                    </form>
                }.into_any(),
                _ => ().into_any(),
            }}
        </li>
    }
}

/// Writing a stakeholder update: choose audience and purpose, add impact and
/// workaround, render the template, edit the text, publish.
#[component]
fn UpdateComposer(
    id: i64,
    draft: Option<crate::page_context::UpdateDraft>,
    public_title: String,
    public_title_set: bool,
) -> impl IntoView {
    use crate::domain::update::{Audience, Purpose};
    let draft = draft.unwrap_or_default();
    let public_title =
        if draft.public_title.trim().is_empty() { public_title } else { draft.public_title.clone() };
    let rendered = !draft.text.is_empty();
    let audience = Audience::parse(&draft.audience).unwrap_or(Audience::Public);
    let purpose = Purpose::parse(&draft.purpose).unwrap_or(Purpose::Investigating);
    view! {
        <section class="update-composer" id="update">
            <h2>"Stakeholder update"</h2>
            <form method="post" action=format!("/incidents/{id}/updates/render") class="update-render"><CsrfField />
                <label>"Audience "
                    <select name="audience">
                        {Audience::ALL.into_iter().map(|a| view! { <option value=a.as_str() selected=a == audience>{a.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Purpose "
                    <select name="purpose">
                        {Purpose::ALL.into_iter().map(|p| view! { <option value=p.as_str() selected=p == purpose>{p.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label for="update-impact">"Impact (in words for this audience)"</label>
                <input id="update-impact" name="impact" value=draft.impact.clone() />
                <label for="update-workaround">"Workaround"</label>
                <input id="update-workaround" name="workaround" value=draft.workaround.clone() />
                <button type="submit">"Render from the template"</button>
            </form>
            {rendered.then(|| view! {
                <form method="post" action=format!("/incidents/{id}/updates") class="update-publish"><CsrfField />
                    <input type="hidden" name="audience" value=audience.as_str() />
                    <input type="hidden" name="purpose" value=purpose.as_str() />
                    <input type="hidden" name="impact" value=draft.impact.clone() />
                    <input type="hidden" name="workaround" value=draft.workaround.clone() />
                    <label for="update-text">{format!("{} update — edit, then publish", audience.as_str())}</label>
                    <textarea id="update-text" name="text" rows="6" maxlength="20000">{draft.text.clone()}</textarea>
                    {(audience == Audience::Public).then(|| view! {
                        <label for="update-public-title">{if public_title_set {
                            "Public title (what the status page, feed and public webhooks show)"
                        } else {
                            "Public title — the first public update sets what customers see instead of the internal title"
                        }}</label>
                        <input id="update-public-title" name="public_title" required maxlength="200" value=public_title.clone() />
                    })}
                    {(audience == Audience::Public && purpose.public_status().is_some()).then(|| view! {
                        <label class="choice">
                            <input type="checkbox" name="move_status" value="true" checked=true />
                            {format!(" Also set the public status to {}", purpose.as_str())}
                        </label>
                    })}
                    <button type="submit" class="primary">"Publish"</button>
                </form>
            })}
        </section>
    }
}
