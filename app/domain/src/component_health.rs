//! The health engine: from what the cluster reports to a status per component,
//! and from one evaluation to the next, which statuses changed and since when.
//! The cluster is read through [`ClusterView`], which the server implements
//! over its watch state; nothing here knows where the observations come from.

use super::component::{CONTROL_PLANE, ComponentKey, ComponentKind, ServiceComponent, Visibility};
use super::control_plane::ControlPlaneChecks;
use super::health::{
    Assessment, ComponentStatus, NodeObservation, PodObservation, Thresholds, WorkloadObservation,
    assess_node, assess_workload, roll_up,
};
use super::label_selector::LabelSelector;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The group platform components are shown in; nodes have their own.
pub const PLATFORM_GROUP: &str = "Platform";
pub const NODES_GROUP: &str = "Nodes";

/// What the health engine needs to know about the cluster.
pub trait ClusterView {
    fn nodes(&self) -> Vec<NodeObservation>;
    /// Deployments, StatefulSets and DaemonSets in `namespace` whose labels
    /// match `selector`, each with its pods.
    fn workloads(&self, namespace: &str, selector: &LabelSelector) -> Vec<WorkloadObservation>;
    /// The pods of a control-plane component (`component=<name>` in kube-system).
    fn control_plane_pods(&self, component: &str) -> Vec<PodObservation>;
    fn control_plane_checks(&self) -> ControlPlaneChecks;
}

/// One component's evaluated health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentHealth {
    pub key: ComponentKey,
    pub name: String,
    pub description: String,
    pub kind: ComponentKind,
    pub group: String,
    pub visibility: Visibility,
    pub assessment: Assessment,
}

impl ComponentHealth {
    fn platform(name: &str, description: &str, assessment: Assessment) -> ComponentHealth {
        ComponentHealth {
            key: ComponentKey::platform(name),
            name: name.to_owned(),
            description: description.to_owned(),
            kind: ComponentKind::Platform,
            group: PLATFORM_GROUP.to_owned(),
            visibility: Visibility::Internal,
            assessment,
        }
    }
}

/// Cluster add-ons shown as platform components when the cluster runs them:
/// (name, description, selector in kube-system).
const ADD_ONS: [(&str, &str, &str); 2] = [
    ("CoreDNS", "Name resolution inside the cluster", "k8s-app in (kube-dns, coredns)"),
    ("kube-proxy", "Service routing on every node", "k8s-app=kube-proxy"),
];

/// Evaluates every component: the control plane, the add-ons the cluster
/// runs, each node, and the services an admin defined.
pub fn evaluate(
    view: &impl ClusterView,
    services: &[ServiceComponent],
    thresholds: &Thresholds,
) -> Vec<ComponentHealth> {
    let mut all = Vec::new();
    let checks = view.control_plane_checks();
    for component in CONTROL_PLANE {
        let pods = view.control_plane_pods(component);
        let from_checks = match component {
            "kube-apiserver" => Some(checks.assess_apiserver()),
            "etcd" => Some(checks.assess_etcd()),
            _ => None,
        };
        // Managed clusters hide the scheduler and controller manager; they
        // are shown only when their pods are visible.
        if from_checks.is_none() && pods.is_empty() {
            continue;
        }
        let from_pods = (!pods.is_empty()).then(|| assess_control_plane_pods(component, pods, thresholds));
        let assessment = roll_up(from_checks.into_iter().chain(from_pods));
        all.push(ComponentHealth::platform(component, control_plane_description(component), assessment));
    }
    for (name, description, selector) in ADD_ONS {
        let selector = LabelSelector::parse(selector).unwrap_or_default();
        let workloads = view.workloads("kube-system", &selector);
        if workloads.is_empty() {
            continue;
        }
        let assessment = roll_up(workloads.iter().map(|w| assess_workload(w, thresholds)));
        all.push(ComponentHealth::platform(name, description, assessment));
    }
    for node in view.nodes() {
        all.push(ComponentHealth {
            key: ComponentKey::node(&node.name),
            name: node.name.clone(),
            description: "Kubelet and container runtime".to_owned(),
            kind: ComponentKind::Node,
            group: NODES_GROUP.to_owned(),
            visibility: Visibility::Internal,
            assessment: assess_node(&node),
        });
    }
    for service in services {
        let definition = &service.definition;
        let workloads = view.workloads(&definition.namespace, &definition.selector);
        let assessment = assess_service(&workloads, &definition.namespace, &definition.selector, thresholds);
        all.push(ComponentHealth {
            key: service.key(),
            name: definition.name.clone(),
            description: definition.description.clone(),
            kind: ComponentKind::Service,
            group: definition.group.clone(),
            visibility: definition.visibility,
            assessment,
        });
    }
    all
}

