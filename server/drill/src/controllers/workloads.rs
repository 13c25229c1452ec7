//! Workload controllers: ReplicaSets keep their pod counts; Deployments roll
//! out new ReplicaSets with revision history, honour pause, and report status
//! the way `kubectl rollout status` reads it; StatefulSets and DaemonSets own
//! their pods.

use super::events::emit;
use crate::disruption::is_healthy;
use crate::resources::{DAEMONSETS, DEPLOYMENTS, NODES, PODS, REPLICASETS, STATEFULSETS};
use crate::store::{Filter, Store, is_owned_by, name_of, namespace_of, timestamp, uid_of};
use serde_json::{Value, json};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const TEMPLATE_HASH: &str = "pod-template-hash";

fn all(store: &Store, resource: crate::resources::Resource) -> Vec<Value> {
    store.list(resource, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default()
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn owner_ref(owner: &Value) -> Value {
    json!([{
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": name_of(owner), "uid": uid_of(owner),
        "controller": true, "blockOwnerDeletion": true,
    }])
}

fn is_terminating(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

/// The hash of a pod template, as the `pod-template-hash` label carries it.
pub fn template_hash(template: &Value) -> String {
    let mut template = template.clone();
    if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(TEMPLATE_HASH);
    }
    let text = serde_json::to_string(&template).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = hash;
    (0..10)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

fn new_pod(owner: &Value, template: &Value, name: Option<String>) -> Value {
    let mut pod =
        json!({"metadata": template.get("metadata").cloned().unwrap_or(json!({})), "spec": template["spec"]});
    let meta = pod["metadata"].as_object_mut().expect("metadata");
    match name {
        Some(name) => meta.insert("name".into(), json!(name)),
        None => meta.insert("generateName".into(), json!(format!("{}-", name_of(owner)))),
    };
    meta.insert("ownerReferences".into(), owner_ref(owner));
    pod["status"] = json!({"phase": "Pending", "qosClass": "Burstable"});
    pod
}

/// Keeps each ReplicaSet's pod count; returns whether anything changed.
pub fn reconcile_replica_sets(store: &Store) -> bool {
    let mut changed = false;
    let pods = all(store, PODS);
    for rs in all(store, REPLICASETS) {
        let ns = namespace_of(&rs).to_owned();
        let uid = uid_of(&rs).to_owned();
        // A pod relabelled out of the selector is released, as the real
        // controller does: it keeps running, unowned, and is replaced.
        let selector = crate::selector::from_json(&rs["spec"]["selector"]);
        for pod in pods.iter().filter(|p| namespace_of(p) == ns && is_owned_by(p, &uid)) {
            if !selector.matches(&crate::store::labels_of(pod)) {
                changed |= release(store, pod, &uid);
            }
        }
        let mut owned: Vec<&Value> = pods
            .iter()
            .filter(|p| {
                namespace_of(p) == ns
                    && is_owned_by(p, &uid)
                    && !is_terminating(p)
                    && selector.matches(&crate::store::labels_of(p))
            })
            .collect();
        let want = int(&rs, "/spec/replicas").max(0) as usize;
        if owned.len() < want {
            for _ in owned.len()..want {
                if let Ok(pod) = store.create(PODS, &ns, new_pod(&rs, &rs["spec"]["template"], None), false) {
                    emit(
                        store,
                        &rs,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {}", name_of(&pod)),
                        "replicaset-controller",
                    );
                    changed = true;
                }
            }
        } else if owned.len() > want {
            // Unscheduled first, then not ready, then the newest.
            owned.sort_by_key(|p| {
                (
                    p.pointer("/spec/nodeName").is_some(),
                    is_healthy(p),
                    std::cmp::Reverse(
                        p.pointer("/metadata/creationTimestamp")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    ),
                )
            });
            for pod in owned.iter().take(owned.len() - want) {
                if store.delete(PODS, &ns, name_of(pod), false).is_ok() {
                    emit(
                        store,
                        &rs,
                        "Normal",
                        "SuccessfulDelete",
                        &format!("Deleted pod: {}", name_of(pod)),
                        "replicaset-controller",
                    );
                    changed = true;
                }
            }
        }
        let owned: Vec<&Value> = pods
            .iter()
            .filter(|p| namespace_of(p) == ns && is_owned_by(p, &uid) && !is_terminating(p))
            .collect();
        let ready = owned.iter().filter(|p| is_healthy(p)).count();
        let status = json!({
            "replicas": owned.len().min(want.max(owned.len())), "fullyLabeledReplicas": owned.len(),
            "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": int(&rs, "/metadata/generation"),
        });
        changed |= set_status(store, REPLICASETS, &rs, status);
    }
    changed
}

/// Drops the owner `uid` from a pod's ownerReferences.
fn release(store: &Store, pod: &Value, uid: &str) -> bool {
    let mut next = pod.clone();
    if let Some(refs) = next.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
    }
    store.update(PODS, namespace_of(pod), name_of(pod), next, false, false).is_ok()
}

/// Merges `status` fields into an object's status and writes it, if that changes it.
pub(super) fn set_status(
    store: &Store,
    resource: crate::resources::Resource,
    object: &Value,
    status: Value,
) -> bool {
    let mut merged = object.get("status").cloned().unwrap_or(json!({}));
    if let (Some(target), Some(fields)) = (merged.as_object_mut(), status.as_object()) {
        for (k, v) in fields {
            target.insert(k.clone(), v.clone());
        }
    }
    crate::store::strip_nulls(&mut merged);
    if object.get("status") == Some(&merged) {
        return false;
    }
    let mut next = object.clone();
    next["status"] = merged;
    store.update(resource, namespace_of(object), name_of(object), next, true, false).is_ok()
}

fn percent_or_int(value: Option<&Value>, of: i64, round_up: bool) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * of + 99) / 100,
            Some(p) => p * of / 100,
            None => s.parse().unwrap_or(0),
        },
        _ => (25 * of + if round_up { 99 } else { 0 }) / 100,
    }
}

