//! Server-side printing: the `Table` objects `kubectl get` asks for, with the
//! columns a real API server prints for each resource.

use super::resources::Resource;
use serde_json::{Value, json};

/// A column: name, type, and priority (1 = shown only with `-o wide`).
struct Column(&'static str, &'static str, u8);

/// kubectl's human-readable durations ("45s", "3m12s", "5h", "12d").
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 { format!("{m}m") } else { format!("{m}m{}s", s % 60) }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 { format!("{h}h") } else { format!("{h}h{}m", m % 60) }
    } else if h < 48 {
        format!("{h}h")
    } else if d < 8 {
        if h % 24 == 0 { format!("{d}d") } else { format!("{d}d{}h", h % 24) }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else if d < 365 * 8 {
        let y = d / 365;
        if d % 365 == 0 { format!("{y}y") } else { format!("{y}y{}d", d % 365) }
    } else {
        format!("{}y", d / 365)
    }
}

fn age_of(time: Option<&str>, now: time::OffsetDateTime) -> String {
    time.and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .map_or_else(|| "<unknown>".to_owned(), |t| human_duration((now - t).whole_seconds()))
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".to_owned() } else { s }
}

/// A `matchLabels`-style map as `k=v,k2=v2`.
pub(crate) fn selector_text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn containers_and_images(v: &Value, pointer: &str) -> (String, String) {
    let containers = v.pointer(pointer).and_then(Value::as_array).cloned().unwrap_or_default();
    let names = containers.iter().map(|c| text(c, "/name")).collect::<Vec<_>>().join(",");
    let images = containers.iter().map(|c| text(c, "/image")).collect::<Vec<_>>().join(",");
    (names, images)
}

/// A pod's STATUS column, as kubectl computes it.
pub fn pod_status(pod: &Value) -> String {
    let mut reason = text(pod, "/status/reason");
    if reason.is_empty() {
        reason = text(pod, "/status/phase");
    }
    let statuses =
        pod.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    for status in statuses.iter().rev() {
        let waiting = text(status, "/state/waiting/reason");
        let terminated = text(status, "/state/terminated/reason");
        if !waiting.is_empty() {
            reason = waiting;
        } else if !terminated.is_empty() {
            reason = terminated;
        } else if status.pointer("/state/terminated").is_some() {
            reason = format!("ExitCode:{}", int(status, "/state/terminated/exitCode"));
        }
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) {
        reason = "Terminating".to_owned();
    }
    reason
}

