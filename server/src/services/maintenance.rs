//! Scheduled maintenance use cases: schedule a window (its planned cluster
//! actions previewed with a dry run first: nothing is stored when one fails),
//! change it, cancel it, start or end it by hand, confirm, and undo its
//! planned actions; and the clock's side (`run_due_maintenance`, run by the
//! leader): start windows at their start and end them at their end, running
//! their confirmed actions with the same actuator as incident actions.
//! A planned action that fails, or was never confirmed, is on the window's
//! log and its page, and the dashboard shows the window until someone looks.

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::maintenance::{MaintenanceError, NewPlanned, Outcome};
use domain::action::{ActionForm, ActionSpec};
use domain::component::ComponentKey;
use domain::incident::FieldError;
use domain::maintenance::{
    Due, LogLine, MaintenanceState, Manual, Phase, PlannedAction, PlannedStatus, Window, WindowForm, may,
    may_confirm,
};
use serde_json::json;

impl From<MaintenanceError> for ServiceError {
    fn from(error: MaintenanceError) -> Self {
        match error {
            MaintenanceError::NotFound(id) => {
                ServiceError::NotFound(format!("There is no maintenance window {id}."))
            }
            MaintenanceError::NoAction(id) => {
                ServiceError::NotFound(format!("There is no planned action {id} on this window."))
            }
            MaintenanceError::Moved(state) => ServiceError::Conflict(format!(
                "The window moved meanwhile (it is {} now); reload and try again.",
                state.replace('_', " ")
            )),
            MaintenanceError::Db(source) => ServiceError::unavailable(
                "The maintenance window could not be saved or read right now; nothing was changed. Try again shortly.",
                &source,
            ),
        }
    }
}

/// One planned action as typed: its phase and the action picker's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlannedForm {
    /// `start` or `end`.
    pub phase: String,
    pub action: ActionForm,
}

/// A window with its planned actions and its log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowDetail {
    pub window: Window,
    pub actions: Vec<PlannedAction>,
    pub log: Vec<LogLine>,
}

/// What the maintenance list shows beside a window: whether something needs a look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowLine {
    pub window: Window,
    /// Planned actions waiting for a confirmation.
    pub unconfirmed: usize,
    /// Planned actions that failed or were skipped.
    pub failed: usize,
}

/// How far back finished windows are listed.
const LISTED_FOR_MS: i64 = 30 * 24 * 3600 * 1000;

impl Services {
    fn known_component(&self) -> impl Fn(&ComponentKey) -> bool + use<> {
        let keys: Vec<ComponentKey> =
            self.live.all_components().into_iter().map(|(_, tile)| tile.key).collect();
        move |key: &ComponentKey| keys.contains(key)
    }

    /// Dry-runs `spec`: what it would change, or why the cluster refused it.
    async fn preview_planned(
        &self,
        spec: &ActionSpec,
        field: &'static str,
    ) -> ServiceResult<serde_json::Value> {
        match self.actuator.dry_run(spec).await {
            Ok(dry) => Ok(json!({"changes": dry.changes, "pods": dry.pods})),
            Err(failure) => Err(ServiceError::Invalid {
                field,
                message: format!("The dry run of \u{201c}{spec}\u{201d} failed: {}", failure.plain_words()),
            }),
        }
    }

    fn parse_planned(forms: &[PlannedForm]) -> ServiceResult<Vec<(Phase, ActionSpec)>> {
        forms
            .iter()
            .filter(|form| !form.action.action.trim().is_empty())
            .map(|form| {
                let phase =
                    Phase::parse(&form.phase).map_err(|e| FieldError::new("phase", format!("{e}")))?;
                let spec = ActionSpec::parse(&form.action)?;
                Ok((phase, spec))
            })
            .collect()
    }

    /// Schedules a window; each planned action is previewed first, and a
    /// failed dry run stores nothing.
    pub async fn schedule_maintenance(
        &self,
        principal: &Principal,
        form: &WindowForm,
        planned: &[PlannedForm],
    ) -> ServiceResult<Window> {
        let actor = principal.actor();
        may(&actor, MaintenanceState::Scheduled, Manual::Edit)?;
        let now = self.clock.now_millis();
        let input = form.parse(now, self.known_component())?;
        let mut actions = Vec::new();
        for (phase, spec) in Self::parse_planned(planned)? {
            let preview = self.preview_planned(&spec, "action").await?;
            actions.push(NewPlanned { phase, description: spec.to_string(), spec, preview });
        }
        let id = self.maintenance.create(&input, &actions, &actor.name, now).await?;
        self.maintenance_changed.notify_one();
        let window = self.maintenance.get(id).await?;
        self.tell_subscribers(&window, MaintenanceState::Scheduled).await;
        Ok(window)
    }

