//! The in-memory copy of the cluster: only what the health rules and pages
//! read, so memory grows slowly with the cluster (no `managedFields`, specs or
//! annotations). Watchers write it; the health engine and pages read it.
//!
//! Pods are most of it (150,000 at Kubernetes' documented limit), so they are
//! kept compact: the text that repeats across pods (namespaces, node names,
//! owners, waiting and termination reasons) is stored once and shared
//! ([`Interner`]), pods are indexed by namespace then name without copying
//! either, and a relist is built straight into new tables ([`Relist`])
//! instead of a list of every object first.

use app::domain::control_plane::ControlPlaneChecks;
use app::domain::health::{NodeObservation, PodObservation, PodPhase, WorkloadObservation};
use app::domain::label_selector::LabelSelector;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Warning events kept for the cluster page, newest last.
pub const MAX_WARNINGS: usize = 200;

/// The kinds of object Wheelhouse watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Kind {
    Node,
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Event,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Node,
        Kind::Pod,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Event,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::StatefulSet => "statefulsets",
            Kind::DaemonSet => "daemonsets",
            Kind::Event => "events",
        }
    }
}

/// `namespace/name`.
pub type ObjectKey = (String, String);

/// Text shared by many objects; each distinct value is stored once.
pub type Shared = Arc<str>;

/// The distinct values of shared text, and of owners.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    texts: HashSet<Shared>,
    owners: HashSet<Arc<Owner>>,
}

impl Interner {
    pub fn text(&mut self, text: &str) -> Shared {
        if let Some(shared) = self.texts.get(text) {
            return shared.clone();
        }
        let shared: Shared = Arc::from(text);
        self.texts.insert(shared.clone());
        shared
    }

    fn owner(&mut self, owner: Owner) -> Arc<Owner> {
        if let Some(shared) = self.owners.get(&owner) {
            return shared.clone();
        }
        let owner = Owner {
            namespace: self.text(&owner.namespace),
            kind: self.text(&owner.kind),
            name: self.text(&owner.name),
        };
        let shared = Arc::new(owner);
        self.owners.insert(shared.clone());
        shared
    }

    /// Forgets the values no object holds any more.
    fn prune(&mut self) {
        self.owners.retain(|owner| Arc::strong_count(owner) > 1);
        self.texts.retain(|text| Arc::strong_count(text) > 1);
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub ready: Option<bool>,
    pub memory_pressure: bool,
    pub disk_pressure: bool,
    pub pid_pressure: bool,
    pub unschedulable: bool,
    pub cpu: String,
    pub memory: String,
    pub max_pods: String,
    pub kubelet_version: String,
}

impl NodeInfo {
    /// The node as the health rules read it.
    pub fn observation(&self) -> NodeObservation {
        NodeObservation {
            name: self.name.clone(),
            ready: self.ready,
            memory_pressure: self.memory_pressure,
            disk_pressure: self.disk_pressure,
            pid_pressure: self.pid_pressure,
            unschedulable: self.unschedulable,
        }
    }
}

/// The workload kinds, as the domain names them (containment actions use the same type).
pub use app::domain::action::WorkloadKind;

#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadInfo {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub desired: u32,
    pub ready: u32,
    pub available: u32,
    pub image: String,
}

/// Who controls a pod, as far as the health rules care.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    pub namespace: Shared,
    pub kind: Shared,
    pub name: Shared,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PodInfo {
    pub namespace: Shared,
    pub name: Shared,
    pub node: Option<Shared>,
    pub owner: Option<Arc<Owner>>,
    /// The `component` label of static control-plane pods.
    pub component: Option<Shared>,
    pub phase: PodPhase,
    pub ready: bool,
    pub restarts: u32,
    pub waiting_reason: Option<Shared>,
    pub last_termination_reason: Option<Shared>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created: i64,
}

