//! Injecting and clearing the drill's faults. Each fault changes the cluster
//! the way the real failure would show through the API: a bad rollout, an
//! image that cannot be pulled, OOM kills, a node that stops reporting, node
//! pressure, a failing control-plane check, an event storm, an API outage.

use super::DrillCluster;
use super::controllers::emit;
use super::faults::ImageBehaviour;
use super::resources::{DEPLOYMENTS, NODES, PODS, Resource, SERVICES};
use super::store::{Filter, name_of, timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The kinds of fault, as named on the command line and in the HTTP API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    Crashloop,
    ImagePull,
    NodeNotready,
    NodePressure,
    Oom,
    ControlPlane,
    EventStorm,
    ApiDown,
    /// A release that requests more CPU than any node has: new pods stay Pending.
    InsufficientResources,
    /// A Service whose selector no longer matches its pods: no endpoints.
    NoEndpoints,
}

impl std::str::FromStr for FaultKind {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(json!(s)).map_err(|_| FaultError::UnknownKind(s.to_owned()))
    }
}

/// A fault to inject or clear: its kind, its target and, for `api-down`, how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRequest {
    pub kind: FaultKind,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub seconds: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FaultError {
    #[error(
        "unknown fault '{0}': expected one of crashloop, image-pull, node-notready, node-pressure, oom, control-plane, event-storm, api-down, insufficient-resources, no-endpoints"
    )]
    UnknownKind(String),
    #[error("{kind} needs a target of the form {expected}, got '{got}'")]
    BadTarget { kind: &'static str, expected: &'static str, got: String },
    #[error("{0} not found")]
    NotFound(String),
}

fn deployment_target(kind: &'static str, target: &str) -> Result<(String, String), FaultError> {
    target
        .split_once('/')
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
        .map(|(ns, name)| (ns.to_owned(), name.to_owned()))
        .ok_or_else(|| FaultError::BadTarget {
            kind,
            expected: "NAMESPACE/DEPLOYMENT",
            got: target.to_owned(),
        })
}

fn service_target(target: &str) -> Result<(String, String), FaultError> {
    deployment_target("no-endpoints", target).map_err(|_| FaultError::BadTarget {
        kind: "no-endpoints",
        expected: "NAMESPACE/SERVICE",
        got: target.to_owned(),
    })
}