/// Rolls Deployments out; returns whether anything changed.
pub fn reconcile_deployments(store: &Store) -> bool {
    let mut changed = false;
    let replica_sets = all(store, REPLICASETS);
    for deploy in all(store, DEPLOYMENTS) {
        let ns = namespace_of(&deploy).to_owned();
        let uid = uid_of(&deploy).to_owned();
        let owned: Vec<Value> = replica_sets
            .iter()
            .filter(|rs| namespace_of(rs) == ns && is_owned_by(rs, &uid))
            .cloned()
            .collect();
        let hash = template_hash(&deploy["spec"]["template"]);
        let max_revision = owned
            .iter()
            .filter_map(|rs| {
                rs.pointer(&format!("/metadata/annotations/{}", REVISION.replace('/', "~1")))
                    .and_then(Value::as_str)
            })
            .filter_map(|r| r.parse::<i64>().ok())
            .max()
            .unwrap_or(0);
        let revision_of = |rs: &Value| {
            rs.pointer(&format!("/metadata/annotations/{}", REVISION.replace('/', "~1")))
                .and_then(Value::as_str)
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let desired = int(&deploy, "/spec/replicas").max(0);
        let paused = deploy.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);

        let mut current = owned
            .iter()
            .find(|rs| {
                rs.pointer(&format!("/metadata/labels/{TEMPLATE_HASH}")).and_then(Value::as_str)
                    == Some(hash.as_str())
            })
            .cloned();
        if !paused {
            match &current {
                None => {
                    let mut template = deploy["spec"]["template"].clone();
                    template["metadata"]["labels"][TEMPLATE_HASH] = json!(hash);
                    let mut selector = deploy["spec"]["selector"].clone();
                    selector["matchLabels"][TEMPLATE_HASH] = json!(hash);
                    let revision = max_revision + 1;
                    let rs = json!({
                        "metadata": {
                            "name": format!("{}-{hash}", name_of(&deploy)),
                            "labels": template["metadata"]["labels"],
                            "annotations": {REVISION: revision.to_string(), "deployment.kubernetes.io/desired-replicas": desired.to_string(), "deployment.kubernetes.io/max-replicas": (desired + 1).to_string()},
                            "ownerReferences": owner_ref(&deploy),
                        },
                        "spec": {"replicas": if owned.is_empty() { desired } else { 0 }, "selector": selector, "template": template},
                    });
                    if let Ok(created) = store.create(REPLICASETS, &ns, rs, false) {
                        emit(
                            store,
                            &deploy,
                            "Normal",
                            "ScalingReplicaSet",
                            &format!(
                                "Scaled up replica set {} from 0 to {}",
                                name_of(&created),
                                int(&created, "/spec/replicas")
                            ),
                            "deployment-controller",
                        );
                        current = Some(created);
                        changed = true;
                    }
                }
                Some(rs) if revision_of(rs) < max_revision => {
                    // Rolling back to an older template gives its ReplicaSet the newest revision.
                    let mut next = rs.clone();
                    next["metadata"]["annotations"][REVISION] = json!((max_revision + 1).to_string());
                    if let Ok(updated) = store.update(REPLICASETS, &ns, name_of(rs), next, false, false) {
                        current = Some(updated);
                        changed = true;
                    }
                }
                Some(_) => {}
            }
        }
        let Some(new_rs) = current.clone() else {
            changed |= deployment_status(store, &deploy, &owned, None, desired);
            continue;
        };
        let old: Vec<Value> = all(store, REPLICASETS)
            .into_iter()
            .filter(|rs| namespace_of(rs) == ns && is_owned_by(rs, &uid) && uid_of(rs) != uid_of(&new_rs))
            .collect();
        if !paused {
            let surge =
                percent_or_int(deploy.pointer("/spec/strategy/rollingUpdate/maxSurge"), desired, true);
            let mut unavailable =
                percent_or_int(deploy.pointer("/spec/strategy/rollingUpdate/maxUnavailable"), desired, false);
            if surge == 0 && unavailable == 0 {
                unavailable = 1;
            }
            let recreate = deploy.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
            let old_total: i64 = old.iter().map(|rs| int(rs, "/spec/replicas")).sum();
            let new_replicas = int(&new_rs, "/spec/replicas");
            let total = old_total + new_replicas;
            let target = if old_total == 0 {
                desired
            } else if recreate {
                0
            } else {
                desired.min(new_replicas + (desired + surge - total).max(0))
            };
            if target != new_replicas {
                changed |= scale_rs(store, &deploy, &new_rs, target);
            }
            // Scale old ReplicaSets down while enough pods stay available. A
            // ReplicaSet's status may still count pods it was just told to
            // remove, so no ReplicaSet counts more available pods than it keeps.
            let kept_available =
                |rs: &Value| int(rs, "/status/availableReplicas").min(int(rs, "/spec/replicas"));
            let available: i64 = old.iter().chain(std::iter::once(&new_rs)).map(kept_available).sum();
            let mut removable =
                if recreate { old_total } else { (available - (desired - unavailable)).max(0) };
            for rs in &old {
                let replicas = int(rs, "/spec/replicas");
                if replicas == 0 {
                    continue;
                }
                let unhealthy = (replicas - kept_available(rs)).max(0);
                let cut = (unhealthy + removable).min(replicas);
                if cut > 0 {
                    removable -= (cut - unhealthy).max(0);
                    changed |= scale_rs(store, &deploy, rs, replicas - cut);
                }
            }
            // Keep revisionHistoryLimit old ReplicaSets with no pods.
            let limit =
                deploy.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64).unwrap_or(10).max(0)
                    as usize;
            let mut idle: Vec<&Value> = old
                .iter()
                .filter(|rs| int(rs, "/spec/replicas") == 0 && int(rs, "/status/replicas") == 0)
                .collect();
            if idle.len() > limit {
                idle.sort_by_key(|rs| revision_of(rs));
                for rs in idle.iter().take(idle.len() - limit) {
                    changed |= store.delete(REPLICASETS, &ns, name_of(rs), false).is_ok();
                }
            }
        }
        let fresh: Vec<Value> = all(store, REPLICASETS)
            .into_iter()
            .filter(|rs| namespace_of(rs) == ns && is_owned_by(rs, &uid))
            .collect();
        let new_rs = fresh.iter().find(|rs| uid_of(rs) == uid_of(&new_rs)).cloned();
        changed |= deployment_status(store, &deploy, &fresh, new_rs.as_ref(), desired);
    }
    changed
}

