//! Scenarios: a cluster described as data (nodes, namespaces, workloads),
//! loaded from YAML, or generated at a given size for benchmarks.

use super::resources::{DAEMONSETS, DEPLOYMENTS, NAMESPACES, NODES, PDBS, PODS, SERVICES};
use super::store::{Store, StoreError, timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DEFAULT: &str = include_str!("../scenarios/default.yaml");

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_version")]
    pub kubernetes_version: String,
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub workloads: Vec<WorkloadSpec>,
    /// Faults injected at set times after the cluster starts, for drills.
    #[serde(default)]
    pub faults: Vec<TimedFault>,
    /// Images the drill's registry holds besides those the scenario's
    /// objects run; pulling any other fails (ErrImagePull, ImagePullBackOff).
    #[serde(default)]
    pub images: Vec<String>,
    /// Service components offered once when Wheelhouse runs this scenario
    /// in-process, so that a newcomer's dashboard shows the business services.
    #[serde(default)]
    pub components: Vec<domain::component::ComponentForm>,
}

/// A fault on the scenario's timeline.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimedFault {
    /// When, after start: `90s`, `5m`, `1h`.
    pub at: String,
    pub kind: super::fault_injection::FaultKind,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub seconds: Option<u64>,
    /// Clears the fault this long after it was injected.
    #[serde(default)]
    pub clear_after: Option<String>,
}

/// Parses `90s`, `5m`, `1h` (or plain seconds).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(seconds))
}

fn default_version() -> String {
    super::api::KUBERNETES_VERSION.to_owned()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default = "default_cpu")]
    pub cpu: String,
    #[serde(default = "default_memory")]
    pub memory: String,
    #[serde(default)]
    pub zone: String,
    #[serde(default = "default_max_pods")]
    pub max_pods: u32,
}