/// The image a bad rollout ships: the next patch version, or a suffix.
fn next_tag(image: &str, suffix: &str) -> String {
    let (repo, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    let bumped = tag
        .rsplit_once('.')
        .and_then(|(head, patch)| patch.parse::<u32>().ok().map(|p| format!("{head}.{}", p + 1)));
    match bumped {
        Some(tag) => format!("{repo}:{tag}{suffix}"),
        None => format!("{repo}:{tag}-next{suffix}"),
    }
}

/// The image of a deployment's first container.
fn first_image(deploy: &Value) -> String {
    deploy
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

const ROLLOUT_NOTE: &str = "drill.wheelhouse.dev/previous-image";
/// Where a fault keeps the CPU request or the selector it replaced, for clearing.
const REQUEST_NOTE: &str = "drill.wheelhouse.dev/previous-cpu-request";
const SELECTOR_NOTE: &str = "drill.wheelhouse.dev/previous-selector";
/// More CPU than any drill node has.
const TOO_MUCH_CPU: &str = "64";

/// Removes the note a fault left on `object`, answering what it held.
fn take_note(object: &mut Value, key: &str) -> Option<String> {
    object["metadata"]["annotations"].as_object_mut()?.remove(key)?.as_str().map(str::to_owned)
}

impl DrillCluster {
    fn service(&self, namespace: &str, name: &str) -> Result<Value, FaultError> {
        self.store
            .get(SERVICES, namespace, name)
            .map_err(|_| FaultError::NotFound(format!("service {namespace}/{name}")))
    }

    fn deployment(&self, namespace: &str, name: &str) -> Result<Value, FaultError> {
        self.store
            .get(DEPLOYMENTS, namespace, name)
            .map_err(|_| FaultError::NotFound(format!("deployment {namespace}/{name}")))
    }

    /// Writes a changed object (or only its status); a failure reads as the target being gone.
    fn save(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        object: Value,
        status_only: bool,
    ) -> Result<Value, FaultError> {
        self.store
            .update(resource, namespace, name, object, status_only, false)
            .map_err(|e| FaultError::NotFound(e.to_string()))
    }

    /// Injects a fault; returns a sentence saying what changed.
    pub fn inject(&self, request: &FaultRequest) -> Result<String, FaultError> {
        let store = &self.store;
        match request.kind {
            FaultKind::Crashloop | FaultKind::ImagePull => {
                let kind = if request.kind == FaultKind::Crashloop { "crashloop" } else { "image-pull" };
                let (ns, name) = deployment_target(kind, &request.target)?;
                let mut deploy = self.deployment(&ns, &name)?;
                let image = deploy
                    .pointer("/spec/template/spec/containers/0/image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let (bad, behaviour) = if request.kind == FaultKind::Crashloop {
                    (next_tag(&image, ""), ImageBehaviour::Crashes)
                } else {
                    (next_tag(&image, "-typo"), ImageBehaviour::Unpullable)
                };
                self.faults.set_image(&bad, behaviour);
                deploy["spec"]["template"]["spec"]["containers"][0]["image"] = json!(bad);
                deploy["metadata"]["annotations"][ROLLOUT_NOTE] = json!(image);
                deploy["metadata"]["annotations"]["kubernetes.io/change-cause"] =
                    json!(format!("kubectl set image deployment/{name} {name}={bad}"));
                self.save(DEPLOYMENTS, &ns, &name, deploy, false)?;
                Ok(format!("rolled out {bad} to deployment {ns}/{name}"))
            }
            FaultKind::Oom => {
                let (ns, name) = deployment_target("oom", &request.target)?;
                let deploy = self.deployment(&ns, &name)?;
                let image = first_image(&deploy);
                self.faults.set_image(&image, ImageBehaviour::OutOfMemory);
                Ok(format!("containers running {image} now exceed their memory limit"))
            }
            FaultKind::NodeNotready | FaultKind::NodePressure => {
                let (node_name, pressure) =
                    request.target.split_once(':').unwrap_or((&request.target, "memory"));
                let mut node = store
                    .get(NODES, "", node_name)
                    .map_err(|_| FaultError::NotFound(format!("node {node_name}")))?;
                let now = timestamp(store.now());
                let (condition, status, reason, message, taint) = if request.kind == FaultKind::NodeNotready {
                    (
                        "Ready",
                        "Unknown",
                        "NodeStatusUnknown",
                        "Kubelet stopped posting node status.",
                        "node.kubernetes.io/unreachable",
                    )
                } else {
                    match pressure {
                        "disk" => (
                            "DiskPressure",
                            "True",
                            "KubeletHasDiskPressure",
                            "kubelet has disk pressure",
                            "node.kubernetes.io/disk-pressure",
                        ),
                        "pid" => (
                            "PIDPressure",
                            "True",
                            "KubeletHasInsufficientPID",
                            "kubelet has insufficient PID available",
                            "node.kubernetes.io/pid-pressure",
                        ),
                        _ => (
                            "MemoryPressure",
                            "True",
                            "KubeletHasInsufficientMemory",
                            "kubelet has insufficient memory available",
                            "node.kubernetes.io/memory-pressure",
                        ),
                    }
                };
                set_node_condition(&mut node, condition, status, reason, message, &now);
                let taints = node["spec"]["taints"].as_array().cloned().unwrap_or_default();
                if !taints.iter().any(|t| t["key"] == taint) {
                    let mut taints = taints;
                    taints.push(json!({"key": taint, "effect": "NoSchedule", "timeAdded": now}));
                    node["spec"]["taints"] = json!(taints);
                }
                let node = self.save(NODES, "", node_name, node, false)?;
                let mut with_status = node.clone();
                set_node_condition(&mut with_status, condition, status, reason, message, &now);
                let node = self.save(NODES, "", node_name, with_status, true)?;
                let event = if request.kind == FaultKind::NodeNotready { "NodeNotReady" } else { reason };
                emit(
                    store,
                    &node,
                    if request.kind == FaultKind::NodeNotready { "Normal" } else { "Warning" },
                    event,
                    &format!("Node {node_name} status is now: {event}"),
                    "node-controller",
                );
                Ok(format!("node {node_name}: {condition} is {status}"))
            }
            FaultKind::ControlPlane => {
                let check = if request.target.is_empty() { "etcd" } else { request.target.as_str() };
                self.faults.fail_check(check, true);
                Ok(format!("the {check} check now fails on /readyz and /livez"))
            }
            FaultKind::EventStorm => {
                let (ns, name) = deployment_target("event-storm", &request.target)?;
                let filter = Filter {
                    namespace: Some(ns.clone()),
                    labels: domain::label_selector::LabelSelector::parse(&format!("app={name}"))
                        .unwrap_or_default(),
                    ..Filter::default()
                };
                let pods = store.list(PODS, &filter, None, None).map(|p| p.items).unwrap_or_default();
                if pods.is_empty() {
                    return Err(FaultError::NotFound(format!("pods of {ns}/{name}")));
                }
                let count = request.seconds.unwrap_or(200) as usize;
                for i in 0..count {
                    let pod = &pods[i % pods.len()];
                    emit(
                        store,
                        pod,
                        "Warning",
                        "FailedMount",
                        &format!(
                            "MountVolume.SetUp failed for volume \"config-{i}\" : configmap \"{name}-config\" not found"
                        ),
                        "kubelet",
                    );
                }
                Ok(format!("{count} warning events about {} pods of {ns}/{name}", pods.len()))
            }
            FaultKind::InsufficientResources => {
                let (ns, name) = deployment_target("insufficient-resources", &request.target)?;
                let mut deploy = self.deployment(&ns, &name)?;
                let before = deploy
                    .pointer("/spec/template/spec/containers/0/resources/requests/cpu")
                    .and_then(Value::as_str)
                    .unwrap_or("100m")
                    .to_owned();
                deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] =
                    json!(TOO_MUCH_CPU);
                deploy["metadata"]["annotations"][REQUEST_NOTE] = json!(before);
                deploy["metadata"]["annotations"]["kubernetes.io/change-cause"] =
                    json!(format!("kubectl set resources deployment/{name} --requests=cpu={TOO_MUCH_CPU}"));
                self.save(DEPLOYMENTS, &ns, &name, deploy, false)?;
                Ok(format!("deployment {ns}/{name} now requests {TOO_MUCH_CPU} CPUs per pod"))
            }
            FaultKind::NoEndpoints => {
                let (ns, name) = service_target(&request.target)?;
                let mut service = self.service(&ns, &name)?;
                let selector = service.pointer("/spec/selector").cloned().unwrap_or(json!({}));
                let Some(map) = selector.as_object().filter(|m| !m.is_empty()) else {
                    return Err(FaultError::NotFound(format!("a selector on service {ns}/{name}")));
                };
                let wrong: serde_json::Map<String, Value> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(format!("{}-v2", v.as_str().unwrap_or_default()))))
                    .collect();
                service["spec"]["selector"] = Value::Object(wrong);
                service["metadata"]["annotations"][SELECTOR_NOTE] = json!(selector.to_string());
                self.save(SERVICES, &ns, &name, service, false)?;
                Ok(format!("service {ns}/{name} now selects pods no pod matches"))
            }
            FaultKind::ApiDown => {
                let seconds = request.seconds.unwrap_or(30);
                self.faults.set_api_down(Some(Instant::now() + Duration::from_secs(seconds)));
                Ok(format!("the API answers 503 for {seconds} seconds"))
            }
        }
    }

    /// Clears a fault; returns a sentence saying what changed.
    pub fn clear(&self, request: &FaultRequest) -> Result<String, FaultError> {
        let store = &self.store;
        match request.kind {
            FaultKind::Crashloop | FaultKind::ImagePull => {
                let (ns, name) = deployment_target("crashloop", &request.target)?;
                let mut deploy = self.deployment(&ns, &name)?;
                let Some(previous) = deploy
                    .pointer(&format!("/metadata/annotations/{}", ROLLOUT_NOTE.replace('/', "~1")))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    return Ok(format!("deployment {ns}/{name} has no bad rollout to undo"));
                };
                deploy["spec"]["template"]["spec"]["containers"][0]["image"] = json!(previous);
                if let Some(annotations) = deploy["metadata"]["annotations"].as_object_mut() {
                    annotations.remove(ROLLOUT_NOTE);
                }
                self.save(DEPLOYMENTS, &ns, &name, deploy, false)?;
                Ok(format!("rolled deployment {ns}/{name} back to {previous}"))
            }
            FaultKind::Oom => {
                let (ns, name) = deployment_target("oom", &request.target)?;
                let deploy = self.deployment(&ns, &name)?;
                let image = first_image(&deploy);
                self.faults.set_image(&image, ImageBehaviour::Healthy);
                Ok(format!("containers running {image} fit their memory limit again"))
            }
            FaultKind::NodeNotready | FaultKind::NodePressure => {
                let node_name = request.target.split(':').next().unwrap_or_default();
                let mut node = store
                    .get(NODES, "", node_name)
                    .map_err(|_| FaultError::NotFound(format!("node {node_name}")))?;
                let now = timestamp(store.now());
                set_node_condition(
                    &mut node,
                    "Ready",
                    "True",
                    "KubeletReady",
                    "kubelet is posting ready status",
                    &now,
                );
                for (kind, reason, message) in [
                    (
                        "MemoryPressure",
                        "KubeletHasSufficientMemory",
                        "kubelet has sufficient memory available",
                    ),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ] {
                    set_node_condition(&mut node, kind, "False", reason, message, &now);
                }
                let taints: Vec<Value> = node["spec"]["taints"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| !t["key"].as_str().unwrap_or_default().starts_with("node.kubernetes.io/"))
                    .collect();
                node["spec"]["taints"] = json!(taints);
                let updated = self.save(NODES, "", node_name, node.clone(), false)?;
                let mut with_status = updated;
                with_status["status"] = node["status"].clone();
                let node = self.save(NODES, "", node_name, with_status, true)?;
                emit(
                    store,
                    &node,
                    "Normal",
                    "NodeReady",
                    &format!("Node {} status is now: NodeReady", name_of(&node)),
                    "kubelet",
                );
                Ok(format!("node {node_name} is Ready with no pressure"))
            }
            FaultKind::ControlPlane => {
                let check = if request.target.is_empty() { "etcd" } else { request.target.as_str() };
                self.faults.fail_check(check, false);
                Ok(format!("the {check} check passes again"))
            }
            FaultKind::EventStorm => {
                Ok("an event storm ends by itself; its events stay as history".to_owned())
            }
            FaultKind::InsufficientResources => {
                let (ns, name) = deployment_target("insufficient-resources", &request.target)?;
                let mut deploy = self.deployment(&ns, &name)?;
                let Some(before) = take_note(&mut deploy, REQUEST_NOTE) else {
                    return Ok(format!("deployment {ns}/{name} has no raised request to undo"));
                };
                deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] =
                    json!(before);
                self.save(DEPLOYMENTS, &ns, &name, deploy, false)?;
                Ok(format!("deployment {ns}/{name} requests {before} CPU again"))
            }
            FaultKind::NoEndpoints => {
                let (ns, name) = service_target(&request.target)?;
                let mut service = self.service(&ns, &name)?;
                let Some(before) = take_note(&mut service, SELECTOR_NOTE)
                    .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                else {
                    return Ok(format!("service {ns}/{name} has no changed selector to undo"));
                };
                service["spec"]["selector"] = before;
                self.save(SERVICES, &ns, &name, service, false)?;
                Ok(format!("service {ns}/{name} selects its pods again"))
            }
            FaultKind::ApiDown => {
                self.faults.set_api_down(None);
                Ok("the API answers again".to_owned())
            }
        }
    }
}

