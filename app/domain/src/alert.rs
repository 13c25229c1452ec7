//! Alerts from monitors (Alertmanager, other tools through the generic shape,
//! and Wheelhouse's own detections): what one alert is, how a repeat, a
//! resolution or a flap changes the one record kept per key, which component
//! an alert concerns, and where the routing policy sends it (declare an
//! incident, attach to one under way, the inbox, or keep it out of sight).

use super::action::WorkloadKind;
use super::component::ComponentKey;
use super::incident::{Category, FieldError, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where an alert came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertSource {
    /// Alertmanager's webhook (payload version 4).
    Alertmanager,
    /// The generic shape, for CloudWatch, Azure, Datadog, scripts.
    Generic,
    /// Wheelhouse's own detection of a component in outage.
    Wheelhouse,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Alertmanager => "alertmanager",
            AlertSource::Generic => "generic",
            AlertSource::Wheelhouse => "wheelhouse",
        }
    }

    pub fn parse(raw: &str) -> Option<AlertSource> {
        [AlertSource::Alertmanager, AlertSource::Generic, AlertSource::Wheelhouse]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Whether the condition an alert describes holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Result<AlertStatus, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "firing" => Ok(AlertStatus::Firing),
            "resolved" => Ok(AlertStatus::Resolved),
            other => Err(FieldError::new(
                "status",
                format!("unknown status '{}': expected firing or resolved", clip(other, 40)),
            )),
        }
    }
}

/// How urgent an alert is, as the `severity` label of kubernetes-mixin says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    Critical,
    Warning,
    Info,
}

impl AlertSeverity {
    pub const ALL: [AlertSeverity; 3] =
        [AlertSeverity::Critical, AlertSeverity::Warning, AlertSeverity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Critical => "critical",
            AlertSeverity::Warning => "warning",
            AlertSeverity::Info => "info",
        }
    }

    /// Reads a severity label. Monitors spell it many ways; what is not
    /// recognised counts as a warning, so it lands in the inbox rather than
    /// out of sight or paging people.
    pub fn from_label(raw: Option<&str>) -> AlertSeverity {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            Some("critical" | "page" | "error" | "high" | "sev1" | "sev2" | "p1" | "p2") => {
                AlertSeverity::Critical
            }
            Some("info" | "informational" | "none" | "low" | "debug") => AlertSeverity::Info,
            _ => AlertSeverity::Warning,
        }
    }

    /// Reads a severity typed into a form or rule: exactly one of the three names.
    pub fn parse(raw: &str) -> Result<AlertSeverity, FieldError> {
        let wanted = raw.trim().to_ascii_lowercase();
        AlertSeverity::ALL.into_iter().find(|s| s.as_str() == wanted).ok_or_else(|| {
            FieldError::new(
                "severity",
                format!("unknown severity '{}': expected critical, warning or info", clip(&wanted, 40)),
            )
        })
    }
}

impl fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn clip(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// Longest fingerprint or dedup key.
pub const MAX_KEY_CHARS: usize = 200;
/// Most labels, and most annotations, on one alert.
pub const MAX_PAIRS: usize = 64;
/// Longest label or annotation name.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest label value.
pub const MAX_LABEL_VALUE_CHARS: usize = 1_000;
/// Longest annotation value (descriptions can be long).
pub const MAX_ANNOTATION_CHARS: usize = 10_000;
/// Longest title (generic alerts) or alert name.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest URL kept (generator, source, runbook).
pub const MAX_URL_CHARS: usize = 2_000;

/// One alert as a monitor reported it, with its times already read
/// (milliseconds since the Unix epoch). Checked by [`AlertInput::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertInput {
    /// The fingerprint (Alertmanager) or dedup key (generic): repeats share it.
    pub key: String,
    pub status: AlertStatus,
    /// `alertname` for Alertmanager, the title for generic alerts.
    pub name: String,
    pub severity: AlertSeverity,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Option<i64>,
    /// When the monitor says the alert ends; a time in the past means resolved.
    pub ends_at: Option<i64>,
    pub source_url: Option<String>,
}