fn default_cpu() -> String {
    "8".into()
}
fn default_memory() -> String {
    "32Gi".into()
}
fn default_max_pods() -> u32 {
    110
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSpec {
    pub namespace: String,
    pub name: String,
    #[serde(default = "one")]
    pub replicas: u32,
    pub image: String,
    #[serde(default)]
    pub port: Option<u16>,
    /// Creates a PodDisruptionBudget with this `minAvailable`.
    #[serde(default)]
    pub min_available: Option<u32>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario is not valid YAML of the expected shape: {0}")]
    Parse(#[from] serde_yaml_ng::Error),
    #[error("the scenario could not be loaded: {0}")]
    Store(#[from] StoreError),
    #[error("'{0}' is not a time on the fault timeline: expected e.g. 90s, 5m or 1h")]
    Timeline(String),
}

impl Scenario {
    pub fn parse(yaml: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_yaml_ng::from_str(yaml)?;
        for fault in &scenario.faults {
            for when in std::iter::once(&fault.at).chain(fault.clear_after.as_ref()) {
                if parse_duration(when).is_none() {
                    return Err(ScenarioError::Timeline(when.clone()));
                }
            }
        }
        Ok(scenario)
    }

    pub fn default_scenario() -> Scenario {
        Scenario::parse(DEFAULT).expect("the built-in scenario is valid")
    }

    /// A cluster of `nodes` workers (plus a control-plane node) running about
    /// `pods` pods in deployments of 30, spread over ten namespaces.
    pub fn generated(nodes: usize, pods: usize) -> Scenario {
        let mut node_specs = vec![NodeSpec {
            name: "cp-1".into(),
            roles: vec!["control-plane".into()],
            cpu: "16".into(),
            memory: "64Gi".into(),
            zone: "zone-a".into(),
            max_pods: 110,
        }];
        node_specs.extend((1..=nodes).map(|i| NodeSpec {
            name: format!("worker-{i}"),
            roles: vec![],
            cpu: "32".into(),
            memory: "128Gi".into(),
            zone: format!("zone-{}", ["a", "b", "c"][i % 3]),
            max_pods: 110,
        }));
        let namespaces: Vec<String> = (0..10).map(|i| format!("team-{i}")).collect();
        let per = 30;
        let workloads = (0..pods.div_ceil(per))
            .map(|i| WorkloadSpec {
                namespace: namespaces[i % namespaces.len()].clone(),
                name: format!("service-{i}"),
                replicas: per.min(pods - i * per) as u32,
                image: format!("registry.example.com/team/service-{i}:1.0.0"),
                port: Some(8080),
                min_available: None,
            })
            .collect();
        Scenario {
            name: format!("generated-{nodes}x{pods}"),
            description: "generated".into(),
            kubernetes_version: default_version(),
            nodes: node_specs,
            namespaces,
            workloads,
            faults: Vec::new(),
            images: Vec::new(),
            components: Vec::new(),
        }
    }

    /// The scenario's suggested service components, validated.
    pub fn suggested_components(&self) -> Vec<domain::component::ComponentDefinition> {
        self.components
            .iter()
            .filter_map(|form| match domain::component::ComponentDefinition::parse(form) {
                Ok(definition) => Some(definition),
                Err(error) => {
                    tracing::warn!(component.name = %form.name, error = %error, "scenario component skipped");
                    None
                }
            })
            .collect()
    }

    /// Creates the scenario's objects: namespaces, nodes, the control plane
    /// (static pods, CoreDNS, kube-proxy) and the workloads with their
    /// Services and PodDisruptionBudgets. Pods of workloads are left to the
    /// controllers.
    pub fn load(&self, store: &Store) -> Result<(), ScenarioError> {
        let now = timestamp(store.now());
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"]
            .iter()
            .map(|s| s.to_string())
            .chain(self.namespaces.clone())
        {
            store.create(
                NAMESPACES,
                "",
                json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
                false,
            )?;
        }
        for (i, node) in self.nodes.iter().enumerate() {
            store.create(NODES, "", node_object(node, i, &self.kubernetes_version, &now), false)?;
        }
        let control_plane = self.nodes.iter().find(|n| n.roles.iter().any(|r| r == "control-plane"));
        if let Some(cp) = control_plane {
            for (component, image) in [
                ("etcd", "registry.k8s.io/etcd:3.5.16-0".to_owned()),
                ("kube-apiserver", format!("registry.k8s.io/kube-apiserver:{}", self.kubernetes_version)),
                (
                    "kube-controller-manager",
                    format!("registry.k8s.io/kube-controller-manager:{}", self.kubernetes_version),
                ),
                ("kube-scheduler", format!("registry.k8s.io/kube-scheduler:{}", self.kubernetes_version)),
            ] {
                store.create(PODS, "kube-system", static_pod(component, &image, &cp.name), false)?;
            }
        }
        store.create(
            DEPLOYMENTS,
            "kube-system",
            deployment(
                "kube-system",
                "coredns",
                2,
                "registry.k8s.io/coredns/coredns:v1.11.3",
                Some(53),
                "k8s-app",
            ),
            false,
        )?;
        store.create(
            SERVICES,
            "kube-system",
            service("kube-dns", "k8s-app", "kube-dns", 53, "10.96.0.10"),
            false,
        )?;
        store.create(
            DAEMONSETS,
            "kube-system",
            daemon_set("kube-proxy", &format!("registry.k8s.io/kube-proxy:{}", self.kubernetes_version)),
            false,
        )?;
        for (i, w) in self.workloads.iter().enumerate() {
            store.create(
                DEPLOYMENTS,
                &w.namespace,
                deployment(&w.namespace, &w.name, w.replicas, &w.image, w.port, "app"),
                false,
            )?;
            if let Some(port) = w.port {
                let ip = format!("10.96.{}.{}", 1 + i / 250, 1 + i % 250);
                store.create(SERVICES, &w.namespace, service(&w.name, "app", &w.name, port, &ip), false)?;
            }
            if let Some(min) = w.min_available {
                store.create(
                    PDBS,
                    &w.namespace,
                    json!({"metadata": {"name": w.name}, "spec": {"minAvailable": min, "selector": {"matchLabels": {"app": w.name}}}}),
                    false,
                )?;
            }
        }
        Ok(())
    }
}

impl Scenario {
    /// The images the drill's registry holds once the scenario is loaded:
    /// every image its objects run, and the scenario's extra `images`.
    pub fn registry(&self, store: &Store) -> std::collections::HashSet<String> {
        let mut images: std::collections::HashSet<String> = self.images.iter().cloned().collect();
        let containers = |object: &Value, pointer: &str| -> Vec<String> {
            object
                .pointer(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c["image"].as_str().map(str::to_owned))
                .collect()
        };
        for resource in [DEPLOYMENTS, DAEMONSETS, super::resources::STATEFULSETS] {
            for object in store
                .list(resource, &super::store::Filter::default(), None, None)
                .map(|p| p.items)
                .unwrap_or_default()
            {
                images.extend(containers(&object, "/spec/template/spec/containers"));
            }
        }
        for pod in store
            .list(PODS, &super::store::Filter::default(), None, None)
            .map(|p| p.items)
            .unwrap_or_default()
        {
            images.extend(containers(&pod, "/spec/containers"));
        }
        images
    }

    /// Creates every workload's pods directly, bound round-robin to the worker
    /// nodes and already Running and Ready, as a settled cluster would hold
    /// them. For benchmarks, where running the controllers over 150,000 pods
    /// would measure the controllers instead of the API.
    pub fn load_running_pods(&self, store: &Store) -> Result<(), ScenarioError> {
        let workers: Vec<&NodeSpec> = self.nodes.iter().filter(|n| n.roles.is_empty()).collect();
        let now = timestamp(store.now());
        let mut n = 0usize;
        for w in &self.workloads {
            for i in 0..w.replicas {
                let node = &workers[n % workers.len().max(1)].name;
                let ip = format!("10.{}.{}.{}", 64 + n / 65_536 % 64, n / 256 % 256, n % 256);
                n += 1;
                let mut pod = json!({
                    "metadata": {"name": format!("{}-{i:05}", w.name), "labels": {"app": w.name}},
                    "spec": deployment(&w.namespace, &w.name, 1, &w.image, w.port, "app")["spec"]["template"]["spec"].clone(),
                });
                pod["spec"]["nodeName"] = json!(node);
                let ready = |kind: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now});
                pod["status"] = json!({
                    "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now, "qosClass": "Burstable",
                    "conditions": [ready("Initialized"), ready("Ready"), ready("ContainersReady"), ready("PodScheduled")],
                    "containerStatuses": [{"name": w.name, "image": w.image, "ready": true, "started": true, "restartCount": 0, "state": {"running": {"startedAt": now}}}],
                });
                store.create(PODS, &w.namespace, pod, false)?;
            }
        }
        Ok(())
    }
}

fn node_object(node: &NodeSpec, index: usize, version: &str, now: &str) -> Value {
    let mut labels = json!({
        "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
    });
    if !node.zone.is_empty() {
        labels["topology.kubernetes.io/zone"] = json!(node.zone);
    }
    let mut taints = vec![];
    for role in &node.roles {
        labels[format!("node-role.kubernetes.io/{role}")] = json!("");
        if role == "control-plane" {
            taints.push(json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}));
        }
    }
    let condition = |kind: &str, status: &str, reason: &str, message: &str| json!({"type": kind, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now});
    let resources = json!({"cpu": node.cpu, "memory": node.memory, "pods": node.max_pods.to_string(), "ephemeral-storage": "100Gi"});
    json!({
        "metadata": {"name": node.name, "labels": labels, "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": format!("10.244.{index}.0/24"), "podCIDRs": [format!("10.244.{index}.0/24")], "taints": taints},
        "status": {
            "capacity": resources, "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": format!("10.0.{}.{}", index / 250, 10 + index % 240)}, {"type": "Hostname", "address": node.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{index:032x}"), "systemUUID": format!("{index:08x}-0000-4000-8000-000000000000"), "bootID": format!("{index:08x}-1111-4000-8000-000000000000"),
                "kernelVersion": "6.8.0-45-generic", "osImage": "Ubuntu 24.04.1 LTS", "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux", "architecture": "amd64",
            },
        },
    })
}

