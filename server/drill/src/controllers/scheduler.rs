//! The scheduler: binds each unscheduled pod to the Ready, schedulable node
//! with the fewest pods whose taints it tolerates and that has room.

use super::events::emit;
use crate::resources::{NODES, PODS};
use crate::store::{Filter, Store, name_of, namespace_of};
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn node_ready(node: &Value) -> bool {
    node.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

fn tolerates(pod: &Value, taint: &Value) -> bool {
    let effect = taint["effect"].as_str().unwrap_or_default();
    if effect == "PreferNoSchedule" {
        return true;
    }
    pod.pointer("/spec/tolerations").and_then(Value::as_array).is_some_and(|ts| {
        ts.iter().any(|t| {
            let key_ok = t["operator"] == "Exists"
                && t.get("key").is_none_or(|k| k == &taint["key"] || k.is_null())
                || t["key"] == taint["key"];
            let effect_ok = t.get("effect").is_none_or(|e| e.is_null() || e == &taint["effect"]);
            key_ok && effect_ok
        })
    })
}

pub fn reconcile(store: &Store) -> bool {
    let pods = store.list(PODS, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default();
    let pending: Vec<&Value> = pods
        .iter()
        .filter(|p| p.pointer("/spec/nodeName").is_none_or(|n| n.as_str().unwrap_or_default().is_empty()))
        .collect();
    if pending.is_empty() {
        return false;
    }
    let nodes = store.list(NODES, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default();
    let mut load: HashMap<String, i64> = HashMap::new();
    for pod in &pods {
        if let Some(node) = pod.pointer("/spec/nodeName").and_then(Value::as_str) {
            *load.entry(node.to_owned()).or_default() += 1;
        }
    }
    let mut changed = false;
    for pod in pending {
        let candidate = nodes
            .iter()
            .filter(|n| {
                node_ready(n) && n.pointer("/spec/unschedulable").and_then(Value::as_bool) != Some(true)
            })
            .filter(|n| {
                n.pointer("/spec/taints")
                    .and_then(Value::as_array)
                    .is_none_or(|ts| ts.iter().all(|t| tolerates(pod, t)))
            })
            .filter(|n| {
                let capacity = n
                    .pointer("/status/allocatable/pods")
                    .and_then(Value::as_str)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(110);
                load.get(name_of(n)).copied().unwrap_or(0) < capacity
            })
            .min_by_key(|n| (load.get(name_of(n)).copied().unwrap_or(0), name_of(n).to_owned()));
        match candidate {
            Some(node) => {
                let mut bound = pod.clone();
                bound["spec"]["nodeName"] = json!(name_of(node));
                if store.update(PODS, namespace_of(pod), name_of(pod), bound, false, false).is_ok() {
                    *load.entry(name_of(node).to_owned()).or_default() += 1;
                    let message = format!(
                        "Successfully assigned {}/{} to {}",
                        namespace_of(pod),
                        name_of(pod),
                        name_of(node)
                    );
                    emit(store, pod, "Normal", "Scheduled", &message, "default-scheduler");
                    changed = true;
                }
            }
            None => {
                let already = pod.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
                    cs.iter().any(|c| c["type"] == "PodScheduled" && c["status"] == "False")
                });
                if !already {
                    let message = format!(
                        "0/{} nodes are available: no Ready, schedulable node with room that the pod tolerates.",
                        nodes.len()
                    );
                    let mut next = pod.clone();
                    next["status"]["phase"] = json!("Pending");
                    next["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]);
                    changed |= store.update(PODS, namespace_of(pod), name_of(pod), next, true, false).is_ok();
                    emit(store, pod, "Warning", "FailedScheduling", &message, "default-scheduler");
                }
            }
        }
    }
    changed
}
