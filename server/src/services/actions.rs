//! Containment-action use cases: plan (from a form or a request, parsed here),
//! preview with a server-side dry run, confirm or undo once per idempotency
//! key, and reading them. Kubernetes refusals arrive here already in plain
//! words (the actuator logs the API's own text); nothing raw goes further.

use super::Principal;
use super::{ServiceError, ServiceResult, Services};
use crate::actions::{ActionError, ActionRecord};
use domain::action::{ActionFailure, ActionForm, ActionSpec};

impl From<ActionError> for ServiceError {
    fn from(error: ActionError) -> Self {
        match error {
            ActionError::NotFound(id) => {
                ServiceError::NotFound(format!("There is no action {id} on this incident."))
            }
            ActionError::Incident(error) => error.into(),
            ActionError::Refused(refusal) => refusal.into(),
            ActionError::DryRunFailed(failure) => {
                let message = format!("The dry run failed: {}", failure.plain_words());
                match failure {
                    ActionFailure::Unreachable => ServiceError::Unavailable { message, error_id: None },
                    ActionFailure::NotFound { .. } => ServiceError::NotFound(message),
                    _ => ServiceError::Refused(message),
                }
            }
            ActionError::Field { field, message } => ServiceError::Invalid { field, message },
            ActionError::NotRegistered => ServiceError::Unavailable {
                message: "This Wheelhouse replica cannot reach the cluster's Lease API yet, so it cannot \
                          run actions; nothing was done. Try again shortly."
                    .into(),
                error_id: None,
            },
            ActionError::Db(source) => ServiceError::unavailable(
                "The action could not be recorded right now; nothing was done. Try again shortly.",
                &source,
            ),
        }
    }
}

/// Confirm or undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Confirm,
    Undo,
}

impl Services {
    /// Plans an action (any responder may propose one); with `preview`, runs
    /// its dry run straight away (the room's one-click plan and preview).
    #[tracing::instrument(skip_all, fields(incident.id = incident_id))]
    pub async fn plan_action(
        &self,
        principal: &Principal,
        incident_id: i64,
        form: &ActionForm,
        preview: bool,
    ) -> ServiceResult<ActionRecord> {
        let spec = ActionSpec::parse(form)?;
        let actor = principal.actor();
        let action = self.actions.plan(incident_id, &actor, spec).await?;
        if preview {
            return Ok(self.actions.preview(incident_id, action.id, &actor).await?);
        }
        Ok(action)
    }

    /// Runs the dry run and works out the blast radius; changes nothing in the cluster.
    pub async fn preview_action(
        &self,
        principal: &Principal,
        incident_id: i64,
        id: i64,
    ) -> ServiceResult<ActionRecord> {
        Ok(self.actions.preview(incident_id, id, &principal.actor()).await?)
    }

    /// Confirms (runs) the action or its undo, once for `key`.
    pub async fn step_action(
        &self,
        principal: &Principal,
        incident_id: i64,
        id: i64,
        step: Step,
        key: &str,
    ) -> ServiceResult<ActionRecord> {
        let actor = principal.actor();
        Ok(match step {
            Step::Confirm => self.actions.confirm(incident_id, id, &actor, key).await?,
            Step::Undo => self.actions.undo(incident_id, id, &actor, key).await?,
        })
    }

    /// An incident's actions, newest first.
    pub async fn actions(&self, incident_id: i64) -> ServiceResult<Vec<ActionRecord>> {
        self.incident(incident_id).await?;
        Ok(self.actions.list(incident_id).await?)
    }

    /// One action of an incident.
    pub async fn action(&self, incident_id: i64, id: i64) -> ServiceResult<ActionRecord> {
        Ok(self.actions.get(incident_id, id).await?)
    }
}