/// A service is as healthy as its worst workload; a selector that matches no
/// workload means nothing is running, which is a major outage.
pub fn assess_service(
    workloads: &[WorkloadObservation],
    namespace: &str,
    selector: &LabelSelector,
    thresholds: &Thresholds,
) -> Assessment {
    if workloads.is_empty() {
        let mut assessment = Assessment::operational();
        let shown = if selector.is_empty() { "(everything)".to_owned() } else { selector.to_string() };
        assessment.raise(
            ComponentStatus::MajorOutage,
            &format!("namespace {namespace}"),
            format!("no Deployment, StatefulSet or DaemonSet matches {shown}"),
        );
        return assessment;
    }
    roll_up(workloads.iter().map(|w| assess_workload(w, thresholds)))
}

/// Static control-plane pods count as a workload that wants all of them ready.
fn assess_control_plane_pods(
    component: &str,
    pods: Vec<PodObservation>,
    thresholds: &Thresholds,
) -> Assessment {
    let ready = pods.iter().filter(|p| p.ready).count() as u32;
    let workload = WorkloadObservation {
        kind: "static pods".to_owned(),
        namespace: "kube-system".to_owned(),
        name: component.to_owned(),
        desired: pods.len() as u32,
        available: ready,
        pods,
    };
    assess_workload(&workload, thresholds)
}

fn control_plane_description(component: &str) -> &'static str {
    match component {
        "kube-apiserver" => "The Kubernetes API",
        "etcd" => "The cluster's datastore",
        "kube-scheduler" => "Places new pods on nodes",
        _ => "Runs the controllers that keep workloads at their desired state",
    }
}

/// A component whose status changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub key: ComponentKey,
    pub name: String,
    /// `None` the first time a component is seen.
    pub from: Option<ComponentStatus>,
    pub to: ComponentStatus,
    pub reasons: Vec<super::health::Reason>,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

/// Remembers each component's status and since when, and reports changes.
#[derive(Clone, Debug, Default)]
pub struct StatusTracker {
    known: HashMap<ComponentKey, (ComponentStatus, i64)>,
}

impl StatusTracker {
    /// Starts from statuses recorded earlier (e.g. before a restart), so that an
    /// unchanged status is not reported again.
    pub fn seeded(recorded: impl IntoIterator<Item = (ComponentKey, ComponentStatus, i64)>) -> StatusTracker {
        StatusTracker { known: recorded.into_iter().map(|(key, status, at)| (key, (status, at))).collect() }
    }

    /// Takes a new evaluation at `now` and returns what changed. Components no
    /// longer evaluated (a node removed, a service deleted) are forgotten.
    pub fn observe(&mut self, healths: &[ComponentHealth], now: i64) -> Vec<StatusChange> {
        let mut changes = Vec::new();
        let mut next = HashMap::with_capacity(healths.len());
        for health in healths {
            let status = health.assessment.status;
            let previous = self.known.get(&health.key).copied();
            let since = match previous {
                Some((before, since)) if before == status => since,
                _ => {
                    changes.push(StatusChange {
                        key: health.key.clone(),
                        name: health.name.clone(),
                        from: previous.map(|(before, _)| before),
                        to: status,
                        reasons: health.assessment.reasons.clone(),
                        at: now,
                    });
                    now
                }
            };
            next.insert(health.key.clone(), (status, since));
        }
        self.known = next;
        changes
    }

