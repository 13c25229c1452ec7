//! Subresources: `scale` (autoscaling/v1 Scale), `eviction` (policy/v1,
//! honouring PodDisruptionBudgets with 429) and `log`.

use super::status::{ApiError, success};
use super::{Query, parse_body, patch_type};
use crate::DrillCluster;
use crate::disruption;
use crate::patch;
use crate::resources::{PODS, Resource};
use crate::store::Store;
use axum::Json;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Value, json};

fn scale_of(resource: Resource, object: &Value) -> Value {
    let selector = crate::table::selector_text(object, "/spec/selector/matchLabels");
    let meta = &object["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
        "_resource": resource.plural,
    })
}

#[expect(clippy::too_many_arguments, reason = "one request's parts, passed through once")]
pub fn scale(
    store: &Store,
    resource: Resource,
    namespace: &str,
    name: &str,
    method: &Method,
    headers: &HeaderMap,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let current = store.get(resource, namespace, name)?;
    let mut scale = scale_of(resource, &current);
    scale.as_object_mut().map(|o| o.remove("_resource"));
    let wanted = match *method {
        Method::GET => return Ok(Json(scale).into_response()),
        Method::PUT => parse_body(body)?,
        Method::PATCH => {
            let kind = patch_type(headers)?;
            patch::apply(kind, &scale, &parse_body(body)?)
                .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", e.to_string()))?
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "scale supports get, update and patch",
            ));
        }
    };
    let replicas = wanted.pointer("/spec/replicas").and_then(Value::as_i64).filter(|r| *r >= 0).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0"),
        )
    })?;
    let mut next = current.clone();
    next["spec"]["replicas"] = json!(replicas);
    if let Some(version) =
        wanted.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|v| !v.is_empty())
    {
        next["metadata"]["resourceVersion"] = json!(version);
    }
    let updated = store.update(resource, namespace, name, next, false, query.dry_run())?;
    let mut scale = scale_of(resource, &updated);
    scale.as_object_mut().map(|o| o.remove("_resource"));
    Ok(Json(scale).into_response())
}

/// `POST pods/NAME/eviction`: deletes the pod unless a PodDisruptionBudget
/// covering it has no disruption left, which is refused with 429.
pub fn evict(
    cluster: &DrillCluster,
    namespace: &str,
    name: &str,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let store = &cluster.store;
    let eviction = if body.is_empty() { Value::Null } else { parse_body(body)? };
    let pod = store.get(PODS, namespace, name)?;
    if let Some(blocked) = disruption::blocking_budget(store, &pod) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
        )
        .with_details(json!({"causes": [{"reason": "DisruptionBudget", "message": format!(
            "The disruption budget {} needs {} healthy pods and has {} currently",
            blocked.name, blocked.desired_healthy, blocked.current_healthy
        )}]})));
    }
    let dry_run = query.dry_run()
        || eviction
            .pointer("/deleteOptions/dryRun")
            .and_then(Value::as_array)
            .is_some_and(|v| v.iter().any(|d| d == "All"));
    let grace = eviction.pointer("/deleteOptions/gracePeriodSeconds").and_then(Value::as_i64);
    store.delete_gracefully(PODS, namespace, name, grace, dry_run)?;
    Ok(success(StatusCode::CREATED))
}

/// `GET pods/NAME/log`: the simulated container's output.
pub fn log(store: &Store, namespace: &str, name: &str, query: &Query) -> Result<Response, ApiError> {
    let pod = store.get(PODS, namespace, name)?;
    let containers: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    let container = match query.get("container") {
        Some(c) if containers.iter().any(|n| n == c) => c.to_owned(),
        Some(c) => {
            return Err(ApiError::bad_request(format!("container {c} is not valid for pod {name}")));
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    let previous = query.get("previous").is_some_and(|v| v == "true" || v == "1");
    let mut lines = crate::logs::lines(&pod, &container, previous).map_err(ApiError::bad_request)?;
    if let Some(tail) = query.get("tailLines").and_then(|v| v.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/plain")], text).into_response())
}
