//! The incident state machine: which commands are allowed, for whom, and the
//! timeline events they produce. [`decide`] never changes anything; [`apply`]
//! folds an accepted event into the state. The store runs both inside one
//! transaction, so the incident row and its timeline cannot disagree.

use super::alert::AlertSeverity;
use super::incident::{IncidentRole, Phase, PublicStatus, Severity, Text};
use super::review::ReviewState;
use super::role::Role;
use super::update::{Audience, Purpose};
use serde::{Deserialize, Serialize};

/// A person known to Wheelhouse, as the timeline names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub email: String,
}

/// Who asks: an account (which may hold roles on the incident) or an API token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The account, or `None` for an API token (which holds no incident roles).
    pub person: Option<Person>,
    /// The account's role, or the token's.
    pub role: Role,
    /// How the timeline names the actor: an e-mail address or `token:NAME`.
    pub name: String,
}

impl Actor {
    pub fn account(id: i64, email: &str, role: Role) -> Actor {
        Actor { person: Some(Person { id, email: email.to_owned() }), role, name: email.to_owned() }
    }

    pub fn token(name: &str, role: Role) -> Actor {
        Actor { person: None, role, name: format!("token:{name}") }
    }
}

/// Someone holding a role on the incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub person: Person,
    pub role: IncidentRole,
}

/// What the rules need to know about an incident. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentState {
    pub severity: Severity,
    pub status: PublicStatus,
    pub phase: Phase,
    pub assignments: Vec<Assignment>,
    pub declared_at: i64,
    pub acknowledged_at: Option<i64>,
    pub contained_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// When stakeholders were last told something (the declaration counts).
    pub last_update_at: i64,
    /// Containment actions under way (issue 6 fills this); an incident cannot be resolved with any.
    pub running_actions: u32,
    /// An admin waived the two-person rule for this incident (break-glass), with a reason on the timeline.
    #[serde(default)]
    pub two_person_waived: bool,
    /// What the public sees as the incident's title; set at the first public update.
    #[serde(default)]
    pub public_title: Option<String>,
    /// The post-incident review; `None` until the incident is first resolved.
    #[serde(default)]
    pub review: Option<ReviewState>,
    /// When publishing the review closed the incident; `None` while open.
    #[serde(default)]
    pub closed_at: Option<i64>,
}

impl IncidentState {
    /// A new incident, commanded by `commander`.
    pub fn declared(severity: Severity, commander: Person, at: i64) -> IncidentState {
        let mut state = IncidentState::declared_without_commander(severity, at);
        state.assignments.push(Assignment { person: commander, role: IncidentRole::IncidentCommander });
        state
    }

    /// A new incident nobody commands yet (declared from an alert), until a responder takes command.
    pub fn declared_without_commander(severity: Severity, at: i64) -> IncidentState {
        IncidentState {
            severity,
            status: PublicStatus::Investigating,
            phase: Phase::Identification,
            assignments: Vec::new(),
            declared_at: at,
            acknowledged_at: None,
            contained_at: None,
            resolved_at: None,
            last_update_at: at,
            running_actions: 0,
            two_person_waived: false,
            public_title: None,
            review: None,
            closed_at: None,
        }
    }

    pub fn commander(&self) -> Option<&Person> {
        self.holders(IncidentRole::IncidentCommander).next()
    }

    pub fn holders(&self, role: IncidentRole) -> impl Iterator<Item = &Person> {
        self.assignments.iter().filter(move |a| a.role == role).map(|a| &a.person)
    }

    pub fn holds(&self, person_id: i64, role: IncidentRole) -> bool {
        self.assignments.iter().any(|a| a.person.id == person_id && a.role == role)
    }

    fn actor_holds(&self, actor: &Actor, role: IncidentRole) -> bool {
        actor.person.as_ref().is_some_and(|p| self.holds(p.id, role))
    }

    fn actor_holds_any(&self, actor: &Actor) -> bool {
        actor.person.as_ref().is_some_and(|p| self.assignments.iter().any(|a| a.person.id == p.id))
    }

    pub fn is_resolved(&self) -> bool {
        self.status == PublicStatus::Resolved
    }

    /// Closed: resolved, and its review published.
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }

    /// When the next stakeholder update is due; `None` when resolved or the severity has no cadence.
    pub fn next_update_due(&self) -> Option<i64> {
        if self.is_resolved() {
            return None;
        }
        self.severity.update_interval_ms().map(|interval| self.last_update_at + interval)
    }

    pub fn update_overdue(&self, now: i64) -> bool {
        self.next_update_due().is_some_and(|due| now > due)
    }
}

/// What someone asks to do to an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The commander takes the incident on; stamps `acknowledged_at`.
    Acknowledge,
    ChangeStatus(PublicStatus),
    ChangePhase(Phase),
    ChangeSeverity(Severity),
    /// Gives `person` a role; the commander role moves from the current holder (a handover).
    Assign {
        person: Person,
        role: IncidentRole,
    },
    /// Takes a role (other than commander) away.
    Unassign {
        person: Person,
        role: IncidentRole,
    },
    AddNote {
        text: Text,
        decision: bool,
    },
    /// Publishes a stakeholder update; a public one may also move the public status to its
    /// purpose's, and sets the public title when one is given (the first public update must).
    PostUpdate {
        audience: Audience,
        purpose: Purpose,
        text: Text,
        move_status: bool,
        public_title: Option<super::incident::IncidentTitle>,
    },
    /// Brings a resolved incident back to `investigating`.
    Reopen,
    /// A responder takes command of an incident nobody commands (one declared from an alert).
    TakeCommand,
    /// An alert concerning the incident fired (attached to it) or resolved.
    RecordAlert {
        alert: AlertNotice,
        resolved: bool,
    },
    /// A responder ticks (or unticks) a step of a playbook's checklist.
    TickStep {
        playbook: String,
        step: usize,
        text: String,
        done: bool,
    },
    /// Break-glass: an admin lets one person plan and confirm the actions that
    /// need a second person, for this incident, saying why.
    WaiveTwoPersonRule {
        reason: Text,
    },
    /// Moves the post-incident review (`draft` → `in_review` → `published`);
    /// publishing it closes the incident.
    MoveReview(ReviewState),
}

