//! Simulated container output for `kubectl logs`: what a program of that kind
//! would print in the state the pod is in. It is made up, and says so in its
//! first line, so nobody mistakes it for real output. `previous` is the run
//! before the last restart, as `kubectl logs --previous` reads it.

use serde_json::Value;

/// The container's output, or why there is none (the API server's words).
pub fn lines(pod: &Value, container: &str, previous: bool) -> Result<Vec<String>, String> {
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let spec = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
        .cloned()
        .unwrap_or(Value::Null);
    let image = spec["image"].as_str().unwrap_or("unknown");
    let status = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
        .cloned()
        .unwrap_or(Value::Null);
    let waiting = status.pointer("/state/waiting/reason").and_then(Value::as_str).unwrap_or_default();
    let last_exit =
        status.pointer("/lastState/terminated/reason").and_then(Value::as_str).unwrap_or_default();
    if previous && last_exit.is_empty() {
        return Err(format!("previous terminated container \"{container}\" in pod \"{name}\" not found"));
    }
    if !previous && matches!(waiting, "ErrImagePull" | "ImagePullBackOff" | "ContainerCreating") {
        return Err(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {}",
            if waiting == "ContainerCreating" {
                "ContainerCreating"
            } else {
                "trying and failing to pull image"
            }
        ));
    }
    let run = if previous { "previous run" } else { "current run" };
    let mut lines = vec![
        format!("[drill] simulated output of container {container} in pod {name} (image {image}, {run})"),
        format!("starting {container} from {image}"),
        "loaded configuration from /etc/app/config.yaml".to_owned(),
    ];
    if waiting == "CrashLoopBackOff" || last_exit == "Error" {
        lines.push("connecting to dependency at db:5432".to_owned());
        lines.push("fatal: required setting DATABASE_URL is not set".to_owned());
        lines.push("exiting with status 1".to_owned());
    } else if last_exit == "OOMKilled" {
        lines.push("cache warm-up: loading 2.1 GiB of entries".to_owned());
    } else if status.pointer("/state/running").is_some() {
        lines.push("listening on 0.0.0.0:8080".to_owned());
        lines.push("ready: health check passed".to_owned());
    }
    if previous && last_exit == "OOMKilled" {
        lines.push("killed: out of memory (exit code 137)".to_owned());
    }
    Ok(lines)
}
