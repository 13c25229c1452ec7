//! `/admin/templates` — the stakeholder-update templates, one per audience and
//! purpose: which are customised, and an editor with the variables beside it.
//! A template that does not check is refused with line, column and reason.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::domain::update::{Audience, VARIABLES};
use crate::incidents::{TemplateRow, load_templates};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminTemplatesPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| load_templates());
    view! {
        <Title text="Update templates" />
        <Guarded>
            <h1>"Stakeholder-update templates"</h1>
            <p class="info">
                "MiniJinja templates, rendered with the incident's data when a communications lead writes an update. "
                "Public templates go to the status page: they may use only public variables. "
                "A template is checked when saved; an empty one goes back to the shipped default."
            </p>
            <Suspense fallback=|| view! { <p class="loading">"Loading templates…"</p> }>
                {move || Suspend::new(async move { rows.await.map(|rows| view! { <TemplatesView rows /> }) })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn TemplatesView(rows: Vec<TemplateRow>) -> impl IntoView {
    let feedback = expect_context::<PageContext>().feedback;
    let query = use_query_map().get_untracked();
    let editing = query.get("edit").unwrap_or_default();
    let saved = query.get("saved");
    let current =
        rows.iter().find(|r| format!("{}/{}", r.audience.as_str(), r.purpose.as_str()) == editing).cloned();
    view! {
        {saved.map(|s| view! { <p class="notice" role="status">{format!("Saved {s}.")}</p> })}
        <table class="data" id="templates">
            <thead><tr><th>"Audience"</th><th>"Purpose"</th><th>"Template"</th><th></th></tr></thead>
            <tbody>
                {rows.iter().map(|r| {
                    let key = format!("{}/{}", r.audience.as_str(), r.purpose.as_str());
                    view! {
                        <tr data-template=key.clone()>
                            <td>{r.audience.as_str()}</td>
                            <td>{r.purpose.label()}</td>
                            <td>{if r.customised { "customised" } else { "shipped default" }}</td>
                            <td><a href=format!("/admin/templates?edit={key}#editor")>"Edit"</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {current.map(|t| {
            let body = feedback.as_ref().and_then(|f| f.template.clone()).unwrap_or(t.body.clone());
            let action = format!("/admin/templates/{}/{}", t.audience.as_str(), t.purpose.as_str());
            let public = t.audience == Audience::Public;
            view! {
                <section class="template-editor" id="editor">
                    <h2>{format!("{} — {}", t.audience.as_str(), t.purpose.label())}</h2>
                    {feedback.clone().filter(|f| !f.message.is_empty()).map(|f| view! { <p class="error" role="alert" id="template-error">{f.message}</p> })}
                    <div class="editor-columns">
                        <form method="post" action=action.clone() class="template-form"><CsrfField />
                            <label for="template-body">"Template"</label>
                            <textarea id="template-body" name="body" rows="14" spellcheck="false">{body}</textarea>
                            <button type="submit" class="primary">"Save"</button>
                        </form>
                        <aside>
                            <h3>"Variables"</h3>
                            <dl class="variables">
                                {VARIABLES.iter().filter(|v| v.public || !public).map(|v| view! {
                                    <dt><code>{v.name}</code></dt><dd>{v.description}</dd>
                                }).collect_view()}
                            </dl>
                            {public.then(|| view! { <p class="info">"Internal variables (names of responders, the summary, decisions, severity) are not available to public templates."</p> })}
                        </aside>
                    </div>
                    <form method="post" action=action><CsrfField />
                        <input type="hidden" name="body" value="" />
                        <button type="submit">"Reset to the shipped default"</button>
                    </form>
                </section>
            }
        })}
    }
}