/// An alert as an incident's timeline names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertNotice {
    /// The alert's id in Wheelhouse.
    pub alert: i64,
    pub name: String,
    pub severity: AlertSeverity,
    pub summary: Option<String>,
    /// The component key, when the alert maps to one.
    pub component: Option<String>,
}

/// One typed timeline event. Events are only ever appended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineEvent {
    Declared {
        title: String,
        severity: Severity,
        category: super::incident::Category,
        components: Vec<String>,
        summary: String,
        /// `None` when declared from an alert: nobody commands until a responder takes command.
        commander: Option<Person>,
    },
    Acknowledged,
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    StatusChanged {
        from: PublicStatus,
        to: PublicStatus,
    },
    PhaseChanged {
        from: Phase,
        to: Phase,
    },
    RoleAssigned {
        person: Person,
        role: IncidentRole,
    },
    RoleRemoved {
        person: Person,
        role: IncidentRole,
    },
    CommandHandedOver {
        from: Option<Person>,
        to: Person,
    },
    Note {
        text: String,
        decision: bool,
    },
    Reopened {
        phase: Phase,
    },
    /// A stakeholder update was published; the text is kept here, append-only.
    UpdatePosted {
        audience: Audience,
        purpose: Purpose,
        text: String,
    },
    /// A containment action was planned (see [`super::action`]).
    ActionPlanned {
        action: i64,
        description: String,
    },
    ActionExecuted {
        action: i64,
        description: String,
        result: String,
        /// What undoing it would do, in words; `None` when it cannot be undone.
        undo: Option<String>,
    },
    ActionFailed {
        action: i64,
        description: String,
        reason: String,
    },
    ActionUndone {
        action: i64,
        description: String,
        result: String,
    },
    /// An alert fired for the incident (it opened it, or was attached to it).
    AlertReceived(AlertNotice),
    /// An alert attached to the incident resolved.
    AlertResolved(AlertNotice),
    /// An admin waived the two-person rule for this incident.
    TwoPersonRuleWaived {
        reason: String,
    },
    /// The title the public sees was set or changed.
    PublicTitleSet {
        title: String,
    },
    /// Evidence was captured from the cluster (see [`super::evidence`]); the
    /// document is kept apart, immutable, with this digest.
    EvidenceCaptured {
        evidence: i64,
        subject: String,
        sha256: String,
        bytes: u64,
        summary: String,
    },
    /// A step of a playbook's checklist was ticked or unticked.
    PlaybookStepTicked {
        playbook: String,
        step: usize,
        text: String,
        done: bool,
    },
    /// The post-incident review opened (`from: None`, at the first resolution) or moved.
    ReviewStateChanged {
        from: Option<ReviewState>,
        to: ReviewState,
    },
    /// The review was published: the post-incident phase is over.
    Closed,
}

impl TimelineEvent {
    /// The stored name of the event's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            TimelineEvent::Declared { .. } => "declared",
            TimelineEvent::Acknowledged => "acknowledged",
            TimelineEvent::SeverityChanged { .. } => "severity_changed",
            TimelineEvent::StatusChanged { .. } => "status_changed",
            TimelineEvent::PhaseChanged { .. } => "phase_changed",
            TimelineEvent::RoleAssigned { .. } => "role_assigned",
            TimelineEvent::RoleRemoved { .. } => "role_removed",
            TimelineEvent::CommandHandedOver { .. } => "command_handed_over",
            TimelineEvent::Note { .. } => "note",
            TimelineEvent::Reopened { .. } => "reopened",
            TimelineEvent::UpdatePosted { .. } => "update_posted",
            TimelineEvent::ActionPlanned { .. } => "action_planned",
            TimelineEvent::ActionExecuted { .. } => "action_executed",
            TimelineEvent::ActionFailed { .. } => "action_failed",
            TimelineEvent::ActionUndone { .. } => "action_undone",
            TimelineEvent::AlertReceived(_) => "alert_received",
            TimelineEvent::AlertResolved(_) => "alert_resolved",
            TimelineEvent::TwoPersonRuleWaived { .. } => "two_person_rule_waived",
            TimelineEvent::PublicTitleSet { .. } => "public_title_set",
            TimelineEvent::EvidenceCaptured { .. } => "evidence_captured",
            TimelineEvent::PlaybookStepTicked { .. } => "playbook_step_ticked",
            TimelineEvent::ReviewStateChanged { .. } => "review_state_changed",
            TimelineEvent::Closed => "closed",
        }
    }

    /// One line for the timeline.
    pub fn describe(&self) -> String {
        match self {
            TimelineEvent::Declared { title, severity, commander: Some(commander), .. } => {
                format!("Declared {severity} \u{201c}{title}\u{201d}; {} commands", commander.email)
            }
            TimelineEvent::Declared { title, severity, commander: None, .. } => {
                format!("Declared {severity} \u{201c}{title}\u{201d} from an alert; nobody commands it yet")
            }
            TimelineEvent::Acknowledged => "The incident commander acknowledged the incident".to_owned(),
            TimelineEvent::SeverityChanged { from, to } => format!("Severity changed from {from} to {to}"),
            TimelineEvent::StatusChanged { from, to } => format!("Status changed from {from} to {to}"),
            TimelineEvent::PhaseChanged { from, to } => {
                format!("Phase changed from {} to {}", from.label(), to.label())
            }
            TimelineEvent::RoleAssigned { person, role } => {
                format!("{} is now {}", person.email, role.label())
            }
            TimelineEvent::RoleRemoved { person, role } => {
                format!("{} is no longer {}", person.email, role.label())
            }
            TimelineEvent::CommandHandedOver { from: Some(from), to } => {
                format!("Command handed over from {} to {}", from.email, to.email)
            }
            TimelineEvent::CommandHandedOver { from: None, to } => format!("{} took command", to.email),
            TimelineEvent::Note { text, decision: true } => format!("Decision: {text}"),
            TimelineEvent::Note { text, decision: false } => text.clone(),
            TimelineEvent::Reopened { .. } => "Reopened; back to investigating".to_owned(),
            TimelineEvent::UpdatePosted { audience, purpose, text } => {
                format!("{} update ({}) published: {text}", capitalised(audience.as_str()), purpose.label())
            }
            TimelineEvent::ActionPlanned { action, description } => {
                format!("Action #{action} planned: {description}")
            }
            TimelineEvent::ActionExecuted { action, description, result, undo } => match undo {
                Some(undo) => format!("Action #{action} done: {description}. {result} Undo: {undo}."),
                None => format!("Action #{action} done: {description}. {result} It cannot be undone."),
            },
            TimelineEvent::ActionFailed { action, description, reason } => {
                format!("Action #{action} failed: {description}. {reason}")
            }
            TimelineEvent::ActionUndone { action, description, result } => {
                format!("Action #{action} undone: {description}. {result}")
            }
            TimelineEvent::AlertReceived(notice) => match &notice.summary {
                Some(summary) => format!("Alert {} ({}) firing: {summary}", notice.name, notice.severity),
                None => format!("Alert {} ({}) firing", notice.name, notice.severity),
            },
            TimelineEvent::AlertResolved(notice) => format!("Alert {} resolved", notice.name),
            TimelineEvent::PublicTitleSet { title } => format!("Public title: \u{201c}{title}\u{201d}"),
            TimelineEvent::EvidenceCaptured { evidence, subject, sha256, bytes, summary } => format!(
                "Evidence #{evidence} captured from {subject}: {summary} (SHA-256 {}…, {} KiB)",
                sha256.chars().take(12).collect::<String>(),
                bytes.div_ceil(1024)
            ),
            TimelineEvent::PlaybookStepTicked { playbook, step, text, done: true } => {
                format!("Playbook {playbook}, step {}: done — {text}", step + 1)
            }
            TimelineEvent::PlaybookStepTicked { playbook, step, text, done: false } => {
                format!("Playbook {playbook}, step {}: not done after all — {text}", step + 1)
            }
            TimelineEvent::TwoPersonRuleWaived { reason } => {
                format!(
                    "Break-glass: the two-person rule for actions is waived for this incident. Reason: {reason}"
                )
            }
            TimelineEvent::ReviewStateChanged { from: None, .. } => {
                "The post-incident review is open (draft)".to_owned()
            }
            TimelineEvent::ReviewStateChanged { from: Some(_), to } => {
                format!("The post-incident review is now {}", to.label().to_lowercase())
            }
            TimelineEvent::Closed => "Closed: the post-incident review is published".to_owned(),
        }
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor may not do this on this incident.
    #[error("{0}")]
    NotPermitted(String),
    /// The incident is not in a state where this makes sense.
    #[error("{0}")]
    Invalid(String),
}

