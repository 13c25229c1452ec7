//! Containment actions: what can be done to the cluster during an incident,
//! the checked form of each request, its undo, its lifecycle
//! (planned → previewed → executing → succeeded | failed → undone), who may
//! confirm one, and failures in plain words. No Kubernetes types here: the
//! server's actuator turns an [`ActionSpec`] into API calls.

use super::incident::FieldError;
use super::incident::IncidentRole;
use super::incident_lifecycle::{Actor, IncidentState, Refusal};
pub use super::object_name::{ObjectName, Replicas};
use super::role::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A kind of workload: what the health rules watch and the actions scale or restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }

    pub fn parse(raw: &str) -> Option<WorkloadKind> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Some(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Some(WorkloadKind::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }
}

/// What to do. Names are checked as Kubernetes names; whether the object
/// exists is for the preview to find out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionSpec {
    Cordon {
        node: ObjectName,
    },
    Uncordon {
        node: ObjectName,
    },
    Drain {
        node: ObjectName,
    },
    Scale {
        kind: WorkloadKind,
        namespace: ObjectName,
        name: ObjectName,
        replicas: Replicas,
    },
    Restart {
        kind: WorkloadKind,
        namespace: ObjectName,
        name: ObjectName,
    },
    /// Back to the previous revision, as `kubectl rollout undo`.
    Rollback {
        namespace: ObjectName,
        name: ObjectName,
    },
    /// To a recorded revision (the undo of a rollback).
    RollbackTo {
        namespace: ObjectName,
        name: ObjectName,
        revision: u64,
    },
    Pause {
        namespace: ObjectName,
        name: ObjectName,
    },
    Resume {
        namespace: ObjectName,
        name: ObjectName,
    },
    IsolatePod {
        namespace: ObjectName,
        name: ObjectName,
    },
    /// The undo of isolating a pod: its labels back, its fence removed.
    ReleasePod {
        namespace: ObjectName,
        name: ObjectName,
        labels: BTreeMap<String, String>,
        policy: String,
    },
    IsolateNamespace {
        namespace: ObjectName,
    },
    /// The undo of isolating a namespace (or a pod's fence on its own).
    DeletePolicy {
        namespace: ObjectName,
        policy: String,
    },
    DeletePod {
        namespace: ObjectName,
        name: ObjectName,
    },
}

/// The largest replica count accepted, as a guard against a typo.
pub const MAX_REPLICAS: u32 = Replicas::MAX;

/// An action as typed into the picker form or sent to the API, before checking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub action: String,
    /// A node name, for node actions.
    #[serde(default)]
    pub node: String,
    /// `deployment/shop/checkout`, `statefulset/db/pg`, for workload actions.
    #[serde(default)]
    pub workload: String,
    /// `shop/checkout-7d9f-x2x`, for pod actions.
    #[serde(default)]
    pub pod: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub replicas: String,
}

/// The actions a person may plan (the others are undos).
pub const PLANNABLE: [&str; 11] = [
    "cordon",
    "uncordon",
    "drain",
    "scale",
    "restart",
    "rollback",
    "pause",
    "resume",
    "isolate_pod",
    "isolate_namespace",
    "delete_pod",
];

/// A DNS-1123 name: what Kubernetes accepts for nodes, namespaces and most objects.
pub fn parse_name(field: &'static str, what: &str, raw: &str) -> Result<ObjectName, FieldError> {
    ObjectName::parse_field(field, what, raw)
}

/// Splits `namespace/name` (pods) or `kind/namespace/name` (workloads).
fn split_path(raw: &str, parts: usize) -> Option<Vec<&str>> {
    let pieces: Vec<&str> = raw.trim().split('/').collect();
    (pieces.len() == parts).then_some(pieces)
}

fn workload_of(form: &ActionForm) -> Result<(WorkloadKind, ObjectName, ObjectName), FieldError> {
    let bad = || FieldError::new("workload", "Choose a workload as kind/namespace/name.");
    let pieces = split_path(&form.workload, 3).ok_or_else(bad)?;
    let kind = WorkloadKind::parse(pieces[0]).ok_or_else(bad)?;
    Ok((
        kind,
        parse_name("workload", "namespace", pieces[1])?,
        parse_name("workload", "workload", pieces[2])?,
    ))
}

fn pod_of(form: &ActionForm) -> Result<(ObjectName, ObjectName), FieldError> {
    let pieces =
        split_path(&form.pod, 2).ok_or_else(|| FieldError::new("pod", "Choose a pod as namespace/name."))?;
    Ok((parse_name("pod", "namespace", pieces[0])?, parse_name("pod", "pod", pieces[1])?))
}

