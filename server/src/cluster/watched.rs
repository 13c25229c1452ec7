//! A Pod as the watcher reads it from the API: only the fields the health
//! rules need are deserialised. The rest of each object (the spec's
//! containers, volumes and tolerations, managed fields, annotations) is
//! skipped by the JSON parser and never allocated; at 150,000 pods that was
//! most of the initial sync's work.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
pub struct WatchedPod {
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<Spec>,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub node_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default)]
    pub conditions: Option<Vec<Condition>>,
    #[serde(default)]
    pub container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(default)]
    pub restart_count: Option<i32>,
    #[serde(default)]
    pub state: Option<ContainerState>,
    #[serde(default)]
    pub last_state: Option<ContainerState>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContainerState {
    #[serde(default)]
    pub waiting: Option<Reason>,
    #[serde(default)]
    pub terminated: Option<Reason>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Reason {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The metadata the watcher and the health rules read (the watcher resumes
/// from `resourceVersion`); everything else in it is skipped.
fn slim_meta<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ObjectMeta, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Meta {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default)]
        uid: Option<String>,
        #[serde(default)]
        resource_version: Option<String>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
        #[serde(default)]
        owner_references: Option<Vec<OwnerReference>>,
        #[serde(default)]
        creation_timestamp: Option<Time>,
    }
    let meta = Meta::deserialize(deserializer)?;
    Ok(ObjectMeta {
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resource_version: meta.resource_version,
        labels: meta.labels,
        owner_references: meta.owner_references,
        creation_timestamp: meta.creation_timestamp,
        ..ObjectMeta::default()
    })
}

impl kube::Resource for WatchedPod {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("Pod")
    }

    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("")
    }

    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("v1")
    }

    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("pods")
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::Resource;

    #[test]
    fn a_pod_reads_as_the_full_type_does_for_what_the_rules_need() {
        let json = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "checkout-abc-1", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
                "labels": {"app": "checkout"}, "annotations": {"big": "x".repeat(1000)},
                "creationTimestamp": "2026-11-30T12:00:00Z",
                "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "checkout-abc",
                    "uid": "rs1", "controller": true}]
            },
            "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "shop/checkout:1"}]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "app", "restartCount": 7, "ready": false, "image": "i", "imageID": "",
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]
            }
        });
        let slim: WatchedPod = serde_json::from_value(json).unwrap();
        use crate::cluster::state::{Slim, ToSlim};
        let Slim::Pod(pod) = slim.to_slim() else { panic!("a pod") };
        assert_eq!(
            (&*pod.namespace, &*pod.name, pod.node.as_deref()),
            ("shop", "checkout-abc-1", Some("worker-1"))
        );
        let owner = pod.owner.as_deref().unwrap();
        assert_eq!((&*owner.kind, &*owner.name), ("ReplicaSet", "checkout-abc"));
        assert_eq!((pod.phase, pod.ready, pod.restarts), (app::domain::health::PodPhase::Running, false, 7));
        assert_eq!(pod.waiting_reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(pod.last_termination_reason.as_deref(), Some("OOMKilled"));
        assert_eq!(pod.created, 1_796_040_000_000);
        assert_eq!(slim.meta().resource_version.as_deref(), Some("42"));
        assert!(slim.metadata.annotations.is_none() && slim.metadata.managed_fields.is_none());
        assert_eq!(WatchedPod::url_path(&(), Some("shop")), "/api/v1/namespaces/shop/pods");
    }
}