impl PodInfo {
    /// The same pod with its repeated text taken from `interner`.
    fn shared(self, interner: &mut Interner) -> PodInfo {
        let mut text = |t: Option<Shared>| t.map(|t| interner.text(&t));
        let (node, component) = (text(self.node), text(self.component));
        let (waiting_reason, last_termination_reason) =
            (text(self.waiting_reason), text(self.last_termination_reason));
        PodInfo {
            namespace: interner.text(&self.namespace),
            owner: self.owner.map(|owner| interner.owner(Arc::unwrap_or_clone(owner))),
            node,
            component,
            waiting_reason,
            last_termination_reason,
            ..self
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaSetInfo {
    pub namespace: String,
    pub name: String,
    pub deployment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WarningEvent {
    pub namespace: String,
    pub name: String,
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// Milliseconds since the Unix epoch.
    pub last_seen: i64,
}

/// One watched object, reduced.
#[derive(Clone, Debug, PartialEq)]
pub enum Slim {
    Node(NodeInfo),
    Pod(PodInfo),
    Workload(WorkloadInfo),
    ReplicaSet(ReplicaSetInfo),
    /// Only Warning events are kept.
    Warning(WarningEvent),
    /// An object of no interest (e.g. a Normal event).
    Skip,
}

/// Pods by namespace, then by name (the name shared with the pod).
type Pods = HashMap<Shared, HashMap<Shared, PodInfo>>;

/// The slim cluster state.
#[derive(Debug, Default)]
pub struct ClusterState {
    pub nodes: BTreeMap<String, NodeInfo>,
    pods: Pods,
    pod_count: usize,
    pods_by_owner: HashMap<Arc<Owner>, HashSet<Shared>>,
    pub workloads: BTreeMap<(WorkloadKind, String, String), WorkloadInfo>,
    replicasets: HashMap<ObjectKey, ReplicaSetInfo>,
    replicasets_by_deployment: HashMap<ObjectKey, HashSet<String>>,
    pub warnings: VecDeque<WarningEvent>,
    pub checks: ControlPlaneChecks,
    pub synced: HashSet<Kind>,
    interner: Interner,
}

/// A relist of one kind under way: built into tables of its own, then
/// swapped in whole ([`ClusterState::adopt`]), so readers never see half a list.
#[derive(Debug)]
pub struct Relist {
    kind: Kind,
    tables: ClusterState,
    warnings: Vec<WarningEvent>,
}

impl Relist {
    pub fn apply(&mut self, object: Slim) {
        match object {
            Slim::Warning(event) => self.warnings.push(event),
            other => self.tables.apply(other),
        }
    }
}

impl ClusterState {
    pub fn pod_count(&self) -> usize {
        self.pod_count
    }

    fn all_pods(&self) -> impl Iterator<Item = &PodInfo> {
        self.pods.values().flat_map(HashMap::values)
    }

    fn pod(&self, namespace: &str, name: &str) -> Option<&PodInfo> {
        self.pods.get(namespace)?.get(name)
    }

    pub fn pods_on(&self) -> HashMap<&str, usize> {
        let mut counts = HashMap::new();
        for pod in self.all_pods() {
            if let Some(node) = &pod.node {
                *counts.entry(&**node).or_insert(0) += 1;
            }
        }
        counts
    }

    pub fn is_synced(&self) -> bool {
        Kind::ALL.iter().all(|k| self.synced.contains(k))
    }

    /// Adds or replaces one object.
    pub fn apply(&mut self, object: Slim) {
        match object {
            Slim::Node(node) => {
                self.nodes.insert(node.name.clone(), node);
            }
            Slim::Pod(pod) => {
                self.remove_pod(&pod.namespace, &pod.name);
                let pod = pod.shared(&mut self.interner);
                if let Some(owner) = &pod.owner {
                    self.pods_by_owner.entry(owner.clone()).or_default().insert(pod.name.clone());
                }
                self.pods.entry(pod.namespace.clone()).or_default().insert(pod.name.clone(), pod);
                self.pod_count += 1;
            }
            Slim::Workload(workload) => {
                self.workloads
                    .insert((workload.kind, workload.namespace.clone(), workload.name.clone()), workload);
            }
            Slim::ReplicaSet(rs) => {
                self.remove_replicaset(&rs.namespace, &rs.name);
                if let Some(deployment) = &rs.deployment {
                    self.replicasets_by_deployment
                        .entry((rs.namespace.clone(), deployment.clone()))
                        .or_default()
                        .insert(rs.name.clone());
                }
                self.replicasets.insert((rs.namespace.clone(), rs.name.clone()), rs);
            }
            Slim::Warning(event) => {
                self.warnings.retain(|e| !(e.namespace == event.namespace && e.name == event.name));
                self.warnings.push_back(event);
                while self.warnings.len() > MAX_WARNINGS {
                    self.warnings.pop_front();
                }
            }
            Slim::Skip => {}
        }
    }

    /// Removes one object (events are left to age out).
    pub fn delete(&mut self, object: &Slim) {
        match object {
            Slim::Node(node) => {
                self.nodes.remove(&node.name);
            }
            Slim::Pod(pod) => self.remove_pod(&pod.namespace, &pod.name),
            Slim::Workload(w) => {
                self.workloads.remove(&(w.kind, w.namespace.clone(), w.name.clone()));
            }
            Slim::ReplicaSet(rs) => self.remove_replicaset(&rs.namespace, &rs.name),
            Slim::Warning(_) | Slim::Skip => {}
        }
    }

    /// Starts a relist of `kind`: objects go into tables of their own, which
    /// share this state's text ([`Interner`]) and replace it on [`ClusterState::adopt`].
    pub fn relist(&self, kind: Kind) -> Relist {
        let tables = ClusterState { interner: self.interner.clone(), ..ClusterState::default() };
        Relist { kind, tables, warnings: Vec::new() }
    }

    /// Replaces every object of a relist's kind with what it listed.
    pub fn adopt(&mut self, relist: Relist) {
        let Relist { kind, tables, mut warnings } = relist;
        let ClusterState {
            nodes,
            pods,
            pod_count,
            pods_by_owner,
            workloads,
            replicasets,
            replicasets_by_deployment,
            interner,
            ..
        } = tables;
        match kind {
            Kind::Node => self.nodes = nodes,
            Kind::Pod => {
                self.pods = pods;
                self.pod_count = pod_count;
                self.pods_by_owner = pods_by_owner;
            }
            Kind::ReplicaSet => {
                self.replicasets = replicasets;
                self.replicasets_by_deployment = replicasets_by_deployment;
            }
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => {
                let workload_kind = match kind {
                    Kind::Deployment => WorkloadKind::Deployment,
                    Kind::StatefulSet => WorkloadKind::StatefulSet,
                    _ => WorkloadKind::DaemonSet,
                };
                self.workloads.retain(|(k, _, _), _| *k != workload_kind);
                self.workloads.extend(workloads);
            }
            Kind::Event => {
                self.warnings.clear();
                // Oldest first, so the newest stay within the bound.
                warnings.sort_by_key(|w| w.last_seen);
                for warning in warnings {
                    self.apply(Slim::Warning(warning));
                }
            }
        }
        // The relist's text joins this state's (equal values keep this state's copy);
        // what no object holds any more goes.
        self.interner.texts.extend(interner.texts);
        self.interner.owners.extend(interner.owners);
        self.interner.prune();
        self.synced.insert(kind);
    }

    /// Replaces every object of `kind` with `objects`, as a relist would.
    #[cfg(test)]
    fn replace_all(&mut self, kind: Kind, objects: Vec<Slim>) {
        let mut relist = self.relist(kind);
        for object in objects {
            relist.apply(object);
        }
        self.adopt(relist);
    }

    fn remove_pod(&mut self, namespace: &str, name: &str) {
        let Some(in_namespace) = self.pods.get_mut(namespace) else { return };
        let Some(old) = in_namespace.remove(name) else { return };
        self.pod_count -= 1;
        if in_namespace.is_empty() {
            self.pods.remove(namespace);
        }
        if let Some(owner) = old.owner
            && let Some(set) = self.pods_by_owner.get_mut(&owner)
        {
            set.remove(name);
            if set.is_empty() {
                self.pods_by_owner.remove(&owner);
            }
        }
    }

    fn remove_replicaset(&mut self, namespace: &str, name: &str) {
        let key = (namespace.to_owned(), name.to_owned());
        if let Some(old) = self.replicasets.remove(&key)
            && let Some(deployment) = old.deployment
        {
            let owner_key = (namespace.to_owned(), deployment);
            if let Some(set) = self.replicasets_by_deployment.get_mut(&owner_key) {
                set.remove(name);
                if set.is_empty() {
                    self.replicasets_by_deployment.remove(&owner_key);
                }
            }
        }
    }

    /// The pods of a workload: through its ReplicaSets for a Deployment.
    pub fn pods_of(&self, workload: &WorkloadInfo) -> Vec<&PodInfo> {
        let namespace: Shared = Arc::from(workload.namespace.as_str());
        let owner = |kind: &str, name: &str| Owner {
            namespace: namespace.clone(),
            kind: Arc::from(kind),
            name: Arc::from(name),
        };
        let owners: Vec<Owner> = match workload.kind {
            WorkloadKind::Deployment => self
                .replicasets_by_deployment
                .get(&(workload.namespace.clone(), workload.name.clone()))
                .into_iter()
                .flatten()
                .map(|rs| owner("ReplicaSet", rs))
                .collect(),
            WorkloadKind::StatefulSet => vec![owner("StatefulSet", &workload.name)],
            WorkloadKind::DaemonSet => vec![owner("DaemonSet", &workload.name)],
        };
        let mut pods: Vec<&PodInfo> = owners
            .iter()
            .filter_map(|owner| self.pods_by_owner.get(owner))
            .flat_map(|names| names.iter().filter_map(|name| self.pod(&workload.namespace, name)))
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        pods
    }

    /// One workload by kind, namespace and name.
    pub fn workload(&self, kind: WorkloadKind, namespace: &str, name: &str) -> Option<&WorkloadInfo> {
        self.workloads.get(&(kind, namespace.to_owned(), name.to_owned()))
    }

    /// The workload a pod belongs to: through its ReplicaSet for a Deployment.
    pub fn workload_of_pod(&self, namespace: &str, pod: &str) -> Option<&WorkloadInfo> {
        let owner = self.pod(namespace, pod)?.owner.as_ref()?;
        match &*owner.kind {
            "ReplicaSet" => {
                let rs = self.replicasets.get(&(namespace.to_owned(), owner.name.to_string()))?;
                self.workload(WorkloadKind::Deployment, namespace, rs.deployment.as_deref()?)
            }
            "StatefulSet" => self.workload(WorkloadKind::StatefulSet, namespace, &owner.name),
            "DaemonSet" => self.workload(WorkloadKind::DaemonSet, namespace, &owner.name),
            _ => None,
        }
    }

    /// Restarts summed over a workload's pods.
    pub fn restarts_of(&self, workload: &WorkloadInfo) -> u32 {
        self.pods_of(workload).iter().map(|p| p.restarts).sum()
    }

    /// Workloads in `namespace` whose labels match `selector`.
    pub fn matching(&self, namespace: &str, selector: &LabelSelector) -> Vec<&WorkloadInfo> {
        self.workloads.values().filter(|w| w.namespace == namespace && selector.matches(&w.labels)).collect()
    }

    /// Reads the state as the health engine's [`ClusterView`](app::domain::component_health::ClusterView) at `now`.
    pub fn view(&self, now: i64) -> View<'_> {
        View { state: self, now }
    }

    fn observe_pod(&self, pod: &PodInfo, now: i64) -> PodObservation {
        let unready_node = pod
            .node
            .as_deref()
            .filter(|n| self.nodes.get(*n).is_some_and(|node| node.ready != Some(true)))
            .map(str::to_owned);
        PodObservation {
            name: pod.name.to_string(),
            phase: pod.phase,
            ready: pod.ready,
            restarts: pod.restarts,
            waiting_reason: pod.waiting_reason.as_deref().map(str::to_owned),
            last_termination_reason: pod.last_termination_reason.as_deref().map(str::to_owned),
            age_secs: ((now - pod.created).max(0) / 1000) as u64,
            unready_node,
        }
    }
}

/// [`ClusterState`] as the health engine reads it.
pub struct View<'a> {
    state: &'a ClusterState,
    now: i64,
}

impl app::domain::component_health::ClusterView for View<'_> {
    fn nodes(&self) -> Vec<NodeObservation> {
        self.state.nodes.values().map(NodeInfo::observation).collect()
    }

    fn workloads(&self, namespace: &str, selector: &LabelSelector) -> Vec<WorkloadObservation> {
        self.state
            .matching(namespace, selector)
            .into_iter()
            .map(|w| WorkloadObservation {
                kind: w.kind.as_str().to_owned(),
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                desired: w.desired,
                available: w.available,
                pods: self
                    .state
                    .pods_of(w)
                    .into_iter()
                    .map(|p| self.state.observe_pod(p, self.now))
                    .collect(),
            })
            .collect()
    }

    fn control_plane_pods(&self, component: &str) -> Vec<PodObservation> {
        let mut pods: Vec<PodObservation> = self
            .state
            .pods
            .get("kube-system")
            .into_iter()
            .flat_map(HashMap::values)
            .filter(|p| p.component.as_deref() == Some(component))
            .map(|p| self.state.observe_pod(p, self.now))
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        pods
    }

    fn control_plane_checks(&self) -> ControlPlaneChecks {
        self.state.checks.clone()
    }
}

// ---- From Kubernetes objects to slim ones -------------------------------------------------

fn millis(time: Option<&Time>) -> i64 {
    time.map_or(0, |t| t.0.as_millisecond())
}

fn controller(meta: &ObjectMeta) -> Option<(String, String)> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| (o.kind.clone(), o.name.clone()))
}