fn not_permitted(message: &str) -> Refusal {
    Refusal::NotPermitted(message.to_owned())
}

fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::Invalid(message.into())
}

/// Who may do what, beyond being at least a responder (viewers may do nothing):
/// an admin may do anything the commander may.
fn require(
    state: &IncidentState,
    actor: &Actor,
    allowed: &[IncidentRole],
    what: &str,
) -> Result<(), Refusal> {
    if !actor.role.satisfies(Role::Responder) {
        return Err(not_permitted("Viewers cannot change incidents."));
    }
    if actor.role.satisfies(Role::Admin) || allowed.iter().any(|role| state.actor_holds(actor, *role)) {
        return Ok(());
    }
    let holders: Vec<&str> = allowed.iter().map(|r| r.label()).collect();
    Err(Refusal::NotPermitted(format!(
        "Only the {} or an admin may {what}.",
        holders.join(" or ").to_lowercase()
    )))
}

/// Someone holding any role on the incident, or an admin.
pub fn require_any_role(state: &IncidentState, actor: &Actor, what: &str) -> Result<(), Refusal> {
    if !actor.role.satisfies(Role::Responder) {
        return Err(not_permitted("Viewers cannot change incidents."));
    }
    if actor.role.satisfies(Role::Admin) || state.actor_holds_any(actor) {
        return Ok(());
    }
    Err(Refusal::NotPermitted(format!(
        "Only someone holding a role on this incident, or an admin, may {what}."
    )))
}

/// Decides whether `actor` may run `command` on `state` at `now`, and what
/// events it makes. Nothing is changed; see [`apply`]. The first resolution
/// also opens the post-incident review.
pub fn decide(state: &IncidentState, actor: &Actor, command: Command) -> Result<Vec<TimelineEvent>, Refusal> {
    let mut events = decide_command(state, actor, command)?;
    let resolves =
        events.iter().any(|e| matches!(e, TimelineEvent::StatusChanged { to: PublicStatus::Resolved, .. }));
    if resolves && state.review.is_none() {
        events.push(TimelineEvent::ReviewStateChanged { from: None, to: ReviewState::Draft });
    }
    Ok(events)
}