fn scale_rs(store: &Store, deploy: &Value, rs: &Value, replicas: i64) -> bool {
    let from = int(rs, "/spec/replicas");
    let mut next = rs.clone();
    next["spec"]["replicas"] = json!(replicas);
    let ok = store.update(REPLICASETS, namespace_of(rs), name_of(rs), next, false, false).is_ok();
    if ok {
        let verb = if replicas > from { "up" } else { "down" };
        emit(
            store,
            deploy,
            "Normal",
            "ScalingReplicaSet",
            &format!("Scaled {verb} replica set {} from {from} to {replicas}", name_of(rs)),
            "deployment-controller",
        );
    }
    ok
}

fn deployment_status(
    store: &Store,
    deploy: &Value,
    owned: &[Value],
    new_rs: Option<&Value>,
    desired: i64,
) -> bool {
    let sum = |pointer: &str| owned.iter().map(|rs| int(rs, pointer)).sum::<i64>();
    let replicas = sum("/status/replicas");
    let available = sum("/status/availableReplicas");
    let ready = sum("/status/readyReplicas");
    let updated = new_rs.map_or(0, |rs| int(rs, "/status/replicas"));
    let now = timestamp(store.now());
    let unavailable_allowed =
        percent_or_int(deploy.pointer("/spec/strategy/rollingUpdate/maxUnavailable"), desired, false);
    let is_available = available >= desired - unavailable_allowed;
    let complete = new_rs.is_some_and(|rs| int(rs, "/status/availableReplicas") >= desired)
        && replicas == updated
        && updated == desired;
    let paused = deploy.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let previous = |kind: &str| {
        deploy
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == kind).cloned())
    };
    let condition = |kind: &str, status: &str, reason: &str, message: String| {
        let prev = previous(kind);
        let same = prev.as_ref().is_some_and(|p| p["status"] == status && p["reason"] == reason);
        let transition = if same {
            prev.as_ref().and_then(|p| p.get("lastTransitionTime").cloned()).unwrap_or(json!(now))
        } else {
            json!(now)
        };
        let update_time = if same {
            prev.as_ref().and_then(|p| p.get("lastUpdateTime").cloned()).unwrap_or(json!(now))
        } else {
            json!(now)
        };
        json!({"type": kind, "status": status, "reason": reason, "message": message, "lastUpdateTime": update_time, "lastTransitionTime": transition})
    };
    let rs_name = new_rs.map(name_of).unwrap_or_default().to_owned();
    let progressing = if paused {
        condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused".into())
    } else if complete {
        condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else {
        condition(
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    };
    let available_condition = if is_available {
        condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
        )
    } else {
        condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
        )
    };
    let mut status = json!({
        "observedGeneration": int(deploy, "/metadata/generation"),
        "replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
        "unavailableReplicas": (desired - available).max(0),
        "conditions": [available_condition, progressing],
    });
    for key in ["readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas"] {
        if status[key] == 0 {
            status.as_object_mut().map(|s| s.remove(key));
        }
    }
    let mut changed = false;
    if let Some(rs) = new_rs {
        let revision = rs.pointer(&format!("/metadata/annotations/{}", REVISION.replace('/', "~1"))).cloned();
        if revision.is_some()
            && deploy.pointer(&format!("/metadata/annotations/{}", REVISION.replace('/', "~1")))
                != revision.as_ref()
        {
            let mut next = deploy.clone();
            next["metadata"]["annotations"][REVISION] = revision.unwrap_or_default();
            changed |=
                store.update(DEPLOYMENTS, namespace_of(deploy), name_of(deploy), next, false, false).is_ok();
        }
    }
    let deploy =
        store.get(DEPLOYMENTS, namespace_of(deploy), name_of(deploy)).unwrap_or_else(|_| deploy.clone());
    let mut next = deploy.clone();
    crate::store::strip_nulls(&mut status);
    next["status"] = status;
    if next.get("status") != deploy.get("status") {
        changed |=
            store.update(DEPLOYMENTS, namespace_of(&deploy), name_of(&deploy), next, true, false).is_ok();
    }
    changed
}

