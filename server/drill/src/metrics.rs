//! `/metrics`: the drill's objects in kube-state-metrics' names and labels,
//! so that a real Prometheus can scrape the drill and evaluate the alert rules
//! teams already run (kubernetes-mixin's KubePodCrashLooping,
//! KubeDeploymentReplicasMismatch, KubeNodeNotReady, …). Built from the store
//! at each scrape, as kube-state-metrics builds from its informers.

use crate::resources::{DAEMONSETS, DEPLOYMENTS, NODES, PODS, STATEFULSETS};
use crate::store::{Filter, Store, name_of, namespace_of, uid_of};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The phases kube-state-metrics reports for every pod, one series each.
const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

#[derive(Default)]
struct Families {
    pod_phase: Family<Labels, Gauge>,
    pod_info: Family<Labels, Gauge>,
    waiting_reason: Family<Labels, Gauge>,
    terminated_reason: Family<Labels, Gauge>,
    restarts: Family<Labels, Counter>,
    container_ready: Family<Labels, Gauge>,
    deployment_spec_replicas: Family<Labels, Gauge>,
    deployment_available: Family<Labels, Gauge>,
    deployment_updated: Family<Labels, Gauge>,
    deployment_observed_generation: Family<Labels, Gauge>,
    deployment_generation: Family<Labels, Gauge>,
    statefulset_replicas: Family<Labels, Gauge>,
    statefulset_ready: Family<Labels, Gauge>,
    daemonset_desired: Family<Labels, Gauge>,
    daemonset_available: Family<Labels, Gauge>,
    node_condition: Family<Labels, Gauge>,
    node_unschedulable: Family<Labels, Gauge>,
    node_info: Family<Labels, Gauge>,
}

