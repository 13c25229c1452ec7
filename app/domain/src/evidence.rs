//! Evidence: what Wheelhouse captured from the cluster about an object an
//! incident concerns (a workload, a pod, a node, the control plane), before
//! rollbacks and restarts make it disappear, and the findings read from it.
//! Capturing is I/O (the server's `evidence` module); what a capture holds,
//! how it reads to a person and what it shows are rules, here.

use crate::action::WorkloadKind;
use crate::incident::FieldError;
use crate::object_name::ObjectName;
use crate::quantity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Events older than this before the capture are left out.
pub const EVENT_WINDOW_MS: i64 = 30 * 60 * 1000;
/// Log lines kept per failing container.
pub const LOG_LINES: u32 = 200;
/// Warning events (counting repeats) in the window from which it is an event storm.
pub const EVENT_STORM: u64 = 100;
/// A pod template change this recent counts as "changed recently" (a rollback suggestion).
pub const RECENT_CHANGE_MS: i64 = 24 * 60 * 60 * 1000;

/// What a capture is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Workload { workload: WorkloadKind, namespace: ObjectName, name: ObjectName },
    Pod { namespace: ObjectName, name: ObjectName },
    Node { name: ObjectName },
    ControlPlane,
}

impl Subject {
    /// Reads `deployment/shop/checkout`, `pod/shop/checkout-7d9f-x2k4q`,
    /// `node/worker-2` or `control-plane` (what the capture button sends).
    pub fn parse(raw: &str) -> Result<Subject, FieldError> {
        let raw = raw.trim();
        let bad = || {
            FieldError::new(
                "subject",
                "Choose what to capture: kind/namespace/name for a workload, pod/namespace/name, node/name or control-plane.",
            )
        };
        let pieces: Vec<&str> = raw.split('/').collect();
        let name = |what: &str, raw: &str| ObjectName::parse_field("subject", what, raw);
        match pieces.as_slice() {
            ["control-plane"] => Ok(Subject::ControlPlane),
            ["node", node] => Ok(Subject::Node { name: name("node", node)? }),
            ["pod", namespace, pod] => {
                Ok(Subject::Pod { namespace: name("namespace", namespace)?, name: name("pod", pod)? })
            }
            [kind, namespace, workload] => Ok(Subject::Workload {
                workload: WorkloadKind::parse(kind).ok_or_else(bad)?,
                namespace: name("namespace", namespace)?,
                name: name("workload", workload)?,
            }),
            _ => Err(bad()),
        }
    }

    /// The form [`Subject::parse`] reads back.
    pub fn path(&self) -> String {
        match self {
            Subject::Workload { workload, namespace, name } => {
                format!("{}/{namespace}/{name}", workload.as_str())
            }
            Subject::Pod { namespace, name } => format!("pod/{namespace}/{name}"),
            Subject::Node { name } => format!("node/{name}"),
            Subject::ControlPlane => "control-plane".to_owned(),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Workload { workload, namespace, name } => {
                write!(f, "{} {namespace}/{name}", workload.as_str())
            }
            Subject::Pod { namespace, name } => write!(f, "pod {namespace}/{name}"),
            Subject::Node { name } => write!(f, "node {name}"),
            Subject::ControlPlane => write!(f, "the control plane"),
        }
    }
}

/// CPU and memory requests or limits of one container, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// A container of a pod template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// The names of its environment variables (never their values).
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub requests: Resources,
    #[serde(default)]
    pub limits: Resources,
}

/// One revision of a workload's pod template (a Deployment's ReplicaSet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: u64,
    /// When it was made (Unix ms), if known.
    pub created_at: Option<i64>,
    /// The `kubernetes.io/change-cause` annotation.
    pub change_cause: Option<String>,
    pub containers: Vec<ContainerSpec>,
    /// Pods it runs now.
    pub replicas: u32,
}