fn deployment_of(form: &ActionForm) -> Result<(ObjectName, ObjectName), FieldError> {
    match workload_of(form)? {
        (WorkloadKind::Deployment, namespace, name) => Ok((namespace, name)),
        _ => Err(FieldError::new("workload", "Only a Deployment can be rolled back, paused or resumed.")),
    }
}

impl ActionSpec {
    pub fn parse(form: &ActionForm) -> Result<ActionSpec, FieldError> {
        let node = || parse_name("node", "node", &form.node);
        Ok(match form.action.trim() {
            "cordon" => ActionSpec::Cordon { node: node()? },
            "uncordon" => ActionSpec::Uncordon { node: node()? },
            "drain" => ActionSpec::Drain { node: node()? },
            "scale" => {
                let (kind, namespace, name) = workload_of(form)?;
                if kind == WorkloadKind::DaemonSet {
                    return Err(FieldError::new(
                        "workload",
                        "A DaemonSet runs one pod per node; it cannot be scaled.",
                    ));
                }
                let replicas = Replicas::parse(&form.replicas)?;
                ActionSpec::Scale { kind, namespace, name, replicas }
            }
            "restart" => {
                let (kind, namespace, name) = workload_of(form)?;
                ActionSpec::Restart { kind, namespace, name }
            }
            "rollback" => {
                let (namespace, name) = deployment_of(form)?;
                ActionSpec::Rollback { namespace, name }
            }
            "pause" => {
                let (namespace, name) = deployment_of(form)?;
                ActionSpec::Pause { namespace, name }
            }
            "resume" => {
                let (namespace, name) = deployment_of(form)?;
                ActionSpec::Resume { namespace, name }
            }
            "isolate_pod" => {
                let (namespace, name) = pod_of(form)?;
                ActionSpec::IsolatePod { namespace, name }
            }
            "delete_pod" => {
                let (namespace, name) = pod_of(form)?;
                ActionSpec::DeletePod { namespace, name }
            }
            "isolate_namespace" => ActionSpec::IsolateNamespace {
                namespace: parse_name("namespace", "namespace", &form.namespace)?,
            },
            "" => return Err(FieldError::new("action", "Choose an action.")),
            other => {
                return Err(FieldError::new(
                    "action",
                    format!(
                        "unknown action '{}': expected one of {}",
                        other.chars().take(40).collect::<String>(),
                        PLANNABLE.join(", ")
                    ),
                ));
            }
        })
    }

    /// The stored name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            ActionSpec::Cordon { .. } => "cordon",
            ActionSpec::Uncordon { .. } => "uncordon",
            ActionSpec::Drain { .. } => "drain",
            ActionSpec::Scale { .. } => "scale",
            ActionSpec::Restart { .. } => "restart",
            ActionSpec::Rollback { .. } => "rollback",
            ActionSpec::RollbackTo { .. } => "rollback_to",
            ActionSpec::Pause { .. } => "pause",
            ActionSpec::Resume { .. } => "resume",
            ActionSpec::IsolatePod { .. } => "isolate_pod",
            ActionSpec::ReleasePod { .. } => "release_pod",
            ActionSpec::IsolateNamespace { .. } => "isolate_namespace",
            ActionSpec::DeletePolicy { .. } => "delete_policy",
            ActionSpec::DeletePod { .. } => "delete_pod",
        }
    }

    /// The undo an action has before it runs, when it needs nothing recorded
    /// from the run itself (see [`UndoPlan`] for those that do).
    pub fn static_undo(&self) -> Option<ActionSpec> {
        match self {
            ActionSpec::Cordon { node } | ActionSpec::Drain { node } => {
                Some(ActionSpec::Uncordon { node: node.clone() })
            }
            ActionSpec::Uncordon { node } => Some(ActionSpec::Cordon { node: node.clone() }),
            ActionSpec::Pause { namespace, name } => {
                Some(ActionSpec::Resume { namespace: namespace.clone(), name: name.clone() })
            }
            ActionSpec::Resume { namespace, name } => {
                Some(ActionSpec::Pause { namespace: namespace.clone(), name: name.clone() })
            }
            _ => None,
        }
    }

    /// Whether confirming it needs a second person: draining a node, deleting
    /// a pod, isolating a namespace, scaling to zero.
    pub fn needs_second_person(&self) -> bool {
        match self {
            ActionSpec::Drain { .. } | ActionSpec::DeletePod { .. } | ActionSpec::IsolateNamespace { .. } => {
                true
            }
            ActionSpec::Scale { replicas, .. } => replicas.get() == 0,
            _ => false,
        }
    }

    /// The namespace it acts in; `None` for node actions.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            ActionSpec::Cordon { .. } | ActionSpec::Uncordon { .. } | ActionSpec::Drain { .. } => None,
            ActionSpec::Scale { namespace, .. }
            | ActionSpec::Restart { namespace, .. }
            | ActionSpec::Rollback { namespace, .. }
            | ActionSpec::RollbackTo { namespace, .. }
            | ActionSpec::Pause { namespace, .. }
            | ActionSpec::Resume { namespace, .. }
            | ActionSpec::IsolatePod { namespace, .. }
            | ActionSpec::ReleasePod { namespace, .. }
            | ActionSpec::IsolateNamespace { namespace }
            | ActionSpec::DeletePolicy { namespace, .. }
            | ActionSpec::DeletePod { namespace, .. } => Some(namespace.as_str()),
        }
    }

    /// Whether running it changes pods now (drives the warning in the preview).
    pub fn disrupts_pods(&self) -> bool {
        !matches!(
            self,
            ActionSpec::Cordon { .. }
                | ActionSpec::Uncordon { .. }
                | ActionSpec::Pause { .. }
                | ActionSpec::Resume { .. }
                | ActionSpec::DeletePolicy { .. }
        )
    }
}

