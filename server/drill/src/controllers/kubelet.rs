//! The kubelet simulation: brings bound pods to Running and Ready, or plays out
//! what their images do wrong (pull failures, crash loops with back-off, OOM
//! kills); marks pods on NotReady nodes not ready; and reflects failing
//! control-plane checks on their static pods.

use super::events::emit;
use super::scheduler::node_ready;
use crate::faults::{Faults, ImageBehaviour};
use crate::resources::{CONFIG_MAPS, NODES, PODS, PVCS, SECRETS};
use crate::store::{Filter, Store, name_of, namespace_of, timestamp, uid_of};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Marks a terminating pod whose Killing events were written, so they are written once.
const KILLING: &str = "drill.wheelhouse.dev/killing";

fn pod_has_killing_event(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations").and_then(|a| a.get(KILLING)).is_some()
}

/// Restart back-off, compressed from the real 10 s doubling to 5 minutes:
/// 1 s doubling to 16 s, so drills play out in seconds.
fn back_off_seconds(restarts: i64) -> i64 {
    1_i64 << restarts.clamp(0, 4)
}

fn parse_time(v: Option<&Value>) -> Option<time::OffsetDateTime> {
    v.and_then(Value::as_str)
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
}

fn pod_ip(node_index: usize, pod: &Value) -> String {
    let hash = uid_of(pod).bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("10.244.{}.{}", node_index, 2 + hash % 250)
}

/// Why a pod's containers cannot be created yet, as the kubelet says it: a
/// volume it cannot mount (a missing ConfigMap or Secret, an unbound claim),
/// or an environment reference to a missing ConfigMap or Secret.
/// Answers `(container waiting reason, message, event reason, event message)`.
fn blocked(store: &Store, pod: &Value) -> Option<(&'static str, String, &'static str, String)> {
    let ns = namespace_of(pod);
    let optional = |v: &Value| v.get("optional").and_then(Value::as_bool).unwrap_or(false);
    for volume in pod.pointer("/spec/volumes").and_then(Value::as_array).into_iter().flatten() {
        let volume_name = volume["name"].as_str().unwrap_or_default();
        let missing = if let Some(source) = volume.get("configMap").filter(|s| !optional(s)) {
            let name = source["name"].as_str().unwrap_or_default();
            store.get(CONFIG_MAPS, ns, name).is_err().then(|| format!("configmap \"{name}\" not found"))
        } else if let Some(source) = volume.get("secret").filter(|s| !optional(s)) {
            let name = source["secretName"].as_str().unwrap_or_default();
            store.get(SECRETS, ns, name).is_err().then(|| format!("secret \"{name}\" not found"))
        } else if let Some(source) = volume.get("persistentVolumeClaim") {
            let name = source["claimName"].as_str().unwrap_or_default();
            match store.get(PVCS, ns, name) {
                Err(_) => Some(format!("persistentvolumeclaim \"{name}\" not found")),
                Ok(claim) if claim.pointer("/status/phase").and_then(Value::as_str) != Some("Bound") => {
                    Some(format!("persistentvolumeclaim \"{name}\" is not bound"))
                }
                Ok(_) => None,
            }
        } else {
            None
        };
        if let Some(why) = missing {
            let message = format!("MountVolume.SetUp failed for volume \"{volume_name}\" : {why}");
            return Some(("ContainerCreating", String::new(), "FailedMount", message));
        }
    }
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array).into_iter().flatten();
    for container in containers {
        let env_refs = container.get("env").and_then(Value::as_array).into_iter().flatten().filter_map(|e| {
            let from = e.get("valueFrom")?;
            from.get("configMapKeyRef")
                .map(|r| (CONFIG_MAPS, r))
                .or_else(|| from.get("secretKeyRef").map(|r| (SECRETS, r)))
        });
        let env_from =
            container.get("envFrom").and_then(Value::as_array).into_iter().flatten().filter_map(|e| {
                e.get("configMapRef")
                    .map(|r| (CONFIG_MAPS, r))
                    .or_else(|| e.get("secretRef").map(|r| (SECRETS, r)))
            });
        for (resource, reference) in env_refs.chain(env_from).filter(|(_, r)| !optional(r)) {
            let name = reference["name"].as_str().unwrap_or_default();
            let Ok(object) = store.get(resource, ns, name) else {
                let why = format!("{} \"{name}\" not found", resource.singular);
                return Some(("CreateContainerConfigError", why.clone(), "Failed", format!("Error: {why}")));
            };
            if let Some(key) = reference.get("key").and_then(Value::as_str) {
                let has = ["data", "binaryData"]
                    .iter()
                    .any(|field| object.get(*field).and_then(|d| d.get(key)).is_some());
                if !has {
                    let why = format!("couldn't find key {key} in {} {ns}/{name}", resource.kind);
                    return Some((
                        "CreateContainerConfigError",
                        why.clone(),
                        "Failed",
                        format!("Error: {why}"),
                    ));
                }
            }
        }
    }
    None
}