    /// Plans one more action on a window (previewed first).
    pub async fn plan_maintenance_action(
        &self,
        principal: &Principal,
        window_id: i64,
        planned: &PlannedForm,
    ) -> ServiceResult<PlannedAction> {
        let actor = principal.actor();
        let window = self.maintenance.get(window_id).await?;
        may(&actor, window.state, Manual::Edit)?;
        let Some((phase, spec)) = Self::parse_planned(std::slice::from_ref(planned))?.into_iter().next()
        else {
            return Err(ServiceError::invalid("action", "Choose an action."));
        };
        if phase == Phase::Start && window.state != MaintenanceState::Scheduled {
            return Err(ServiceError::invalid("phase", "The window has started: plan actions for its end."));
        }
        let preview = self.preview_planned(&spec, "action").await?;
        let now = self.clock.now_millis();
        let planned = NewPlanned { phase, description: spec.to_string(), spec, preview };
        let id = self.maintenance.add_action(window_id, &planned, &actor.name, now).await?;
        Ok(self.maintenance.action(window_id, id).await?)
    }

    pub async fn edit_maintenance(
        &self,
        principal: &Principal,
        id: i64,
        form: &WindowForm,
    ) -> ServiceResult<Window> {
        let actor = principal.actor();
        let window = self.maintenance.get(id).await?;
        may(&actor, window.state, Manual::Edit)?;
        let now = self.clock.now_millis();
        let mut input = form.parse(now, self.known_component())?;
        if window.state == MaintenanceState::InProgress {
            // It started already: its start stays what it was.
            input.starts_at = window.starts_at;
        }
        self.maintenance.update(id, &input, &actor.name, now).await?;
        self.maintenance_changed.notify_one();
        Ok(self.maintenance.get(id).await?)
    }

    /// Cancels, starts or ends a window by hand, or marks it completed.
    pub async fn move_maintenance(
        &self,
        principal: &Principal,
        id: i64,
        step: Manual,
    ) -> ServiceResult<Window> {
        let actor = principal.actor();
        let window = self.maintenance.get(id).await?;
        may(&actor, window.state, step)?;
        let now = self.clock.now_millis();
        match step {
            Manual::Cancel => {
                self.maintenance
                    .transition(id, window.state, MaintenanceState::Cancelled, &actor.name, "Cancelled.", now)
                    .await?;
            }
            Manual::StartNow => {
                self.start_window(&window, &actor.name, "Started by hand, before its start.").await?
            }
            Manual::EndNow => self.end_window(&window, &actor.name, "Ended by hand, before its end.").await?,
            Manual::Complete => {
                let text = "Marked completed after verifying.";
                self.maintenance
                    .transition(id, window.state, MaintenanceState::Completed, &actor.name, text, now)
                    .await?;
                self.tell_subscribers(&window, MaintenanceState::Completed).await;
            }
            Manual::Edit => return Err(ServiceError::invalid("step", "Edit the window with its form.")),
        }
        self.maintenance_changed.notify_one();
        Ok(self.maintenance.get(id).await?)
    }

    /// Confirms a planned action (it runs at its phase; at once when its phase has come).
    pub async fn confirm_maintenance_action(
        &self,
        principal: &Principal,
        window_id: i64,
        id: i64,
    ) -> ServiceResult<PlannedAction> {
        let actor = principal.actor();
        let window = self.maintenance.get(window_id).await?;
        let action = self.maintenance.action(window_id, id).await?;
        if action.status != PlannedStatus::Planned || window.state.finished() {
            return Err(ServiceError::Conflict(format!(
                "This action is {} and cannot be confirmed.",
                action.status.as_str()
            )));
        }
        may_confirm(&actor, &action.spec, &action.planned_by, &self.safety)?;
        let now = self.clock.now_millis();
        let text = format!("Confirmed: {}.", action.description);
        let moved = self
            .maintenance
            .step_action(
                window_id,
                id,
                PlannedStatus::Planned,
                PlannedStatus::Confirmed,
                &actor.name,
                Outcome::Confirmed,
                &text,
                now,
            )
            .await?;
        if !moved {
            return Err(ServiceError::Conflict("Someone confirmed this action meanwhile.".into()));
        }
        // Its phase came already (a window in progress, an end action after the end): run it now.
        let phase_came = match action.phase {
            Phase::Start => window.state.active(),
            Phase::End => window.state == MaintenanceState::Verifying,
        };
        if phase_came {
            let confirmed = self.maintenance.action(window_id, id).await?;
            self.run_planned(&confirmed, &actor.name).await?;
        }
        Ok(self.maintenance.action(window_id, id).await?)
    }

