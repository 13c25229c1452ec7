//! The actuator: containment actions as Kubernetes API calls through the kube
//! client (never kubectl). Each action can run as a server-side dry run
//! (`dryRun=All`) for its preview, or for real; a real run returns what it
//! did and the action that undoes it.

use super::drain::{self, DrainReport};
use app::domain::action::{ActionFailure, ActionSpec, ObjectName, Replicas, WorkloadKind};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The label an isolated pod carries instead of its own, so that its
/// ReplicaSet and Services let go of it and the fence can select it.
pub const ISOLATED_LABEL: &str = "wheelhouse.io/isolated";
/// The name of the deny-all policy that isolates a namespace.
pub const NAMESPACE_FENCE: &str = "wheelhouse-isolate-namespace";
/// The field manager Wheelhouse's writes are recorded under.
const MANAGER: &str = "wheelhouse";

/// What a dry run showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DryRun {
    /// One line per object the action changes.
    pub changes: Vec<String>,
    /// Pods that would be stopped, started or moved.
    pub pods: usize,
}

/// What a real run did.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    pub result: String,
    pub undo: Option<ActionSpec>,
    pub drain: Option<DrainReport>,
}

pub type ActResult<T> = Result<T, ActionFailure>;

/// Maps a kube error to a failure in words: an API answer by its status, anything else as unreachable.
/// The API server's own text (and the cause of anything else) goes to the log, never to
/// a person or the timeline: it can name internals, and it is not written for responders.
pub fn failure(error: kube::Error) -> ActionFailure {
    match error {
        kube::Error::Api(status) => {
            tracing::warn!(
                kube.status = status.code,
                kube.reason = ?status.reason,
                kube.message = %status.message,
                "the Kubernetes API refused a request"
            );
            ActionFailure::from_status(status.code, "")
        }
        other => {
            tracing::warn!(
                error = &other as &dyn std::error::Error,
                "the Kubernetes API could not be reached"
            );
            ActionFailure::Unreachable
        }
    }
}

#[derive(Clone)]
pub struct Actuator {
    client: kube::Client,
}

fn patch_params(dry_run: bool) -> PatchParams {
    let params = PatchParams { field_manager: Some(MANAGER.into()), ..PatchParams::default() };
    if dry_run { params.dry_run() } else { params }
}

fn post_params(dry_run: bool) -> PostParams {
    PostParams { dry_run, field_manager: Some(MANAGER.into()) }
}

fn delete_params(dry_run: bool) -> DeleteParams {
    if dry_run { DeleteParams::default().dry_run() } else { DeleteParams::default() }
}

/// A deny-all ingress and egress policy over the pods `selector` matches.
fn fence(name: &str, namespace: &str, selector: Value) -> NetworkPolicy {
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "wheelhouse"}},
        "spec": {"podSelector": selector, "policyTypes": ["Ingress", "Egress"]},
    }))
    .expect("a NetworkPolicy built from literals")
}

/// The name of the fence around one isolated pod.
pub fn pod_fence_name(pod: &str) -> String {
    let name = format!("wheelhouse-isolate-{pod}");
    name.chars().take(253).collect()
}

/// The revision a Deployment or ReplicaSet carries in its annotations.
fn revision_of(annotations: Option<&BTreeMap<String, String>>) -> Option<u64> {
    annotations?.get("deployment.kubernetes.io/revision")?.parse().ok()
}

impl Actuator {
    pub fn new(client: kube::Client) -> Actuator {
        Actuator { client }
    }

    /// Runs `spec` as a server-side dry run: the API checks everything and changes nothing.
    pub async fn dry_run(&self, spec: &ActionSpec) -> ActResult<DryRun> {
        match spec {
            ActionSpec::Drain { node } => {
                self.cordon(node, true, true).await?;
                let plan = drain::plan(&self.client, node).await?;
                let mut changes = vec![format!("node {node}: cordoned")];
                changes.extend(plan.evict.iter().map(|p| format!("pod {p}: evicted")));
                changes.extend(plan.skipped.iter().map(|p| format!("pod {p}: left in place")));
                Ok(DryRun { changes, pods: plan.evict.len() })
            }
            _ => {
                let done = self.run(spec, true).await?;
                let pods = self.pods_touched(spec, &done).await;
                Ok(DryRun { changes: vec![done.result], pods })
            }
        }
    }

