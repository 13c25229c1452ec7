//! Scheduled maintenance: a window of time in which some components are under
//! maintenance on purpose, with cluster actions planned for its start and its
//! end. The states are Statuspage's: `scheduled` → `in_progress` →
//! `verifying` → `completed`, or `cancelled` before it starts.
//!
//! At its start the window moves to `in_progress` and its start actions run;
//! at its end it moves to `verifying` and its end actions run; once they all
//! succeeded it is `completed`. A failed action never stops the window: the
//! failure is on its record and responders are told. While `in_progress` or
//! `verifying`, its components show `under_maintenance`.

use crate::action::{ActionSpec, SafetyPolicy};
use crate::calendar::parse_moment;
use crate::component::ComponentKey;
use crate::component_health::ComponentHealth;
use crate::health::{Assessment, ComponentStatus, Reason};
use crate::incident::{FieldError, bounded_text, named_enum};
use crate::incident_lifecycle::{Actor, Refusal};
use crate::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceState {
    Scheduled,
    InProgress,
    Verifying,
    Completed,
    Cancelled,
}

named_enum!(MaintenanceState, "maintenance state", {
    Scheduled => "scheduled",
    InProgress => "in_progress",
    Verifying => "verifying",
    Completed => "completed",
    Cancelled => "cancelled",
});

impl MaintenanceState {
    pub fn label(self) -> &'static str {
        match self {
            MaintenanceState::Scheduled => "Scheduled",
            MaintenanceState::InProgress => "In progress",
            MaintenanceState::Verifying => "Verifying",
            MaintenanceState::Completed => "Completed",
            MaintenanceState::Cancelled => "Cancelled",
        }
    }

    /// Whether its components are under maintenance now.
    pub fn active(self) -> bool {
        matches!(self, MaintenanceState::InProgress | MaintenanceState::Verifying)
    }

    /// Whether nothing more happens to it.
    pub fn finished(self) -> bool {
        matches!(self, MaintenanceState::Completed | MaintenanceState::Cancelled)
    }
}

/// When a planned action runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Start,
    End,
}

named_enum!(Phase, "phase", {
    Start => "start",
    End => "end",
});

/// A planned action's progress: planned (previewed with a dry run when
/// scheduled), confirmed by someone allowed to, then run at its phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedStatus {
    Planned,
    Confirmed,
    Executing,
    Succeeded,
    Failed,
    Undone,
    /// Never confirmed by the time its phase came: not run.
    Skipped,
}

named_enum!(PlannedStatus, "planned action status", {
    Planned => "planned",
    Confirmed => "confirmed",
    Executing => "executing",
    Succeeded => "succeeded",
    Failed => "failed",
    Undone => "undone",
    Skipped => "skipped",
});

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
/// The longest window accepted, as a guard against a typo in a date.
pub const LONGEST_MS: i64 = 14 * 24 * 3600 * 1000;

/// The schedule form as typed (times in UTC, `2026-12-31T14:05`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    /// Component keys (`node/worker-3`, `service/4`); in a form, one field per ticked box.
    #[serde(default)]
    pub components: Vec<String>,
}

/// A checked window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowInput {
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub components: Vec<ComponentKey>,
}

impl WindowForm {
    /// Checks the form at `now`; `known` says whether a component key exists.
    pub fn parse(&self, now: i64, known: impl Fn(&ComponentKey) -> bool) -> Result<WindowInput, FieldError> {
        let title = bounded_text("title", "A title", &self.title, TITLE_MAX, true)?;
        let description =
            bounded_text("description", "The public description", &self.description, DESCRIPTION_MAX, false)?;
        let starts_at = parse_moment("starts_at", &self.starts_at)?;
        let ends_at = parse_moment("ends_at", &self.ends_at)?;
        check_times(starts_at, ends_at, now)?;
        let mut components = Vec::new();
        for raw in self.components.iter().flat_map(|c| c.split(',')).map(str::trim).filter(|c| !c.is_empty())
        {
            let key = ComponentKey::parse(raw).filter(|key| known(key)).ok_or_else(|| {
                FieldError::new("components", format!("There is no component \u{201c}{raw}\u{201d}."))
            })?;
            if !components.contains(&key) {
                components.push(key);
            }
        }
        if components.is_empty() {
            return Err(FieldError::new("components", "Choose the components the maintenance concerns."));
        }
        Ok(WindowInput { title, description, starts_at, ends_at, components })
    }
}