impl AlertInput {
    /// Refuses what cannot be stored sensibly, naming the field (`prefix` is
    /// the alert's place in the request, e.g. `alerts[3]`). Unknown labels are
    /// fine: they are kept as they are.
    pub fn check(&self, prefix: &str) -> Result<(), AlertInputError> {
        let refuse = |field: &str, message: String| {
            Err(AlertInputError { field: format!("{prefix}.{field}"), message })
        };
        let key = self.key.trim();
        if key.is_empty() {
            return refuse("fingerprint", "The alert has no fingerprint or dedup key.".to_owned());
        }
        if key.chars().count() > MAX_KEY_CHARS {
            return refuse("fingerprint", format!("A fingerprint is at most {MAX_KEY_CHARS} characters."));
        }
        if self.name.trim().is_empty() {
            return refuse("name", "The alert has no name (alertname label or title).".to_owned());
        }
        if self.name.chars().count() > MAX_TITLE_CHARS {
            return refuse("name", format!("An alert name is at most {MAX_TITLE_CHARS} characters."));
        }
        for (what, pairs, longest) in [
            ("labels", &self.labels, MAX_LABEL_VALUE_CHARS),
            ("annotations", &self.annotations, MAX_ANNOTATION_CHARS),
        ] {
            if pairs.len() > MAX_PAIRS {
                return refuse(what, format!("An alert has at most {MAX_PAIRS} {what}."));
            }
            for (name, value) in pairs {
                if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                    return refuse(what, format!("A name in {what} is 1 to {MAX_NAME_CHARS} characters."));
                }
                if value.chars().count() > longest {
                    return refuse(
                        &format!("{what}.{}", clip(name, 60)),
                        format!("A value in {what} is at most {longest} characters."),
                    );
                }
            }
        }
        if self.source_url.as_ref().is_some_and(|u| u.chars().count() > MAX_URL_CHARS) {
            return refuse("source_url", format!("A URL is at most {MAX_URL_CHARS} characters."));
        }
        Ok(())
    }

    /// The status that counts at `now`: a firing alert whose end time has passed is resolved.
    pub fn effective_status(&self, now: i64) -> AlertStatus {
        match (self.status, self.ends_at) {
            (AlertStatus::Firing, Some(end)) if end > 0 && end <= now => AlertStatus::Resolved,
            (status, _) => status,
        }
    }

    /// The `summary` annotation, else `description`, else `message`.
    pub fn summary(&self) -> Option<&str> {
        summary_of(&self.annotations)
    }
}

/// An alert's one-line summary from its annotations: `summary`, else
/// `description`, else `message`.
pub fn summary_of(annotations: &BTreeMap<String, String>) -> Option<&str> {
    ["summary", "description", "message"]
        .into_iter()
        .find_map(|k| annotations.get(k).map(String::as_str).filter(|s| !s.trim().is_empty()))
}

/// A refused field of an alert payload.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AlertInputError {
    pub field: String,
    pub message: String,
}

/// What is kept of one alert between deliveries (times in milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertTrack {
    pub status: AlertStatus,
    pub first_seen: i64,
    pub last_seen: i64,
    /// When the status last changed.
    pub last_change: i64,
    /// How many times it fired again after resolving.
    pub flap_count: u32,
}

/// What one delivery did to an alert's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Never seen before.
    New,
    /// Same status as before: only `last_seen` moves.
    Repeated,
    /// Firing again after it resolved.
    Refired,
    /// Resolved now.
    Resolved,
}

/// Within this long of the previous status change, a change is part of a
/// flap: counted, but not written on an incident's timeline again.
pub const FLAP_QUIET_MS: i64 = 5 * 60_000;

impl AlertTrack {
    /// Folds one delivery with `status` at `now` into the record (`None`: first seen).
    pub fn observe(previous: Option<AlertTrack>, status: AlertStatus, now: i64) -> (AlertTrack, Change) {
        let Some(previous) = previous else {
            let track =
                AlertTrack { status, first_seen: now, last_seen: now, last_change: now, flap_count: 0 };
            return (track, Change::New);
        };
        let mut track = AlertTrack { last_seen: now.max(previous.last_seen), ..previous };
        let change = match (previous.status, status) {
            (AlertStatus::Firing, AlertStatus::Firing) | (AlertStatus::Resolved, AlertStatus::Resolved) => {
                Change::Repeated
            }
            (AlertStatus::Resolved, AlertStatus::Firing) => {
                track.flap_count = track.flap_count.saturating_add(1);
                Change::Refired
            }
            (AlertStatus::Firing, AlertStatus::Resolved) => Change::Resolved,
        };
        if change != Change::Repeated {
            track.status = status;
            track.last_change = now;
        }
        (track, change)
    }

    /// Whether a change at `now` follows the previous one so closely that it is
    /// a flap (the record was `self` before the change).
    pub fn flapping_at(&self, now: i64) -> bool {
        self.flap_count > 0 && now - self.last_change < FLAP_QUIET_MS
    }
}

/// What the component mapping needs to know about the cluster.
pub trait ClusterLookup {
    /// The service component of a workload.
    fn workload_component(&self, namespace: &str, kind: WorkloadKind, name: &str) -> Option<ComponentKey>;
    /// The service component of a pod, through its workload.
    fn pod_component(&self, namespace: &str, pod: &str) -> Option<ComponentKey>;
    /// Whether a node of this name is known.
    fn node_exists(&self, name: &str) -> bool;
}