fn count(value: Option<i32>) -> u32 {
    value.unwrap_or(0).max(0) as u32
}

/// Turns a watched object into its slim form.
pub trait ToSlim {
    fn to_slim(&self) -> Slim;
}

impl ToSlim for Node {
    fn to_slim(&self) -> Slim {
        let status = self.status.as_ref();
        let condition = |kind: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
                .map(|c| c.status.as_str())
        };
        let allocatable = |resource: &str| {
            status
                .and_then(|s| s.allocatable.as_ref())
                .and_then(|a| a.get(resource))
                .map(|q| q.0.clone())
                .unwrap_or_default()
        };
        Slim::Node(NodeInfo {
            name: self.metadata.name.clone().unwrap_or_default(),
            ready: match condition("Ready") {
                Some("True") => Some(true),
                Some("False") => Some(false),
                _ => None,
            },
            memory_pressure: condition("MemoryPressure") == Some("True"),
            disk_pressure: condition("DiskPressure") == Some("True"),
            pid_pressure: condition("PIDPressure") == Some("True"),
            unschedulable: self.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
            cpu: allocatable("cpu"),
            memory: allocatable("memory"),
            max_pods: allocatable("pods"),
            kubelet_version: status
                .and_then(|s| s.node_info.as_ref())
                .map(|i| i.kubelet_version.clone())
                .unwrap_or_default(),
        })
    }
}

