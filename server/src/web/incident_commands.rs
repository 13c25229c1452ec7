//! What the incident forms and the JSON API share: turning their input into
//! commands (looking up the people and components they name), declaring, and
//! the HTTP status and message of each refusal.

use super::AppState;
use super::principal::Principal;
use crate::accounts::AccountError;
use crate::incidents::IncidentError;
use app::domain::component::ComponentKey;
use app::domain::incident::{
    Declaration, DeclarationForm, FieldError, IncidentRole, Phase, PublicStatus, Severity, Text,
};
use app::domain::incident_lifecycle::{Command, Person, Refusal};
use app::domain::role::Role;
use http::StatusCode;

/// A status, phase or severity change, an acknowledgement or a reopening: exactly one.
#[derive(Clone, Debug, Default)]
pub struct TransitionInput {
    pub status: Option<String>,
    pub phase: Option<String>,
    pub severity: Option<String>,
    pub acknowledge: bool,
    pub reopen: bool,
}

impl TransitionInput {
    pub fn command(&self) -> Result<Command, FieldError> {
        let given =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let (status, phase, severity) = (given(&self.status), given(&self.phase), given(&self.severity));
        let count = [status.is_some(), phase.is_some(), severity.is_some(), self.acknowledge, self.reopen]
            .into_iter()
            .filter(|set| *set)
            .count();
        if count != 1 {
            return Err(FieldError::new(
                "transition",
                "Send exactly one of status, phase, severity, acknowledge or reopen.",
            ));
        }
        if let Some(status) = status {
            let to = PublicStatus::parse(&status).map_err(|e| FieldError::new("status", e.to_string()))?;
            return Ok(Command::ChangeStatus(to));
        }
        if let Some(phase) = phase {
            let to = Phase::parse(&phase).map_err(|e| FieldError::new("phase", e.to_string()))?;
            return Ok(Command::ChangePhase(to));
        }
        if let Some(severity) = severity {
            let to = Severity::parse(&severity).map_err(|e| FieldError::new("severity", e.to_string()))?;
            return Ok(Command::ChangeSeverity(to));
        }
        Ok(if self.acknowledge { Command::Acknowledge } else { Command::Reopen })
    }
}

/// Giving someone a role, or taking it away.
#[derive(Clone, Debug, Default)]
pub struct RoleInput {
    pub email: String,
    pub role: String,
    pub remove: bool,
}

impl From<FieldError> for IncidentError {
    fn from(error: FieldError) -> Self {
        IncidentError::Field { field: error.field, message: error.message }
    }
}

/// The account behind an e-mail address, if it may take part in incidents (responder or higher).
async fn participant(state: &AppState, field: &'static str, email: &str) -> Result<Person, IncidentError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(FieldError::new(field, "Name the person by their e-mail address.").into());
    }
    let user = state.accounts.find_by_email(email).await.map_err(|error| match error {
        AccountError::Database(source) => IncidentError::from(source),
        other => IncidentError::Db(crate::db::DbError::Query(sqlx::Error::Protocol(other.to_string()))),
    })?;
    match user {
        Some(user) if user.role.satisfies(Role::Responder) => Ok(Person { id: user.id, email: user.email }),
        Some(user) => Err(FieldError::new(
            field,
            format!("{} is a viewer; only responders and admins take part in incidents.", user.email),
        )
        .into()),
        None => Err(FieldError::new(
            field,
            format!("There is no account for {}.", email.chars().take(80).collect::<String>()),
        )
        .into()),
    }
}

impl RoleInput {
    pub async fn command(&self, state: &AppState) -> Result<Command, IncidentError> {
        let role = IncidentRole::parse(&self.role).map_err(|e| FieldError::new("role", e.to_string()))?;
        let person = participant(state, "email", &self.email).await?;
        Ok(if self.remove { Command::Unassign { person, role } } else { Command::Assign { person, role } })
    }
}

pub fn note_command(text: &str, decision: bool) -> Result<Command, IncidentError> {
    Ok(Command::AddNote { text: Text::note(text)?, decision })
}

/// Declares an incident for `principal`; returns its id.
pub async fn declare(
    state: &AppState,
    principal: &Principal,
    form: &DeclarationForm,
) -> Result<i64, IncidentError> {
    let declaration = Declaration::parse(form)?;
    let known: std::collections::HashSet<ComponentKey> =
        state.live.all_components().into_iter().map(|(_, tile)| tile.key).collect();
    if let Some(unknown) = declaration.components.iter().find(|key| !known.contains(*key)) {
        return Err(FieldError::new("components", format!("There is no component {unknown}.")).into());
    }
    let commander = match (&declaration.commander, principal) {
        (Some(email), _) => participant(state, "commander", email).await?,
        (None, Principal::Account(user)) => Person { id: user.id, email: user.email.clone() },
        (None, Principal::Token(_)) => {
            return Err(FieldError::new(
                "commander",
                "An API token cannot command an incident: name the commander's e-mail address.",
            )
            .into());
        }
    };
    state.incidents.declare(&principal.actor(), &declaration, commander, crate::db::now_millis()).await
}

/// The HTTP status, message and field of a refusal. Storage failures are logged here, once.
pub fn refusal(error: &IncidentError) -> (StatusCode, String, Option<&'static str>) {
    match error {
        IncidentError::NotFound(id) => (StatusCode::NOT_FOUND, format!("There is no incident {id}."), None),
        IncidentError::Refused(Refusal::NotPermitted(message)) => {
            (StatusCode::FORBIDDEN, message.clone(), None)
        }
        IncidentError::Refused(Refusal::Invalid(message)) => (StatusCode::CONFLICT, message.clone(), None),
        IncidentError::Field { field, message } => {
            (StatusCode::UNPROCESSABLE_ENTITY, message.clone(), Some(*field))
        }
        IncidentError::Db(source) => {
            tracing::error!(
                error = source as &dyn std::error::Error,
                "an incident change could not be stored"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The change could not be saved right now; nothing was changed. Try again shortly.".to_owned(),
                None,
            )
        }
    }
}