/// What changed in the pod template from `from` to `to`, one line per change.
pub fn template_changes(from: &[ContainerSpec], to: &[ContainerSpec]) -> Vec<String> {
    let mut changes = Vec::new();
    for new in to {
        let Some(old) = from.iter().find(|c| c.name == new.name) else {
            changes.push(format!("container {} added (image {})", new.name, new.image));
            continue;
        };
        if old.image != new.image {
            changes.push(format!("{}: image {} → {}", new.name, old.image, new.image));
        }
        for added in new.env.iter().filter(|e| !old.env.contains(e)) {
            changes.push(format!("{}: environment variable {added} added", new.name));
        }
        for removed in old.env.iter().filter(|e| !new.env.contains(e)) {
            changes.push(format!("{}: environment variable {removed} removed", new.name));
        }
        for (what, old_value, new_value) in [
            ("CPU request", &old.requests.cpu, &new.requests.cpu),
            ("memory request", &old.requests.memory, &new.requests.memory),
            ("CPU limit", &old.limits.cpu, &new.limits.cpu),
            ("memory limit", &old.limits.memory, &new.limits.memory),
        ] {
            if old_value != new_value {
                let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
                changes.push(format!("{}: {what} {} → {}", new.name, show(old_value), show(new_value)));
            }
        }
    }
    for old in from.iter().filter(|c| !to.iter().any(|n| n.name == c.name)) {
        changes.push(format!("container {} removed", old.name));
    }
    changes
}

/// A workload: its spec as it stands, and its revision history (newest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadEvidence {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub desired: u32,
    pub ready: u32,
    /// The selector's `matchLabels`.
    pub selector: BTreeMap<String, String>,
    /// The labels its pod template gives pods.
    pub template_labels: BTreeMap<String, String>,
    pub containers: Vec<ContainerSpec>,
    /// The revision it runs now (Deployments), and the history, newest first.
    pub current_revision: Option<u64>,
    pub revisions: Vec<Revision>,
}

impl WorkloadEvidence {
    /// The revision it runs now and the one before it, when both are known.
    pub fn last_change(&self) -> Option<(&Revision, &Revision)> {
        let current = self.current_revision?;
        let now = self.revisions.iter().find(|r| r.number == current)?;
        let before = self.revisions.iter().filter(|r| r.number < current).max_by_key(|r| r.number)?;
        Some((now, before))
    }
}

/// Why a container last stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    pub reason: String,
    pub exit_code: i32,
    pub finished_at: Option<i64>,
}

/// A container of a pod, as its status shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerState {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: u32,
    /// `CrashLoopBackOff`, `ImagePullBackOff`, … while waiting.
    pub waiting: Option<String>,
    pub waiting_message: Option<String>,
    pub last_termination: Option<Termination>,
    pub memory_limit: Option<String>,
    pub memory_request: Option<String>,
}

/// A pod: where it runs, its phase, its containers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEvidence {
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    pub phase: String,
    pub labels: BTreeMap<String, String>,
    pub containers: Vec<ContainerState>,
    /// Why it is not scheduled (`PodScheduled` false), in the scheduler's words.
    pub unschedulable: Option<String>,
}

impl PodEvidence {
    pub fn restarts(&self) -> u32 {
        self.containers.iter().map(|c| c.restarts).sum()
    }

    /// Whether a container is failing: waiting for a bad reason, or restarting.
    pub fn failing(&self) -> bool {
        self.containers.iter().any(|c| c.waiting.as_deref().is_some_and(is_failure_reason) || c.restarts > 0)
            || self.unschedulable.is_some()
    }
}

fn is_failure_reason(reason: &str) -> bool {
    !matches!(reason, "ContainerCreating" | "PodInitializing")
}

/// An Event about one of the objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEvidence {
    /// `Pod shop/checkout-7d9f-x2k4q`.
    pub object: String,
    /// `Warning` or `Normal`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    pub count: u64,
    pub last_seen: Option<i64>,
}

/// The last lines a container wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvidence {
    pub pod: String,
    pub container: String,
    /// From the container's previous run (a crash loop's last crash).
    pub previous: bool,
    pub lines: Vec<String>,
}

/// A node condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// CPU (millicores), memory (bytes) and pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amounts {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub pods: u64,
}

/// A node: conditions, taints, what it can hold against what its pods ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEvidence {
    pub name: String,
    pub unschedulable: bool,
    pub conditions: Vec<Condition>,
    /// `key=value:Effect`.
    pub taints: Vec<String>,
    pub allocatable: Amounts,
    pub requested: Amounts,
    /// `namespace/name` of the pods bound to it.
    pub pods: Vec<String>,
}