/// A window ends after it starts, lasts at most [`LONGEST_MS`], and ends in the future.
pub fn check_times(starts_at: i64, ends_at: i64, now: i64) -> Result<(), FieldError> {
    if ends_at <= starts_at {
        return Err(FieldError::new("ends_at", "The end must be after the start."));
    }
    if ends_at - starts_at > LONGEST_MS {
        return Err(FieldError::new("ends_at", "A maintenance window lasts at most 14 days."));
    }
    if ends_at <= now {
        return Err(FieldError::new("ends_at", "The end is in the past."));
    }
    Ok(())
}

/// What is due for a window at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Move to `in_progress` and run the start actions.
    Start,
    /// Move to `verifying` and run the end actions.
    End,
    Nothing,
}

pub fn due(state: MaintenanceState, starts_at: i64, ends_at: i64, now: i64) -> Due {
    match state {
        MaintenanceState::Scheduled if now >= starts_at => Due::Start,
        MaintenanceState::InProgress if now >= ends_at => Due::End,
        _ => Due::Nothing,
    }
}

/// What a person may do to a window by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Manual {
    /// Change its title, description, times or components.
    Edit,
    /// Call it off before it starts.
    Cancel,
    /// Start it now rather than at its start.
    StartNow,
    /// End it now rather than at its end ("run its end early").
    EndNow,
    /// Mark it completed after verifying (when an end action failed).
    Complete,
}

/// Whether `actor` may do `step` to a window in `state`: responders and
/// admins, and only in the states where the step means something.
pub fn may(actor: &Actor, state: MaintenanceState, step: Manual) -> Result<(), Refusal> {
    if !actor.role.satisfies(Role::Responder) {
        return Err(Refusal::NotPermitted("Viewers cannot change maintenance windows.".into()));
    }
    let allowed = match step {
        Manual::Edit => matches!(state, MaintenanceState::Scheduled | MaintenanceState::InProgress),
        Manual::Cancel | Manual::StartNow => state == MaintenanceState::Scheduled,
        Manual::EndNow => state == MaintenanceState::InProgress,
        Manual::Complete => state == MaintenanceState::Verifying,
    };
    if allowed {
        Ok(())
    } else {
        let what = match step {
            Manual::Edit => "changed",
            Manual::Cancel => "cancelled",
            Manual::StartNow => "started",
            Manual::EndNow => "ended",
            Manual::Complete => "marked completed",
        };
        Err(Refusal::Invalid(format!("A window that is {} cannot be {what}.", state.label().to_lowercase())))
    }
}

/// Whether `actor` may confirm a planned action that `planned_by` planned:
/// a responder or an admin; an admin for a protected namespace; and for the
/// actions that need a second person (drain, delete pod, isolate namespace,
/// scale to zero), someone other than the person who planned it, as for
/// incident actions.
pub fn may_confirm(
    actor: &Actor,
    spec: &ActionSpec,
    planned_by: &str,
    policy: &SafetyPolicy,
) -> Result<(), Refusal> {
    if !actor.role.satisfies(Role::Responder) {
        return Err(Refusal::NotPermitted("Viewers cannot confirm actions on the cluster.".into()));
    }
    if let Some(namespace) = policy.protects(spec)
        && !actor.role.satisfies(Role::Admin)
    {
        return Err(Refusal::NotPermitted(format!(
            "Namespace {namespace} is protected: only an admin may confirm actions in it."
        )));
    }
    if spec.needs_second_person() && actor.name == planned_by {
        return Err(Refusal::NotPermitted(format!(
            "This action ({spec}) needs a second person: someone other than {planned_by} confirms it."
        )));
    }
    Ok(())
}

/// A window as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub state: MaintenanceState,
    pub components: Vec<ComponentKey>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it actually started and ended (by the clock or by hand).
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
}

/// A cluster action planned for a window's start or end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub id: i64,
    pub window_id: i64,
    pub phase: Phase,
    pub spec: ActionSpec,
    pub description: String,
    /// What the dry run said it would change, one line per object, and the pods it moves.
    pub preview: Vec<String>,
    pub pods: usize,
    pub status: PlannedStatus,
    pub planned_by: String,
    pub planned_at: i64,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
    pub result: Option<String>,
    pub failure: Option<String>,
    /// How to undo it, once it ran.
    pub undo: Option<ActionSpec>,
    pub finished_at: Option<i64>,
}