impl fmt::Display for ActionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionSpec::Cordon { node } => write!(f, "cordon node {node}"),
            ActionSpec::Uncordon { node } => write!(f, "uncordon node {node}"),
            ActionSpec::Drain { node } => write!(f, "drain node {node}"),
            ActionSpec::Scale { kind, namespace, name, replicas } => {
                write!(f, "scale {} {namespace}/{name} to {replicas}", kind.as_str())
            }
            ActionSpec::Restart { kind, namespace, name } => {
                write!(f, "restart {} {namespace}/{name}", kind.as_str())
            }
            ActionSpec::Rollback { namespace, name } => {
                write!(f, "roll back deployment {namespace}/{name} to its previous revision")
            }
            ActionSpec::RollbackTo { namespace, name, revision } => {
                write!(f, "roll deployment {namespace}/{name} to revision {revision}")
            }
            ActionSpec::Pause { namespace, name } => {
                write!(f, "pause the rollout of deployment {namespace}/{name}")
            }
            ActionSpec::Resume { namespace, name } => {
                write!(f, "resume the rollout of deployment {namespace}/{name}")
            }
            ActionSpec::IsolatePod { namespace, name } => write!(f, "isolate pod {namespace}/{name}"),
            ActionSpec::ReleasePod { namespace, name, .. } => {
                write!(f, "release isolated pod {namespace}/{name}")
            }
            ActionSpec::IsolateNamespace { namespace } => write!(f, "isolate namespace {namespace}"),
            ActionSpec::DeletePolicy { namespace, policy } => {
                write!(f, "delete network policy {namespace}/{policy}")
            }
            ActionSpec::DeletePod { namespace, name } => write!(f, "delete pod {namespace}/{name}"),
        }
    }
}

/// Where an action is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Planned,
    Previewed,
    Executing,
    Succeeded,
    Failed,
    Undone,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Planned => "planned",
            ActionStatus::Previewed => "previewed",
            ActionStatus::Executing => "executing",
            ActionStatus::Succeeded => "succeeded",
            ActionStatus::Failed => "failed",
            ActionStatus::Undone => "undone",
        }
    }

    pub fn parse(raw: &str) -> Option<ActionStatus> {
        [
            ActionStatus::Planned,
            ActionStatus::Previewed,
            ActionStatus::Executing,
            ActionStatus::Succeeded,
            ActionStatus::Failed,
            ActionStatus::Undone,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Whether `actor` may confirm (or undo) containment actions on this incident:
/// the commander, the operations lead, or an admin. Viewers never may.
pub fn may_act(state: &IncidentState, actor: &Actor) -> Result<(), Refusal> {
    if !actor.role.satisfies(Role::Responder) {
        return Err(Refusal::NotPermitted("Viewers cannot act on the cluster.".into()));
    }
    let holds = |role| actor.person.as_ref().is_some_and(|p| state.holds(p.id, role));
    if actor.role.satisfies(Role::Admin)
        || holds(IncidentRole::IncidentCommander)
        || holds(IncidentRole::OperationsLead)
    {
        return Ok(());
    }
    Err(Refusal::NotPermitted(
        "Only the incident commander, the operations lead or an admin may confirm or undo actions.".into(),
    ))
}

/// Namespaces where only an admin may confirm actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyPolicy {
    pub protected_namespaces: Vec<String>,
}

impl SafetyPolicy {
    /// `kube-system`, and the namespace Wheelhouse itself runs in (when it runs in the cluster).
    pub fn new(own_namespace: Option<&str>) -> SafetyPolicy {
        let mut protected_namespaces = vec!["kube-system".to_owned()];
        protected_namespaces.extend(own_namespace.filter(|ns| *ns != "kube-system").map(str::to_owned));
        SafetyPolicy { protected_namespaces }
    }

    pub fn protects<'a>(&self, spec: &'a ActionSpec) -> Option<&'a str> {
        spec.namespace().filter(|ns| self.protected_namespaces.iter().any(|p| p == ns))
    }
}