impl NodeEvidence {
    pub fn ready(&self) -> bool {
        self.conditions.iter().any(|c| c.kind == "Ready" && c.status == "True")
    }

    /// The pressure conditions that are true.
    pub fn pressures(&self) -> Vec<&str> {
        self.conditions
            .iter()
            .filter(|c| c.kind.ends_with("Pressure") && c.status == "True")
            .map(|c| c.kind.as_str())
            .collect()
    }
}

/// A Service in front of the workload, and who it reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvidence {
    pub namespace: String,
    pub name: String,
    pub selector: BTreeMap<String, String>,
    pub ready_endpoints: u32,
    pub not_ready_endpoints: u32,
    /// The labels of the pods it is meant to reach, to set beside its selector.
    pub pod_labels: BTreeMap<String, String>,
}

/// A control-plane health check and whether it passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckEvidence {
    pub name: String,
    pub ok: bool,
}

/// One capture: immutable once recorded (its SHA-256 is on the timeline).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub subject: Subject,
    pub captured_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadEvidence>,
    #[serde(default)]
    pub pods: Vec<PodEvidence>,
    #[serde(default)]
    pub events: Vec<EventEvidence>,
    #[serde(default)]
    pub logs: Vec<LogEvidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeEvidence>,
    #[serde(default)]
    pub services: Vec<ServiceEvidence>,
    #[serde(default)]
    pub control_plane: Vec<CheckEvidence>,
    /// Parts that could not be captured, in plain words.
    #[serde(default)]
    pub gaps: Vec<String>,
}

impl Evidence {
    pub fn new(subject: Subject, captured_at: i64) -> Evidence {
        Evidence {
            subject,
            captured_at,
            workload: None,
            pods: Vec::new(),
            events: Vec::new(),
            logs: Vec::new(),
            node: None,
            services: Vec::new(),
            control_plane: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// One line for the timeline: what was captured.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(workload) = &self.workload
            && let Some((now, before)) = workload.last_change()
        {
            parts.push(format!("revision {} (was {})", now.number, before.number));
        }
        if !self.pods.is_empty() {
            let failing = self.pods.iter().filter(|p| p.failing()).count();
            parts.push(format!("{} pod(s), {failing} failing", self.pods.len()));
        }
        if let Some(node) = &self.node {
            parts.push(format!("{} condition(s), {} pod(s) on it", node.conditions.len(), node.pods.len()));
        }
        if !self.events.is_empty() {
            parts.push(format!("{} event(s)", self.events.len()));
        }
        if !self.logs.is_empty() {
            parts.push(format!("logs of {} container(s)", self.logs.len()));
        }
        if !self.services.is_empty() {
            parts.push(format!("{} service(s)", self.services.len()));
        }
        if !self.control_plane.is_empty() {
            let failing = self.control_plane.iter().filter(|c| !c.ok).count();
            parts.push(format!("{} check(s), {failing} failing", self.control_plane.len()));
        }
        if !self.gaps.is_empty() {
            parts.push(format!("{} part(s) not captured", self.gaps.len()));
        }
        if parts.is_empty() { "nothing found".to_owned() } else { parts.join(", ") }
    }
}

/// Something the evidence shows that a playbook can match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    // In order of how much a finding explains: an OOM kill explains the crash loop it causes.
    OomKilled,
    ImagePullFailure,
    FailedScheduling,
    CrashLoopBackOff,
    NodeNotReady,
    NodePressure,
    ControlPlaneCheckFailing,
    EventStorm,
    NoReadyEndpoints,
}

impl Signal {
    pub const ALL: [Signal; 9] = [
        Signal::CrashLoopBackOff,
        Signal::ImagePullFailure,
        Signal::OomKilled,
        Signal::FailedScheduling,
        Signal::NodeNotReady,
        Signal::NodePressure,
        Signal::ControlPlaneCheckFailing,
        Signal::EventStorm,
        Signal::NoReadyEndpoints,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::CrashLoopBackOff => "crash_loop_back_off",
            Signal::ImagePullFailure => "image_pull_failure",
            Signal::OomKilled => "oom_killed",
            Signal::FailedScheduling => "failed_scheduling",
            Signal::NodeNotReady => "node_not_ready",
            Signal::NodePressure => "node_pressure",
            Signal::ControlPlaneCheckFailing => "control_plane_check_failing",
            Signal::EventStorm => "event_storm",
            Signal::NoReadyEndpoints => "no_ready_endpoints",
        }
    }
}