fn set_node_condition(node: &mut Value, kind: &str, status: &str, reason: &str, message: &str, now: &str) {
    let mut conditions =
        node.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    match conditions.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
            c["lastHeartbeatTime"] = json!(now);
        }
        None => conditions.push(json!({"type": kind, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now})),
    }
    node["status"]["conditions"] = json!(conditions);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_kinds_parse_from_their_cli_names() {
        assert_eq!("node-notready".parse::<FaultKind>(), Ok(FaultKind::NodeNotready));
        assert_eq!("api-down".parse::<FaultKind>(), Ok(FaultKind::ApiDown));
        assert!(matches!("meteor".parse::<FaultKind>(), Err(FaultError::UnknownKind(_))));
    }

    #[test]
    fn a_bad_rollout_bumps_the_patch_version() {
        assert_eq!(
            next_tag("registry.example.com/shop/checkout:1.14.2", ""),
            "registry.example.com/shop/checkout:1.14.3"
        );
        assert_eq!(next_tag("app:latest", "-typo"), "app:latest-next-typo");
    }

    #[test]
    fn a_deployment_fault_needs_namespace_and_name() {
        assert!(matches!(deployment_target("crashloop", "checkout"), Err(FaultError::BadTarget { .. })));
        assert_eq!(deployment_target("crashloop", "shop/checkout"), Ok(("shop".into(), "checkout".into())));
    }
}