/// Whether `actor` may confirm (or undo, with the undo's spec) `spec`, which
/// `planned_by` planned: [`may_act`], then an admin for a protected namespace,
/// then a second person for the actions that need one, unless an admin
/// waived that rule for the incident.
pub fn may_confirm(
    state: &IncidentState,
    actor: &Actor,
    spec: &ActionSpec,
    planned_by: &str,
    policy: &SafetyPolicy,
) -> Result<(), Refusal> {
    may_act(state, actor)?;
    if let Some(namespace) = policy.protects(spec)
        && !actor.role.satisfies(Role::Admin)
    {
        return Err(Refusal::NotPermitted(format!(
            "Namespace {namespace} is protected: only an admin may confirm actions in it."
        )));
    }
    if spec.needs_second_person() && !state.two_person_waived && actor.name == planned_by {
        return Err(Refusal::NotPermitted(format!(
            "This action ({spec}) needs a second person: someone other than {planned_by} (the incident \
             commander, the operations lead or an admin) confirms it. An admin may waive this rule for the \
             incident, with a reason."
        )));
    }
    Ok(())
}

/// Checks a step of an action's lifecycle.
pub fn check_step(status: ActionStatus, step: Step, incident_resolved: bool) -> Result<(), Refusal> {
    let invalid = |m: &str| Err(Refusal::Invalid(m.to_owned()));
    match step {
        Step::Preview if matches!(status, ActionStatus::Planned | ActionStatus::Previewed) => Ok(()),
        Step::Preview => invalid("This action has run already; plan a new one to preview again."),
        Step::Confirm if incident_resolved => {
            invalid("The incident is resolved; reopen it before acting on the cluster.")
        }
        Step::Confirm if status == ActionStatus::Previewed => Ok(()),
        Step::Confirm if status == ActionStatus::Planned => {
            invalid("Preview the action before confirming it.")
        }
        Step::Confirm => invalid("This action has run already."),
        Step::Undo if status == ActionStatus::Succeeded => Ok(()),
        Step::Undo if status == ActionStatus::Undone => invalid("This action was undone already."),
        Step::Undo => invalid("Only an action that succeeded can be undone."),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Preview,
    Confirm,
    Undo,
}

/// Why an action failed, from the API's answer, in words for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ActionFailure {
    /// The API server could not be reached or did not answer.
    Unreachable,
    /// 403: Wheelhouse's service account lacks the permission.
    Forbidden { detail: String },
    /// 404: the object is gone.
    NotFound { detail: String },
    /// 409: someone else changed it meanwhile (after one re-read and retry where safe).
    Conflict { detail: String },
    /// 422: the API refused the change as invalid.
    Invalid { detail: String },
    /// Anything else the API answered.
    Other { status: u16, detail: String },
}

impl ActionFailure {
    /// Classifies an API error answer. `detail` is Wheelhouse's own words about
    /// the object, if any: never the API server's message, which goes to the log.
    pub fn from_status(status: u16, detail: &str) -> ActionFailure {
        let detail = detail.chars().take(500).collect::<String>();
        match status {
            403 => ActionFailure::Forbidden { detail },
            404 => ActionFailure::NotFound { detail },
            409 => ActionFailure::Conflict { detail },
            422 => ActionFailure::Invalid { detail },
            503 => ActionFailure::Unreachable,
            _ => ActionFailure::Other { status, detail },
        }
    }