    /// When the component's current status began.
    pub fn since(&self, key: &ComponentKey) -> Option<i64> {
        self.known.get(key).map(|(_, since)| *since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{ComponentDefinition, ComponentForm};
    use crate::control_plane::CheckReport;
    use crate::health::{PodPhase, THRESHOLDS};

    #[derive(Default)]
    struct FakeCluster {
        nodes: Vec<NodeObservation>,
        workloads: Vec<(WorkloadObservation, LabelSelector)>,
        static_pods: Vec<(&'static str, PodObservation)>,
        checks: ControlPlaneChecks,
    }

    impl ClusterView for FakeCluster {
        fn nodes(&self) -> Vec<NodeObservation> {
            self.nodes.clone()
        }
        fn workloads(&self, namespace: &str, selector: &LabelSelector) -> Vec<WorkloadObservation> {
            // Fixtures carry their labels as a selector; a service matches when it asks for the same text.
            self.workloads
                .iter()
                .filter(|(w, labels)| w.namespace == namespace && labels.to_string() == selector.to_string())
                .map(|(w, _)| w.clone())
                .collect()
        }
        fn control_plane_pods(&self, component: &str) -> Vec<PodObservation> {
            self.static_pods.iter().filter(|(c, _)| *c == component).map(|(_, p)| p.clone()).collect()
        }
        fn control_plane_checks(&self) -> ControlPlaneChecks {
            self.checks.clone()
        }
    }

    fn pod(name: &str, ready: bool) -> PodObservation {
        PodObservation {
            name: name.into(),
            phase: PodPhase::Running,
            ready,
            restarts: 0,
            waiting_reason: None,
            last_termination_reason: None,
            age_secs: 600,
            unready_node: None,
        }
    }

    fn deployment(namespace: &str, name: &str, desired: u32, available: u32) -> WorkloadObservation {
        WorkloadObservation {
            kind: "deployment".into(),
            namespace: namespace.into(),
            name: name.into(),
            desired,
            available,
            pods: (0..desired).map(|i| pod(&format!("{name}-{i}"), i < available)).collect(),
        }
    }

    fn service(id: i64, name: &str, namespace: &str, selector: &str) -> ServiceComponent {
        let form = ComponentForm {
            name: name.into(),
            namespace: namespace.into(),
            selector: selector.into(),
            visibility: "public".into(),
            ..ComponentForm::default()
        };
        ServiceComponent { id, definition: ComponentDefinition::parse(&form).unwrap() }
    }

    fn selector(text: &str) -> LabelSelector {
        LabelSelector::parse(text).unwrap()
    }

    fn healthy_cluster() -> FakeCluster {
        let report = CheckReport::parse(true, "[+]ping ok\n[+]etcd ok\n");
        FakeCluster {
            nodes: vec![NodeObservation {
                name: "worker-1".into(),
                ready: Some(true),
                memory_pressure: false,
                disk_pressure: false,
                pid_pressure: false,
                unschedulable: false,
            }],
            workloads: vec![
                (deployment("kube-system", "coredns", 2, 2), selector("k8s-app in (kube-dns, coredns)")),
                (deployment("shop", "checkout", 3, 3), selector("app=checkout")),
            ],
            static_pods: vec![("kube-scheduler", pod("kube-scheduler-cp-1", true))],
            checks: ControlPlaneChecks { livez: Some(report.clone()), readyz: Some(report) },
        }
    }

    fn find<'a>(all: &'a [ComponentHealth], key: &ComponentKey) -> &'a ComponentHealth {
        all.iter().find(|h| &h.key == key).unwrap_or_else(|| panic!("no component {key}"))
    }

    #[test]
    fn a_healthy_cluster_shows_its_platform_nodes_and_services_operational() {
        let all =
            evaluate(&healthy_cluster(), &[service(1, "Checkout", "shop", "app=checkout")], &THRESHOLDS);
        let keys: Vec<&str> = all.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "platform/kube-apiserver",
                "platform/etcd",
                "platform/kube-scheduler",
                "platform/CoreDNS",
                "node/worker-1",
                "service/1"
            ],
            "the controller manager and kube-proxy are not visible in this cluster, so they are not shown"
        );
        assert!(all.iter().all(|h| h.assessment.status == ComponentStatus::Operational));
        assert_eq!(find(&all, &ComponentKey::service(1)).visibility, Visibility::Public);
    }

    #[test]
    fn a_service_takes_the_worst_status_of_its_workloads() {
        let mut cluster = healthy_cluster();
        cluster.workloads.push((deployment("shop", "checkout-worker", 2, 0), selector("app=checkout")));
        let all = evaluate(&cluster, &[service(1, "Checkout", "shop", "app=checkout")], &THRESHOLDS);
        let checkout = find(&all, &ComponentKey::service(1));
        assert_eq!(checkout.assessment.status, ComponentStatus::MajorOutage);
        assert!(checkout.assessment.reasons.iter().any(|r| r.subject == "deployment shop/checkout-worker"));
    }

    #[test]
    fn a_service_whose_selector_matches_nothing_is_a_major_outage_saying_so() {
        let all = evaluate(&healthy_cluster(), &[service(2, "Ghost", "shop", "app=ghost")], &THRESHOLDS);
        let ghost = find(&all, &ComponentKey::service(2));
        assert_eq!(ghost.assessment.status, ComponentStatus::MajorOutage);
        assert!(ghost.assessment.reasons[0].detail.contains("app=ghost"));
    }

    #[test]
    fn a_static_control_plane_pod_not_ready_is_an_outage_of_that_component() {
        let mut cluster = healthy_cluster();
        cluster.static_pods = vec![("kube-scheduler", pod("kube-scheduler-cp-1", false))];
        let all = evaluate(&cluster, &[], &THRESHOLDS);
        let scheduler = find(&all, &ComponentKey::platform("kube-scheduler"));
        assert_eq!(scheduler.assessment.status, ComponentStatus::MajorOutage);
    }

    #[test]
    fn etcd_failing_its_check_shows_on_etcd() {
        let mut cluster = healthy_cluster();
        cluster.checks.readyz = Some(CheckReport::parse(false, "[-]etcd failed: reason withheld\n"));
        let all = evaluate(&cluster, &[], &THRESHOLDS);
        assert_eq!(
            find(&all, &ComponentKey::platform("etcd")).assessment.status,
            ComponentStatus::MajorOutage
        );
        assert_eq!(
            find(&all, &ComponentKey::platform("kube-apiserver")).assessment.status,
            ComponentStatus::Operational
        );
    }

    fn health(key: ComponentKey, status: ComponentStatus) -> ComponentHealth {
        ComponentHealth {
            key,
            name: "x".into(),
            description: String::new(),
            kind: ComponentKind::Service,
            group: "Services".into(),
            visibility: Visibility::Internal,
            assessment: Assessment { status, reasons: Vec::new() },
        }
    }

    #[test]
    fn the_tracker_reports_a_change_once_and_remembers_since_when() {
        let key = ComponentKey::service(1);
        let mut tracker = StatusTracker::default();
        let first = tracker.observe(&[health(key.clone(), ComponentStatus::Operational)], 1_000);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].from, None);
        assert!(tracker.observe(&[health(key.clone(), ComponentStatus::Operational)], 2_000).is_empty());
        assert_eq!(tracker.since(&key), Some(1_000));
        let changed = tracker.observe(&[health(key.clone(), ComponentStatus::PartialOutage)], 3_000);
        assert_eq!(changed[0].from, Some(ComponentStatus::Operational));
        assert_eq!(changed[0].to, ComponentStatus::PartialOutage);
        assert_eq!(tracker.since(&key), Some(3_000));
    }

    #[test]
    fn a_tracker_seeded_from_storage_does_not_repeat_an_unchanged_status() {
        let key = ComponentKey::node("worker-1");
        let mut tracker = StatusTracker::seeded([(key.clone(), ComponentStatus::MajorOutage, 500)]);
        assert!(tracker.observe(&[health(key.clone(), ComponentStatus::MajorOutage)], 9_000).is_empty());
        assert_eq!(tracker.since(&key), Some(500));
    }

    #[test]
    fn a_component_no_longer_evaluated_is_forgotten() {
        let key = ComponentKey::node("gone");
        let mut tracker = StatusTracker::default();
        tracker.observe(&[health(key.clone(), ComponentStatus::Operational)], 1);
        tracker.observe(&[], 2);
        assert_eq!(tracker.since(&key), None);
    }
}