/// Which component an alert concerns, from its labels: a workload or pod in a
/// namespace maps to the service component whose selector matches it; a node
/// to its node component; control-plane alerts to the platform components.
/// `None`: unmapped (the labels are shown instead).
pub fn component_for(
    name: &str,
    labels: &BTreeMap<String, String>,
    cluster: &impl ClusterLookup,
) -> Option<ComponentKey> {
    if let Some(platform) = control_plane_component(name, labels) {
        return Some(ComponentKey::platform(platform));
    }
    if let Some(namespace) = labels.get("namespace") {
        for (label, kind) in [
            ("deployment", WorkloadKind::Deployment),
            ("statefulset", WorkloadKind::StatefulSet),
            ("daemonset", WorkloadKind::DaemonSet),
        ] {
            if let Some(found) =
                labels.get(label).and_then(|w| cluster.workload_component(namespace, kind, w))
            {
                return Some(found);
            }
        }
        if let Some(found) = labels.get("pod").and_then(|pod| cluster.pod_component(namespace, pod)) {
            return Some(found);
        }
    }
    labels.get("node").filter(|node| cluster.node_exists(node)).map(|node| ComponentKey::node(node))
}

/// The control-plane component an alert is about, by its `component` or
/// `job` label or by its name (KubeAPIDown, etcdMembersDown, KubeSchedulerDown…).
fn control_plane_component(name: &str, labels: &BTreeMap<String, String>) -> Option<&'static str> {
    for label in ["component", "job"] {
        if let Some(value) = labels.get(label) {
            let value = value.to_ascii_lowercase();
            let found = match value.as_str() {
                "apiserver" | "kube-apiserver" => Some("kube-apiserver"),
                "etcd" | "kube-etcd" => Some("etcd"),
                "scheduler" | "kube-scheduler" => Some("kube-scheduler"),
                "controller-manager" | "kube-controller-manager" => Some("kube-controller-manager"),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        }
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("etcd") {
        return Some("etcd");
    }
    if lower.starts_with("kubeapi") || lower.starts_with("kubeclientcertificate") {
        return Some("kube-apiserver");
    }
    if lower.starts_with("kubescheduler") {
        return Some("kube-scheduler");
    }
    if lower.starts_with("kubecontrollermanager") {
        return Some("kube-controller-manager");
    }
    None
}

/// What a routing rule does with the alerts it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "severity", rename_all = "snake_case")]
pub enum Outcome {
    /// Declare an incident of this severity, with no commander until someone takes command.
    Declare(Severity),
    /// Show it in the inbox for a person to decide.
    Inbox,
    /// Keep it, out of the inbox's default view.
    Keep,
}

impl Outcome {
    pub fn describe(self) -> String {
        match self {
            Outcome::Declare(severity) => format!("declare a {severity} incident"),
            Outcome::Inbox => "show in the inbox".to_owned(),
            Outcome::Keep => "keep, not shown by default".to_owned(),
        }
    }
}

/// One rule of the routing policy: every condition given must hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub severity: Option<AlertSeverity>,
    /// The alert's name, exactly (case-insensitive).
    pub alertname: Option<String>,
    /// Whether the alert's component is public (`None`: either, or unmapped).
    pub public_component: Option<bool>,
    pub outcome: Outcome,
}

impl RoutingRule {
    pub fn matches(&self, alert: &RoutedAlert<'_>) -> bool {
        self.severity.is_none_or(|s| s == alert.severity)
            && self.alertname.as_deref().is_none_or(|n| n.eq_ignore_ascii_case(alert.name))
            && self.public_component.is_none_or(|public| alert.public_component == Some(public))
    }

    /// The rule in words, for the admin page.
    pub fn describe(&self) -> String {
        let mut conditions = Vec::new();
        if let Some(severity) = self.severity {
            conditions.push(format!("severity is {severity}"));
        }
        if let Some(name) = &self.alertname {
            conditions.push(format!("alertname is {name}"));
        }
        match self.public_component {
            Some(true) => conditions.push("the component is public".to_owned()),
            Some(false) => conditions.push("the component is not public".to_owned()),
            None => {}
        }
        let when = if conditions.is_empty() { "Any alert".to_owned() } else { conditions.join(" and ") };
        format!("{when}: {}", self.outcome.describe())
    }

