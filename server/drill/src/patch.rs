//! The three patch types the API accepts: JSON merge patch (RFC 7386), JSON
//! patch (RFC 6902) and Kubernetes' strategic merge patch, which merges lists
//! of objects by a key (containers by `name`, ports by `containerPort`, …)
//! instead of replacing them, and honours `$patch: delete|replace` directives.

use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
}

impl PatchType {
    /// The patch type a `Content-Type` names; `None` for unsupported ones
    /// (including server-side apply), which the API answers with 415.
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        match content_type.split(';').next().unwrap_or_default().trim() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the patch could not be applied: {0}")]
pub struct PatchError(pub String);

pub fn apply(kind: PatchType, target: &Value, patch: &Value) -> Result<Value, PatchError> {
    match kind {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(PatchError("a merge patch must be a JSON object".into()));
            }
            let mut out = target.clone();
            json_patch::merge(&mut out, patch);
            Ok(out)
        }
        PatchType::Json => {
            let operations: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| PatchError(e.to_string()))?;
            let mut out = target.clone();
            json_patch::patch(&mut out, &operations).map_err(|e| PatchError(e.to_string()))?;
            Ok(out)
        }
        PatchType::Strategic => {
            if !patch.is_object() {
                return Err(PatchError("a strategic merge patch must be a JSON object".into()));
            }
            Ok(strategic_merge(target, patch, ""))
        }
    }
}

/// The key that identifies items of the list at `field`, as the Kubernetes
/// types declare with `patchMergeKey`; `None` means the list is replaced whole.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "containerStatuses"
        | "initContainerStatuses" => Some("name"),
        "volumeMounts" | "volumeDevices" => Some("mountPath"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "taints" => Some("key"),
        "hostAliases" => Some("ip"),
        "ports" => Some("containerPort"),
        _ => None,
    }
}

fn strategic_merge(target: &Value, patch: &Value, field: &str) -> Value {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => Value::Object(merge_maps(t, p)),
        (Value::Array(t), Value::Array(p)) => match merge_key(field) {
            // Service ports have no containerPort; they are keyed by port.
            Some("containerPort") if p.iter().any(|i| i.get("port").is_some()) => merge_lists(t, p, "port"),
            Some(key) => merge_lists(t, p, key),
            None => patch.clone(),
        },
        _ => patch.clone(),
    }
}

fn merge_maps(target: &Map<String, Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch.clone();
        replaced.remove("$patch");
        return replaced;
    }
    let mut out = target.clone();
    for (key, value) in patch {
        // Directives (`$patch`, `$setElementOrder/…`, `$retainKeys`) only steer
        // the merge; `$deleteFromPrimitiveList/…` removes values from a list.
        if key.starts_with('$') {
            if let Some(list) = key.strip_prefix("$deleteFromPrimitiveList/")
                && let (Some(Value::Array(current)), Value::Array(remove)) = (out.get(list).cloned(), value)
            {
                out.insert(
                    list.to_owned(),
                    Value::Array(current.into_iter().filter(|v| !remove.contains(v)).collect()),
                );
            }
            continue;
        }
        match value {
            Value::Null => {
                out.remove(key);
            }
            Value::Object(inner) if inner.get("$patch").and_then(Value::as_str) == Some("delete") => {
                out.remove(key);
            }
            _ => {
                let merged = match out.get(key) {
                    Some(current) => strategic_merge(current, value, key),
                    None => strip_directives(value),
                };
                out.insert(key.clone(), merged);
            }
        }
    }
    out
}

fn merge_lists(target: &[Value], patch: &[Value], key: &str) -> Value {
    if patch.iter().any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace")) {
        return Value::Array(
            patch.iter().filter(|i| i.get("$patch").is_none()).map(strip_directives).collect(),
        );
    }
    let mut out: Vec<Value> = target.to_vec();
    for item in patch {
        let id = item.get(key);
        let position = id.and_then(|id| out.iter().position(|o| o.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(i), true) => {
                out.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => out[i] = strategic_merge(&out[i], item, ""),
            (None, false) => out.push(strip_directives(item)),
        }
    }
    Value::Array(out)
}

fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "proxy:1"}
            ]}}}
        })
    }

    #[test]
    fn a_merge_patch_replaces_lists_and_removes_nulls() {
        let out = apply(
            PatchType::Merge,
            &deployment(),
            &json!({"metadata": {"labels": {"app": null, "tier": "web"}}, "spec": {"template": {"spec": {"containers": [{"name": "only"}]}}}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"tier": "web"}));
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "only"}]));
    }

    #[test]
    fn a_json_patch_applies_operations_in_order() {
        let out = apply(
            PatchType::Json,
            &deployment(),
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 5}, {"op": "remove", "path": "/metadata/labels/app"}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 5);
        assert_eq!(out["metadata"]["labels"], json!({}));
    }

    #[test]
    fn a_failing_json_patch_is_an_error() {
        let err = apply(
            PatchType::Json,
            &deployment(),
            &json!([{"op": "test", "path": "/spec/replicas", "value": 9}]),
        );
        assert!(err.is_err());
    }

    #[test]
    fn a_strategic_patch_merges_containers_by_name() {
        let out = apply(
            PatchType::Strategic,
            &deployment(),
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}),
        )
        .unwrap();
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2);
        assert_eq!(containers[0]["image"], "app:2");
        assert_eq!(containers[0]["env"][0]["name"], "A", "fields not in the patch stay");
        assert_eq!(containers[1]["name"], "sidecar");
    }

    #[test]
    fn strategic_directives_delete_and_replace() {
        let out = apply(
            PatchType::Strategic,
            &deployment(),
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
        let replaced = apply(
            PatchType::Strategic,
            &deployment(),
            &json!({"metadata": {"labels": {"$patch": "replace", "new": "x"}}}),
        )
        .unwrap();
        assert_eq!(replaced["metadata"]["labels"], json!({"new": "x"}));
    }

    #[test]
    fn cordoning_sets_a_field_and_keeps_the_rest() {
        let node = json!({"metadata": {"name": "n1"}, "spec": {"podCIDR": "10.0.0.0/24"}});
        let out = apply(PatchType::Strategic, &node, &json!({"spec": {"unschedulable": true}})).unwrap();
        assert_eq!(out["spec"], json!({"podCIDR": "10.0.0.0/24", "unschedulable": true}));
    }

    #[test]
    fn content_types_map_to_patch_types() {
        assert_eq!(PatchType::from_content_type("application/merge-patch+json"), Some(PatchType::Merge));
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::Strategic)
        );
        assert_eq!(PatchType::from_content_type("application/apply-patch+yaml"), None);
    }
}
