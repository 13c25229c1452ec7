//! `/cluster` — nodes, workloads, recent Warning events and the control
//! plane's own checks, read from Wheelhouse's live copy of the cluster.

use crate::components::guard::Guarded;
use crate::components::status::{ConnectionIndicator, StatusBadge, clock};
use crate::domain::control_plane::CheckReport;
use crate::live::{ClusterOverview, load_cluster_overview, refresh_live};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ClusterPage() -> impl IntoView {
    view! {
        <Title text="Cluster" />
        <Guarded>
            <h1>"Cluster"</h1>
            <Overview />
        </Guarded>
    }
}

#[component]
fn Overview() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_cluster_overview());
    refresh_live(move || data.refetch());
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the cluster…"</p> }>
            {move || Suspend::new(async move { data.await.map(|data| view! { <OverviewView data /> }) })}
        </Transition>
    }
}

fn more(shown: usize, total: usize, what: &str) -> Option<String> {
    (total > shown).then(|| format!("Showing {shown} of {total} {what}, problems first."))
}

#[component]
fn OverviewView(data: ClusterOverview) -> impl IntoView {
    let ClusterOverview { link, nodes, node_total, workloads, workload_total, warnings, checks } = data;
    let more_nodes = more(nodes.len(), node_total, "nodes");
    let more_workloads = more(workloads.len(), workload_total, "workloads");
    let stale = link.is_stale();
    view! {
        <ConnectionIndicator link />
        <div class:stale=stale>
            <section>
                <h2>"Control plane"</h2>
                <div class="checks">
                    <Checks name="/livez" report=checks.livez />
                    <Checks name="/readyz" report=checks.readyz />
                </div>
            </section>
            <section>
                <h2>{format!("Nodes ({node_total})")}</h2>
                {more_nodes.map(|m| view! { <p class="info">{m}</p> })}
                <table class="data" id="nodes">
                    <thead><tr>
                        <th>"Node"</th><th>"Status"</th><th>"Conditions"</th><th>"Scheduling"</th>
                        <th>"Pods"</th><th>"CPU"</th><th>"Memory"</th><th>"Max pods"</th>
                    </tr></thead>
                    <tbody>
                        {nodes.into_iter().map(|n| view! {
                            <tr data-node=n.name.clone()>
                                <td>{n.name.clone()}</td>
                                <td><StatusBadge status=n.status /></td>
                                <td>{if n.conditions.is_empty() { "Ready".to_owned() } else { n.conditions.join(", ") }}</td>
                                <td class="scheduling">{if n.cordoned { "Cordoned" } else { "Schedulable" }}</td>
                                <td>{n.pods}</td><td>{n.cpu}</td><td>{n.memory}</td><td>{n.max_pods}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section>
                <h2>{format!("Workloads ({workload_total})")}</h2>
                {more_workloads.map(|m| view! { <p class="info">{m}</p> })}
                <table class="data" id="workloads">
                    <thead><tr>
                        <th>"Workload"</th><th>"Desired"</th><th>"Ready"</th><th>"Available"</th>
                        <th>"Restarts"</th><th>"Image"</th>
                    </tr></thead>
                    <tbody>
                        {workloads.into_iter().map(|w| {
                            let short = w.available < w.desired;
                            view! {
                                <tr class:short=short>
                                    <td>{format!("{} {}/{}", w.kind, w.namespace, w.name)}</td>
                                    <td>{w.desired}</td><td>{w.ready}</td><td>{w.available}</td>
                                    <td>{w.restarts}</td><td><code>{w.image}</code></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section>
                <h2>"Recent Warning events"</h2>
                {if warnings.is_empty() {
                    view! { <p class="info">"No Warning events."</p> }.into_any()
                } else {
                    view! {
                        <table class="data" id="warnings">
                            <thead><tr><th>"Last seen (UTC)"</th><th>"Object"</th><th>"Reason"</th><th>"Message"</th><th>"Count"</th></tr></thead>
                            <tbody>
                                {warnings.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{clock(e.last_seen)}</td>
                                        <td>{format!("{}/{}", e.namespace, e.object)}</td>
                                        <td>{e.reason}</td><td>{e.message}</td><td>{e.count}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn Checks(name: &'static str, report: Option<CheckReport>) -> impl IntoView {
    match report {
        None => view! { <div class="check-list"><h3>{name}</h3><p class="info">"No answer yet."</p></div> }
            .into_any(),
        Some(report) => {
            let verdict = if report.passed { "passed" } else { "failed" };
            view! {
                <div class="check-list">
                    <h3>{name}" — "{verdict}</h3>
                    <ul>
                        {report.checks.into_iter().map(|c| view! {
                            <li class:failed=!c.ok>{if c.ok { "✓ " } else { "✕ " }}{c.name}{if c.ok { "" } else { " (failing)" }}</li>
                        }).collect_view()}
                    </ul>
                </div>
            }.into_any()
        }
    }
}