/// A signal, where it shows, and the detail that makes it true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub signal: Signal,
    /// `pod shop/checkout-7d9f-x2k4q`, `node worker-2`, `service shop/checkout`.
    pub subject: String,
    pub detail: String,
}

/// What the evidence shows, in order of how much it explains (the signals'
/// order: an OOM kill before the crash loop it causes; storms and endpoints last).
pub fn findings(evidence: &Evidence) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut push = |signal: Signal, subject: String, detail: String| {
        if !found.iter().any(|f: &Finding| f.signal == signal && f.subject == subject) {
            found.push(Finding { signal, subject, detail });
        }
    };
    for pod in &evidence.pods {
        let subject = format!("pod {}/{}", pod.namespace, pod.name);
        for container in &pod.containers {
            match container.waiting.as_deref() {
                Some("CrashLoopBackOff") => push(
                    Signal::CrashLoopBackOff,
                    subject.clone(),
                    format!(
                        "{} is in CrashLoopBackOff after {} restart(s)",
                        container.name, container.restarts
                    ),
                ),
                Some(reason @ ("ImagePullBackOff" | "ErrImagePull" | "InvalidImageName")) => push(
                    Signal::ImagePullFailure,
                    subject.clone(),
                    format!("{}: {reason} for image {}", container.name, container.image),
                ),
                _ => {}
            }
            if let Some(last) = container.last_termination.as_ref().filter(|t| t.reason == "OOMKilled") {
                let limit = container.memory_limit.clone().unwrap_or_else(|| "no limit".to_owned());
                push(
                    Signal::OomKilled,
                    subject.clone(),
                    format!(
                        "{} was killed for exceeding its memory limit ({limit}; exit code {})",
                        container.name, last.exit_code
                    ),
                );
            }
        }
        if let Some(why) = &pod.unschedulable {
            push(Signal::FailedScheduling, subject.clone(), why.clone());
        }
    }
    if let Some(node) = &evidence.node {
        let subject = format!("node {}", node.name);
        if !node.ready() {
            let ready = node.conditions.iter().find(|c| c.kind == "Ready");
            let detail = ready
                .map(|c| format!("Ready is {} ({})", c.status, c.reason.clone().unwrap_or_default()))
                .unwrap_or_else(|| "the node reports no Ready condition".to_owned());
            push(Signal::NodeNotReady, subject.clone(), detail);
        }
        for pressure in node.pressures() {
            push(Signal::NodePressure, subject.clone(), format!("{pressure} is True"));
        }
    }
    for check in evidence.control_plane.iter().filter(|c| !c.ok) {
        push(Signal::ControlPlaneCheckFailing, format!("check {}", check.name), "failing".to_owned());
    }
    for event in evidence.events.iter().filter(|e| e.reason == "FailedScheduling") {
        push(Signal::FailedScheduling, event.object.to_lowercase(), event.message.clone());
    }
    let warnings: u64 = evidence.events.iter().filter(|e| e.kind == "Warning").map(|e| e.count).sum();
    if warnings >= EVENT_STORM {
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for event in evidence.events.iter().filter(|e| e.kind == "Warning") {
            *reasons.entry(event.reason.as_str()).or_default() += event.count;
        }
        let top = reasons.iter().max_by_key(|(_, count)| **count).map(|(r, _)| *r).unwrap_or_default();
        push(
            Signal::EventStorm,
            evidence.subject.to_string(),
            format!("{warnings} warning events in {} minutes, most of them {top}", EVENT_WINDOW_MS / 60_000),
        );
    }
    for service in evidence.services.iter().filter(|s| s.ready_endpoints == 0) {
        push(
            Signal::NoReadyEndpoints,
            format!("service {}/{}", service.namespace, service.name),
            format!(
                "no ready endpoints ({} not ready); selector {} against pod labels {}",
                service.not_ready_endpoints,
                labels_text(&service.selector),
                labels_text(&service.pod_labels)
            ),
        );
    }
    found.sort_by_key(|f| f.signal);
    found
}