#[cfg(test)]
mod cluster_tests {
    use super::*;
    use crate::controllers::settle;
    use crate::resources::ENDPOINTS;
    use crate::scenario::Scenario;

    fn cluster() -> std::sync::Arc<DrillCluster> {
        let cluster = DrillCluster::new("t".into());
        Scenario::default_scenario().load(&cluster.store).unwrap();
        assert!(settle(&cluster, 50));
        cluster
    }

    fn pods_of(cluster: &DrillCluster, app: &str) -> Vec<Value> {
        let filter = Filter {
            namespace: Some("shop".into()),
            labels: domain::label_selector::LabelSelector::parse(&format!("app={app}")).unwrap(),
            ..Filter::default()
        };
        cluster.store.list(PODS, &filter, None, None).unwrap().items
    }

    #[test]
    fn a_release_asking_for_more_cpu_than_any_node_has_leaves_its_pod_pending_until_cleared() {
        let cluster = cluster();
        let request = FaultRequest {
            kind: FaultKind::InsufficientResources,
            target: "shop/cart".into(),
            seconds: None,
        };
        cluster.inject(&request).unwrap();
        settle(&cluster, 50);
        let pending: Vec<Value> =
            pods_of(&cluster, "cart").into_iter().filter(|p| p["status"]["phase"] == "Pending").collect();
        assert!(!pending.is_empty(), "the rollout's new pods wait");
        let phases: Vec<String> = pods_of(&cluster, "cart")
            .iter()
            .map(|p| format!("{} {} {}", p["metadata"]["name"], p["status"]["phase"], p["spec"]["nodeName"]))
            .collect();
        assert!(
            pods_of(&cluster, "cart").iter().any(|p| p["status"]["phase"] == "Running"),
            "old ones keep serving: {phases:?}"
        );
        let message = pending[0]["status"]["conditions"][0]["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with("0/6 nodes are available: "), "{message}");
        assert!(message.contains("5 Insufficient cpu"), "{message}");
        assert!(message.contains("1 node(s) had untolerated taint(s)"), "the control-plane node: {message}");
        cluster.clear(&request).unwrap();
        settle(&cluster, 50);
        assert!(pods_of(&cluster, "cart").iter().all(|p| p["status"]["phase"] != "Pending"));
    }

    #[test]
    fn a_service_selecting_nothing_loses_its_endpoints_until_cleared() {
        let cluster = cluster();
        let addresses = |cluster: &DrillCluster| {
            let endpoints = cluster.store.get(ENDPOINTS, "shop", "storefront").unwrap();
            endpoints.pointer("/subsets/0/addresses").and_then(Value::as_array).map_or(0, Vec::len)
        };
        assert!(addresses(&cluster) > 0);
        let request =
            FaultRequest { kind: FaultKind::NoEndpoints, target: "shop/storefront".into(), seconds: None };
        cluster.inject(&request).unwrap();
        settle(&cluster, 50);
        assert_eq!(addresses(&cluster), 0);
        cluster.clear(&request).unwrap();
        settle(&cluster, 50);
        assert!(addresses(&cluster) > 0);
    }

    #[test]
    fn previous_logs_are_there_only_after_a_restart() {
        let cluster = cluster();
        let pod = pods_of(&cluster, "cart").remove(0);
        let error = crate::logs::lines(&pod, "cart", true).unwrap_err();
        assert!(error.starts_with("previous terminated container \"cart\""), "{error}");
        let current = crate::logs::lines(&pod, "cart", false).unwrap();
        assert!(current.iter().any(|l| l.contains("listening")));
    }
}