fn decide_command(
    state: &IncidentState,
    actor: &Actor,
    command: Command,
) -> Result<Vec<TimelineEvent>, Refusal> {
    use IncidentRole::*;
    match command {
        Command::Acknowledge => {
            if !actor.role.satisfies(Role::Responder) || !state.actor_holds(actor, IncidentCommander) {
                return Err(not_permitted("Only the incident commander acknowledges the incident."));
            }
            if state.acknowledged_at.is_some() {
                return Err(invalid("The incident is already acknowledged."));
            }
            Ok(vec![TimelineEvent::Acknowledged])
        }
        Command::ChangeStatus(to) => {
            require(state, actor, &[IncidentCommander, CommunicationsLead], "change the status")?;
            let from = state.status;
            if from == to {
                return Err(invalid(format!("The status is already {to}.")));
            }
            if from == PublicStatus::Resolved {
                return Err(invalid(format!(
                    "The incident is resolved; reopen it before moving it to {to}."
                )));
            }
            if to == PublicStatus::Resolved && state.running_actions > 0 {
                return Err(invalid(format!(
                    "{} containment action(s) are still running; wait for them to finish before resolving.",
                    state.running_actions
                )));
            }
            Ok(vec![TimelineEvent::StatusChanged { from, to }])
        }
        Command::ChangePhase(to) => {
            require(state, actor, &[IncidentCommander, OperationsLead], "change the phase")?;
            let from = state.phase;
            if from == to {
                return Err(invalid(format!("The phase is already {}.", to.label())));
            }
            if from == Phase::PostIncident {
                return Err(invalid(
                    "The incident is in post-incident review; reopen it to work on it again.",
                ));
            }
            if to == Phase::PostIncident && !state.is_resolved() {
                return Err(invalid("Resolve the incident before starting the post-incident review."));
            }
            if to < from && state.is_resolved() {
                return Err(invalid("The incident is resolved; reopen it to go back to an earlier phase."));
            }
            Ok(vec![TimelineEvent::PhaseChanged { from, to }])
        }
        Command::ChangeSeverity(to) => {
            require(state, actor, &[IncidentCommander], "change the severity")?;
            if state.severity == to {
                return Err(invalid(format!("The severity is already {to}.")));
            }
            if state.is_resolved() {
                return Err(invalid("The incident is resolved; reopen it to change its severity."));
            }
            Ok(vec![TimelineEvent::SeverityChanged { from: state.severity, to }])
        }
        Command::Assign { person, role } => {
            require(state, actor, &[IncidentCommander], "assign roles")?;
            if state.holds(person.id, role) {
                return Err(invalid(format!("{} is already {}.", person.email, role.label())));
            }
            if role == IncidentCommander {
                let from = state.commander().cloned();
                return Ok(vec![TimelineEvent::CommandHandedOver { from, to: person }]);
            }
            Ok(vec![TimelineEvent::RoleAssigned { person, role }])
        }
        Command::Unassign { person, role } => {
            require(state, actor, &[IncidentCommander], "take roles away")?;
            if role == IncidentCommander {
                return Err(invalid("An incident always has a commander; hand command over instead."));
            }
            if !state.holds(person.id, role) {
                return Err(invalid(format!("{} is not {}.", person.email, role.label())));
            }
            Ok(vec![TimelineEvent::RoleRemoved { person, role }])
        }
        Command::AddNote { text, decision } => {
            if !actor.role.satisfies(Role::Responder) {
                return Err(not_permitted("Viewers cannot add notes."));
            }
            if decision && !actor.role.satisfies(Role::Admin) && !state.actor_holds_any(actor) {
                return Err(not_permitted(
                    "Only someone holding a role on this incident, or an admin, records a decision.",
                ));
            }
            Ok(vec![TimelineEvent::Note { text: text.into_string(), decision }])
        }
        Command::PostUpdate { audience, purpose, text, move_status, public_title } => {
            require(state, actor, &[IncidentCommander, CommunicationsLead], "publish stakeholder updates")?;
            let mut events = Vec::new();
            if audience == Audience::Public {
                match public_title {
                    Some(title) if state.public_title.as_deref() != Some(title.as_str()) => {
                        events.push(TimelineEvent::PublicTitleSet { title: title.as_str().to_owned() });
                    }
                    None if state.public_title.is_none() => {
                        return Err(invalid(
                            "The first public update needs a public title: what customers see instead of the \
                             internal title.",
                        ));
                    }
                    _ => {}
                }
            }
            events.push(TimelineEvent::UpdatePosted { audience, purpose, text: text.into_string() });
            let target = purpose.public_status().filter(|_| move_status && audience == Audience::Public);
            if let Some(to) = target.filter(|to| *to != state.status) {
                if state.is_resolved() {
                    return Err(invalid(format!(
                        "The incident is resolved; reopen it before moving it to {to}."
                    )));
                }
                if to == PublicStatus::Resolved && state.running_actions > 0 {
                    return Err(invalid(
                        "Containment actions are still running; wait for them before resolving.",
                    ));
                }
                events.push(TimelineEvent::StatusChanged { from: state.status, to });
            }
            Ok(events)
        }
        Command::Reopen => {
            require(state, actor, &[IncidentCommander], "reopen the incident")?;
            if !state.is_resolved() {
                return Err(invalid("Only a resolved incident can be reopened."));
            }
            let phase = if state.phase == Phase::PostIncident { Phase::Identification } else { state.phase };
            let mut events = vec![TimelineEvent::Reopened { phase }];
            if state.review == Some(ReviewState::Published) {
                events.push(TimelineEvent::ReviewStateChanged { from: state.review, to: ReviewState::Draft });
            }
            Ok(events)
        }
        Command::TakeCommand => {
            let person = match &actor.person {
                Some(person) if actor.role.satisfies(Role::Responder) => person.clone(),
                Some(_) => return Err(not_permitted("Viewers cannot take command.")),
                None => return Err(not_permitted("An API token cannot command an incident.")),
            };
            if let Some(commander) = state.commander() {
                return Err(invalid(format!(
                    "{} already commands this incident; ask them to hand command over.",
                    commander.email
                )));
            }
            if state.is_resolved() {
                return Err(invalid("The incident is resolved; reopen it before taking command."));
            }
            Ok(vec![TimelineEvent::CommandHandedOver { from: None, to: person }])
        }
        Command::WaiveTwoPersonRule { reason } => {
            if !actor.role.satisfies(Role::Admin) {
                return Err(not_permitted("Only an admin may waive the two-person rule."));
            }
            if state.two_person_waived {
                return Err(invalid("The two-person rule is already waived for this incident."));
            }
            if state.is_resolved() {
                return Err(invalid(
                    "The incident is resolved; reopen it before waiving the two-person rule.",
                ));
            }
            if reason.as_str().trim().is_empty() {
                return Err(invalid("Say why the two-person rule is waived."));
            }
            Ok(vec![TimelineEvent::TwoPersonRuleWaived { reason: reason.into_string() }])
        }
        Command::MoveReview(to) => {
            let Some(from) = state.review else {
                return Err(invalid("The review opens when the incident is resolved."));
            };
            if !state.is_resolved() {
                return Err(invalid("The incident was reopened; resolve it before moving its review."));
            }
            if from == to {
                return Err(invalid(format!("The review is already {}.", to.label().to_lowercase())));
            }
            if from == ReviewState::Published {
                return Err(invalid(
                    "The review is published and the incident closed; reopen the incident to change it.",
                ));
            }
            if to == ReviewState::Published {
                require(state, actor, &[IncidentCommander], "publish the review")?;
                if from != ReviewState::InReview {
                    return Err(invalid("Send the review for review before publishing it."));
                }
                let mut events = vec![TimelineEvent::ReviewStateChanged { from: Some(from), to }];
                if state.phase != Phase::PostIncident {
                    events.push(TimelineEvent::PhaseChanged { from: state.phase, to: Phase::PostIncident });
                }
                events.push(TimelineEvent::Closed);
                return Ok(events);
            }
            require_any_role(state, actor, "move the review")?;
            Ok(vec![TimelineEvent::ReviewStateChanged { from: Some(from), to }])
        }
        Command::TickStep { playbook, step, text, done } => {
            if !actor.role.satisfies(Role::Responder) {
                return Err(not_permitted("Viewers cannot tick playbook steps."));
            }
            Ok(vec![TimelineEvent::PlaybookStepTicked { playbook, step, text, done }])
        }
        Command::RecordAlert { alert, resolved } => {
            if !actor.role.satisfies(Role::Alerts) {
                return Err(not_permitted("Viewers cannot attach alerts."));
            }
            if resolved {
                return Ok(vec![TimelineEvent::AlertResolved(alert)]);
            }
            if state.is_resolved() {
                return Err(invalid(
                    "The incident is resolved; attach the alert to an incident under way, or declare one.",
                ));
            }
            Ok(vec![TimelineEvent::AlertReceived(alert)])
        }
    }
}