    /// Undoes a planned action that ran (with its recorded undo).
    pub async fn undo_maintenance_action(
        &self,
        principal: &Principal,
        window_id: i64,
        id: i64,
    ) -> ServiceResult<PlannedAction> {
        let actor = principal.actor();
        let action = self.maintenance.action(window_id, id).await?;
        let Some(undo) = action.undo.clone().filter(|_| action.status == PlannedStatus::Succeeded) else {
            return Err(ServiceError::Conflict(format!(
                "\u{201c}{}\u{201d} cannot be undone now.",
                action.description
            )));
        };
        may_confirm(&actor, &undo, "", &self.safety)?;
        let now = self.clock.now_millis();
        let outcome = self.actuator.execute(&undo, &|_| {}).await;
        let (status, text, failure) = match &outcome {
            Ok(done) => {
                (PlannedStatus::Undone, format!("Undone: {} ({}).", action.description, done.result), None)
            }
            Err(failure) => (
                PlannedStatus::Succeeded,
                format!("The undo of {} failed: {}", action.description, failure.plain_words()),
                Some(failure.plain_words()),
            ),
        };
        let finished = Outcome::Finished {
            result: action.result.as_deref(),
            failure: failure.as_deref(),
            undo: outcome.is_err().then_some(&undo),
        };
        self.maintenance
            .step_action(window_id, id, PlannedStatus::Succeeded, status, &actor.name, finished, &text, now)
            .await?;
        Ok(self.maintenance.action(window_id, id).await?)
    }

    pub async fn maintenance_detail(&self, id: i64) -> ServiceResult<WindowDetail> {
        Ok(WindowDetail {
            window: self.maintenance.get(id).await?,
            actions: self.maintenance.actions(id).await?,
            log: self.maintenance.log_lines(id).await?,
        })
    }

    /// Windows not finished and those finished in the last 30 days, the soonest first.
    pub async fn maintenance_list(&self) -> ServiceResult<Vec<WindowLine>> {
        let since = self.clock.now_millis() - LISTED_FOR_MS;
        let mut lines = Vec::new();
        for window in self.maintenance.list(since).await.map_err(MaintenanceError::Db)? {
            let actions = self.maintenance.actions(window.id).await?;
            let count =
                |wanted: &[PlannedStatus]| actions.iter().filter(|a| wanted.contains(&a.status)).count();
            lines.push(WindowLine {
                unconfirmed: if window.state.finished() { 0 } else { count(&[PlannedStatus::Planned]) },
                failed: count(&[PlannedStatus::Failed, PlannedStatus::Skipped]),
                window,
            });
        }
        Ok(lines)
    }

    /// The clock's side, run by the leader every second: starts and ends what is due.
    pub async fn run_due_maintenance(&self) -> ServiceResult<usize> {
        let now = self.clock.now_millis();
        let due = self.maintenance.due(now).await?;
        let mut moved = 0;
        for window in &due {
            let result = match domain::maintenance::due(window.state, window.starts_at, window.ends_at, now) {
                Due::Start => self.start_window(window, "wheelhouse", "Started at its start.").await,
                Due::End => self.end_window(window, "wheelhouse", "Its end came: verifying.").await,
                Due::Nothing => continue,
            };
            match result {
                Ok(()) => moved += 1,
                // Someone moved it by hand at the same moment: nothing to do.
                Err(ServiceError::Conflict(_)) => {}
                Err(error) => return Err(error),
            }
        }
        if moved > 0 {
            self.maintenance_changed.notify_one();
        }
        Ok(moved)
    }

    /// Subscribers hear when a window is scheduled, starts and completes.
    async fn tell_subscribers(&self, window: &Window, state: MaintenanceState) {
        let notice = domain::subscriber::Notice::Maintenance {
            title: window.title.clone(),
            state: state.as_str().to_owned(),
            when: domain::maintenance::summary_line("From", window.starts_at, window.ends_at)
                .trim_start_matches("From: ")
                .to_owned(),
            description: window.description.clone(),
        };
        let concerned: Vec<String> = window.components.iter().map(|c| c.as_str().to_owned()).collect();
        self.notify_subscribers(&notice, &concerned).await;
    }

    /// `scheduled` → `in_progress`, then its start actions.
    async fn start_window(&self, window: &Window, by: &str, text: &str) -> ServiceResult<()> {
        let now = self.clock.now_millis();
        self.maintenance
            .transition(window.id, MaintenanceState::Scheduled, MaintenanceState::InProgress, by, text, now)
            .await?;
        self.maintenance_changed.notify_one();
        self.tell_subscribers(window, MaintenanceState::InProgress).await;
        self.run_phase(window.id, Phase::Start, by).await?;
        Ok(())
    }