/// `app=checkout, tier=web`.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "(none)".to_owned();
    }
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The capture as a person reads it: one section per part, plain text.
pub fn report(evidence: &Evidence) -> String {
    let mut out = format!("Evidence: {}\n", evidence.subject);
    let mut section = |title: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return;
        }
        out.push_str(&format!("\n== {title}\n"));
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    };
    if let Some(workload) = &evidence.workload {
        let mut lines = vec![format!(
            "{} {}/{}: {} of {} ready; selector {}",
            workload.kind.as_str(),
            workload.namespace,
            workload.name,
            workload.ready,
            workload.desired,
            labels_text(&workload.selector)
        )];
        for container in &workload.containers {
            lines.push(format!(
                "container {}: image {}; requests cpu {} memory {}; limits cpu {} memory {}; env {}",
                container.name,
                container.image,
                container.requests.cpu.as_deref().unwrap_or("-"),
                container.requests.memory.as_deref().unwrap_or("-"),
                container.limits.cpu.as_deref().unwrap_or("-"),
                container.limits.memory.as_deref().unwrap_or("-"),
                if container.env.is_empty() { "-".to_owned() } else { container.env.join(", ") }
            ));
        }
        section("Workload", lines);
        let mut history = Vec::new();
        for revision in &workload.revisions {
            let current = if Some(revision.number) == workload.current_revision { " (current)" } else { "" };
            let images: Vec<&str> = revision.containers.iter().map(|c| c.image.as_str()).collect();
            history.push(format!(
                "revision {}{current}: {} pod(s), {}{}",
                revision.number,
                revision.replicas,
                images.join(", "),
                revision.change_cause.as_deref().map(|c| format!(" — {c}")).unwrap_or_default()
            ));
        }
        if let Some((now, before)) = workload.last_change() {
            for change in template_changes(&before.containers, &now.containers) {
                history.push(format!("  {} → {}: {change}", before.number, now.number));
            }
        }
        section("Rollout history", history);
    }
    section(
        "Pods",
        evidence
            .pods
            .iter()
            .map(|pod| {
                let containers: Vec<String> = pod
                    .containers
                    .iter()
                    .map(|c| {
                        let mut text = format!("{} restarts {}", c.name, c.restarts);
                        if let Some(waiting) = &c.waiting {
                            text.push_str(&format!(", waiting: {waiting}"));
                        }
                        if let Some(last) = &c.last_termination {
                            text.push_str(&format!(", last exit: {} (code {})", last.reason, last.exit_code));
                        }
                        if let Some(limit) = &c.memory_limit {
                            text.push_str(&format!(", memory limit {limit}"));
                        }
                        text
                    })
                    .collect();
                format!(
                    "{}/{} on {}: {}; {}{}",
                    pod.namespace,
                    pod.name,
                    pod.node.as_deref().unwrap_or("no node"),
                    pod.phase,
                    containers.join("; "),
                    pod.unschedulable.as_deref().map(|w| format!("; unschedulable: {w}")).unwrap_or_default()
                )
            })
            .collect(),
    );
    if let Some(node) = &evidence.node {
        let mut lines = vec![format!(
            "node {}{}: requested cpu {} of {}, memory {} of {}, pods {} of {}",
            node.name,
            if node.unschedulable { " (cordoned)" } else { "" },
            quantity::cpu_text(node.requested.cpu_millis),
            quantity::cpu_text(node.allocatable.cpu_millis),
            quantity::bytes_text(node.requested.memory_bytes),
            quantity::bytes_text(node.allocatable.memory_bytes),
            node.requested.pods,
            node.allocatable.pods
        )];
        for c in &node.conditions {
            lines.push(format!(
                "condition {} = {} {}",
                c.kind,
                c.status,
                c.reason.as_deref().map(|r| format!("({r})")).unwrap_or_default()
            ));
        }
        for taint in &node.taints {
            lines.push(format!("taint {taint}"));
        }
        for pod in &node.pods {
            lines.push(format!("pod {pod}"));
        }
        section("Node", lines);
    }
    section(
        "Services",
        evidence
            .services
            .iter()
            .map(|s| {
                format!(
                    "{}/{}: {} ready, {} not ready endpoint(s); selector {} | pod labels {}",
                    s.namespace,
                    s.name,
                    s.ready_endpoints,
                    s.not_ready_endpoints,
                    labels_text(&s.selector),
                    labels_text(&s.pod_labels)
                )
            })
            .collect(),
    );
    section(
        "Control-plane checks",
        evidence
            .control_plane
            .iter()
            .map(|c| format!("{}: {}", c.name, if c.ok { "ok" } else { "FAILING" }))
            .collect(),
    );
    section(
        "Events (last 30 minutes)",
        evidence
            .events
            .iter()
            .map(|e| format!("{} {} {} (x{}): {}", e.kind, e.object, e.reason, e.count, e.message))
            .collect(),
    );
    for log in &evidence.logs {
        let which = if log.previous { "previous run" } else { "current run" };
        section(&format!("Logs of {} container {} ({which})", log.pod, log.container), log.lines.clone());
    }
    section("Not captured", evidence.gaps.clone());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_read_back_what_they_write() {
        for raw in
            ["deployment/shop/checkout", "pod/shop/checkout-7d9f-x2k4q", "node/worker-2", "control-plane"]
        {
            assert_eq!(Subject::parse(raw).unwrap().path(), raw);
        }
        assert_eq!(Subject::parse("statefulset/db/pg").unwrap().to_string(), "statefulset db/pg");
        assert_eq!(Subject::parse("cronjob/shop/x").unwrap_err().field, "subject");
        assert!(Subject::parse("node/Worker_2").is_err());
        assert!(Subject::parse("").is_err());
    }

    #[test]
    fn template_changes_name_images_env_and_resources() {
        let old = ContainerSpec {
            name: "app".into(),
            image: "app:1".into(),
            env: vec!["A".into(), "B".into()],
            limits: Resources { cpu: None, memory: Some("256Mi".into()) },
            ..ContainerSpec::default()
        };
        let mut new = old.clone();
        new.image = "app:2".into();
        new.env = vec!["A".into(), "C".into()];
        new.limits.memory = Some("512Mi".into());
        assert_eq!(
            template_changes(&[old], &[new]),
            [
                "app: image app:1 → app:2",
                "app: environment variable C added",
                "app: environment variable B removed",
                "app: memory limit 256Mi → 512Mi",
            ]
        );
    }

    #[test]
    fn a_storm_is_counted_with_repeats_and_named_by_its_commonest_reason() {
        let mut evidence = Evidence::new(Subject::ControlPlane, 0);
        let event = |reason: &str, count| EventEvidence {
            object: "Pod shop/a".into(),
            kind: "Warning".into(),
            reason: reason.into(),
            message: "m".into(),
            count,
            last_seen: None,
        };
        evidence.events = vec![event("FailedMount", 60), event("BackOff", 39)];
        assert!(findings(&evidence).is_empty());
        evidence.events.push(event("FailedMount", 1));
        let found = findings(&evidence);
        assert_eq!(found[0].signal, Signal::EventStorm);
        assert_eq!(found[0].detail, "100 warning events in 30 minutes, most of them FailedMount");
    }

    #[test]
    fn a_service_with_no_ready_endpoints_shows_its_selector_beside_the_pod_labels() {
        let mut evidence = Evidence::new(Subject::ControlPlane, 0);
        evidence.services.push(ServiceEvidence {
            namespace: "shop".into(),
            name: "checkout".into(),
            selector: [("app".to_owned(), "checkout-v2".to_owned())].into(),
            ready_endpoints: 0,
            not_ready_endpoints: 0,
            pod_labels: [("app".to_owned(), "checkout".to_owned())].into(),
        });
        let found = findings(&evidence);
        assert_eq!(found[0].signal, Signal::NoReadyEndpoints);
        assert_eq!(
            found[0].detail,
            "no ready endpoints (0 not ready); selector app=checkout-v2 against pod labels app=checkout"
        );
        assert!(report(&evidence).contains("selector app=checkout-v2 | pod labels app=checkout"));
    }
}