fn node_status(node: &Value) -> String {
    let conditions =
        node.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let ready = conditions.iter().find(|c| text(c, "/type") == "Ready").map(|c| text(c, "/status"));
    // As the API server prints it: any Ready status but True reads NotReady.
    let mut status = match ready.as_deref() {
        Some("True") => "Ready".to_owned(),
        Some(_) => "NotReady".to_owned(),
        None => "Unknown".to_owned(),
    };
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

fn node_roles(node: &Value) -> String {
    let roles: Vec<String> = node
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys().filter_map(|k| k.strip_prefix("node-role.kubernetes.io/").map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    or_none(roles.join(","))
}

fn node_address(node: &Value, kind: &str) -> String {
    let addresses = node.pointer("/status/addresses").and_then(Value::as_array).cloned().unwrap_or_default();
    or_none(
        addresses.iter().find(|a| text(a, "/type") == kind).map(|a| text(a, "/address")).unwrap_or_default(),
    )
}

fn service_ports(svc: &Value) -> String {
    let ports = svc.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
    let text = ports
        .iter()
        .map(|p| {
            let proto = if text(p, "/protocol").is_empty() { "TCP".to_owned() } else { text(p, "/protocol") };
            match int(p, "/nodePort") {
                0 => format!("{}/{proto}", int(p, "/port")),
                node => format!("{}:{node}/{proto}", int(p, "/port")),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    or_none(text)
}

fn columns_and_cells(resource: &Resource, o: &Value, now: time::OffsetDateTime) -> (Vec<Column>, Vec<Value>) {
    let name = json!(text(o, "/metadata/name"));
    let age = json!(age_of(o.pointer("/metadata/creationTimestamp").and_then(Value::as_str), now));
    match resource.kind {
        "Node" => (
            vec![
                Column("Name", "string", 0),
                Column("Status", "string", 0),
                Column("Roles", "string", 0),
                Column("Age", "string", 0),
                Column("Version", "string", 0),
                Column("Internal-IP", "string", 1),
                Column("External-IP", "string", 1),
                Column("OS-Image", "string", 1),
                Column("Kernel-Version", "string", 1),
                Column("Container-Runtime", "string", 1),
            ],
            vec![
                name,
                json!(node_status(o)),
                json!(node_roles(o)),
                age,
                json!(text(o, "/status/nodeInfo/kubeletVersion")),
                json!(node_address(o, "InternalIP")),
                json!(node_address(o, "ExternalIP")),
                json!(text(o, "/status/nodeInfo/osImage")),
                json!(text(o, "/status/nodeInfo/kernelVersion")),
                json!(text(o, "/status/nodeInfo/containerRuntimeVersion")),
            ],
        ),
        "Pod" => {
            let statuses =
                o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
            let total = o.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len);
            let ready =
                statuses.iter().filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true)).count();
            let restarts: i64 = statuses.iter().map(|s| int(s, "/restartCount")).sum();
            let last_restart = statuses
                .iter()
                .filter_map(|s| s.pointer("/lastState/terminated/finishedAt").and_then(Value::as_str))
                .max()
                .map(|t| format!(" ({} ago)", age_of(Some(t), now)));
            let restarts = match (restarts, last_restart) {
                (0, _) | (_, None) => restarts.to_string(),
                (n, Some(ago)) => format!("{n}{ago}"),
            };
            (
                vec![
                    Column("Name", "string", 0),
                    Column("Ready", "string", 0),
                    Column("Status", "string", 0),
                    Column("Restarts", "string", 0),
                    Column("Age", "string", 0),
                    Column("IP", "string", 1),
                    Column("Node", "string", 1),
                    Column("Nominated Node", "string", 1),
                    Column("Readiness Gates", "string", 1),
                ],
                vec![
                    name,
                    json!(format!("{ready}/{total}")),
                    json!(pod_status(o)),
                    json!(restarts),
                    age,
                    json!(or_none(text(o, "/status/podIP"))),
                    json!(or_none(text(o, "/spec/nodeName"))),
                    json!("<none>"),
                    json!("<none>"),
                ],
            )
        }
        "Deployment" => {
            let (containers, images) = containers_and_images(o, "/spec/template/spec/containers");
            (
                vec![
                    Column("Name", "string", 0),
                    Column("Ready", "string", 0),
                    Column("Up-to-date", "integer", 0),
                    Column("Available", "integer", 0),
                    Column("Age", "string", 0),
                    Column("Containers", "string", 1),
                    Column("Images", "string", 1),
                    Column("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas"))),
                    json!(int(o, "/status/updatedReplicas")),
                    json!(int(o, "/status/availableReplicas")),
                    age,
                    json!(containers),
                    json!(images),
                    json!(selector_text(o, "/spec/selector/matchLabels")),
                ],
            )
        }
        "ReplicaSet" => {
            let (containers, images) = containers_and_images(o, "/spec/template/spec/containers");
            (
                vec![
                    Column("Name", "string", 0),
                    Column("Desired", "integer", 0),
                    Column("Current", "integer", 0),
                    Column("Ready", "integer", 0),
                    Column("Age", "string", 0),
                    Column("Containers", "string", 1),
                    Column("Images", "string", 1),
                    Column("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(int(o, "/spec/replicas")),
                    json!(int(o, "/status/replicas")),
                    json!(int(o, "/status/readyReplicas")),
                    age,
                    json!(containers),
                    json!(images),
                    json!(selector_text(o, "/spec/selector/matchLabels")),
                ],
            )
        }
        "StatefulSet" => (
            vec![Column("Name", "string", 0), Column("Ready", "string", 0), Column("Age", "string", 0)],
            vec![
                name,
                json!(format!("{}/{}", int(o, "/status/readyReplicas"), int(o, "/spec/replicas"))),
                age,
            ],
        ),
        "DaemonSet" => (
            vec![
                Column("Name", "string", 0),
                Column("Desired", "integer", 0),
                Column("Current", "integer", 0),
                Column("Ready", "integer", 0),
                Column("Up-to-date", "integer", 0),
                Column("Available", "integer", 0),
                Column("Node Selector", "string", 0),
                Column("Age", "string", 0),
            ],
            vec![
                name,
                json!(int(o, "/status/desiredNumberScheduled")),
                json!(int(o, "/status/currentNumberScheduled")),
                json!(int(o, "/status/numberReady")),
                json!(int(o, "/status/updatedNumberScheduled")),
                json!(int(o, "/status/numberAvailable")),
                json!(or_none(selector_text(o, "/spec/template/spec/nodeSelector"))),
                age,
            ],
        ),
        "Service" => (
            vec![
                Column("Name", "string", 0),
                Column("Type", "string", 0),
                Column("Cluster-IP", "string", 0),
                Column("External-IP", "string", 0),
                Column("Port(s)", "string", 0),
                Column("Age", "string", 0),
                Column("Selector", "string", 1),
            ],
            vec![
                name,
                json!(text(o, "/spec/type")),
                json!(or_none(text(o, "/spec/clusterIP"))),
                json!("<none>"),
                json!(service_ports(o)),
                age,
                json!(or_none(selector_text(o, "/spec/selector"))),
            ],
        ),
        "Namespace" => (
            vec![Column("Name", "string", 0), Column("Status", "string", 0), Column("Age", "string", 0)],
            vec![name, json!(text(o, "/status/phase")), age],
        ),
        "Event" => {
            let last = o
                .pointer("/lastTimestamp")
                .and_then(Value::as_str)
                .or_else(|| o.pointer("/eventTime").and_then(Value::as_str))
                .or_else(|| o.pointer("/metadata/creationTimestamp").and_then(Value::as_str));
            let object = format!(
                "{}/{}",
                text(o, "/involvedObject/kind").to_lowercase(),
                text(o, "/involvedObject/name")
            );
            (
                vec![
                    Column("Last Seen", "string", 0),
                    Column("Type", "string", 0),
                    Column("Reason", "string", 0),
                    Column("Object", "string", 0),
                    Column("Message", "string", 0),
                ],
                vec![
                    json!(age_of(last, now)),
                    json!(text(o, "/type")),
                    json!(text(o, "/reason")),
                    json!(object),
                    json!(text(o, "/message")),
                ],
            )
        }
        "PodDisruptionBudget" => (
            vec![
                Column("Name", "string", 0),
                Column("Min Available", "string", 0),
                Column("Max Unavailable", "string", 0),
                Column("Allowed Disruptions", "integer", 0),
                Column("Age", "string", 0),
            ],
            vec![
                name,
                json!(if text(o, "/spec/minAvailable").is_empty() {
                    "N/A".to_owned()
                } else {
                    text(o, "/spec/minAvailable")
                }),
                json!(if text(o, "/spec/maxUnavailable").is_empty() {
                    "N/A".to_owned()
                } else {
                    text(o, "/spec/maxUnavailable")
                }),
                json!(int(o, "/status/disruptionsAllowed")),
                age,
            ],
        ),
        "NetworkPolicy" => (
            vec![
                Column("Name", "string", 0),
                Column("Pod-Selector", "string", 0),
                Column("Age", "string", 0),
            ],
            vec![name, json!(or_none(selector_text(o, "/spec/podSelector/matchLabels"))), age],
        ),
        "Lease" => (
            vec![Column("Name", "string", 0), Column("Holder", "string", 0), Column("Age", "string", 0)],
            vec![name, json!(text(o, "/spec/holderIdentity")), age],
        ),
        "ConfigMap" | "Secret" => {
            let data = o.get("data").and_then(Value::as_object).map_or(0, |d| d.len())
                + o.get("binaryData").and_then(Value::as_object).map_or(0, |d| d.len());
            let mut columns = vec![Column("Name", "string", 0)];
            let mut cells = vec![name];
            if resource.kind == "Secret" {
                columns.push(Column("Type", "string", 0));
                cells.push(json!(text(o, "/type")));
            }
            columns.extend([Column("Data", "string", 0), Column("Age", "string", 0)]);
            cells.extend([json!(data), age]);
            (columns, cells)
        }
        "PersistentVolumeClaim" => (
            vec![
                Column("Name", "string", 0),
                Column("Status", "string", 0),
                Column("Volume", "string", 0),
                Column("Capacity", "string", 0),
                Column("Access Modes", "string", 0),
                Column("Age", "string", 0),
            ],
            vec![
                name,
                json!(text(o, "/status/phase")),
                json!(text(o, "/spec/volumeName")),
                json!(text(o, "/status/capacity/storage")),
                json!(access_modes(o)),
                age,
            ],
        ),
        "Ingress" => (
            vec![
                Column("Name", "string", 0),
                Column("Class", "string", 0),
                Column("Hosts", "string", 0),
                Column("Address", "string", 0),
                Column("Age", "string", 0),
            ],
            vec![
                name,
                json!(or_none(text(o, "/spec/ingressClassName"))),
                json!(ingress_hosts(o)),
                json!(text(o, "/status/loadBalancer/ingress/0/ip")),
                age,
            ],
        ),
        "RoleBinding" | "ClusterRoleBinding" => (
            vec![Column("Name", "string", 0), Column("Role", "string", 0), Column("Age", "string", 0)],
            vec![name, json!(format!("{}/{}", text(o, "/roleRef/kind"), text(o, "/roleRef/name"))), age],
        ),
        _ => (vec![Column("Name", "string", 0), Column("Age", "string", 0)], vec![name, age]),
    }
}

/// `RWO,ROX` as kubectl abbreviates a claim's access modes.
fn access_modes(o: &Value) -> String {
    let modes = o.pointer("/spec/accessModes").and_then(Value::as_array).cloned().unwrap_or_default();
    modes
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The hosts of an Ingress's rules, `*` for a rule without one.
fn ingress_hosts(o: &Value) -> String {
    let rules = o.pointer("/spec/rules").and_then(Value::as_array).cloned().unwrap_or_default();
    rules
        .iter()
        .map(|r| r.get("host").and_then(Value::as_str).unwrap_or("*").to_owned())
        .collect::<Vec<_>>()
        .join(",")
}

/// A `meta.k8s.io/v1` Table of `items`. `include_object` follows the
/// `includeObject` parameter: `None`, `Metadata` (the default) or `Object`.
pub fn table(
    resource: &Resource,
    items: &[Value],
    revision: u64,
    include_object: &str,
    now: time::OffsetDateTime,
) -> Value {
    let mut definitions = None;
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let (columns, cells) = columns_and_cells(resource, item, now);
            definitions.get_or_insert(columns);
            let object = match include_object {
                "None" => Value::Null,
                "Object" => item.clone(),
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": item.get("metadata").cloned().unwrap_or(Value::Null),
                }),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    let definitions = definitions.unwrap_or_else(|| columns_and_cells(resource, &json!({}), now).0);
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": revision.to_string()},
        "columnDefinitions": definitions.iter().map(|Column(name, kind, priority)| json!({
            "name": name, "type": kind, "format": if *name == "Name" { "name" } else { "" },
            "description": "", "priority": priority,
        })).collect::<Vec<_>>(),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{NODES, PODS};

    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(192), "3m12s");
        assert_eq!(human_duration(3600 * 5), "5h");
        assert_eq!(human_duration(86_400 * 12), "12d");
        assert_eq!(human_duration(86_400 * 3 + 3600 * 4), "3d4h");
    }

    #[test]
    fn a_crashing_container_shows_its_waiting_reason() {
        let pod = json!({"status": {"phase": "Running", "containerStatuses": [
            {"name": "app", "ready": false, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
        ]}});
        assert_eq!(pod_status(&pod), "CrashLoopBackOff");
    }

    #[test]
    fn a_cordoned_not_ready_node_says_both() {
        let node = json!({"spec": {"unschedulable": true}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert_eq!(node_status(&node), "NotReady,SchedulingDisabled");
        let unreachable = json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        assert_eq!(node_status(&unreachable), "NotReady");
    }

    #[test]
    fn a_pod_table_has_kubectl_columns_and_metadata_rows() {
        let now = time::OffsetDateTime::now_utc();
        let pod = json!({
            "metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": crate::store::timestamp(now)},
            "spec": {"containers": [{"name": "app"}], "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]}
        });
        let t = table(&PODS, &[pod], 7, "Metadata", now);
        let names: Vec<&str> =
            t["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(&names[..5], ["Name", "Ready", "Status", "Restarts", "Age"]);
        assert_eq!(t["rows"][0]["cells"][1], "1/1");
        assert_eq!(t["rows"][0]["cells"][6], "node-1");
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "shop");
        let empty = table(&NODES, &[], 7, "Metadata", now);
        assert_eq!(empty["columnDefinitions"][1]["name"], "Status");
    }
}