/// Folds an accepted event into the state, stamping the key times.
pub fn apply(state: &mut IncidentState, event: &TimelineEvent, at: i64) {
    match event {
        TimelineEvent::UpdatePosted { .. } => state.last_update_at = at,
        // Actions change the cluster, not the incident's own state.
        TimelineEvent::Declared { .. }
        | TimelineEvent::Note { .. }
        | TimelineEvent::ActionPlanned { .. }
        | TimelineEvent::ActionExecuted { .. }
        | TimelineEvent::ActionFailed { .. }
        | TimelineEvent::ActionUndone { .. }
        | TimelineEvent::AlertReceived(_)
        | TimelineEvent::AlertResolved(_)
        | TimelineEvent::EvidenceCaptured { .. }
        | TimelineEvent::PlaybookStepTicked { .. } => {}
        TimelineEvent::TwoPersonRuleWaived { .. } => state.two_person_waived = true,
        TimelineEvent::PublicTitleSet { title } => state.public_title = Some(title.clone()),
        TimelineEvent::Acknowledged => state.acknowledged_at = Some(at),
        TimelineEvent::SeverityChanged { to, .. } => state.severity = *to,
        TimelineEvent::StatusChanged { to, .. } => {
            state.status = *to;
            if *to == PublicStatus::Resolved {
                state.resolved_at = Some(at);
            }
        }
        TimelineEvent::PhaseChanged { to, .. } => {
            state.phase = *to;
            if *to > Phase::Containment && state.contained_at.is_none() {
                state.contained_at = Some(at);
            }
        }
        TimelineEvent::RoleAssigned { person, role } => {
            state.assignments.push(Assignment { person: person.clone(), role: *role })
        }
        TimelineEvent::RoleRemoved { person, role } => {
            state.assignments.retain(|a| !(a.person.id == person.id && a.role == *role))
        }
        TimelineEvent::CommandHandedOver { to, .. } => {
            state.assignments.retain(|a| a.role != IncidentRole::IncidentCommander);
            state
                .assignments
                .insert(0, Assignment { person: to.clone(), role: IncidentRole::IncidentCommander });
        }
        TimelineEvent::Reopened { phase } => {
            state.status = PublicStatus::Investigating;
            state.phase = *phase;
            state.resolved_at = None;
            state.closed_at = None;
        }
        TimelineEvent::ReviewStateChanged { to, .. } => state.review = Some(*to),
        TimelineEvent::Closed => state.closed_at = Some(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentRole::*;

    fn person(id: i64) -> Person {
        Person { id, email: format!("p{id}@example.com") }
    }

    const IC: i64 = 1;
    const COMMS: i64 = 2;
    const OPS: i64 = 3;
    const SCRIBE: i64 = 4;
    const BYSTANDER: i64 = 5;

    fn incident() -> IncidentState {
        let mut state = IncidentState::declared(Severity::Sev2, person(IC), 1_000);
        for (id, role) in [(COMMS, CommunicationsLead), (OPS, OperationsLead), (SCRIBE, Scribe)] {
            apply(&mut state, &TimelineEvent::RoleAssigned { person: person(id), role }, 1_000);
        }
        state
    }

    fn responder(id: i64) -> Actor {
        Actor::account(id, &person(id).email, Role::Responder)
    }

    fn admin() -> Actor {
        Actor::account(99, "admin@example.com", Role::Admin)
    }

    fn viewer() -> Actor {
        Actor::account(98, "exec@example.com", Role::Viewer)
    }

    /// Decides and applies, as the store does.
    fn run(state: &mut IncidentState, actor: &Actor, command: Command, at: i64) -> Result<(), Refusal> {
        for event in decide(state, actor, command)? {
            apply(state, &event, at);
        }
        Ok(())
    }

    fn refused_as_invalid(result: Result<Vec<TimelineEvent>, Refusal>) -> String {
        match result {
            Err(Refusal::Invalid(message)) => message,
            other => panic!("expected an invalid-transition refusal, got {other:?}"),
        }
    }

    fn refused_as_not_permitted(result: Result<Vec<TimelineEvent>, Refusal>) -> String {
        match result {
            Err(Refusal::NotPermitted(message)) => message,
            other => panic!("expected a permission refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_declared_incident_is_investigating_in_identification_with_its_commander() {
        let state = IncidentState::declared(Severity::Sev1, person(IC), 5);
        assert_eq!(state.status, PublicStatus::Investigating);
        assert_eq!(state.phase, Phase::Identification);
        assert_eq!(state.commander(), Some(&person(IC)));
        assert_eq!(state.next_update_due(), Some(5 + 30 * 60_000));
    }

    #[test]
    fn the_commander_acknowledges_once_and_the_time_is_stamped() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::Acknowledge, 2_000).unwrap();
        assert_eq!(state.acknowledged_at, Some(2_000));
        refused_as_invalid(decide(&state, &responder(IC), Command::Acknowledge));
    }

    #[test]
    fn nobody_but_the_commander_acknowledges_not_even_an_admin() {
        let state = incident();
        refused_as_not_permitted(decide(&state, &responder(COMMS), Command::Acknowledge));
        refused_as_not_permitted(decide(&state, &admin(), Command::Acknowledge));
    }

    #[test]
    fn every_forward_status_move_is_allowed_for_the_commander() {
        for from in [PublicStatus::Investigating, PublicStatus::Identified, PublicStatus::Monitoring] {
            for to in PublicStatus::ALL.iter().copied().filter(|to| *to > from) {
                let mut state = incident();
                state.status = from;
                run(&mut state, &responder(IC), Command::ChangeStatus(to), 3_000).unwrap();
                assert_eq!(state.status, to);
            }
        }
    }

    #[test]
    fn an_unresolved_status_may_step_back_when_the_diagnosis_was_wrong() {
        let mut state = incident();
        state.status = PublicStatus::Monitoring;
        run(&mut state, &responder(COMMS), Command::ChangeStatus(PublicStatus::Investigating), 3_000)
            .unwrap();
        assert_eq!(state.status, PublicStatus::Investigating);
    }

    #[test]
    fn the_communications_lead_may_change_the_status_but_the_operations_lead_may_not() {
        let state = incident();
        assert!(decide(&state, &responder(COMMS), Command::ChangeStatus(PublicStatus::Identified)).is_ok());
        let message = refused_as_not_permitted(decide(
            &state,
            &responder(OPS),
            Command::ChangeStatus(PublicStatus::Identified),
        ));
        assert!(message.contains("incident commander or communications lead"), "{message}");
    }

    #[test]
    fn resolving_stamps_resolved_at() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::ChangeStatus(PublicStatus::Resolved), 9_000).unwrap();
        assert_eq!(state.resolved_at, Some(9_000));
        assert_eq!(state.next_update_due(), None);
    }

    #[test]
    fn an_incident_with_a_running_action_cannot_be_resolved() {
        let mut state = incident();
        state.running_actions = 1;
        let message =
            refused_as_invalid(decide(&state, &responder(IC), Command::ChangeStatus(PublicStatus::Resolved)));
        assert!(message.contains("still running"));
    }

    #[test]
    fn a_resolved_incident_does_not_go_back_to_investigating_without_reopening() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::ChangeStatus(PublicStatus::Resolved), 9_000).unwrap();
        for to in [PublicStatus::Investigating, PublicStatus::Identified, PublicStatus::Monitoring] {
            let message = refused_as_invalid(decide(&state, &admin(), Command::ChangeStatus(to)));
            assert!(message.contains("reopen"), "{message}");
        }
    }

    #[test]
    fn the_same_status_again_is_refused() {
        let state = incident();
        refused_as_invalid(decide(
            &state,
            &responder(IC),
            Command::ChangeStatus(PublicStatus::Investigating),
        ));
    }

    #[test]
    fn reopening_returns_to_investigating_and_clears_resolved_at() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::ChangeStatus(PublicStatus::Resolved), 9_000).unwrap();
        run(&mut state, &responder(IC), Command::ChangePhase(Phase::PostIncident), 9_500).unwrap();
        run(&mut state, &responder(IC), Command::Reopen, 10_000).unwrap();
        assert_eq!(state.status, PublicStatus::Investigating);
        assert_eq!(state.phase, Phase::Identification);
        assert_eq!(state.resolved_at, None);
    }

    #[test]
    fn only_a_resolved_incident_can_be_reopened_and_only_by_the_commander_or_an_admin() {
        let mut state = incident();
        refused_as_invalid(decide(&state, &responder(IC), Command::Reopen));
        state.status = PublicStatus::Resolved;
        refused_as_not_permitted(decide(&state, &responder(COMMS), Command::Reopen));
        assert!(decide(&state, &admin(), Command::Reopen).is_ok());
    }

    #[test]
    fn phases_move_forward_for_the_commander_and_the_operations_lead() {
        let mut state = incident();
        run(&mut state, &responder(OPS), Command::ChangePhase(Phase::Containment), 2_000).unwrap();
        assert_eq!(state.contained_at, None, "containment has only begun");
        run(&mut state, &responder(IC), Command::ChangePhase(Phase::Eradication), 3_000).unwrap();
        assert_eq!(state.contained_at, Some(3_000), "leaving containment stamps contained_at");
        run(&mut state, &responder(OPS), Command::ChangePhase(Phase::Recovery), 4_000).unwrap();
        assert_eq!(state.contained_at, Some(3_000), "the first containment time is kept");
        refused_as_not_permitted(decide(
            &state,
            &responder(COMMS),
            Command::ChangePhase(Phase::Identification),
        ));
    }

    #[test]
    fn skipping_containment_still_stamps_contained_at() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::ChangePhase(Phase::Recovery), 4_000).unwrap();
        assert_eq!(state.contained_at, Some(4_000));
    }

    #[test]
    fn an_unresolved_incident_may_go_back_a_phase() {
        let mut state = incident();
        state.phase = Phase::Eradication;
        run(&mut state, &responder(IC), Command::ChangePhase(Phase::Containment), 4_000).unwrap();
        assert_eq!(state.phase, Phase::Containment);
    }

    #[test]
    fn post_incident_needs_a_resolved_incident_and_ends_phase_changes() {
        let mut state = incident();
        refused_as_invalid(decide(&state, &responder(IC), Command::ChangePhase(Phase::PostIncident)));
        state.status = PublicStatus::Resolved;
        run(&mut state, &responder(IC), Command::ChangePhase(Phase::PostIncident), 5_000).unwrap();
        refused_as_invalid(decide(&state, &responder(IC), Command::ChangePhase(Phase::Recovery)));
    }

    #[test]
    fn a_resolved_incident_does_not_go_back_a_phase() {
        let mut state = incident();
        state.phase = Phase::Recovery;
        state.status = PublicStatus::Resolved;
        refused_as_invalid(decide(&state, &responder(IC), Command::ChangePhase(Phase::Containment)));
    }

    #[test]
    fn the_same_phase_again_is_refused() {
        refused_as_invalid(decide(&incident(), &responder(IC), Command::ChangePhase(Phase::Identification)));
    }

    #[test]
    fn severity_changes_are_recorded_and_move_the_cadence() {
        let mut state = incident();
        let events = decide(&state, &responder(IC), Command::ChangeSeverity(Severity::Sev1)).unwrap();
        assert_eq!(events, vec![TimelineEvent::SeverityChanged { from: Severity::Sev2, to: Severity::Sev1 }]);
        apply(&mut state, &events[0], 2_000);
        assert_eq!(state.next_update_due(), Some(1_000 + 30 * 60_000));
        refused_as_invalid(decide(&state, &responder(IC), Command::ChangeSeverity(Severity::Sev1)));
        refused_as_not_permitted(decide(&state, &responder(OPS), Command::ChangeSeverity(Severity::Sev3)));
    }

    #[test]
    fn a_resolved_incident_keeps_its_severity() {
        let mut state = incident();
        state.status = PublicStatus::Resolved;
        refused_as_invalid(decide(&state, &admin(), Command::ChangeSeverity(Severity::Sev1)));
    }

    #[test]
    fn assigning_the_commander_role_is_a_handover_leaving_exactly_one_commander() {
        let mut state = incident();
        let events =
            decide(&state, &responder(IC), Command::Assign { person: person(OPS), role: IncidentCommander })
                .unwrap();
        assert_eq!(
            events,
            vec![TimelineEvent::CommandHandedOver { from: Some(person(IC)), to: person(OPS) }]
        );
        apply(&mut state, &events[0], 2_000);
        assert_eq!(state.holders(IncidentCommander).count(), 1);
        assert_eq!(state.commander(), Some(&person(OPS)));
        assert!(state.holds(OPS, OperationsLead), "the new commander keeps their other roles");
        refused_as_not_permitted(decide(
            &state,
            &responder(IC),
            Command::Assign { person: person(IC), role: Scribe },
        ));
    }

    #[test]
    fn an_admin_may_take_command() {
        let mut state = incident();
        let admin_person = Person { id: 99, email: "admin@example.com".into() };
        run(
            &mut state,
            &admin(),
            Command::Assign { person: admin_person.clone(), role: IncidentCommander },
            2,
        )
        .unwrap();
        assert_eq!(state.commander(), Some(&admin_person));
    }

    #[test]
    fn a_person_may_hold_several_roles_but_not_the_same_one_twice() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::Assign { person: person(COMMS), role: Scribe }, 2).unwrap();
        assert!(state.holds(COMMS, Scribe) && state.holds(COMMS, CommunicationsLead));
        refused_as_invalid(decide(
            &state,
            &responder(IC),
            Command::Assign { person: person(COMMS), role: Scribe },
        ));
    }

    #[test]
    fn only_the_commander_or_an_admin_assigns_roles() {
        let state = incident();
        let assign = || Command::Assign { person: person(BYSTANDER), role: SubjectMatterExpert };
        refused_as_not_permitted(decide(&state, &responder(COMMS), assign()));
        refused_as_not_permitted(decide(&state, &responder(BYSTANDER), assign()));
        assert!(decide(&state, &admin(), assign()).is_ok());
    }

    #[test]
    fn roles_are_taken_away_but_the_commander_role_only_by_handover() {
        let mut state = incident();
        run(&mut state, &responder(IC), Command::Unassign { person: person(SCRIBE), role: Scribe }, 2)
            .unwrap();
        assert!(!state.holds(SCRIBE, Scribe));
        refused_as_invalid(decide(
            &state,
            &responder(IC),
            Command::Unassign { person: person(SCRIBE), role: Scribe },
        ));
        let message = refused_as_invalid(decide(
            &state,
            &admin(),
            Command::Unassign { person: person(IC), role: IncidentCommander },
        ));
        assert!(message.contains("hand command over"));
    }

    #[test]
    fn any_responder_adds_a_note_but_decisions_come_from_role_holders() {
        let state = incident();
        let note = |decision| Command::AddNote { text: Text::note("Rolled back").unwrap(), decision };
        assert!(decide(&state, &responder(BYSTANDER), note(false)).is_ok());
        refused_as_not_permitted(decide(&state, &responder(BYSTANDER), note(true)));
        assert!(decide(&state, &responder(SCRIBE), note(true)).is_ok());
        assert!(decide(&state, &admin(), note(true)).is_ok());
    }

    #[test]
    fn a_viewer_changes_nothing() {
        let state = incident();
        let commands = [
            Command::Acknowledge,
            Command::ChangeStatus(PublicStatus::Identified),
            Command::ChangePhase(Phase::Containment),
            Command::ChangeSeverity(Severity::Sev1),
            Command::Assign { person: person(98), role: Scribe },
            Command::AddNote { text: Text::note("hi").unwrap(), decision: false },
            Command::Reopen,
        ];
        for command in commands {
            refused_as_not_permitted(decide(&state, &viewer(), command));
        }
    }

    #[test]
    fn an_api_token_holds_no_incident_role_so_a_responder_token_only_adds_notes() {
        let state = incident();
        let token = Actor::token("chatops", Role::Responder);
        refused_as_not_permitted(decide(&state, &token, Command::ChangeStatus(PublicStatus::Identified)));
        assert!(
            decide(&state, &token, Command::AddNote { text: Text::note("hi").unwrap(), decision: false })
                .is_ok()
        );
        let admin_token = Actor::token("automation", Role::Admin);
        assert!(decide(&state, &admin_token, Command::ChangeStatus(PublicStatus::Identified)).is_ok());
    }

    #[test]
    fn publishing_an_update_resets_the_cadence_and_a_public_one_may_move_the_status() {
        let mut state = incident();
        let post = |audience, purpose, move_status| Command::PostUpdate {
            audience,
            purpose,
            text: Text::update("We are on it.").unwrap(),
            move_status,
            public_title: Some(crate::incident::IncidentTitle::parse("Slow checkout").unwrap()),
        };
        run(&mut state, &responder(COMMS), post(Audience::Public, Purpose::Identified, true), 60_000)
            .unwrap();
        assert_eq!(state.last_update_at, 60_000);
        assert_eq!(state.status, PublicStatus::Identified);
        run(&mut state, &responder(IC), post(Audience::Internal, Purpose::Monitoring, true), 70_000).unwrap();
        assert_eq!(state.status, PublicStatus::Identified, "only public updates move the public status");
        let events =
            decide(&state, &responder(IC), post(Audience::Public, Purpose::Monitoring, false)).unwrap();
        assert_eq!(events.len(), 1, "moving the status is a choice (the public title is unchanged)");
    }

    #[test]
    fn only_the_commander_or_communications_lead_publishes() {
        let post = Command::PostUpdate {
            audience: Audience::Public,
            purpose: Purpose::Investigating,
            text: Text::update("x").unwrap(),
            move_status: false,
            public_title: None,
        };
        refused_as_not_permitted(decide(&incident(), &responder(OPS), post));
    }

    #[test]
    fn the_first_public_update_sets_the_public_title_and_later_ones_may_change_it() {
        let mut state = incident();
        let post = |title: Option<&str>| Command::PostUpdate {
            audience: Audience::Public,
            purpose: Purpose::Investigating,
            text: Text::update("We are looking into it.").unwrap(),
            move_status: false,
            public_title: title.map(|t| crate::incident::IncidentTitle::parse(t).unwrap()),
        };
        refused_as_invalid(decide(&state, &responder(COMMS), post(None)));
        run(&mut state, &responder(COMMS), post(Some("Slow checkout")), 1).unwrap();
        assert_eq!(state.public_title.as_deref(), Some("Slow checkout"));
        assert_eq!(decide(&state, &responder(COMMS), post(None)).unwrap().len(), 1, "kept");
        let changed = decide(&state, &responder(COMMS), post(Some("Checkout unavailable"))).unwrap();
        assert_eq!(changed[0].kind(), "public_title_set");
    }

    #[test]
    fn an_update_is_overdue_only_after_its_due_time() {
        let state = incident();
        let due = state.next_update_due().unwrap();
        assert!(!state.update_overdue(due));
        assert!(state.update_overdue(due + 1));
    }

    fn notice() -> AlertNotice {
        AlertNotice {
            alert: 4,
            name: "KubePodCrashLooping".into(),
            severity: AlertSeverity::Critical,
            summary: Some("checkout restarts".into()),
            component: Some("service/2".into()),
        }
    }

    #[test]
    fn an_incident_declared_from_an_alert_has_no_commander_until_a_responder_takes_command() {
        let mut state = IncidentState::declared_without_commander(Severity::Sev2, 1_000);
        assert_eq!(state.commander(), None);
        assert!(decide(&state, &viewer(), Command::TakeCommand).is_err());
        let token = Actor::token("am", Role::Responder);
        assert!(matches!(decide(&state, &token, Command::TakeCommand), Err(Refusal::NotPermitted(_))));
        run(&mut state, &responder(OPS), Command::TakeCommand, 2_000).unwrap();
        assert_eq!(state.commander(), Some(&person(OPS)));
        let message = refused_as_invalid(decide(&state, &responder(IC), Command::TakeCommand));
        assert!(message.contains("already commands"), "{message}");
        run(&mut state, &responder(OPS), Command::Acknowledge, 2_500).unwrap();
        assert_eq!(state.acknowledged_at, Some(2_500));
    }

    #[test]
    fn alerts_are_recorded_by_alert_tokens_but_not_attached_to_resolved_incidents() {
        let mut state = incident();
        let token = Actor::token("alertmanager", Role::Alerts);
        let events =
            decide(&state, &token, Command::RecordAlert { alert: notice(), resolved: false }).unwrap();
        assert_eq!(events, vec![TimelineEvent::AlertReceived(notice())]);
        assert!(events[0].describe().contains("KubePodCrashLooping (critical) firing: checkout restarts"));
        assert!(
            decide(&state, &viewer(), Command::RecordAlert { alert: notice(), resolved: false }).is_err()
        );
        run(&mut state, &responder(IC), Command::ChangeStatus(PublicStatus::Resolved), 3_000).unwrap();
        refused_as_invalid(decide(&state, &token, Command::RecordAlert { alert: notice(), resolved: false }));
        let resolved =
            decide(&state, &token, Command::RecordAlert { alert: notice(), resolved: true }).unwrap();
        assert_eq!(resolved[0].kind(), "alert_resolved");
    }

    #[test]
    fn a_stored_declaration_with_a_commander_reads_back_into_the_optional_field() {
        let stored = r#"{"kind":"declared","title":"t","severity":"SEV2","category":"networking","components":[],"summary":"","commander":{"id":1,"email":"a@example.com"}}"#;
        let event: TimelineEvent = serde_json::from_str(stored).unwrap();
        assert!(matches!(event, TimelineEvent::Declared { commander: Some(_), .. }));
    }
}