fn int(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn items(store: &Store, resource: crate::resources::Resource) -> Vec<Value> {
    store.list(resource, &Filter::default(), None, None).map(|page| page.items).unwrap_or_default()
}

impl Families {
    fn pods(&self, store: &Store) {
        for pod in items(store, PODS) {
            let (namespace, name, uid) = (namespace_of(&pod), name_of(&pod), uid_of(&pod));
            let phase = text(&pod, "/status/phase");
            for candidate in PHASES {
                let series =
                    labels(&[("namespace", namespace), ("pod", name), ("uid", uid), ("phase", candidate)]);
                self.pod_phase.get_or_create(&series).set(i64::from(candidate == phase));
            }
            let node = text(&pod, "/spec/nodeName");
            self.pod_info
                .get_or_create(&labels(&[
                    ("namespace", namespace),
                    ("pod", name),
                    ("uid", uid),
                    ("node", node),
                ]))
                .set(1);
            let statuses = pod.pointer("/status/containerStatuses").and_then(Value::as_array);
            for status in statuses.into_iter().flatten() {
                let container = text(status, "/name");
                let base = [("namespace", namespace), ("pod", name), ("uid", uid), ("container", container)];
                self.restarts
                    .get_or_create(&labels(&base))
                    .inc_by(int(status, "/restartCount").max(0) as u64);
                self.container_ready
                    .get_or_create(&labels(&base))
                    .set(i64::from(status.pointer("/ready").and_then(Value::as_bool).unwrap_or(false)));
                let waiting = text(status, "/state/waiting/reason");
                if !waiting.is_empty() {
                    let mut series = labels(&base);
                    series.push(("reason".to_owned(), waiting.to_owned()));
                    self.waiting_reason.get_or_create(&series).set(1);
                }
                let terminated = text(status, "/lastState/terminated/reason");
                if !terminated.is_empty() {
                    let mut series = labels(&base);
                    series.push(("reason".to_owned(), terminated.to_owned()));
                    self.terminated_reason.get_or_create(&series).set(1);
                }
            }
        }
    }

    fn workloads(&self, store: &Store) {
        for deployment in items(store, DEPLOYMENTS) {
            let series =
                labels(&[("namespace", namespace_of(&deployment)), ("deployment", name_of(&deployment))]);
            let spec = deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            self.deployment_spec_replicas.get_or_create(&series).set(spec);
            self.deployment_available
                .get_or_create(&series)
                .set(int(&deployment, "/status/availableReplicas"));
            self.deployment_updated.get_or_create(&series).set(int(&deployment, "/status/updatedReplicas"));
            self.deployment_observed_generation
                .get_or_create(&series)
                .set(int(&deployment, "/status/observedGeneration"));
            self.deployment_generation.get_or_create(&series).set(int(&deployment, "/metadata/generation"));
        }
        for set in items(store, STATEFULSETS) {
            let series = labels(&[("namespace", namespace_of(&set)), ("statefulset", name_of(&set))]);
            self.statefulset_replicas
                .get_or_create(&series)
                .set(set.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1));
            self.statefulset_ready.get_or_create(&series).set(int(&set, "/status/readyReplicas"));
        }
        for set in items(store, DAEMONSETS) {
            let series = labels(&[("namespace", namespace_of(&set)), ("daemonset", name_of(&set))]);
            self.daemonset_desired.get_or_create(&series).set(int(&set, "/status/desiredNumberScheduled"));
            self.daemonset_available.get_or_create(&series).set(int(&set, "/status/numberAvailable"));
        }
    }

    fn nodes(&self, store: &Store) {
        for node in items(store, NODES) {
            let name = name_of(&node);
            let conditions = node.pointer("/status/conditions").and_then(Value::as_array);
            for condition in conditions.into_iter().flatten() {
                let kind = text(condition, "/type");
                let actual = text(condition, "/status").to_ascii_lowercase();
                for status in ["true", "false", "unknown"] {
                    let series = labels(&[("node", name), ("condition", kind), ("status", status)]);
                    self.node_condition.get_or_create(&series).set(i64::from(actual == status));
                }
            }
            let cordoned = node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false);
            self.node_unschedulable.get_or_create(&labels(&[("node", name)])).set(i64::from(cordoned));
            let kubelet = text(&node, "/status/nodeInfo/kubeletVersion");
            self.node_info.get_or_create(&labels(&[("node", name), ("kubelet_version", kubelet)])).set(1);
        }
    }

    fn register(self, registry: &mut Registry) {
        registry.register("kube_pod_status_phase", "The pods current phase", self.pod_phase);
        registry.register("kube_pod_info", "Information about pod", self.pod_info);
        registry.register(
            "kube_pod_container_status_waiting_reason",
            "Describes the reason the container is currently in waiting state.",
            self.waiting_reason,
        );
        registry.register(
            "kube_pod_container_status_last_terminated_reason",
            "Describes the last reason the container was in terminated state.",
            self.terminated_reason,
        );
        registry.register(
            "kube_pod_container_status_restarts",
            "The number of container restarts per container.",
            self.restarts,
        );
        registry.register(
            "kube_pod_container_status_ready",
            "Describes whether the containers readiness check succeeded.",
            self.container_ready,
        );
        registry.register(
            "kube_deployment_spec_replicas",
            "Number of desired pods for a deployment.",
            self.deployment_spec_replicas,
        );
        registry.register(
            "kube_deployment_status_replicas_available",
            "The number of available replicas per deployment.",
            self.deployment_available,
        );
        registry.register(
            "kube_deployment_status_replicas_updated",
            "The number of updated replicas per deployment.",
            self.deployment_updated,
        );
        registry.register(
            "kube_deployment_status_observed_generation",
            "The generation observed by the deployment controller.",
            self.deployment_observed_generation,
        );
        registry.register(
            "kube_deployment_metadata_generation",
            "Sequence number representing a specific generation of the desired state.",
            self.deployment_generation,
        );
        registry.register(
            "kube_statefulset_replicas",
            "Number of desired pods for a StatefulSet.",
            self.statefulset_replicas,
        );
        registry.register(
            "kube_statefulset_status_replicas_ready",
            "The number of ready replicas per StatefulSet.",
            self.statefulset_ready,
        );
        registry.register(
            "kube_daemonset_status_desired_number_scheduled",
            "The number of nodes that should be running the daemon pod.",
            self.daemonset_desired,
        );
        registry.register("kube_daemonset_status_number_available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available", self.daemonset_available);
        registry.register(
            "kube_node_status_condition",
            "The condition of a cluster node.",
            self.node_condition,
        );
        registry.register(
            "kube_node_spec_unschedulable",
            "Whether a node can schedule new pods.",
            self.node_unschedulable,
        );
        registry.register("kube_node_info", "Information about a cluster node", self.node_info);
    }
}

/// The store's objects in the Prometheus text format.
pub fn render(store: &Store) -> String {
    let families = Families::default();
    families.pods(store);
    families.workloads(store);
    families.nodes(store);
    let mut registry = Registry::default();
    families.register(&mut registry);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;
    use crate::store::Store;

    #[test]
    fn the_scenario_is_exposed_in_kube_state_metrics_names() {
        let store = Store::new();
        let scenario = Scenario::default_scenario();
        scenario.load(&store).unwrap();
        scenario.load_running_pods(&store).unwrap();
        let text = super::render(&store);
        for name in [
            "kube_pod_status_phase{",
            "kube_pod_container_status_restarts_total{",
            "kube_deployment_spec_replicas{namespace=\"shop\",deployment=\"checkout\"}",
            "kube_deployment_status_replicas_available{",
            "kube_node_status_condition{node=",
            "kube_node_spec_unschedulable{node=",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{}", &text[..text.len().min(2000)]);
        }
        assert!(text.contains("condition=\"Ready\",status=\"true\"} 1"), "nodes are ready");
    }
}
