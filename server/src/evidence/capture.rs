//! Capturing evidence through the Kubernetes API (reads only): a workload's
//! spec, rollout history, pods, events, Services and the logs of its failing
//! containers; a pod alone; a node with the pods on it; the control plane's
//! checks. What the API refuses or does not answer becomes a gap in words,
//! with the API's own text in the log only, so a partial capture is still kept.

use crate::actions::actuator::failure;
use crate::cluster::watch::Live;
use app::domain::action::{ActionFailure, WorkloadKind};
use app::domain::evidence::{
    Amounts, CheckEvidence, Condition, ContainerSpec, ContainerState, EVENT_WINDOW_MS, EventEvidence,
    Evidence, LOG_LINES, LogEvidence, NodeEvidence, PodEvidence, Resources, Revision, ServiceEvidence,
    Subject, Termination, WorkloadEvidence,
};
use app::domain::quantity;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Container, Endpoints, Event, Node, Pod, PodSpec, PodTemplateSpec, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use kube::Api;
use kube::api::{ListParams, LogParams};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Failing containers whose logs are read per capture (the rest are named in the pods part).
const LOGS_PER_CAPTURE: usize = 5;
/// Pods described per capture; a larger workload is summarised by the first ones.
const PODS_PER_CAPTURE: usize = 500;
/// Events kept per capture, newest first.
const EVENTS_PER_CAPTURE: usize = 300;

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Reads evidence through the kube client.
#[derive(Clone)]
pub struct KubeEvidence {
    pub client: kube::Client,
    pub live: Arc<Live>,
}

fn millis(time: Option<&Time>) -> Option<i64> {
    time.map(|t| t.0.as_millisecond())
}

fn revision_of(meta: &ObjectMeta) -> Option<u64> {
    meta.annotations.as_ref()?.get(REVISION)?.parse().ok()
}

fn match_labels(selector: Option<&LabelSelector>) -> BTreeMap<String, String> {
    selector.and_then(|s| s.match_labels.clone()).unwrap_or_default()
}

fn label_query(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

fn resources(container: &Container, which: &str) -> Resources {
    let map = container
        .resources
        .as_ref()
        .and_then(|r| if which == "requests" { r.requests.as_ref() } else { r.limits.as_ref() });
    let get = |key: &str| map.and_then(|m| m.get(key)).map(|q| q.0.clone());
    Resources { cpu: get("cpu"), memory: get("memory") }
}

fn containers_of(spec: Option<&PodSpec>) -> Vec<ContainerSpec> {
    spec.map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| ContainerSpec {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            env: c.env.iter().flatten().map(|e| e.name.clone()).collect(),
            requests: resources(c, "requests"),
            limits: resources(c, "limits"),
        })
        .collect()
}

fn template_parts(template: Option<&PodTemplateSpec>) -> (BTreeMap<String, String>, Vec<ContainerSpec>) {
    let labels =
        template.and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
    (labels, containers_of(template.and_then(|t| t.spec.as_ref())))
}

/// A pod as evidence.
pub fn pod_evidence(pod: &Pod) -> PodEvidence {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers = status
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let declared = spec.and_then(|s| s.containers.iter().find(|d| d.name == c.name));
            let waiting = c.state.as_ref().and_then(|s| s.waiting.as_ref());
            let last = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            ContainerState {
                image: declared.and_then(|d| d.image.clone()).unwrap_or(c.image.clone()),
                name: c.name,
                ready: c.ready,
                restarts: u32::try_from(c.restart_count).unwrap_or(0),
                waiting: waiting.and_then(|w| w.reason.clone()),
                waiting_message: waiting.and_then(|w| w.message.clone()),
                last_termination: last.map(|t| Termination {
                    reason: t.reason.clone().unwrap_or_default(),
                    exit_code: t.exit_code,
                    finished_at: millis(t.finished_at.as_ref()),
                }),
                memory_limit: declared.and_then(|d| resources(d, "limits").memory),
                memory_request: declared.and_then(|d| resources(d, "requests").memory),
            }
        })
        .collect();
    let unschedulable = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False"))
        .map(|c| c.message.clone().or(c.reason.clone()).unwrap_or_else(|| "not scheduled".to_owned()));
    PodEvidence {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        node: spec.and_then(|s| s.node_name.clone()),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        containers,
        unschedulable,
    }
}

