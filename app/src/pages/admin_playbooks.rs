//! `/admin/playbooks` — the playbooks the incident room matches: the shipped
//! ones (edited or not) and those admins added. Each is YAML, checked when
//! saved; a refusal names the line and column. The fields are listed beside
//! the editor.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::evidence::Signal;
use crate::incidents::{PlaybookRow, load_playbooks};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What a new playbook starts from.
const NEW_PLAYBOOK: &str = "id: my-playbook\ntitle: What went wrong, in a few words\nsummary: >-\n  What this is and why it happens, for whoever reads it at 3 a.m.\nwhen:\n  alertnames: [MyAlert]\n  signals: []\nsteps:\n  - What to look at first.\n  - What to decide.\nsuggest: []\n";

#[component]
pub fn AdminPlaybooksPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| load_playbooks());
    view! {
        <Title text="Playbooks" />
        <Guarded>
            <h1>"Playbooks"</h1>
            <p class="info">
                "A playbook matches an incident on the names of its alerts or on what its evidence shows, "
                "and gives the room a checklist and suggested actions whose parameters come from the evidence. "
                "Edit one, or add your own; each is checked when saved."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading playbooks…"</p> }>
                {move || Suspend::new(async move { rows.await.map(|rows| view! { <PlaybooksView rows /> }) })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn PlaybooksView(rows: Vec<PlaybookRow>) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let query = use_query_map().get_untracked();
    let editing = query.get("edit").unwrap_or_default();
    let saved = query.get("saved");
    let current = rows.iter().find(|r| r.id == editing).map(|r| r.source.clone());
    let typed = feedback.as_ref().and_then(|f| f.playbook.clone());
    let source = typed.or(current).unwrap_or_else(|| NEW_PLAYBOOK.to_owned());
    view! {
        {saved.map(|s| view! { <p class="notice" role="status">{format!("Saved {s}.")}</p> })}
        <table class="data" id="playbooks">
            <thead><tr><th>"Id"</th><th>"Title"</th><th>"State"</th><th></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let state = match (r.shipped, r.customised, r.enabled) {
                        (_, _, false) => "disabled".to_owned(),
                        (true, false, _) => "shipped".to_owned(),
                        (true, true, _) => format!("edited by {}", r.updated_by.clone().unwrap_or_default()),
                        (false, _, _) => format!("added by {}", r.updated_by.clone().unwrap_or_default()),
                    };
                    let reset = r.customised.then(|| view! {
                        <form method="post" action=format!("/admin/playbooks/{}/reset", r.id) class="inline"><CsrfField />
                            <button type="submit">{if r.shipped { "Back to shipped" } else { "Remove" }}</button>
                        </form>
                    });
                    view! {
                        <tr data-playbook=r.id.clone()>
                            <td><code>{r.id.clone()}</code></td>
                            <td>{r.title}</td>
                            <td>{state}</td>
                            <td><a href=format!("/admin/playbooks?edit={}#editor", r.id)>"Edit"</a>" "{reset}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <section class="template-editor" id="editor">
            <h2>{if editing.is_empty() { "Add a playbook".to_owned() } else { format!("Edit {editing}") }}</h2>
            {feedback.clone().filter(|f| !f.message.is_empty()).map(|f| view! { <p class="error" role="alert" id="playbook-error">{f.message}</p> })}
            <div class="editor-columns">
                <form method="post" action="/admin/playbooks" class="template-form"><CsrfField />
                    <label for="playbook-source">"Playbook (YAML)"</label>
                    <textarea id="playbook-source" name="source" rows="22" spellcheck="false">{source}</textarea>
                    <button type="submit" class="primary">"Save"</button>
                </form>
                <aside>
                    <h3>"Fields"</h3>
                    <dl class="variables">
                        <dt><code>"id"</code></dt><dd>"lower-case letters, digits and '-'; saving a shipped id edits it"</dd>
                        <dt><code>"title"</code></dt><dd>"what went wrong, in a few words"</dd>
                        <dt><code>"summary"</code></dt><dd>"what this is, for the reader at 3 a.m. (optional)"</dd>
                        <dt><code>"when.alertnames"</code></dt><dd>"alert names that match (any case)"</dd>
                        <dt><code>"when.signals"</code></dt><dd>{Signal::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</dd>
                        <dt><code>"steps"</code></dt><dd>"the checklist, 1 to 30 steps"</dd>
                        <dt><code>"suggest"</code></dt><dd>"rollback, restart, scale_up, cordon, drain, uncordon (parameters come from the evidence)"</dd>
                        <dt><code>"enabled"</code></dt><dd>"false keeps it but never matches (default true)"</dd>
                    </dl>
                </aside>
            </div>
        </section>
    }
}
