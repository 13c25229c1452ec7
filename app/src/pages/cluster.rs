//! `/cluster` — nodes, workloads, warning events and control-plane checks.

use super::NotYetAvailable;
use crate::components::guard::Guarded;
use crate::page_context::{ClusterSource, PageContext};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ClusterPage() -> impl IntoView {
    let configured = || match expect_context::<PageContext>().cluster {
        ClusterSource::Drill => "Configured cluster: the built-in drill cluster.",
        ClusterSource::Kubeconfig => "Configured cluster: the one named by the kube config.",
    };
    view! {
        <Title text="Cluster" />
        <Guarded>
            <h1>"Cluster"</h1>
            <p>{configured}</p>
            <NotYetAvailable
                heading="Not connected to the cluster yet"
                what="This version does not read nodes, workloads or events yet, so nothing is shown rather than something stale."
            />
        </Guarded>
    }
}