/// One line of a window's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub at: i64,
    pub actor: String,
    pub text: String,
}

/// During a window, its components show `under_maintenance` whatever the
/// cluster says (what the cluster says stays among the reasons, after the
/// window's). `under` holds (component key, window title).
pub fn overlay(healths: &mut [ComponentHealth], under: &[(String, String)]) {
    for health in healths.iter_mut() {
        let titles: Vec<&str> = under
            .iter()
            .filter(|(key, _)| key == health.key.as_str())
            .map(|(_, title)| title.as_str())
            .collect();
        if titles.is_empty() {
            continue;
        }
        let mut reasons: Vec<Reason> = titles
            .iter()
            .map(|title| Reason { subject: "scheduled maintenance".into(), detail: (*title).to_owned() })
            .collect();
        reasons.append(&mut health.assessment.reasons);
        health.assessment = Assessment { status: ComponentStatus::UnderMaintenance, reasons };
    }
}

/// Whether a window belongs on the dashboard's and the briefing's overview at
/// `now`: in progress or verifying, scheduled to start within a week, or
/// ended within a day with `failed` planned actions that failed or were skipped.
pub fn on_overview(window: &Window, failed: usize, now: i64) -> bool {
    const DAY: i64 = 24 * 3600 * 1000;
    window.state.active()
        || (window.state == MaintenanceState::Scheduled && window.starts_at <= now + 7 * DAY)
        || (failed > 0 && window.ended_at.is_some_and(|at| at >= now - DAY))
}