pub fn reconcile(store: &Store, faults: &Faults) -> bool {
    let nodes = store.list(NODES, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default();
    let node_index: HashMap<&str, (usize, &Value)> =
        nodes.iter().enumerate().map(|(i, n)| (name_of(n), (i, n))).collect();
    let pods = store.list(PODS, &Filter::default(), None, None).map(|p| p.items).unwrap_or_default();
    let now = store.now();
    let stamp = timestamp(now);
    let mut changed = false;
    for pod in pods {
        if let Some(deadline) = parse_time(pod.pointer("/metadata/deletionTimestamp")) {
            // Containers stop quickly in the drill: a terminating pod goes one
            // second after it was asked to, not after its whole grace period.
            let grace =
                pod.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0);
            let asked = deadline - time::Duration::seconds(grace);
            let stopped = (now - asked).whole_milliseconds() >= 1000;
            if stopped && store.delete(PODS, namespace_of(&pod), name_of(&pod), false).is_ok() {
                changed = true;
            } else if !stopped
                && pod.pointer("/status/containerStatuses").is_some_and(|_| !pod_has_killing_event(&pod))
            {
                let names: Vec<String> = pod
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["name"].as_str().map(str::to_owned))
                    .collect();
                for container in names {
                    emit(
                        store,
                        &pod,
                        "Normal",
                        "Killing",
                        &format!("Stopping container {container}"),
                        "kubelet",
                    );
                }
                let mut marked = pod.clone();
                marked["metadata"]["annotations"][KILLING] = json!("true");
                changed |=
                    store.update(PODS, namespace_of(&pod), name_of(&pod), marked, false, false).is_ok();
            }
            continue;
        }
        let Some(node_name) = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty())
        else {
            continue;
        };
        let Some((index, node)) = node_index.get(node_name) else { continue };
        let node_up = node_ready(node);
        let component = pod.pointer("/metadata/labels/component").and_then(Value::as_str).unwrap_or_default();
        let probe_failing = !component.is_empty() && faults.check_failing(component);
        let previous: Vec<Value> =
            pod.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut statuses = Vec::new();
        let mut any_started = false;
        let mut pulling_failed = false;
        let mut pending_events: Vec<(&str, String, String)> = Vec::new();
        let waiting_for = blocked(store, &pod);
        if let Some((_, _, reason, message)) = &waiting_for {
            pending_events.push(("Warning", (*reason).to_owned(), message.clone()));
        }
        for container in
            pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default()
        {
            let name = container["name"].as_str().unwrap_or_default().to_owned();
            let image = container["image"].as_str().unwrap_or_default().to_owned();
            let before = previous.iter().find(|s| s["name"] == name.as_str()).cloned();
            let restarts = before.as_ref().map_or(0, |s| s["restartCount"].as_i64().unwrap_or(0));
            let started_at = before.as_ref().and_then(|s| s.pointer("/state/running/startedAt").cloned());
            let base = json!({"name": name, "image": image, "imageID": format!("{image}@sha256:{}", "0".repeat(64)), "containerID": format!("containerd://{}", uid_of(&pod).replace('-', "")), "started": false, "ready": false, "restartCount": restarts});
            let mut status = base.clone();
            if let Some((reason, message, _, _)) = &waiting_for {
                // Not created: no image, no container ID yet.
                status = json!({"name": name, "image": image, "imageID": "", "started": false, "ready": false, "restartCount": restarts});
                status["state"] = if message.is_empty() {
                    json!({"waiting": {"reason": reason}})
                } else {
                    json!({"waiting": {"reason": reason, "message": message}})
                };
                statuses.push(status);
                continue;
            }
            match faults.image(&image) {
                ImageBehaviour::Healthy => {
                    any_started = true;
                    if started_at.is_none() {
                        pending_events.push((
                            "Normal",
                            "Pulled".into(),
                            format!("Container image \"{image}\" already present on machine"),
                        ));
                        pending_events.push((
                            "Normal",
                            "Created".into(),
                            format!("Created container: {name}"),
                        ));
                        pending_events.push((
                            "Normal",
                            "Started".into(),
                            format!("Started container {name}"),
                        ));
                    }
                    status["state"] = json!({"running": {"startedAt": started_at.unwrap_or(json!(stamp))}});
                    status["started"] = json!(true);
                    status["ready"] = json!(node_up && !probe_failing);
                    if let Some(last) =
                        before.as_ref().and_then(|s| s.get("lastState")).filter(|l| !l.is_null())
                    {
                        status["lastState"] = last.clone();
                    }
                }
                ImageBehaviour::Unpullable => {
                    pulling_failed = true;
                    let first = before.as_ref().and_then(|s| s.pointer("/state/waiting/reason")).is_none();
                    let reason = if first { "ErrImagePull" } else { "ImagePullBackOff" };
                    if first {
                        pending_events.push(("Warning", "Failed".into(), format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found")));
                    } else {
                        pending_events.push((
                            "Normal",
                            "BackOff".into(),
                            format!("Back-off pulling image \"{image}\""),
                        ));
                    }
                    status["state"] = json!({"waiting": {"reason": reason, "message": format!("Back-off pulling image \"{image}\"")}});
                }
                behaviour @ (ImageBehaviour::Crashes | ImageBehaviour::OutOfMemory) => {
                    any_started = true;
                    let (reason, code) =
                        if behaviour == ImageBehaviour::Crashes { ("Error", 1) } else { ("OOMKilled", 137) };
                    let last_exit = parse_time(
                        before.as_ref().and_then(|s| s.pointer("/lastState/terminated/finishedAt")),
                    );
                    let due =
                        last_exit.is_none_or(|t| (now - t).whole_seconds() >= back_off_seconds(restarts));
                    let (restarts, finished) = if due {
                        (restarts + i64::from(last_exit.is_some()), stamp.clone())
                    } else {
                        (
                            restarts,
                            before
                                .as_ref()
                                .and_then(|s| s.pointer("/lastState/terminated/finishedAt"))
                                .and_then(Value::as_str)
                                .unwrap_or(&stamp)
                                .to_owned(),
                        )
                    };
                    if due {
                        pending_events.push((
                            "Warning",
                            "BackOff".into(),
                            format!(
                                "Back-off restarting failed container {name} in pod {}_{}({})",
                                name_of(&pod),
                                namespace_of(&pod),
                                uid_of(&pod)
                            ),
                        ));
                    }
                    status["restartCount"] = json!(restarts);
                    status["lastState"] = json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": finished, "finishedAt": finished, "containerID": base["containerID"]}});
                    status["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {}s restarting failed container={name} pod={}_{}({})", back_off_seconds(restarts), name_of(&pod), namespace_of(&pod), uid_of(&pod))}});
                }
            }
            statuses.push(status);
        }
        let all_ready = !statuses.is_empty() && statuses.iter().all(|s| s["ready"] == true);
        let truth = |b: bool| if b { "True" } else { "False" };
        let previous_conditions =
            pod.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
        let condition = |kind: &str, ok: bool, reason: Option<&str>| {
            let status = truth(ok);
            let prev = previous_conditions.iter().find(|c| c["type"] == kind && c["status"] == status);
            let since = prev.and_then(|c| c.get("lastTransitionTime").cloned()).unwrap_or(json!(stamp));
            let mut c =
                json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": since});
            if let Some(reason) = reason.filter(|_| !ok) {
                c["reason"] = json!(reason);
            }
            c
        };
        let not_ready_reason = if node_up { "ContainersNotReady" } else { "NodeNotReady" };
        let phase =
            if (pulling_failed || waiting_for.is_some()) && !any_started { "Pending" } else { "Running" };
        let host_ip = node.pointer("/status/addresses/0/address").cloned().unwrap_or(Value::Null);
        let status = json!({
            "phase": phase,
            "conditions": [
                condition("PodReadyToStartContainers", waiting_for.as_ref().is_none_or(|w| w.2 != "FailedMount"), None),
                condition("Initialized", true, None),
                condition("Ready", all_ready, Some(not_ready_reason)),
                condition("ContainersReady", all_ready, Some(not_ready_reason)),
                condition("PodScheduled", true, None),
            ],
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod.pointer("/status/podIP").cloned().unwrap_or_else(|| json!(pod_ip(*index, &pod))),
            "podIPs": [{"ip": pod.pointer("/status/podIP").cloned().unwrap_or_else(|| json!(pod_ip(*index, &pod)))}],
            "startTime": pod.pointer("/status/startTime").cloned().unwrap_or(json!(stamp)),
            "containerStatuses": statuses,
            "qosClass": pod.pointer("/status/qosClass").cloned().unwrap_or(json!("Burstable")),
        });
        let mut status = status;
        crate::store::strip_nulls(&mut status);
        if pod.get("status") != Some(&status) {
            let mut next = pod.clone();
            next["status"] = status;
            if store.update(PODS, namespace_of(&pod), name_of(&pod), next, true, false).is_ok() {
                changed = true;
                for (kind, reason, message) in pending_events {
                    emit(store, &pod, kind, &reason, &message, "kubelet");
                }
                if probe_failing {
                    emit(
                        store,
                        &pod,
                        "Warning",
                        "Unhealthy",
                        "Readiness probe failed: HTTP probe failed with statuscode: 500",
                        "kubelet",
                    );
                }
            }
        }
    }
    changed
}