    /// Reads a rule as typed into the admin form.
    pub fn parse(form: &RuleForm) -> Result<RoutingRule, FieldError> {
        fn given(v: &str) -> Option<&str> {
            Some(v.trim()).filter(|v| !v.is_empty() && *v != "any")
        }
        let severity = given(&form.severity).map(AlertSeverity::parse).transpose()?;
        let alertname = given(&form.alertname).map(str::to_owned);
        if alertname
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_TITLE_CHARS || n.contains(char::is_whitespace))
        {
            return Err(FieldError::new("alertname", "An alertname is one word of at most 300 characters."));
        }
        let public_component = match given(&form.public_component) {
            None => None,
            Some("public") | Some("true") => Some(true),
            Some("internal") | Some("false") => Some(false),
            Some(other) => {
                return Err(FieldError::new(
                    "public_component",
                    format!("'{}' is not one of any, public, internal.", clip(other, 40)),
                ));
            }
        };
        let outcome = match form.outcome.trim() {
            "declare" => {
                let severity = Severity::parse(&form.declare_severity)
                    .map_err(|e| FieldError::new("declare_severity", e.to_string()))?;
                Outcome::Declare(severity)
            }
            "inbox" => Outcome::Inbox,
            "keep" => Outcome::Keep,
            other => {
                return Err(FieldError::new(
                    "outcome",
                    format!("'{}' is not one of declare, inbox, keep.", clip(other, 40)),
                ));
            }
        };
        Ok(RoutingRule { severity, alertname, public_component, outcome })
    }
}

/// A routing rule as typed: blank or `any` leaves a condition out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub alertname: String,
    /// `any`, `public` or `internal`.
    #[serde(default)]
    pub public_component: String,
    /// `declare`, `inbox` or `keep`.
    #[serde(default)]
    pub outcome: String,
    /// For `declare`: SEV1 to SEV4.
    #[serde(default)]
    pub declare_severity: String,
    /// Where the rule goes, from 1 (first); blank: last.
    #[serde(default)]
    pub position: String,
}

/// The policy Wheelhouse ships with: a critical alert on a public component
/// declares a SEV2; other critical and warning alerts go to the inbox; info
/// alerts are kept but not shown by default.
pub fn default_rules() -> Vec<RoutingRule> {
    let rule = |severity, public_component, outcome| RoutingRule {
        severity: Some(severity),
        alertname: None,
        public_component,
        outcome,
    };
    vec![
        rule(AlertSeverity::Critical, Some(true), Outcome::Declare(Severity::Sev2)),
        rule(AlertSeverity::Critical, None, Outcome::Inbox),
        rule(AlertSeverity::Warning, None, Outcome::Inbox),
        rule(AlertSeverity::Info, None, Outcome::Keep),
    ]
}

/// An alert as the policy sees it.
#[derive(Clone, Copy, Debug)]
pub struct RoutedAlert<'a> {
    pub name: &'a str,
    pub severity: AlertSeverity,
    /// Whether its component is public; `None` when unmapped.
    pub public_component: Option<bool>,
}

/// What the routing decision needs to know beyond the alert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouteContext {
    /// An incident under way that already covers the alert's component.
    pub incident_for_component: Option<i64>,
    /// New alerts in the last minute for the same component (including this one).
    pub new_for_component: u32,
    /// New alerts in the last minute, cluster-wide (including this one).
    pub new_in_cluster: u32,
    /// The latest incident declared from alerts within [`StormGuard::JOIN_WITHIN_MS`] that is still under way.
    pub latest_alert_incident: Option<i64>,
}

/// The storm guard: more than this many new alerts in a minute (for one
/// component, or cluster-wide) attach to one incident instead of opening more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StormGuard {
    pub per_minute: u32,
}

impl StormGuard {
    /// A storm joins an incident declared from alerts this recently, not one from hours ago.
    pub const JOIN_WITHIN_MS: i64 = 10 * 60_000;
}

impl Default for StormGuard {
    fn default() -> Self {
        StormGuard { per_minute: 20 }
    }
}

/// Where an alert goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Declare(Severity),
    Attach(i64),
    Inbox,
    Keep,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Declare(_) => "declared",
            Route::Attach(_) => "attached",
            Route::Inbox => "inbox",
            Route::Keep => "kept",
        }
    }
}

/// Decides where a firing alert goes: the first matching rule's outcome (the
/// inbox when none matches), except that an alert for a component already in
/// an incident under way attaches to it, and in a storm a declaration attaches
/// to the latest incident opened from alerts instead.
pub fn route(
    alert: &RoutedAlert<'_>,
    rules: &[RoutingRule],
    context: &RouteContext,
    guard: StormGuard,
) -> Route {
    let outcome = rules.iter().find(|rule| rule.matches(alert)).map_or(Outcome::Inbox, |rule| rule.outcome);
    if outcome == Outcome::Keep {
        return Route::Keep;
    }
    if let Some(incident) = context.incident_for_component {
        return Route::Attach(incident);
    }
    let Outcome::Declare(severity) = outcome else { return Route::Inbox };
    let storm = context.new_for_component > guard.per_minute || context.new_in_cluster > guard.per_minute;
    match (storm, context.latest_alert_incident) {
        (true, Some(incident)) => Route::Attach(incident),
        _ => Route::Declare(severity),
    }
}

/// An alert as a declaration drawn from it needs it.
#[derive(Clone, Copy, Debug)]
pub struct AlertFacts<'a> {
    pub name: &'a str,
    pub severity: AlertSeverity,
    pub annotations: &'a BTreeMap<String, String>,
    pub labels: &'a BTreeMap<String, String>,
    /// The component's key and name, when mapped.
    pub component: Option<(&'a ComponentKey, &'a str)>,
}