impl ToSlim for super::watched::WatchedPod {
    fn to_slim(&self) -> Slim {
        let meta = &self.metadata;
        let namespace: Shared = Arc::from(meta.namespace.as_deref().unwrap_or_default());
        let status = self.status.as_ref();
        let containers = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
        let phase = match status.and_then(|s| s.phase.as_deref()) {
            Some("Pending") => PodPhase::Pending,
            Some("Running") => PodPhase::Running,
            Some("Succeeded") => PodPhase::Succeeded,
            Some("Failed") => PodPhase::Failed,
            _ => PodPhase::Unknown,
        };
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .is_some_and(|c| c.status == "True");
        Slim::Pod(PodInfo {
            owner: controller(meta).map(|(kind, name)| {
                Arc::new(Owner { namespace: namespace.clone(), kind: kind.into(), name: name.into() })
            }),
            namespace,
            name: Arc::from(meta.name.as_deref().unwrap_or_default()),
            node: self.spec.as_ref().and_then(|s| s.node_name.as_deref()).map(Arc::from),
            component: meta.labels.as_ref().and_then(|l| l.get("component")).map(|c| Arc::from(c.as_str())),
            phase,
            ready,
            restarts: containers.iter().map(|c| c.restart_count.unwrap_or(0).max(0) as u32).sum(),
            waiting_reason: containers
                .iter()
                .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
                .map(Arc::from),
            last_termination_reason: containers
                .iter()
                .find_map(|c| c.last_state.as_ref()?.terminated.as_ref()?.reason.as_deref())
                .map(Arc::from),
            created: millis(meta.creation_timestamp.as_ref()),
        })
    }
}

