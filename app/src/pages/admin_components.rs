//! `/admin/components` — the service components: list, create, edit, delete,
//! with a preview of the workloads a selector matches. Plain forms that work
//! without JavaScript; with it, the preview follows what is typed.

use crate::components::csrf::CsrfField;
use crate::components::guard::Guarded;
use crate::components::status::StatusBadge;
use crate::domain::component::ComponentForm;
use crate::live::{ComponentRow, WorkloadRow, load_components, preview_selector};
use crate::page_context::PageContext;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminComponentsPage() -> impl IntoView {
    view! {
        <Title text="Components" />
        <Guarded>
            <h1>"Components"</h1>
            <p class="info">
                "Service components are business services, each a namespace and a label selector over its "
                "Deployments, StatefulSets and DaemonSets. Public ones appear on the status page. "
                "Platform components (control plane, add-ons, nodes) come from the cluster itself."
            </p>
            <ComponentsAdmin />
        </Guarded>
    }
}

#[component]
fn ComponentsAdmin() -> impl IntoView {
    let rows = Resource::new(|| (), |_| load_components());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading components…"</p> }>
            {move || Suspend::new(async move { rows.await.map(|rows| view! { <AdminView rows /> }) })}
        </Suspense>
    }
}

#[component]
fn AdminView(rows: Vec<ComponentRow>) -> impl IntoView {
    let ctx = expect_context::<PageContext>();
    let query = use_query_map().get_untracked();
    let editing: Option<i64> = query.get("edit").and_then(|id| id.parse().ok());
    let feedback = ctx.feedback.clone();
    // What the form starts with: what was just refused, else the component
    // being edited, else what a preview request carried, else nothing.
    let initial = feedback
        .as_ref()
        .and_then(|f| f.component.clone())
        .or_else(|| editing.and_then(|id| rows.iter().find(|r| r.id == id).map(|r| r.form.clone())))
        .unwrap_or_else(|| ComponentForm {
            name: query.get("name").unwrap_or_default(),
            description: query.get("description").unwrap_or_default(),
            group: query.get("group").unwrap_or_default(),
            namespace: query.get("namespace").unwrap_or_default(),
            selector: query.get("selector").unwrap_or_default(),
            visibility: query.get("visibility").unwrap_or_default(),
        });
    let saved = query.get("saved");
    let list = if rows.is_empty() {
        view! { <p class="empty-state">"No service components yet. Define the first one below."</p> }
            .into_any()
    } else {
        view! {
            <table class="data" id="components">
                <thead><tr>
                    <th>"Name"</th><th>"Group"</th><th>"Namespace"</th><th>"Selector"</th>
                    <th>"Visibility"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let id = row.id;
                        let name = row.form.name.clone();
                        view! {
                            <tr data-component-id=id>
                                <td>{row.form.name}</td>
                                <td>{row.form.group}</td>
                                <td>{row.form.namespace}</td>
                                <td><code>{if row.form.selector.is_empty() { "(everything)".to_owned() } else { row.form.selector }}</code></td>
                                <td>{row.form.visibility}</td>
                                <td>{match row.status {
                                    Some(status) => view! { <StatusBadge status /> }.into_any(),
                                    None => view! { <span class="info">"not evaluated yet"</span> }.into_any(),
                                }}</td>
                                <td class="row-actions">
                                    <a href=format!("/admin/components?edit={id}")>"Edit"</a>
                                    <form method="post" action=format!("/admin/components/{id}/delete")><CsrfField />
                                        <button type="submit" class="danger" aria-label=format!("Delete {name}")>"Delete"</button>
                                    </form>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        {saved.map(|name| view! { <p class="notice" role="status">{format!("Saved {name}.")}</p> })}
        {list}
        <ComponentEditor initial editing feedback=feedback.map(|f| (f.message, f.field)) />
    }
}

#[component]
fn ComponentEditor(
    initial: ComponentForm,
    editing: Option<i64>,
    feedback: Option<(String, Option<String>)>,
) -> impl IntoView {
    let namespace = RwSignal::new(initial.namespace.clone());
    let selector = RwSignal::new(initial.selector.clone());
    let preview = Resource::new(
        move || (namespace.get(), selector.get()),
        |(namespace, selector)| async move {
            if namespace.trim().is_empty() {
                return Ok(None);
            }
            preview_selector(namespace, selector).await.map(Some)
        },
    );
    let action = match editing {
        Some(id) => format!("/admin/components/{id}"),
        None => "/admin/components".to_owned(),
    };
    let heading = if editing.is_some() { "Edit component" } else { "New component" };
    let field_error = feedback.as_ref().and_then(|(_, field)| field.clone());
    let invalid = move |name: &str| field_error.as_deref() == Some(name);
    let public = initial.visibility == "public" || initial.visibility == "on";
    view! {
        <section class="editor">
            <h2>{heading}</h2>
            {feedback.map(|(message, _)| view! { <p class="form-error" role="alert">{message}</p> })}
            <form method="post" action=action class="component-form"><CsrfField />
                <label>"Name" <input name="name" required maxlength="80" value=initial.name aria-invalid=invalid("name").to_string() /></label>
                <label>"Description" <input name="description" maxlength="500" value=initial.description /></label>
                <label>"Group" <input name="group" maxlength="80" placeholder="Services" value=initial.group /></label>
                <label>"Namespace"
                    <input name="namespace" required value=initial.namespace aria-invalid=invalid("namespace").to_string()
                        on:input=move |ev| namespace.set(event_target_value(&ev)) />
                </label>
                <label>"Label selector"
                    <input name="selector" placeholder="app=checkout" value=initial.selector aria-invalid=invalid("selector").to_string()
                        on:input=move |ev| selector.set(event_target_value(&ev)) />
                </label>
                <label class="checkbox">
                    <input type="checkbox" name="visibility" value="public" checked=public />
                    " Public: show on the status page"
                </label>
                <div class="form-buttons">
                    <button type="submit">{if editing.is_some() { "Save changes" } else { "Create component" }}</button>
                    <button type="submit" class="secondary" formmethod="get" formaction="/admin/components">"Preview matches"</button>
                    {editing.map(|_| view! { <a href="/admin/components">"Cancel"</a> })}
                </div>
            </form>
            <section class="preview" aria-live="polite">
                <h3>"Matching workloads"</h3>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move { preview.await.map(|result| view! { <Preview result /> }) })}
                </Transition>
            </section>
        </section>
    }
}

#[component]
fn Preview(result: Option<Result<Vec<WorkloadRow>, String>>) -> impl IntoView {
    match result {
        None => view! { <p class="info">"Type a namespace and a selector to see what they match."</p> }.into_any(),
        Some(Err(reason)) => view! { <p class="form-error" id="preview-error">{reason}</p> }.into_any(),
        Some(Ok(rows)) if rows.is_empty() => {
            view! { <p class="form-error" id="preview-empty">"No workload matches: the component would show a major outage."</p> }.into_any()
        }
        Some(Ok(rows)) => view! {
            <ul id="preview-matches">
                {rows.into_iter().map(|w| view! {
                    <li>{format!("{} {}/{} — {} of {} available", w.kind, w.namespace, w.name, w.available, w.desired)}</li>
                }).collect_view()}
            </ul>
        }.into_any(),
    }
}