/// The incident severity a person is offered for alerts of this severity.
pub fn suggested_severity(severity: AlertSeverity) -> Severity {
    match severity {
        AlertSeverity::Critical => Severity::Sev2,
        AlertSeverity::Warning => Severity::Sev3,
        AlertSeverity::Info => Severity::Sev4,
    }
}

fn one_line(text: &str, chars: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= chars {
        return line;
    }
    let mut cut: String = line.chars().take(chars.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

/// A declaration prefilled from one alert or a group of them (the first
/// leads): title, severity, category, components and a summary listing each
/// alert with its labels. Used for automatic declarations and for the
/// inbox's "Declare" link alike.
pub fn declaration_from(alerts: &[AlertFacts<'_>], severity: Severity) -> super::incident::DeclarationForm {
    let Some(lead) = alerts.first() else { return super::incident::DeclarationForm::default() };
    let what = summary_of(lead.annotations).unwrap_or(lead.name);
    let title = match (lead.component, alerts.len()) {
        (Some((_, component)), 1) => format!("{component}: {what}"),
        (Some((_, component)), n) => format!("{component}: {what} (+{} more alerts)", n - 1),
        (None, 1) => what.to_owned(),
        (None, n) => format!("{what} (+{} more alerts)", n - 1),
    };
    let mut components: Vec<String> = Vec::new();
    for alert in alerts {
        if let Some((key, _)) = alert.component
            && !components.iter().any(|c| c == key.as_str())
        {
            components.push(key.as_str().to_owned());
        }
    }
    let mut summary = String::new();
    for alert in alerts.iter().take(20) {
        let labels: Vec<String> = alert
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "alertname")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        summary.push_str(&format!("{} ({}): ", alert.name, alert.severity));
        summary.push_str(&one_line(summary_of(alert.annotations).unwrap_or("no summary"), 300));
        if !labels.is_empty() {
            summary.push_str(&format!(" [{}]", one_line(&labels.join(", "), 600)));
        }
        summary.push('\n');
    }
    if alerts.len() > 20 {
        summary.push_str(&format!("and {} more alerts\n", alerts.len() - 20));
    }
    super::incident::DeclarationForm {
        title: one_line(&title, super::incident::MAX_TITLE_CHARS),
        severity: severity.as_str().to_owned(),
        category: category_for(lead.name, lead.component.map(|(key, _)| key)).as_str().to_owned(),
        components,
        summary: summary.trim_end().to_owned(),
        commander: String::new(),
        alerts: String::new(),
    }
}

/// A component as Wheelhouse's own detection sees it.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    pub key: &'a ComponentKey,
    pub name: &'a str,
    pub status: super::health::ComponentStatus,
    /// Since when it has had this status.
    pub since: i64,
    pub reasons: &'a [super::health::Reason],
}

/// Wheelhouse's own detection: a component in major outage (critical) or
/// partial outage (warning) for at least `after_ms` raises a firing alert,
/// keyed by the component and the status, so that a worsening is a new alert.
pub fn own_detection(component: &Observed<'_>, now: i64, after_ms: i64) -> Option<AlertInput> {
    use super::health::ComponentStatus;
    let (name, severity) = match component.status {
        ComponentStatus::MajorOutage => ("ComponentMajorOutage", AlertSeverity::Critical),
        ComponentStatus::PartialOutage => ("ComponentPartialOutage", AlertSeverity::Warning),
        _ => return None,
    };
    if now - component.since < after_ms {
        return None;
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "summary".to_owned(),
        format!(
            "{} has been in {} since {} minutes",
            component.name,
            component.status.as_str().replace('_', " "),
            (now - component.since) / 60_000
        ),
    );
    let reasons: Vec<String> =
        component.reasons.iter().take(20).map(|r| format!("{}: {}", r.subject, r.detail)).collect();
    if !reasons.is_empty() {
        annotations.insert("description".to_owned(), clip(&reasons.join("; "), MAX_ANNOTATION_CHARS));
    }
    let labels: BTreeMap<String, String> = [
        ("alertname".to_owned(), name.to_owned()),
        ("severity".to_owned(), severity.as_str().to_owned()),
        ("component".to_owned(), clip(component.name, MAX_LABEL_VALUE_CHARS)),
    ]
    .into();
    Some(AlertInput {
        key: own_detection_key(component.key, component.status),
        status: AlertStatus::Firing,
        name: name.to_owned(),
        severity,
        labels,
        annotations,
        starts_at: Some(component.since),
        ends_at: None,
        source_url: None,
    })
}

/// The key of Wheelhouse's own alert for a component in a status.
pub fn own_detection_key(component: &ComponentKey, status: super::health::ComponentStatus) -> String {
    format!("{component}:{}", status.as_str())
}

/// A guess at an incident's category from an alert's name, for the prefilled declaration.
pub fn category_for(name: &str, component: Option<&ComponentKey>) -> Category {
    let lower = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&["memory", "cpu", "disk", "quota", "capacity", "oom", "full", "pressure", "throttl"]) {
        Category::ResourceExhaustion
    } else if has(&["node", "kubelet"])
        || component.is_some_and(|c| c.kind() == super::component::ComponentKind::Node)
    {
        Category::InfrastructureNode
    } else if has(&["network", "dns", "latency", "endpoint", "ingress", "connect", "unreachable"]) {
        Category::Networking
    } else if has(&["cert", "security", "unauthori", "forbidden"]) {
        Category::Security
    } else if has(&["imagepull", "config", "mismatch"]) {
        Category::Misconfiguration
    } else {
        Category::ApplicationFailure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    struct Cluster;

    impl ClusterLookup for Cluster {
        fn workload_component(
            &self,
            namespace: &str,
            kind: WorkloadKind,
            name: &str,
        ) -> Option<ComponentKey> {
            (namespace == "shop" && kind == WorkloadKind::Deployment && name == "checkout")
                .then(|| ComponentKey::service(2))
        }
        fn pod_component(&self, namespace: &str, pod: &str) -> Option<ComponentKey> {
            (namespace == "shop" && pod.starts_with("checkout-")).then(|| ComponentKey::service(2))
        }
        fn node_exists(&self, name: &str) -> bool {
            name == "worker-1"
        }
    }

    fn input() -> AlertInput {
        AlertInput {
            key: "abc123".into(),
            status: AlertStatus::Firing,
            name: "KubePodCrashLooping".into(),
            severity: AlertSeverity::Warning,
            labels: labels(&[("alertname", "KubePodCrashLooping")]),
            annotations: BTreeMap::new(),
            starts_at: Some(1_000),
            ends_at: None,
            source_url: None,
        }
    }

    #[test]
    fn severity_labels_are_read_generously_and_unknown_ones_land_in_the_inbox() {
        assert_eq!(AlertSeverity::from_label(Some("Critical")), AlertSeverity::Critical);
        assert_eq!(AlertSeverity::from_label(Some("none")), AlertSeverity::Info);
        assert_eq!(AlertSeverity::from_label(Some("sparkly")), AlertSeverity::Warning);
        assert_eq!(AlertSeverity::from_label(None), AlertSeverity::Warning);
        assert_eq!(AlertSeverity::parse("sparkly").unwrap_err().field, "severity");
    }

    #[test]
    fn an_end_time_in_the_past_resolves_a_firing_alert_but_alertmanagers_zero_time_does_not() {
        let mut alert = input();
        alert.ends_at = Some(5_000);
        assert_eq!(alert.effective_status(4_000), AlertStatus::Firing);
        assert_eq!(alert.effective_status(5_000), AlertStatus::Resolved);
        // 0001-01-01T00:00:00Z, Alertmanager's "no end", is before 1970.
        alert.ends_at = Some(-62_135_596_800_000);
        assert_eq!(alert.effective_status(4_000), AlertStatus::Firing);
    }

    #[test]
    fn a_check_names_the_field_and_the_alert() {
        let mut alert = input();
        alert.key = " ".into();
        assert_eq!(alert.check("alerts[3]").unwrap_err().field, "alerts[3].fingerprint");
        let mut alert = input();
        alert.annotations.insert("description".into(), "x".repeat(MAX_ANNOTATION_CHARS + 1));
        assert_eq!(alert.check("alerts[0]").unwrap_err().field, "alerts[0].annotations.description");
        let mut alert = input();
        alert.labels.insert("some_label_nobody_knows".into(), "kept".into());
        assert!(alert.check("alerts[0]").is_ok(), "unknown labels are kept");
    }

    #[test]
    fn repeats_move_last_seen_only_and_a_refire_counts_as_a_flap() {
        let (first, change) = AlertTrack::observe(None, AlertStatus::Firing, 100);
        assert_eq!(change, Change::New);
        let (repeat, change) = AlertTrack::observe(Some(first), AlertStatus::Firing, 200);
        assert_eq!(change, Change::Repeated);
        assert_eq!((repeat.first_seen, repeat.last_seen, repeat.last_change), (100, 200, 100));
        let (resolved, change) = AlertTrack::observe(Some(repeat), AlertStatus::Resolved, 300);
        assert_eq!(change, Change::Resolved);
        assert_eq!(resolved.last_change, 300);
        let (again, change) = AlertTrack::observe(Some(resolved), AlertStatus::Firing, 400);
        assert_eq!((change, again.flap_count), (Change::Refired, 1));
        assert!(again.flapping_at(500), "a second change within the quiet time is a flap");
        assert!(!again.flapping_at(400 + FLAP_QUIET_MS));
    }

    #[test]
    fn flapping_many_times_a_minute_stays_one_record_with_a_count() {
        let mut track = AlertTrack::observe(None, AlertStatus::Firing, 0).0;
        for i in 1..=20 {
            let status = if i % 2 == 0 { AlertStatus::Firing } else { AlertStatus::Resolved };
            track = AlertTrack::observe(Some(track), status, i * 1_000).0;
        }
        assert_eq!((track.flap_count, track.first_seen, track.status), (10, 0, AlertStatus::Firing));
    }

    #[test]
    fn labels_map_to_service_node_and_platform_components() {
        let deployment = labels(&[("namespace", "shop"), ("deployment", "checkout")]);
        assert_eq!(
            component_for("KubeDeploymentReplicasMismatch", &deployment, &Cluster),
            Some(ComponentKey::service(2))
        );
        let pod = labels(&[("namespace", "shop"), ("pod", "checkout-7d9f-abcde"), ("container", "app")]);
        assert_eq!(component_for("KubePodCrashLooping", &pod, &Cluster), Some(ComponentKey::service(2)));
        let node = labels(&[("node", "worker-1")]);
        assert_eq!(component_for("KubeNodeNotReady", &node, &Cluster), Some(ComponentKey::node("worker-1")));
        assert_eq!(component_for("KubeNodeNotReady", &labels(&[("node", "gone")]), &Cluster), None);
        assert_eq!(
            component_for("etcdMembersDown", &labels(&[("job", "etcd")]), &Cluster),
            Some(ComponentKey::platform("etcd"))
        );
        assert_eq!(
            component_for("KubeAPIErrorBudgetBurn", &BTreeMap::new(), &Cluster),
            Some(ComponentKey::platform("kube-apiserver"))
        );
        assert_eq!(
            component_for("KubeSchedulerDown", &BTreeMap::new(), &Cluster),
            Some(ComponentKey::platform("kube-scheduler"))
        );
        let unknown = labels(&[("namespace", "shop"), ("deployment", "unknown")]);
        assert_eq!(component_for("KubeDeploymentReplicasMismatch", &unknown, &Cluster), None);
    }

    fn alert(severity: AlertSeverity, public: Option<bool>) -> RoutedAlert<'static> {
        RoutedAlert { name: "KubePodCrashLooping", severity, public_component: public }
    }

    #[test]
    fn the_default_policy_declares_critical_on_public_and_sends_the_rest_to_the_inbox() {
        let rules = default_rules();
        let quiet = RouteContext { new_for_component: 1, new_in_cluster: 1, ..RouteContext::default() };
        let guard = StormGuard::default();
        assert_eq!(
            route(&alert(AlertSeverity::Critical, Some(true)), &rules, &quiet, guard),
            Route::Declare(Severity::Sev2)
        );
        assert_eq!(route(&alert(AlertSeverity::Critical, Some(false)), &rules, &quiet, guard), Route::Inbox);
        assert_eq!(route(&alert(AlertSeverity::Critical, None), &rules, &quiet, guard), Route::Inbox);
        assert_eq!(route(&alert(AlertSeverity::Warning, Some(true)), &rules, &quiet, guard), Route::Inbox);
        assert_eq!(route(&alert(AlertSeverity::Info, Some(true)), &rules, &quiet, guard), Route::Keep);
        assert_eq!(
            route(&alert(AlertSeverity::Warning, None), &[], &quiet, guard),
            Route::Inbox,
            "no rule: inbox"
        );
    }

    #[test]
    fn an_alert_for_a_component_in_an_incident_attaches_to_it() {
        let context = RouteContext { incident_for_component: Some(7), ..RouteContext::default() };
        let rules = default_rules();
        let guard = StormGuard::default();
        assert_eq!(
            route(&alert(AlertSeverity::Critical, Some(true)), &rules, &context, guard),
            Route::Attach(7)
        );
        assert_eq!(
            route(&alert(AlertSeverity::Warning, Some(true)), &rules, &context, guard),
            Route::Attach(7)
        );
        assert_eq!(route(&alert(AlertSeverity::Info, Some(true)), &rules, &context, guard), Route::Keep);
    }

    #[test]
    fn in_a_storm_declarations_attach_to_the_latest_alert_incident() {
        let rules = default_rules();
        let guard = StormGuard { per_minute: 5 };
        let storm =
            RouteContext { new_in_cluster: 6, latest_alert_incident: Some(3), ..RouteContext::default() };
        assert_eq!(
            route(&alert(AlertSeverity::Critical, Some(true)), &rules, &storm, guard),
            Route::Attach(3)
        );
        let storm_without_incident = RouteContext { latest_alert_incident: None, ..storm };
        assert_eq!(
            route(&alert(AlertSeverity::Critical, Some(true)), &rules, &storm_without_incident, guard),
            Route::Declare(Severity::Sev2),
            "the first declaration of a storm opens the incident the rest attach to"
        );
        let calm = RouteContext { new_in_cluster: 5, ..storm };
        assert_eq!(
            route(&alert(AlertSeverity::Critical, Some(true)), &rules, &calm, guard),
            Route::Declare(Severity::Sev2)
        );
    }

    #[test]
    fn rules_are_read_from_the_form_and_described_in_words() {
        let form = RuleForm {
            severity: "warning".into(),
            alertname: "KubeNodeNotReady".into(),
            public_component: "any".into(),
            outcome: "declare".into(),
            declare_severity: "SEV3".into(),
            position: String::new(),
        };
        let rule = RoutingRule::parse(&form).unwrap();
        assert_eq!(rule.outcome, Outcome::Declare(Severity::Sev3));
        assert_eq!(
            rule.describe(),
            "severity is warning and alertname is KubeNodeNotReady: declare a SEV3 incident"
        );
        let bad = RuleForm { outcome: "page".into(), ..form.clone() };
        assert_eq!(RoutingRule::parse(&bad).unwrap_err().field, "outcome");
        let bad = RuleForm { declare_severity: "SEV9".into(), ..form };
        assert_eq!(RoutingRule::parse(&bad).unwrap_err().field, "declare_severity");
    }

    #[test]
    fn a_declaration_is_prefilled_from_the_alerts_and_parses() {
        let annotations: BTreeMap<String, String> =
            [("summary".to_owned(), "Pod shop/checkout-1 is crash looping.".to_owned())].into();
        let pod =
            labels(&[("alertname", "KubePodCrashLooping"), ("namespace", "shop"), ("pod", "checkout-1")]);
        let key = ComponentKey::service(2);
        let lead = AlertFacts {
            name: "KubePodCrashLooping",
            severity: AlertSeverity::Critical,
            annotations: &annotations,
            labels: &pod,
            component: Some((&key, "Checkout")),
        };
        let form = declaration_from(&[lead, lead], suggested_severity(AlertSeverity::Critical));
        assert_eq!(form.title, "Checkout: Pod shop/checkout-1 is crash looping. (+1 more alerts)");
        assert_eq!(form.components, vec!["service/2".to_owned()]);
        assert!(
            form.summary.contains("KubePodCrashLooping (critical): Pod shop/checkout-1"),
            "{}",
            form.summary
        );
        assert!(form.summary.contains("namespace=shop"));
        let declaration = super::super::incident::Declaration::parse(&form).unwrap();
        assert_eq!(declaration.severity, Severity::Sev2);
        let long = "x".repeat(500);
        let annotations: BTreeMap<String, String> = [("summary".to_owned(), long)].into();
        let form = declaration_from(
            &[AlertFacts { annotations: &annotations, component: None, ..lead }],
            Severity::Sev3,
        );
        assert!(
            super::super::incident::Declaration::parse(&form).is_ok(),
            "a long summary is cut to a title"
        );
    }

    #[test]
    fn own_detection_fires_after_the_set_time_and_only_for_outages() {
        use super::super::health::{ComponentStatus, Reason};
        let key = ComponentKey::service(2);
        let reasons =
            [Reason { subject: "pod shop/checkout-1".into(), detail: "waiting: CrashLoopBackOff".into() }];
        let component = Observed {
            key: &key,
            name: "Checkout",
            status: ComponentStatus::MajorOutage,
            since: 0,
            reasons: &reasons,
        };
        assert_eq!(own_detection(&component, 119_999, 120_000), None, "not yet");
        let alert = own_detection(&component, 120_000, 120_000).unwrap();
        assert_eq!((alert.key.as_str(), alert.severity), ("service/2:major_outage", AlertSeverity::Critical));
        assert!(alert.annotations["description"].contains("CrashLoopBackOff"));
        assert!(alert.check("own").is_ok());
        let partial = Observed { status: ComponentStatus::PartialOutage, ..component };
        assert_eq!(own_detection(&partial, 500_000, 120_000).unwrap().severity, AlertSeverity::Warning);
        let degraded = Observed { status: ComponentStatus::DegradedPerformance, ..component };
        assert_eq!(own_detection(&degraded, 500_000, 120_000), None);
    }

    #[test]
    fn categories_are_guessed_from_the_alert_name() {
        assert_eq!(category_for("KubeNodeNotReady", None), Category::InfrastructureNode);
        assert_eq!(category_for("KubeMemoryOvercommit", None), Category::ResourceExhaustion);
        assert_eq!(category_for("KubePodCrashLooping", None), Category::ApplicationFailure);
        assert_eq!(
            category_for("KubeContainerWaiting", Some(&ComponentKey::node("w"))),
            Category::InfrastructureNode
        );
    }
}