/// StatefulSets own pods named `NAME-0` … `NAME-(n-1)`.
pub fn reconcile_stateful_sets(store: &Store) -> bool {
    let mut changed = false;
    let pods = all(store, PODS);
    for sts in all(store, STATEFULSETS) {
        let ns = namespace_of(&sts).to_owned();
        let want = int(&sts, "/spec/replicas").max(0);
        let owned: Vec<&Value> =
            pods.iter().filter(|p| namespace_of(p) == ns && is_owned_by(p, uid_of(&sts))).collect();
        for i in 0..want {
            let name = format!("{}-{i}", name_of(&sts));
            if !owned.iter().any(|p| name_of(p) == name) {
                changed |= store
                    .create(PODS, &ns, new_pod(&sts, &sts["spec"]["template"], Some(name)), false)
                    .is_ok();
            }
        }
        for pod in &owned {
            let ordinal =
                name_of(pod).rsplit('-').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(i64::MAX);
            if ordinal >= want {
                changed |= store.delete(PODS, &ns, name_of(pod), false).is_ok();
            }
        }
        let ready = owned.iter().filter(|p| is_healthy(p)).count();
        let status = json!({"replicas": owned.len(), "readyReplicas": ready, "currentReplicas": owned.len(), "updatedReplicas": owned.len(), "availableReplicas": ready, "observedGeneration": int(&sts, "/metadata/generation")});
        changed |= set_status(store, STATEFULSETS, &sts, status);
    }
    changed
}