fn container(name: &str, image: &str, port: Option<u16>) -> Value {
    let mut c = json!({
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    });
    if let Some(port) = port {
        c["ports"] = json!([{"containerPort": port, "protocol": "TCP"}]);
        c["readinessProbe"] = json!({"httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"}, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3});
    }
    c
}

fn pod_template(labels: Value, containers: Vec<Value>) -> Value {
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler"},
    })
}

pub fn deployment(
    _namespace: &str,
    name: &str,
    replicas: u32,
    image: &str,
    port: Option<u16>,
    label_key: &str,
) -> Value {
    let labels = json!({label_key: name});
    json!({
        "metadata": {"name": name, "labels": labels, "annotations": {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": pod_template(labels.clone(), vec![container(name.trim_start_matches("kube-"), image, port)]),
            // One pod at a time, as many production services roll: a bad
            // rollout then takes one old pod down while the new one fails.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
    })
}

fn service(name: &str, label_key: &str, selector: &str, port: u16, ip: &str) -> Value {
    json!({
        "metadata": {"name": name, "labels": {label_key: selector}},
        "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "selector": {label_key: selector},
                 "ports": [{"name": "main", "port": port, "targetPort": port, "protocol": "TCP"}], "sessionAffinity": "None"},
    })
}

fn daemon_set(name: &str, image: &str) -> Value {
    let labels = json!({"k8s-app": name});
    let mut template = pod_template(labels.clone(), vec![container(name, image, None)]);
    template["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
    template["spec"]["priorityClassName"] = json!("system-node-critical");
    json!({"metadata": {"name": name, "labels": labels}, "spec": {"selector": {"matchLabels": labels}, "template": template}})
}

fn static_pod(component: &str, image: &str, node: &str) -> Value {
    json!({
        "metadata": {
            "name": format!("{component}-{node}"),
            "labels": {"component": component, "tier": "control-plane"},
            "annotations": {"kubernetes.io/config.mirror": "drill", "kubernetes.io/config.source": "file"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": "", "controller": true}],
        },
        "spec": {
            "nodeName": node, "priorityClassName": "system-node-critical", "hostNetwork": true,
            "containers": [{"name": component, "image": image, "imagePullPolicy": "IfNotPresent"}],
            "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, NODES, PODS};
    use crate::store::Filter;

    #[test]
    fn the_default_scenarios_suggested_components_are_all_valid() {
        let scenario = Scenario::default_scenario();
        assert_eq!(scenario.suggested_components().len(), scenario.components.len());
        assert!(scenario.components.len() >= 4);
    }

    #[test]
    fn the_default_scenario_loads_a_control_plane_six_nodes_and_the_workloads() {
        let store = Store::new();
        let scenario = Scenario::default_scenario();
        scenario.load(&store).unwrap();
        assert_eq!(store.list(NODES, &Filter::default(), None, None).unwrap().items.len(), 6);
        let system = Filter { namespace: Some("kube-system".into()), ..Filter::default() };
        assert_eq!(
            store.list(PODS, &system, None, None).unwrap().items.len(),
            4,
            "static control-plane pods"
        );
        assert_eq!(store.list(DEPLOYMENTS, &Filter::default(), None, None).unwrap().items.len(), 9);
    }

    #[test]
    fn the_registry_holds_what_the_scenario_runs_and_its_extra_images() {
        let store = Store::new();
        let mut scenario = Scenario::default_scenario();
        scenario.images.push("registry.example.com/shop/checkout:1.15.0".into());
        scenario.load(&store).unwrap();
        let registry = scenario.registry(&store);
        assert!(registry.contains("registry.example.com/shop/checkout:1.14.2"));
        assert!(registry.contains("registry.example.com/shop/checkout:1.15.0"));
        assert!(!registry.contains("registry.invalid/nope:404"));
        let faults = crate::faults::Faults::default();
        faults.set_registry(registry);
        assert_eq!(faults.image("registry.invalid/nope:404"), crate::faults::ImageBehaviour::Unpullable);
        assert_eq!(
            faults.image("registry.example.com/shop/checkout:1.15.0"),
            crate::faults::ImageBehaviour::Healthy
        );
    }

    #[test]
    fn the_shipped_drill_scenario_loads() {
        let s = Scenario::parse(include_str!("../scenarios/checkout-drill.yaml")).unwrap();
        assert_eq!(s.faults.len(), 2);
        s.load(&Store::new()).unwrap();
    }

    #[test]
    fn a_scenario_with_an_unknown_field_is_refused() {
        let err = Scenario::parse("name: x\nnodes: []\nnodez: []\n").unwrap_err();
        assert!(err.to_string().contains("nodez"), "{err}");
    }

    #[test]
    fn a_fault_timeline_parses_and_bad_times_are_refused() {
        let yaml = "name: x\nnodes: []\nfaults:\n  - at: 90s\n    kind: crashloop\n    target: shop/checkout\n    clearAfter: 5m\n";
        let s = Scenario::parse(yaml).unwrap();
        assert_eq!(s.faults[0].kind, crate::fault_injection::FaultKind::Crashloop);
        assert_eq!(parse_duration(&s.faults[0].at), Some(std::time::Duration::from_secs(90)));
        let bad = Scenario::parse(&yaml.replace("90s", "soon")).unwrap_err();
        assert!(bad.to_string().contains("'soon'"), "{bad}");
    }

    #[test]
    fn a_generated_scenario_has_the_asked_size() {
        let s = Scenario::generated(50, 1000);
        assert_eq!(s.nodes.len(), 51);
        assert_eq!(s.workloads.iter().map(|w| w.replicas as usize).sum::<usize>(), 1000);
    }
}