/// How a window reads in one line, for the log, feeds and calendars.
pub fn summary_line(title: &str, starts_at: i64, ends_at: i64) -> String {
    format!("{title}: {} to {}", crate::calendar::date_time(starts_at), crate::calendar::date_time(ends_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overview_shows_active_windows_the_coming_week_and_yesterdays_failures() {
        const DAY: i64 = 24 * 3600 * 1000;
        let now = 100 * DAY;
        let window = |state, starts_at, ended_at| Window {
            id: 1,
            title: "Node work".into(),
            description: String::new(),
            starts_at,
            ends_at: starts_at + 3600 * 1000,
            state,
            components: vec![],
            created_by: "a@example.com".into(),
            created_at: 0,
            updated_at: 0,
            started_at: None,
            ended_at,
        };
        use MaintenanceState::*;
        assert!(on_overview(&window(InProgress, now - DAY, None), 0, now));
        assert!(on_overview(&window(Verifying, now - DAY, None), 0, now));
        assert!(on_overview(&window(Scheduled, now + 6 * DAY, None), 0, now));
        assert!(!on_overview(&window(Scheduled, now + 8 * DAY, None), 0, now), "more than a week away");
        assert!(on_overview(&window(Completed, now - DAY, Some(now - DAY / 2)), 1, now), "a failure today");
        assert!(!on_overview(&window(Completed, now - DAY, Some(now - DAY / 2)), 0, now), "went well");
        assert!(!on_overview(&window(Completed, now - 3 * DAY, Some(now - 2 * DAY)), 1, now), "long ago");
    }
    use crate::action::ActionForm;
    use crate::incident_lifecycle::Person;

    const NOW: i64 = 1_796_000_000_000;

    fn form() -> WindowForm {
        WindowForm {
            title: "Kernel upgrade on worker-3".into(),
            description: "Nodes restart one at a time.".into(),
            starts_at: crate::calendar::date_time_input(NOW + 3_600_000),
            ends_at: crate::calendar::date_time_input(NOW + 7_200_000),
            components: vec!["node/worker-3".into(), "node/worker-3".into()],
        }
    }

    fn actor(name: &str, role: Role) -> Actor {
        Actor { person: Some(Person { id: 1, email: name.into() }), role, name: name.into() }
    }

    #[test]
    fn a_form_becomes_a_window_with_each_component_once() {
        let input = form().parse(NOW, |_| true).unwrap();
        assert_eq!(input.title, "Kernel upgrade on worker-3");
        assert_eq!(input.components, vec![ComponentKey::node("worker-3")]);
        assert_eq!(input.ends_at - input.starts_at, 3_600_000);
    }

    #[test]
    fn bad_forms_name_the_field() {
        let cases = [
            (WindowForm { title: " ".into(), ..form() }, "title"),
            (WindowForm { ends_at: form().starts_at, ..form() }, "ends_at"),
            (WindowForm { starts_at: "tomorrow".into(), ..form() }, "starts_at"),
            (WindowForm { components: vec![], ..form() }, "components"),
            (WindowForm { components: vec!["node/nowhere".into()], ..form() }, "components"),
            (
                WindowForm {
                    starts_at: crate::calendar::date_time_input(NOW - 7_200_000),
                    ends_at: crate::calendar::date_time_input(NOW - 3_600_000),
                    ..form()
                },
                "ends_at",
            ),
        ];
        for (bad, field) in cases {
            let err = bad.parse(NOW, |key| key.as_str() != "node/nowhere").unwrap_err();
            assert_eq!(err.field, field, "{err:?}");
        }
        let long =
            WindowForm { ends_at: crate::calendar::date_time_input(NOW + LONGEST_MS + 7_200_000), ..form() };
        assert_eq!(long.parse(NOW, |_| true).unwrap_err().field, "ends_at");
    }

    #[test]
    fn a_window_starts_at_its_start_and_ends_at_its_end() {
        use MaintenanceState::*;
        assert_eq!(due(Scheduled, 100, 200, 99), Due::Nothing);
        assert_eq!(due(Scheduled, 100, 200, 100), Due::Start);
        assert_eq!(due(InProgress, 100, 200, 150), Due::Nothing);
        assert_eq!(due(InProgress, 100, 200, 200), Due::End);
        for state in [Verifying, Completed, Cancelled] {
            assert_eq!(due(state, 100, 200, 500), Due::Nothing);
        }
        assert!(InProgress.active() && Verifying.active() && !Scheduled.active() && !Completed.active());
    }

    #[test]
    fn manual_steps_fit_the_state_and_viewers_take_none() {
        use MaintenanceState::*;
        let responder = actor("oncall@example.com", Role::Responder);
        assert!(may(&responder, Scheduled, Manual::Cancel).is_ok());
        assert!(may(&responder, InProgress, Manual::Cancel).is_err());
        assert!(may(&responder, InProgress, Manual::EndNow).is_ok());
        assert!(may(&responder, Scheduled, Manual::EndNow).is_err());
        assert!(may(&responder, Verifying, Manual::Complete).is_ok());
        assert!(may(&responder, Completed, Manual::Edit).is_err());
        let viewer = actor("exec@example.com", Role::Viewer);
        assert!(matches!(may(&viewer, Scheduled, Manual::Edit), Err(Refusal::NotPermitted(_))));
    }

    #[test]
    fn a_drain_is_confirmed_by_a_second_person_and_a_protected_namespace_by_an_admin() {
        let policy = SafetyPolicy::new(None);
        let drain = ActionSpec::parse(&ActionForm {
            action: "drain".into(),
            node: "worker-3".into(),
            ..Default::default()
        })
        .unwrap();
        let planner = actor("a@example.com", Role::Admin);
        assert!(
            may_confirm(&planner, &drain, "a@example.com", &policy).is_err(),
            "not the planner, even an admin"
        );
        assert!(
            may_confirm(&actor("b@example.com", Role::Responder), &drain, "a@example.com", &policy).is_ok()
        );
        let cordon = ActionSpec::parse(&ActionForm {
            action: "cordon".into(),
            node: "worker-3".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(
            may_confirm(&planner, &cordon, "a@example.com", &policy).is_ok(),
            "a cordon needs no second person"
        );
        let system = ActionSpec::parse(&ActionForm {
            action: "restart".into(),
            workload: "deployment/kube-system/coredns".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(
            may_confirm(&actor("b@example.com", Role::Responder), &system, "a@example.com", &policy).is_err()
        );
        assert!(may_confirm(&actor("c@example.com", Role::Admin), &system, "a@example.com", &policy).is_ok());
        assert!(
            may_confirm(&actor("v@example.com", Role::Viewer), &cordon, "a@example.com", &policy).is_err()
        );
    }
}