/// DaemonSets own one pod on every node that matches their node selector.
pub fn reconcile_daemon_sets(store: &Store) -> bool {
    let mut changed = false;
    let pods = all(store, PODS);
    let nodes = all(store, NODES);
    for ds in all(store, DAEMONSETS) {
        let ns = namespace_of(&ds).to_owned();
        let selector = ds
            .pointer("/spec/template/spec/nodeSelector")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let eligible: Vec<&Value> = nodes
            .iter()
            .filter(|n| {
                selector.iter().all(|(k, v)| n.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
            })
            .collect();
        let owned: Vec<&Value> =
            pods.iter().filter(|p| namespace_of(p) == ns && is_owned_by(p, uid_of(&ds))).collect();
        for node in &eligible {
            if !owned
                .iter()
                .any(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(name_of(node)))
            {
                let mut pod = new_pod(&ds, &ds["spec"]["template"], None);
                pod["spec"]["nodeName"] = json!(name_of(node));
                changed |= store.create(PODS, &ns, pod, false).is_ok();
            }
        }
        let ready = owned.iter().filter(|p| is_healthy(p)).count();
        let status = json!({
            "desiredNumberScheduled": eligible.len(), "currentNumberScheduled": owned.len(), "numberReady": ready,
            "updatedNumberScheduled": owned.len(), "numberAvailable": ready, "numberMisscheduled": 0,
            "observedGeneration": int(&ds, "/metadata/generation"),
        });
        changed |= set_status(store, DAEMONSETS, &ds, status);
    }
    changed
}