    /// The pods an action replaces, starts or stops: all of a workload's for a
    /// rollback or restart, the difference for a scale, one for a pod action.
    async fn pods_touched(&self, spec: &ActionSpec, done: &Done) -> usize {
        let replicas = |kind: WorkloadKind, namespace: &ObjectName, name: &ObjectName| {
            let client = self.client.clone();
            let (namespace, name) = (namespace.to_string(), name.to_string());
            async move {
                let count = match kind {
                    WorkloadKind::Deployment => Api::<Deployment>::namespaced(client, &namespace)
                        .get(&name)
                        .await
                        .ok()
                        .and_then(|d| d.spec.and_then(|s| s.replicas)),
                    WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(client, &namespace)
                        .get(&name)
                        .await
                        .ok()
                        .and_then(|s| s.spec.and_then(|s| s.replicas)),
                    WorkloadKind::DaemonSet => Api::<DaemonSet>::namespaced(client, &namespace)
                        .get(&name)
                        .await
                        .ok()
                        .and_then(|d| d.status.map(|s| s.desired_number_scheduled)),
                };
                usize::try_from(count.unwrap_or(0)).unwrap_or(0)
            }
        };
        match spec {
            ActionSpec::Rollback { namespace, name } | ActionSpec::RollbackTo { namespace, name, .. } => {
                replicas(WorkloadKind::Deployment, namespace, name).await
            }
            ActionSpec::Restart { kind, namespace, name } => replicas(*kind, namespace, name).await,
            ActionSpec::Scale { replicas: to, .. } => match &done.undo {
                Some(ActionSpec::Scale { replicas: from, .. }) => from.get().abs_diff(to.get()) as usize,
                _ => 0,
            },
            ActionSpec::IsolatePod { .. } | ActionSpec::DeletePod { .. } | ActionSpec::ReleasePod { .. } => 1,
            _ => 0,
        }
    }

    /// Runs `spec` for real. A drain reports each pod through `progress`.
    pub async fn execute(&self, spec: &ActionSpec, progress: drain::Progress<'_>) -> ActResult<Done> {
        if let ActionSpec::Drain { node } = spec {
            self.cordon(node, true, false).await?;
            let report = drain::run(&self.client, node, progress).await?;
            return Ok(Done {
                result: report.summary(),
                undo: Some(ActionSpec::Uncordon { node: node.clone() }),
                drain: Some(report),
            });
        }
        self.run(spec, false).await
    }