fn first_image(template: Option<&k8s_openapi::api::core::v1::PodSpec>) -> String {
    template.and_then(|s| s.containers.first()).and_then(|c| c.image.clone()).unwrap_or_default()
}

fn workload(
    meta: &ObjectMeta,
    kind: WorkloadKind,
    desired: u32,
    ready: u32,
    available: u32,
    image: String,
) -> Slim {
    Slim::Workload(WorkloadInfo {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        labels: meta.labels.clone().unwrap_or_default(),
        desired,
        ready,
        available,
        image,
    })
}

impl ToSlim for Deployment {
    fn to_slim(&self) -> Slim {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        workload(
            &self.metadata,
            WorkloadKind::Deployment,
            spec.map_or(1, |s| count(s.replicas.or(Some(1)))),
            count(status.and_then(|s| s.ready_replicas)),
            count(status.and_then(|s| s.available_replicas)),
            first_image(spec.and_then(|s| s.template.spec.as_ref())),
        )
    }
}

impl ToSlim for StatefulSet {
    fn to_slim(&self) -> Slim {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        workload(
            &self.metadata,
            WorkloadKind::StatefulSet,
            spec.map_or(1, |s| count(s.replicas.or(Some(1)))),
            count(status.and_then(|s| s.ready_replicas)),
            count(status.and_then(|s| s.available_replicas.or(s.ready_replicas))),
            first_image(spec.and_then(|s| s.template.spec.as_ref())),
        )
    }
}