    pub fn plain_words(&self) -> String {
        let words = match self {
            ActionFailure::Unreachable => {
                "The Kubernetes API could not be reached; nothing was changed. Try again when the cluster answers."
                    .to_owned()
            }
            ActionFailure::Forbidden { detail } => format!(
                "Kubernetes refused: Wheelhouse's service account is not allowed to do this (see deploy/kubernetes/base/rbac.yaml). {detail}"
            ),
            ActionFailure::NotFound { detail } => format!("The object no longer exists. {detail}"),
            ActionFailure::Conflict { detail } => format!(
                "The cluster's current state conflicts with the change (someone else changed the object, or it exists already); nothing was changed. {detail}"
            ),
            ActionFailure::Invalid { detail } => format!("Kubernetes refused the change as invalid. {detail}"),
            ActionFailure::Other { status, detail } => format!("Kubernetes answered {status}. {detail}"),
        };
        words.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> ObjectName {
        ObjectName::parse(name).unwrap()
    }
    use crate::incident::Severity;
    use crate::incident_lifecycle::{Person, TimelineEvent, apply};

    fn form(action: &str) -> ActionForm {
        ActionForm { action: action.into(), ..ActionForm::default() }
    }

    #[test]
    fn a_node_action_needs_a_valid_node_name() {
        let spec = ActionSpec::parse(&ActionForm { node: " worker-1 ".into(), ..form("cordon") }).unwrap();
        assert_eq!(spec, ActionSpec::Cordon { node: n("worker-1") });
        assert_eq!(ActionSpec::parse(&form("drain")).unwrap_err().field, "node");
        assert!(ActionSpec::parse(&ActionForm { node: "Worker_1".into(), ..form("drain") }).is_err());
    }

    #[test]
    fn scaling_reads_kind_namespace_name_and_a_bounded_count() {
        let spec = ActionSpec::parse(&ActionForm {
            workload: "deployment/shop/checkout".into(),
            replicas: "5".into(),
            ..form("scale")
        })
        .unwrap();
        assert_eq!(
            spec,
            ActionSpec::Scale {
                kind: WorkloadKind::Deployment,
                namespace: n("shop"),
                name: n("checkout"),
                replicas: Replicas::recorded(5)
            }
        );
        let too_many = ActionForm {
            workload: "deployment/shop/checkout".into(),
            replicas: "100000".into(),
            ..form("scale")
        };
        assert_eq!(ActionSpec::parse(&too_many).unwrap_err().field, "replicas");
        let daemonset = ActionForm {
            workload: "daemonset/kube-system/kube-proxy".into(),
            replicas: "1".into(),
            ..form("scale")
        };
        assert_eq!(ActionSpec::parse(&daemonset).unwrap_err().field, "workload");
    }

    #[test]
    fn only_deployments_roll_back() {
        let sts = ActionForm { workload: "statefulset/db/pg".into(), ..form("rollback") };
        assert!(ActionSpec::parse(&sts).unwrap_err().message.contains("Deployment"));
    }

    #[test]
    fn an_unknown_action_lists_the_known_ones() {
        let error = ActionSpec::parse(&form("reboot")).unwrap_err();
        assert_eq!(error.field, "action");
        assert!(error.message.contains("isolate_namespace"));
    }

    #[test]
    fn simple_actions_know_their_undo_before_running() {
        let cordon = ActionSpec::Cordon { node: n("n") };
        assert_eq!(cordon.static_undo(), Some(ActionSpec::Uncordon { node: n("n") }));
        assert_eq!(
            ActionSpec::Drain { node: n("n") }.static_undo(),
            Some(ActionSpec::Uncordon { node: n("n") })
        );
        assert_eq!(ActionSpec::DeletePod { namespace: n("a"), name: n("b") }.static_undo(), None);
    }

    #[test]
    fn the_lifecycle_wants_a_preview_before_confirming_and_undoes_only_success() {
        assert!(check_step(ActionStatus::Planned, Step::Preview, false).is_ok());
        assert!(check_step(ActionStatus::Planned, Step::Confirm, false).is_err());
        assert!(check_step(ActionStatus::Previewed, Step::Confirm, false).is_ok());
        assert!(
            check_step(ActionStatus::Previewed, Step::Confirm, true).is_err(),
            "not on a resolved incident"
        );
        assert!(check_step(ActionStatus::Succeeded, Step::Confirm, false).is_err());
        assert!(check_step(ActionStatus::Succeeded, Step::Undo, false).is_ok());
        assert!(check_step(ActionStatus::Failed, Step::Undo, false).is_err());
        assert!(check_step(ActionStatus::Undone, Step::Undo, false).is_err());
        assert!(check_step(ActionStatus::Succeeded, Step::Preview, false).is_err());
    }

    #[test]
    fn the_commander_the_operations_lead_and_admins_act_others_do_not() {
        let ic = Person { id: 1, email: "ic@x".into() };
        let mut state = IncidentState::declared(Severity::Sev2, ic, 0);
        apply(
            &mut state,
            &TimelineEvent::RoleAssigned {
                person: Person { id: 2, email: "ops@x".into() },
                role: IncidentRole::OperationsLead,
            },
            0,
        );
        assert!(may_act(&state, &Actor::account(1, "ic@x", Role::Responder)).is_ok());
        assert!(may_act(&state, &Actor::account(2, "ops@x", Role::Responder)).is_ok());
        assert!(may_act(&state, &Actor::account(3, "sre@x", Role::Responder)).is_err());
        assert!(may_act(&state, &Actor::account(4, "boss@x", Role::Admin)).is_ok());
        assert!(may_act(&state, &Actor::account(5, "exec@x", Role::Viewer)).is_err());
        assert!(may_act(&state, &Actor::token("bot", Role::Responder)).is_err());
    }

    #[test]
    fn destructive_actions_need_a_second_person_unless_an_admin_waived_the_rule() {
        let ic = Person { id: 1, email: "ic@x".into() };
        let mut state = IncidentState::declared(Severity::Sev2, ic, 0);
        apply(
            &mut state,
            &TimelineEvent::RoleAssigned {
                person: Person { id: 2, email: "ops@x".into() },
                role: IncidentRole::OperationsLead,
            },
            0,
        );
        let policy = SafetyPolicy::new(Some("wheelhouse"));
        let drain = ActionSpec::Drain { node: n("worker-1") };
        let commander = Actor::account(1, "ic@x", Role::Responder);
        let ops = Actor::account(2, "ops@x", Role::Responder);
        let refusal = may_confirm(&state, &commander, &drain, "ic@x", &policy).unwrap_err();
        assert!(refusal.to_string().contains("needs a second person"), "{refusal}");
        assert!(may_confirm(&state, &ops, &drain, "ic@x", &policy).is_ok(), "the operations lead confirms");
        let cordon = ActionSpec::Cordon { node: n("worker-1") };
        assert!(may_confirm(&state, &commander, &cordon, "ic@x", &policy).is_ok(), "cordoning alone is fine");
        let to_zero = ActionSpec::Scale {
            kind: WorkloadKind::Deployment,
            namespace: n("shop"),
            name: n("cart"),
            replicas: crate::object_name::Replicas::parse("0").unwrap(),
        };
        assert!(to_zero.needs_second_person());
        assert!(may_confirm(&state, &commander, &to_zero, "ic@x", &policy).is_err());
        apply(&mut state, &TimelineEvent::TwoPersonRuleWaived { reason: "alone at 3 a.m.".into() }, 5);
        assert!(may_confirm(&state, &commander, &drain, "ic@x", &policy).is_ok(), "break-glass");
    }

    #[test]
    fn protected_namespaces_need_an_admin() {
        let ic = Person { id: 1, email: "ic@x".into() };
        let state = IncidentState::declared(Severity::Sev2, ic, 0);
        let policy = SafetyPolicy::new(Some("wheelhouse"));
        let restart =
            |ns: &str| ActionSpec::Restart { kind: WorkloadKind::Deployment, namespace: n(ns), name: n("x") };
        let commander = Actor::account(1, "ic@x", Role::Responder);
        for ns in ["kube-system", "wheelhouse"] {
            let refusal = may_confirm(&state, &commander, &restart(ns), "someone@x", &policy).unwrap_err();
            assert!(refusal.to_string().contains("protected"), "{refusal}");
            assert!(
                may_confirm(
                    &state,
                    &Actor::account(4, "boss@x", Role::Admin),
                    &restart(ns),
                    "someone@x",
                    &policy
                )
                .is_ok()
            );
        }
        assert!(may_confirm(&state, &commander, &restart("shop"), "someone@x", &policy).is_ok());
    }

    #[test]
    fn failures_read_as_plain_words() {
        assert!(ActionFailure::from_status(403, "nodes is forbidden").plain_words().contains("rbac.yaml"));
        assert!(matches!(ActionFailure::from_status(409, ""), ActionFailure::Conflict { .. }));
        assert!(ActionFailure::Unreachable.plain_words().contains("nothing was changed"));
    }
}
