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

/// What a pod asks for: CPU (millicores) and memory (bytes), summed over its containers.
pub fn requests(pod: &Value) -> (u64, u64) {
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    containers.iter().fold((0, 0), |(cpu, memory), c| {
        let get = |what: &str| c.pointer(&format!("/resources/requests/{what}")).and_then(Value::as_str);
        (
            cpu + get("cpu").and_then(domain::quantity::cpu_millis).unwrap_or(0),
            memory + get("memory").and_then(domain::quantity::bytes).unwrap_or(0),
        )
    })
}

/// A node's allocatable CPU (millicores), memory (bytes) and pods.
pub fn allocatable(node: &Value) -> (u64, u64, i64) {
    let get = |what: &str| node.pointer(&format!("/status/allocatable/{what}")).and_then(Value::as_str);
    (
        get("cpu").and_then(domain::quantity::cpu_millis).unwrap_or(u64::MAX),
        get("memory").and_then(domain::quantity::bytes).unwrap_or(u64::MAX),
        get("pods").and_then(|p| p.parse().ok()).unwrap_or(110),
    )
}

/// What pods bound to one node hold.
#[derive(Clone, Copy, Default)]
struct Load {
    pods: i64,
    cpu: u64,
    memory: u64,
}

/// Why `pod` cannot go on `node`, in the scheduler's words; `None` when it fits.
fn unfit(pod: &Value, node: &Value, load: Load) -> Option<&'static str> {
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        return Some("node(s) were unschedulable");
    }
    if !node_ready(node) {
        return Some("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
    }
    if !node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .is_none_or(|ts| ts.iter().all(|t| tolerates(pod, t)))
    {
        return Some("node(s) had untolerated taint(s)");
    }
    let (cpu, memory, pods) = allocatable(node);
    let (want_cpu, want_memory) = requests(pod);
    if load.pods >= pods {
        return Some("Too many pods");
    }
    if load.cpu.saturating_add(want_cpu) > cpu {
        return Some("Insufficient cpu");
    }
    if load.memory.saturating_add(want_memory) > memory {
        return Some("Insufficient memory");
    }
    None
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
    let mut load: HashMap<String, Load> = HashMap::new();
    for pod in &pods {
        let finished =
            matches!(pod.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed"));
        if let Some(node) = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|_| !finished) {
            let (cpu, memory) = requests(pod);
            let entry = load.entry(node.to_owned()).or_default();
            entry.pods += 1;
            entry.cpu += cpu;
            entry.memory += memory;
        }
    }
    let mut changed = false;
    for pod in pending {
        let load_of = |n: &Value| load.get(name_of(n)).copied().unwrap_or_default();
        let candidate = nodes
            .iter()
            .filter(|n| unfit(pod, n, load_of(n)).is_none())
            .min_by_key(|n| (load_of(n).pods, name_of(n).to_owned()));
        match candidate {
            Some(node) => {
                let mut bound = pod.clone();
                bound["spec"]["nodeName"] = json!(name_of(node));
                if store.update(PODS, namespace_of(pod), name_of(pod), bound, false, false).is_ok() {
                    let (cpu, memory) = requests(pod);
                    let entry = load.entry(name_of(node).to_owned()).or_default();
                    entry.pods += 1;
                    entry.cpu += cpu;
                    entry.memory += memory;
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
                    let mut reasons: std::collections::BTreeMap<&str, usize> =
                        std::collections::BTreeMap::new();
                    for node in &nodes {
                        if let Some(reason) =
                            unfit(pod, node, load.get(name_of(node)).copied().unwrap_or_default())
                        {
                            *reasons.entry(reason).or_default() += 1;
                        }
                    }
                    let why: Vec<String> =
                        reasons.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
                    let message = format!("0/{} nodes are available: {}.", nodes.len(), why.join(", "));
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