impl ToSlim for DaemonSet {
    fn to_slim(&self) -> Slim {
        let status = self.status.as_ref();
        workload(
            &self.metadata,
            WorkloadKind::DaemonSet,
            status.map_or(0, |s| s.desired_number_scheduled.max(0) as u32),
            status.map_or(0, |s| s.number_ready.max(0) as u32),
            count(status.and_then(|s| s.number_available)),
            first_image(self.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
        )
    }
}

impl ToSlim for ReplicaSet {
    fn to_slim(&self) -> Slim {
        Slim::ReplicaSet(ReplicaSetInfo {
            namespace: self.metadata.namespace.clone().unwrap_or_default(),
            name: self.metadata.name.clone().unwrap_or_default(),
            deployment: controller(&self.metadata)
                .filter(|(kind, _)| kind == "Deployment")
                .map(|(_, name)| name),
        })
    }
}

impl ToSlim for Event {
    fn to_slim(&self) -> Slim {
        if self.type_.as_deref() != Some("Warning") {
            return Slim::Skip;
        }
        let object = &self.involved_object;
        Slim::Warning(WarningEvent {
            namespace: self.metadata.namespace.clone().unwrap_or_default(),
            name: self.metadata.name.clone().unwrap_or_default(),
            object: format!(
                "{}/{}",
                object.kind.as_deref().unwrap_or("object").to_lowercase(),
                object.name.as_deref().unwrap_or("?")
            ),
            reason: self.reason.clone().unwrap_or_default(),
            message: self.message.clone().unwrap_or_default(),
            count: count(self.count).max(1),
            last_seen: millis(self.last_timestamp.as_ref().or(self.first_timestamp.as_ref()))
                .max(self.event_time.as_ref().map_or(0, |t| t.0.as_millisecond())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::component_health::ClusterView;

    fn pod(name: &str, owner: Option<(&str, &str)>, node: &str, ready: bool) -> Slim {
        Slim::Pod(PodInfo {
            namespace: "shop".into(),
            name: name.into(),
            node: Some(node.into()),
            owner: owner.map(|(kind, name)| {
                Arc::new(Owner { namespace: "shop".into(), kind: kind.into(), name: name.into() })
            }),
            component: None,
            phase: PodPhase::Running,
            ready,
            restarts: 0,
            waiting_reason: None,
            last_termination_reason: None,
            created: 0,
        })
    }

    fn deployment(name: &str, app: &str) -> Slim {
        Slim::Workload(WorkloadInfo {
            kind: WorkloadKind::Deployment,
            namespace: "shop".into(),
            name: name.into(),
            labels: BTreeMap::from([("app".to_owned(), app.to_owned())]),
            desired: 2,
            ready: 2,
            available: 2,
            image: "img".into(),
        })
    }

    fn node(name: &str, ready: Option<bool>) -> Slim {
        Slim::Node(NodeInfo {
            name: name.into(),
            ready,
            memory_pressure: false,
            disk_pressure: false,
            pid_pressure: false,
            unschedulable: false,
            cpu: "8".into(),
            memory: "32Gi".into(),
            max_pods: "110".into(),
            kubelet_version: "v1.32.4".into(),
        })
    }

    fn state() -> ClusterState {
        let mut state = ClusterState::default();
        state.apply(node("worker-1", Some(true)));
        state.apply(node("worker-2", None));
        state.apply(deployment("checkout", "checkout"));
        state.apply(Slim::ReplicaSet(ReplicaSetInfo {
            namespace: "shop".into(),
            name: "checkout-abc".into(),
            deployment: Some("checkout".into()),
        }));
        state.apply(pod("checkout-abc-1", Some(("ReplicaSet", "checkout-abc")), "worker-1", true));
        state.apply(pod("checkout-abc-2", Some(("ReplicaSet", "checkout-abc")), "worker-2", true));
        state.apply(pod("stray", None, "worker-1", true));
        state
    }

    #[test]
    fn a_deployment_finds_its_pods_through_its_replicasets() {
        let state = state();
        let workload = state.workloads.values().next().unwrap();
        let names: Vec<&str> = state.pods_of(workload).iter().map(|p| &*p.name).collect();
        assert_eq!(names, ["checkout-abc-1", "checkout-abc-2"]);
    }

    #[test]
    fn the_view_marks_pods_on_not_ready_nodes() {
        let state = state();
        let selector = LabelSelector::parse("app=checkout").unwrap();
        let workloads = state.view(0).workloads("shop", &selector);
        assert_eq!(workloads.len(), 1);
        assert_eq!(workloads[0].pods[0].unready_node, None);
        assert_eq!(workloads[0].pods[1].unready_node.as_deref(), Some("worker-2"));
        assert!(state.view(0).workloads("payments", &selector).is_empty());
    }

    #[test]
    fn deleting_and_relisting_keep_the_indexes_true() {
        let mut state = state();
        state.delete(&pod("checkout-abc-1", Some(("ReplicaSet", "checkout-abc")), "worker-1", true));
        let workload = state.workloads.values().next().unwrap().clone();
        assert_eq!(state.pods_of(&workload).len(), 1);
        state.replace_all(
            Kind::Pod,
            vec![pod("checkout-abc-9", Some(("ReplicaSet", "checkout-abc")), "w", false)],
        );
        assert_eq!(state.pod_count(), 1);
        assert_eq!(&*state.pods_of(&workload)[0].name, "checkout-abc-9");
        assert!(state.synced.contains(&Kind::Pod));
    }

    #[test]
    fn repeated_text_is_stored_once_and_forgotten_when_no_pod_holds_it() {
        let mut state = state();
        let pods = state
            .pods_of(&state.workloads.values().next().unwrap().clone())
            .into_iter()
            .cloned()
            .collect::<Vec<_>>();
        assert!(Arc::ptr_eq(&pods[0].namespace, &pods[1].namespace), "one namespace string");
        assert!(Arc::ptr_eq(pods[0].owner.as_ref().unwrap(), pods[1].owner.as_ref().unwrap()), "one owner");
        drop(pods);
        state.replace_all(Kind::Pod, vec![pod("other", None, "worker-9", true)]);
        assert!(state.interner.texts.contains("worker-9"));
        assert!(!state.interner.texts.contains("worker-2"), "no pod is on worker-2 any more");
        assert!(state.interner.owners.is_empty());
        assert_eq!(state.pod_count(), 1);
    }

    #[test]
    fn only_the_newest_warnings_are_kept() {
        let mut state = ClusterState::default();
        let warnings = (0..MAX_WARNINGS as i64 + 10)
            .map(|i| {
                Slim::Warning(WarningEvent {
                    namespace: "shop".into(),
                    name: format!("e{i}"),
                    object: "pod/x".into(),
                    reason: "BackOff".into(),
                    message: String::new(),
                    count: 1,
                    last_seen: i,
                })
            })
            .rev()
            .collect();
        state.replace_all(Kind::Event, warnings);
        assert_eq!(state.warnings.len(), MAX_WARNINGS);
        assert_eq!(state.warnings.back().unwrap().name, format!("e{}", MAX_WARNINGS + 9));
    }
}