fn event_evidence(event: &Event) -> EventEvidence {
    let object = &event.involved_object;
    EventEvidence {
        object: format!(
            "{} {}/{}",
            object.kind.clone().unwrap_or_default(),
            object.namespace.clone().unwrap_or_default(),
            object.name.clone().unwrap_or_default()
        ),
        kind: event.type_.clone().unwrap_or_default(),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.message.clone().unwrap_or_default(),
        count: event.count.and_then(|c| u64::try_from(c).ok()).unwrap_or(1),
        last_seen: millis(event.last_timestamp.as_ref())
            .or_else(|| event.event_time.as_ref().map(|t| t.0.as_millisecond())),
    }
}

/// What a capture reads of a workload of any kind.
struct WorkloadRead {
    meta: ObjectMeta,
    selector: BTreeMap<String, String>,
    template: Option<PodTemplateSpec>,
    desired: i32,
    ready: i32,
}

async fn read_workload(
    client: &kube::Client,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Result<WorkloadRead, ActionFailure> {
    Ok(match kind {
        WorkloadKind::Deployment => {
            let d =
                Api::<Deployment>::namespaced(client.clone(), namespace).get(name).await.map_err(failure)?;
            WorkloadRead {
                selector: match_labels(d.spec.as_ref().map(|s| &s.selector)),
                template: d.spec.as_ref().map(|s| s.template.clone()),
                desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ready: d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
                meta: d.metadata,
            }
        }
        WorkloadKind::StatefulSet => {
            let s =
                Api::<StatefulSet>::namespaced(client.clone(), namespace).get(name).await.map_err(failure)?;
            WorkloadRead {
                selector: match_labels(s.spec.as_ref().map(|s| &s.selector)),
                template: s.spec.as_ref().map(|s| s.template.clone()),
                desired: s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ready: s.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
                meta: s.metadata,
            }
        }
        WorkloadKind::DaemonSet => {
            let d =
                Api::<DaemonSet>::namespaced(client.clone(), namespace).get(name).await.map_err(failure)?;
            WorkloadRead {
                selector: match_labels(d.spec.as_ref().map(|s| &s.selector)),
                template: d.spec.as_ref().map(|s| s.template.clone()),
                desired: d.status.as_ref().map_or(0, |s| s.desired_number_scheduled),
                ready: d.status.as_ref().map_or(0, |s| s.number_ready),
                meta: d.metadata,
            }
        }
    })
}

impl KubeEvidence {
    /// Captures `subject` at `now`. Fails only when the subject itself cannot be read.
    pub async fn capture(&self, subject: &Subject, now: i64) -> Result<Evidence, ActionFailure> {
        let mut evidence = Evidence::new(subject.clone(), now);
        match subject {
            Subject::Workload { workload, namespace, name } => {
                self.workload(&mut evidence, *workload, namespace, name).await?;
            }
            Subject::Pod { namespace, name } => {
                let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
                let pod = pods.get(name).await.map_err(failure)?;
                evidence.pods.push(pod_evidence(&pod));
                let names = vec![name.to_string()];
                self.events(&mut evidence, Some(namespace), &names, now).await;
                self.logs(&mut evidence).await;
            }
            Subject::Node { name } => self.node(&mut evidence, name, now).await?,
            Subject::ControlPlane => {
                let checks = self.live.read().checks.clone();
                match checks.readyz {
                    Some(report) => {
                        evidence.control_plane = report
                            .checks
                            .into_iter()
                            .map(|c| CheckEvidence { name: c.name, ok: c.ok })
                            .collect();
                    }
                    None => evidence.gaps.push("The API server's checks have not answered yet.".to_owned()),
                }
                self.warnings_in(&mut evidence, "kube-system", now).await;
            }
        }
        evidence.events.sort_by_key(|e| std::cmp::Reverse(e.last_seen));
        evidence.events.truncate(EVENTS_PER_CAPTURE);
        Ok(evidence)
    }

    async fn workload(
        &self,
        evidence: &mut Evidence,
        kind: WorkloadKind,
        namespace: &str,
        name: &str,
    ) -> Result<(), ActionFailure> {
        let client = self.client.clone();
        let read = read_workload(&client, kind, namespace, name).await?;
        let (template_labels, containers) = template_parts(read.template.as_ref());
        let (selector, desired, ready) = (read.selector, read.desired, read.ready);
        // The Deployment's revision and uid find its history; its change-cause says what made the current one.
        let (uid, revision, change_cause) = if kind == WorkloadKind::Deployment {
            (
                read.meta.uid.clone(),
                revision_of(&read.meta),
                read.meta.annotations.as_ref().and_then(|a| a.get(CHANGE_CAUSE).cloned()),
            )
        } else {
            (None, None, None)
        };
        let mut object_names = vec![name.to_owned()];
        let mut revisions = Vec::new();
        if let Some(uid) = uid {
            let params = ListParams::default().labels(&label_query(&selector));
            match Api::<ReplicaSet>::namespaced(client.clone(), namespace).list(&params).await {
                Ok(list) => {
                    for rs in list
                        .items
                        .into_iter()
                        .filter(|rs| rs.metadata.owner_references.iter().flatten().any(|o| o.uid == uid))
                    {
                        object_names.push(rs.metadata.name.clone().unwrap_or_default());
                        let Some(number) = revision_of(&rs.metadata) else { continue };
                        let cause =
                            rs.metadata.annotations.as_ref().and_then(|a| a.get(CHANGE_CAUSE).cloned());
                        revisions.push(Revision {
                            number,
                            created_at: millis(rs.metadata.creation_timestamp.as_ref()),
                            // The Deployment's change-cause describes the change that made its current revision.
                            change_cause: cause.or_else(|| {
                                (Some(number) == revision).then(|| change_cause.clone()).flatten()
                            }),
                            containers: containers_of(
                                rs.spec
                                    .as_ref()
                                    .and_then(|s| s.template.as_ref())
                                    .and_then(|t| t.spec.as_ref()),
                            ),
                            replicas: rs
                                .status
                                .as_ref()
                                .map(|s| u32::try_from(s.replicas).unwrap_or(0))
                                .unwrap_or(0),
                        });
                    }
                    revisions.sort_by_key(|r| std::cmp::Reverse(r.number));
                }
                Err(error) => {
                    failure(error);
                    evidence.gaps.push("The rollout history (ReplicaSets) could not be read.".to_owned());
                }
            }
        }
        evidence.workload = Some(WorkloadEvidence {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            desired: u32::try_from(desired).unwrap_or(0),
            ready: u32::try_from(ready).unwrap_or(0),
            selector: selector.clone(),
            template_labels: template_labels.clone(),
            containers,
            current_revision: revision,
            revisions,
        });
        if !selector.is_empty() {
            let params = ListParams::default().labels(&label_query(&selector));
            match Api::<Pod>::namespaced(client.clone(), namespace).list(&params).await {
                Ok(list) => {
                    for pod in list.items.iter().take(PODS_PER_CAPTURE) {
                        object_names.push(pod.metadata.name.clone().unwrap_or_default());
                        evidence.pods.push(pod_evidence(pod));
                    }
                    if list.items.len() > PODS_PER_CAPTURE {
                        evidence.gaps.push(format!(
                            "{} more pods were not described (the first {PODS_PER_CAPTURE} are).",
                            list.items.len() - PODS_PER_CAPTURE
                        ));
                    }
                }
                Err(error) => {
                    failure(error);
                    evidence.gaps.push("The pods could not be listed.".to_owned());
                }
            }
        }
        self.services(evidence, namespace, name, &template_labels).await;
        self.events(evidence, Some(namespace), &object_names, evidence.captured_at).await;
        self.logs(evidence).await;
        Ok(())
    }

    /// Services in the namespace that select the workload's pods or carry its name.
    async fn services(
        &self,
        evidence: &mut Evidence,
        namespace: &str,
        workload: &str,
        pod_labels: &BTreeMap<String, String>,
    ) {
        let services = match Api::<Service>::namespaced(self.client.clone(), namespace)
            .list(&ListParams::default())
            .await
        {
            Ok(list) => list.items,
            Err(error) => {
                failure(error);
                evidence.gaps.push("The Services could not be listed.".to_owned());
                return;
            }
        };
        let endpoints: Api<Endpoints> = Api::namespaced(self.client.clone(), namespace);
        for service in services {
            let name = service.metadata.name.clone().unwrap_or_default();
            let selector = service.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
            let selects = !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v));
            if !selects && name != workload {
                continue;
            }
            let (ready, not_ready) = match endpoints.get_opt(&name).await {
                Ok(found) => found.map_or((0, 0), |e| {
                    e.subsets.iter().flatten().fold((0, 0), |(r, n), subset| {
                        (
                            r + subset.addresses.as_ref().map_or(0, Vec::len) as u32,
                            n + subset.not_ready_addresses.as_ref().map_or(0, Vec::len) as u32,
                        )
                    })
                }),
                Err(error) => {
                    failure(error);
                    evidence
                        .gaps
                        .push(format!("The endpoints of Service {namespace}/{name} could not be read."));
                    continue;
                }
            };
            evidence.services.push(ServiceEvidence {
                namespace: namespace.to_owned(),
                name,
                selector,
                ready_endpoints: ready,
                not_ready_endpoints: not_ready,
                pod_labels: pod_labels.clone(),
            });
        }
    }

    /// Events of the last 30 minutes about the named objects.
    async fn events(&self, evidence: &mut Evidence, namespace: Option<&str>, names: &[String], now: i64) {
        let api: Api<Event> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        match api.list(&ListParams::default()).await {
            Ok(list) => {
                let since = now - EVENT_WINDOW_MS;
                evidence.events.extend(
                    list.items
                        .iter()
                        .filter(|e| e.involved_object.name.as_ref().is_some_and(|n| names.contains(n)))
                        .map(event_evidence)
                        .filter(|e| e.last_seen.is_none_or(|at| at >= since)),
                );
            }
            Err(error) => {
                failure(error);
                evidence.gaps.push("The events could not be listed.".to_owned());
            }
        }
    }

    /// Warning events of the last 30 minutes in a namespace.
    async fn warnings_in(&self, evidence: &mut Evidence, namespace: &str, now: i64) {
        let params = ListParams::default().fields("type=Warning");
        match Api::<Event>::namespaced(self.client.clone(), namespace).list(&params).await {
            Ok(list) => {
                let since = now - EVENT_WINDOW_MS;
                evidence.events.extend(
                    list.items
                        .iter()
                        .map(event_evidence)
                        .filter(|e| e.last_seen.is_none_or(|at| at >= since)),
                );
            }
            Err(error) => {
                failure(error);
                evidence.gaps.push(format!("The events in {namespace} could not be listed."));
            }
        }
    }

    /// The last lines of failing containers: the previous run for one that restarted.
    async fn logs(&self, evidence: &mut Evidence) {
        let failing: Vec<(String, String, String, bool)> = evidence
            .pods
            .iter()
            .flat_map(|pod| {
                // A container that never ran (an image that cannot be pulled) has no output yet.
                pod.containers.iter().filter(|c| c.restarts > 0 || c.last_termination.is_some()).map(|c| {
                    (pod.namespace.clone(), pod.name.clone(), c.name.clone(), c.last_termination.is_some())
                })
            })
            .take(LOGS_PER_CAPTURE)
            .collect();
        for (namespace, pod, container, previous) in failing {
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
            let params = LogParams {
                container: Some(container.clone()),
                previous,
                tail_lines: Some(i64::from(LOG_LINES)),
                ..LogParams::default()
            };
            match pods.logs(&pod, &params).await {
                Ok(text) => evidence.logs.push(LogEvidence {
                    pod: format!("{namespace}/{pod}"),
                    container,
                    previous,
                    lines: text.lines().map(str::to_owned).collect(),
                }),
                Err(error) => {
                    failure(error);
                    evidence.gaps.push(format!("No logs for container {container} of pod {namespace}/{pod} (it may not have started)."));
                }
            }
        }
    }

    async fn node(&self, evidence: &mut Evidence, name: &str, now: i64) -> Result<(), ActionFailure> {
        let node = Api::<Node>::all(self.client.clone()).get(name).await.map_err(failure)?;
        let status = node.status.as_ref();
        let allocatable = status.and_then(|s| s.allocatable.as_ref());
        let get = |key: &str| allocatable.and_then(|a| a.get(key)).map(|q| q.0.as_str());
        let mut found = NodeEvidence {
            name: name.to_owned(),
            unschedulable: node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
            conditions: status
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|c| Condition { kind: c.type_, status: c.status, reason: c.reason, message: c.message })
                .collect(),
            taints: node
                .spec
                .as_ref()
                .and_then(|s| s.taints.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|t| match t.value {
                    Some(value) => format!("{}={value}:{}", t.key, t.effect),
                    None => format!("{}:{}", t.key, t.effect),
                })
                .collect(),
            allocatable: Amounts {
                cpu_millis: get("cpu").and_then(quantity::cpu_millis).unwrap_or(0),
                memory_bytes: get("memory").and_then(quantity::bytes).unwrap_or(0),
                pods: get("pods").and_then(|p| p.parse().ok()).unwrap_or(0),
            },
            ..NodeEvidence::default()
        };
        let params = ListParams::default().fields(&format!("spec.nodeName={name}"));
        match Api::<Pod>::all(self.client.clone()).list(&params).await {
            Ok(list) => {
                for pod in &list.items {
                    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
                    if matches!(phase, "Succeeded" | "Failed") {
                        continue;
                    }
                    let containers = pod.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or_default();
                    for container in containers {
                        let requests = resources(container, "requests");
                        found.requested.cpu_millis +=
                            requests.cpu.as_deref().and_then(quantity::cpu_millis).unwrap_or(0);
                        found.requested.memory_bytes +=
                            requests.memory.as_deref().and_then(quantity::bytes).unwrap_or(0);
                    }
                    found.requested.pods += 1;
                    found.pods.push(format!(
                        "{}/{}",
                        pod.metadata.namespace.clone().unwrap_or_default(),
                        pod.metadata.name.clone().unwrap_or_default()
                    ));
                }
            }
            Err(error) => {
                failure(error);
                evidence.gaps.push("The pods on the node could not be listed.".to_owned());
            }
        }
        evidence.node = Some(found);
        let params =
            ListParams::default().fields(&format!("involvedObject.kind=Node,involvedObject.name={name}"));
        match Api::<Event>::all(self.client.clone()).list(&params).await {
            Ok(list) => {
                let since = now - EVENT_WINDOW_MS;
                evidence.events.extend(
                    list.items
                        .iter()
                        .map(event_evidence)
                        .filter(|e| e.last_seen.is_none_or(|at| at >= since)),
                );
            }
            Err(error) => {
                failure(error);
                evidence.gaps.push("The node's events could not be listed.".to_owned());
            }
        }
        Ok(())
    }
}