    async fn patch_merge<K>(&self, namespace: &str, name: &str, patch: &Value, dry_run: bool) -> ActResult<()>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        api.patch(name, &patch_params(dry_run), &Patch::Merge(patch)).await.map_err(failure)?;
        Ok(())
    }

    async fn cordon(&self, node: &str, unschedulable: bool, dry_run: bool) -> ActResult<()> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let patch = json!({"spec": {"unschedulable": unschedulable}});
        nodes.patch(node, &patch_params(dry_run), &Patch::Merge(&patch)).await.map_err(failure)?;
        Ok(())
    }

    async fn run(&self, spec: &ActionSpec, dry_run: bool) -> ActResult<Done> {
        let done = |result: String, undo: Option<ActionSpec>| Done { result, undo, drain: None };
        let would = if dry_run { "would be " } else { "" };
        match spec {
            ActionSpec::Cordon { node } => {
                self.cordon(node, true, dry_run).await?;
                Ok(done(
                    format!("Node {node} {would}cordoned: no new pods are scheduled on it."),
                    spec.static_undo(),
                ))
            }
            ActionSpec::Uncordon { node } => {
                self.cordon(node, false, dry_run).await?;
                Ok(done(format!("Node {node} {would}uncordoned."), spec.static_undo()))
            }
            ActionSpec::Drain { .. } => unreachable!("drains are handled by execute and dry_run"),
            ActionSpec::Scale { kind, namespace, name, replicas } => {
                let patch = json!({"spec": {"replicas": replicas}});
                let params = patch_params(dry_run);
                let before = match kind {
                    WorkloadKind::Deployment => {
                        let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
                        let before = api.get_scale(name).await.map_err(failure)?;
                        api.patch_scale(name, &params, &Patch::Merge(&patch)).await.map_err(failure)?;
                        before
                    }
                    WorkloadKind::StatefulSet => {
                        let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), namespace);
                        let before = api.get_scale(name).await.map_err(failure)?;
                        api.patch_scale(name, &params, &Patch::Merge(&patch)).await.map_err(failure)?;
                        before
                    }
                    WorkloadKind::DaemonSet => {
                        return Err(ActionFailure::Invalid {
                            detail: "A DaemonSet cannot be scaled.".into(),
                        });
                    }
                };
                let previous = before.spec.and_then(|s| s.replicas).unwrap_or(0).max(0) as u32;
                Ok(done(
                    format!(
                        "{} {namespace}/{name} {would}scaled from {previous} to {replicas} replicas.",
                        kind.as_str()
                    ),
                    Some(ActionSpec::Scale {
                        kind: *kind,
                        namespace: namespace.clone(),
                        name: name.clone(),
                        replicas: Replicas::recorded(previous),
                    }),
                ))
            }
            ActionSpec::Restart { kind, namespace, name } => {
                let at = k8s_openapi::jiff::Timestamp::now().to_string();
                let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at}}}}});
                match kind {
                    WorkloadKind::Deployment => {
                        self.patch_merge::<Deployment>(namespace, name, &patch, dry_run).await?
                    }
                    WorkloadKind::StatefulSet => {
                        self.patch_merge::<StatefulSet>(namespace, name, &patch, dry_run).await?
                    }
                    WorkloadKind::DaemonSet => {
                        self.patch_merge::<DaemonSet>(namespace, name, &patch, dry_run).await?
                    }
                }
                Ok(done(
                    format!(
                        "{} {namespace}/{name} {would}restarted: its pods are replaced one by one.",
                        kind.as_str()
                    ),
                    None,
                ))
            }
            ActionSpec::Pause { namespace, name } | ActionSpec::Resume { namespace, name } => {
                let paused = matches!(spec, ActionSpec::Pause { .. });
                let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
                let patch = json!({"spec": {"paused": paused}});
                api.patch(name, &patch_params(dry_run), &Patch::Merge(&patch)).await.map_err(failure)?;
                let what = if paused { "paused" } else { "resumed" };
                Ok(done(
                    format!("The rollout of deployment {namespace}/{name} {would}{what}."),
                    spec.static_undo(),
                ))
            }
            ActionSpec::Rollback { namespace, name } => self.roll_back(namespace, name, None, dry_run).await,
            ActionSpec::RollbackTo { namespace, name, revision } => {
                self.roll_back(namespace, name, Some(*revision), dry_run).await
            }
            ActionSpec::DeletePod { namespace, name } => {
                let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
                api.delete(name, &delete_params(dry_run)).await.map_err(failure)?;
                Ok(done(
                    format!("Pod {namespace}/{name} {would}deleted; its controller, if any, replaces it."),
                    None,
                ))
            }
            ActionSpec::IsolateNamespace { namespace } => {
                let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace);
                api.create(&post_params(dry_run), &fence(NAMESPACE_FENCE, namespace, json!({})))
                    .await
                    .map_err(failure)?;
                Ok(done(
                    format!(
                        "Namespace {namespace} {would}isolated: the network policy {NAMESPACE_FENCE} denies all ingress and egress."
                    ),
                    Some(ActionSpec::DeletePolicy {
                        namespace: namespace.clone(),
                        policy: NAMESPACE_FENCE.into(),
                    }),
                ))
            }
            ActionSpec::DeletePolicy { namespace, policy } => {
                let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace);
                api.delete(policy, &delete_params(dry_run)).await.map_err(failure)?;
                Ok(done(format!("Network policy {namespace}/{policy} {would}deleted."), None))
            }
            ActionSpec::IsolatePod { namespace, name } => self.isolate_pod(namespace, name, dry_run).await,
            ActionSpec::ReleasePod { namespace, name, labels, policy } => {
                let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
                let patch = json!([{"op": "replace", "path": "/metadata/labels", "value": labels}]);
                pods.patch(
                    name,
                    &patch_params(dry_run),
                    &Patch::<Value>::Json(serde_json::from_value(patch).expect("a JSON patch")),
                )
                .await
                .map_err(failure)?;
                let policies: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace);
                policies.delete(policy, &delete_params(dry_run)).await.map_err(failure)?;
                Ok(done(
                    format!(
                        "Pod {namespace}/{name} {would}released: its labels are back and its fence {policy} is gone."
                    ),
                    None,
                ))
            }
        }
    }

    /// Labels the pod out of its ReplicaSet and Services and fences it with a
    /// deny-all policy; the pod itself is kept for forensics.
    async fn isolate_pod(&self, namespace: &ObjectName, name: &ObjectName, dry_run: bool) -> ActResult<Done> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let pod = pods.get(name).await.map_err(failure)?;
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let policy = pod_fence_name(name);
        let policies: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace);
        policies
            .create(
                &post_params(dry_run),
                &fence(&policy, namespace, json!({"matchLabels": {ISOLATED_LABEL: name}})),
            )
            .await
            .map_err(failure)?;
        let patch = json!([{"op": "replace", "path": "/metadata/labels", "value": {ISOLATED_LABEL: name}}]);
        let patched = pods
            .patch(
                name,
                &patch_params(dry_run),
                &Patch::<Value>::Json(serde_json::from_value(patch).expect("a JSON patch")),
            )
            .await
            .map_err(failure);
        if let Err(error) = patched {
            // Nothing half-done: the fence goes if the relabel failed.
            if !dry_run {
                let _ = policies.delete(&policy, &DeleteParams::default()).await;
            }
            return Err(error);
        }
        let would = if dry_run { "would be " } else { "" };
        Ok(Done {
            result: format!(
                "Pod {namespace}/{name} {would}isolated: relabelled out of its ReplicaSet and Services (it is replaced) and fenced by {policy}; it is kept for forensics."
            ),
            undo: Some(ActionSpec::ReleasePod {
                namespace: namespace.clone(),
                name: name.clone(),
                labels,
                policy,
            }),
            drain: None,
        })
    }

    /// Puts a Deployment's pod template back to that of an earlier ReplicaSet,
    /// as `kubectl rollout undo` does: the previous revision, or `to`.
    async fn roll_back(
        &self,
        namespace: &ObjectName,
        name: &ObjectName,
        to: Option<u64>,
        dry_run: bool,
    ) -> ActResult<Done> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        let deployment = deployments.get(name).await.map_err(failure)?;
        let current = revision_of(deployment.metadata.annotations.as_ref()).unwrap_or(0);
        let uid = deployment.metadata.uid.clone().unwrap_or_default();
        let replicasets: Api<ReplicaSet> = Api::namespaced(self.client.clone(), namespace);
        let owned: Vec<ReplicaSet> = replicasets
            .list(&ListParams::default())
            .await
            .map_err(failure)?
            .items
            .into_iter()
            .filter(|rs| rs.metadata.owner_references.iter().flatten().any(|o| o.uid == uid))
            .collect();
        let target = owned
            .iter()
            .filter_map(|rs| revision_of(rs.metadata.annotations.as_ref()).map(|rev| (rev, rs)))
            .filter(|(rev, _)| match to {
                Some(to) => *rev == to,
                None => *rev < current,
            })
            .max_by_key(|(rev, _)| *rev);
        let Some((revision, replicaset)) = target else {
            return Err(ActionFailure::Invalid {
                detail: match to {
                    Some(to) => format!("Deployment {namespace}/{name} has no revision {to} any more."),
                    None => format!("Deployment {namespace}/{name} has no earlier revision to roll back to."),
                },
            });
        };
        let images = |template: Option<&k8s_openapi::api::core::v1::PodTemplateSpec>| -> Vec<String> {
            template
                .and_then(|t| t.spec.as_ref())
                .map(|s| s.containers.iter().map(|c| c.image.clone().unwrap_or_default()).collect())
                .unwrap_or_default()
        };
        let now_images = images(deployment.spec.as_ref().map(|s| &s.template));
        let then_images = images(replicaset.spec.as_ref().and_then(|s| s.template.as_ref()));
        let image_change = if now_images == then_images {
            String::new()
        } else {
            format!(" (image {} → {})", now_images.join(", "), then_images.join(", "))
        };
        let mut template = serde_json::to_value(replicaset.spec.as_ref().and_then(|s| s.template.clone()))
            .unwrap_or(Value::Null);
        if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove("pod-template-hash");
        }
        let patch = json!([
            {"op": "replace", "path": "/spec/template", "value": template},
        ]);
        deployments
            .patch(
                name,
                &patch_params(dry_run),
                &Patch::<Value>::Json(serde_json::from_value(patch).expect("a JSON patch")),
            )
            .await
            .map_err(failure)?;
        let would = if dry_run { "would be " } else { "" };
        Ok(Done {
            result: format!(
                "Deployment {namespace}/{name} {would}rolled from revision {current} back to the template of revision {revision}{image_change}."
            ),
            undo: Some(ActionSpec::RollbackTo {
                namespace: namespace.clone(),
                name: name.clone(),
                revision: current,
            }),
            drain: None,
        })
    }
}