    /// `in_progress` → `verifying`, then its end actions; `completed` when they all succeeded.
    async fn end_window(&self, window: &Window, by: &str, text: &str) -> ServiceResult<()> {
        let now = self.clock.now_millis();
        self.maintenance
            .transition(window.id, MaintenanceState::InProgress, MaintenanceState::Verifying, by, text, now)
            .await?;
        let clean = self.run_phase(window.id, Phase::End, by).await?;
        if clean {
            let now = self.clock.now_millis();
            let text = "Completed: every end action succeeded.";
            self.maintenance
                .transition(
                    window.id,
                    MaintenanceState::Verifying,
                    MaintenanceState::Completed,
                    by,
                    text,
                    now,
                )
                .await?;
            self.tell_subscribers(window, MaintenanceState::Completed).await;
        } else {
            tracing::warn!(
                maintenance.id = window.id,
                "maintenance window left verifying: an end action failed or was not confirmed"
            );
        }
        self.maintenance_changed.notify_one();
        Ok(())
    }

    /// Runs a phase's confirmed actions in order; skips (and logs) those never
    /// confirmed. Answers whether every one succeeded.
    async fn run_phase(&self, window_id: i64, phase: Phase, by: &str) -> ServiceResult<bool> {
        let mut clean = true;
        for action in self.maintenance.actions(window_id).await?.into_iter().filter(|a| a.phase == phase) {
            match action.status {
                PlannedStatus::Confirmed => clean &= self.run_planned(&action, by).await?,
                PlannedStatus::Planned => {
                    clean = false;
                    let now = self.clock.now_millis();
                    let text = format!("Not run: {} was never confirmed.", action.description);
                    let skipped =
                        Outcome::Finished { result: None, failure: Some("never confirmed"), undo: None };
                    self.maintenance
                        .step_action(
                            window_id,
                            action.id,
                            PlannedStatus::Planned,
                            PlannedStatus::Skipped,
                            by,
                            skipped,
                            &text,
                            now,
                        )
                        .await?;
                    tracing::warn!(maintenance.id = window_id, action = %action.spec, "planned maintenance action skipped: never confirmed");
                    self.tell_responders(&action, text).await;
                }
                _ => {}
            }
        }
        Ok(clean)
    }

    /// Runs one confirmed action; records its result or failure. Answers whether it succeeded.
    async fn run_planned(&self, action: &PlannedAction, by: &str) -> ServiceResult<bool> {
        let now = self.clock.now_millis();
        let text = format!("Running: {}.", action.description);
        let claimed = self
            .maintenance
            .step_action(
                action.window_id,
                action.id,
                PlannedStatus::Confirmed,
                PlannedStatus::Executing,
                by,
                Outcome::Started,
                &text,
                now,
            )
            .await?;
        if !claimed {
            return Ok(true);
        }
        let outcome = self.actuator.execute(&action.spec, &|_| {}).await;
        let now = self.clock.now_millis();
        let words = outcome.as_ref().err().map(|failure| failure.plain_words());
        let (status, text) = match (&outcome, &words) {
            (Ok(done), _) => {
                (PlannedStatus::Succeeded, format!("Done: {} ({}).", action.description, done.result))
            }
            (Err(_), words) => (
                PlannedStatus::Failed,
                format!("Failed: {}. {}", action.description, words.as_deref().unwrap_or_default()),
            ),
        };
        let done = outcome.as_ref().ok();
        let finished = Outcome::Finished {
            result: done.map(|d| d.result.as_str()),
            failure: words.as_deref(),
            undo: done.and_then(|d| d.undo.as_ref()),
        };
        self.maintenance
            .step_action(
                action.window_id,
                action.id,
                PlannedStatus::Executing,
                status,
                by,
                finished,
                &text,
                now,
            )
            .await?;
        if let Some(words) = &words {
            tracing::warn!(maintenance.id = action.window_id, action = %action.spec, reason = %words, "planned maintenance action failed");
            self.tell_responders(action, text).await;
        }
        Ok(outcome.is_ok())
    }

    /// Internal webhooks hear of a planned action that failed or was skipped
    /// (the dashboard shows it from the window's record). A failure to queue
    /// is logged: what happened stands.
    async fn tell_responders(&self, action: &PlannedAction, text: String) {
        let title = match self.maintenance.get(action.window_id).await {
            Ok(window) => window.title,
            Err(_) => format!("Maintenance window {}", action.window_id),
        };
        let notice = crate::webhooks::MaintenanceTrouble {
            window_id: action.window_id,
            action_id: action.id,
            title,
            text,
        };
        if let Err(error) = self.webhooks.enqueue_maintenance(&notice).await {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "could not queue the internal webhooks about a failed maintenance action"
            );
        }
    }
}
