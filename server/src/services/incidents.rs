//! Incident use cases: declare, change status/phase/severity (or acknowledge,
//! reopen), give or take a role, add a note; and reading incidents and their
//! timelines. The form posts, the JSON API and the server functions all call these.

use super::Principal;
use super::{ServiceError, ServiceResult, Services};
use crate::accounts::AccountError;
use crate::incidents::{Incident, IncidentCursor, IncidentError, IncidentFilter, TimelineEntry};
use domain::component::ComponentKey;
use domain::incident::{
    Declaration, DeclarationForm, FieldError, IncidentRole, Phase, PublicStatus, Severity, Text,
};
use domain::incident_lifecycle::{Command, Person};
use domain::role::Role;
use std::collections::HashSet;

impl From<IncidentError> for ServiceError {
    fn from(error: IncidentError) -> Self {
        match error {
            IncidentError::NotFound(id) => ServiceError::NotFound(format!("There is no incident {id}.")),
            IncidentError::Refused(refusal) => refusal.into(),
            IncidentError::Field { field, message } => ServiceError::Invalid { field, message },
            IncidentError::Db(source) => ServiceError::unavailable(
                "The change could not be saved right now; nothing was changed. Try again shortly.",
                &source,
            ),
        }
    }
}

/// A status, phase or severity change, an acknowledgement or a reopening: exactly one.
#[derive(Clone, Debug, Default)]
pub struct TransitionInput {
    pub status: Option<String>,
    pub phase: Option<String>,
    pub severity: Option<String>,
    pub acknowledge: bool,
    pub reopen: bool,
    /// Take command of an incident nobody commands.
    pub take_command: bool,
}

impl TransitionInput {
    /// The one command the input asks for.
    pub fn command(&self) -> Result<Command, FieldError> {
        let given =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let (status, phase, severity) = (given(&self.status), given(&self.phase), given(&self.severity));
        let count = [
            status.is_some(),
            phase.is_some(),
            severity.is_some(),
            self.acknowledge,
            self.reopen,
            self.take_command,
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        if count != 1 {
            return Err(FieldError::new(
                "transition",
                "Send exactly one of status, phase, severity, acknowledge, reopen or take_command.",
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
        Ok(if self.acknowledge {
            Command::Acknowledge
        } else if self.take_command {
            Command::TakeCommand
        } else {
            Command::Reopen
        })
    }
}

/// Giving someone a role, or taking it away.
#[derive(Clone, Debug, Default)]
pub struct RoleInput {
    pub email: String,
    pub role: String,
    pub remove: bool,
}

/// Which incidents to list, as typed (parsed here).
#[derive(Clone, Debug, Default)]
pub struct ListInput {
    pub severity: Option<String>,
    pub status: Option<String>,
    pub active: Option<bool>,
    pub page: PageInput,
}

/// A page of a list, as typed: how many, and the cursor a previous page answered.
#[derive(Clone, Debug, Default)]
pub struct PageInput {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists answer this many items unless asked for fewer.
pub const DEFAULT_PAGE: u32 = 100;
/// And never more than this many.
pub const LARGEST_PAGE: u32 = 500;

impl PageInput {
    fn limit(&self) -> Result<usize, FieldError> {
        match self.limit.unwrap_or(DEFAULT_PAGE) {
            limit @ 1..=LARGEST_PAGE => Ok(limit as usize),
            _ => Err(FieldError::new("limit", format!("limit is 1 to {LARGEST_PAGE}."))),
        }
    }

    fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }
}

/// One page of a list, and the cursor of the next when there is more.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Most alerts one declaration attaches.
const MAX_DECLARED_ALERTS: usize = 500;

/// The alert ids a declaration names (comma-separated).
pub(super) fn alert_ids(raw: &str) -> Result<Vec<i64>, FieldError> {
    let ids: Vec<i64> = raw
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| id.parse::<i64>().map_err(|_| FieldError::new("alerts", "Alerts are named by their ids.")))
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_DECLARED_ALERTS {
        return Err(FieldError::new(
            "alerts",
            format!("At most {MAX_DECLARED_ALERTS} alerts per declaration."),
        ));
    }
    Ok(ids)
}

/// Cuts the one extra item fetched to tell whether there is a next page.
fn paged<T>(mut items: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(cursor_of) } else { None };
    Page { items, next }
}

impl ListInput {
    fn filter(&self) -> Result<IncidentFilter, FieldError> {
        let given =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let severity = given(&self.severity)
            .map(|raw| Severity::parse(&raw).map_err(|e| FieldError::new("severity", e.to_string())))
            .transpose()?;
        let status = given(&self.status)
            .map(|raw| PublicStatus::parse(&raw).map_err(|e| FieldError::new("status", e.to_string())))
            .transpose()?;
        let after = match self.page.cursor() {
            Some(raw) => Some(IncidentCursor::parse(raw).ok_or_else(|| {
                FieldError::new(
                    "cursor",
                    "The cursor is not one this list answered; start from the first page.",
                )
            })?),
            None => None,
        };
        // One more than asked, to know whether a next page exists.
        let limit = Some(self.page.limit()? + 1);
        Ok(IncidentFilter {
            severity,
            status,
            active: self.active,
            after,
            limit,
            ..IncidentFilter::default()
        })
    }
}

impl Services {
    /// The account behind an e-mail address, if it may take part in incidents (responder or higher).
    async fn participant(&self, field: &'static str, email: &str) -> ServiceResult<Person> {
        let email = email.trim();
        if email.is_empty() {
            return Err(ServiceError::invalid(field, "Name the person by their e-mail address."));
        }
        let user = self.accounts.find_by_email(email).await.map_err(|error| match error {
            AccountError::Database(source) => {
                ServiceError::unavailable("Accounts cannot be read right now. Try again shortly.", &source)
            }
            other => ServiceError::internal("an account lookup failed", &other),
        })?;
        match user {
            Some(user) if user.role.satisfies(Role::Responder) => {
                Ok(Person { id: user.id, email: user.email })
            }
            Some(user) => Err(ServiceError::invalid(
                field,
                format!("{} is a viewer; only responders and admins take part in incidents.", user.email),
            )),
            None => Err(ServiceError::invalid(
                field,
                format!("There is no account for {}.", email.chars().take(80).collect::<String>()),
            )),
        }
    }

    /// Declares an incident for `principal`; returns its id.
    #[tracing::instrument(skip_all, fields(principal = %principal.name()))]
    pub async fn declare(&self, principal: &Principal, form: &DeclarationForm) -> ServiceResult<i64> {
        let declaration = Declaration::parse(form)?;
        let known: HashSet<ComponentKey> =
            self.live.all_components().into_iter().map(|(_, tile)| tile.key).collect();
        if let Some(unknown) = declaration.components.iter().find(|key| !known.contains(*key)) {
            return Err(ServiceError::invalid("components", format!("There is no component {unknown}.")));
        }
        let commander = match (&declaration.commander, principal) {
            (Some(email), _) => self.participant("commander", email.as_str()).await?,
            (None, Principal::Account(user)) => Person { id: user.id, email: user.email.clone() },
            (None, Principal::Token(_)) => {
                return Err(ServiceError::invalid(
                    "commander",
                    "An API token cannot command an incident: name the commander's e-mail address.",
                ));
            }
        };
        let alerts = alert_ids(&form.alerts)?;
        let now = self.clock.now_millis();
        let id = self.incidents.declare(&principal.actor(), &declaration, Some(commander), now).await?;
        if !alerts.is_empty() {
            self.attach_declared(principal, id, &alerts).await?;
        }
        self.capture_on_declaration(id);
        Ok(id)
    }

    /// Runs one command on incident `id`; returns the timeline events it made.
    #[tracing::instrument(skip_all, fields(incident.id = id))]
    pub async fn run_command(
        &self,
        principal: &Principal,
        id: i64,
        command: Command,
    ) -> ServiceResult<Vec<TimelineEntry>> {
        let now = self.clock.now_millis();
        Ok(self.incidents.run(id, &principal.actor(), command, now).await?)
    }

    /// Changes the status, phase or severity, acknowledges, or reopens.
    pub async fn transition(
        &self,
        principal: &Principal,
        id: i64,
        input: &TransitionInput,
    ) -> ServiceResult<Vec<TimelineEntry>> {
        let command = input.command()?;
        self.run_command(principal, id, command).await
    }

    /// Gives someone a role (the commander's is handed over), or takes it away.
    pub async fn assign_role(
        &self,
        principal: &Principal,
        id: i64,
        input: &RoleInput,
    ) -> ServiceResult<Vec<TimelineEntry>> {
        let role = IncidentRole::parse(&input.role).map_err(|e| FieldError::new("role", e.to_string()))?;
        let person = self.participant("email", &input.email).await?;
        let command =
            if input.remove { Command::Unassign { person, role } } else { Command::Assign { person, role } };
        self.run_command(principal, id, command).await
    }

    /// Adds a note, or records a decision.
    pub async fn add_note(
        &self,
        principal: &Principal,
        id: i64,
        text: &str,
        decision: bool,
    ) -> ServiceResult<Vec<TimelineEntry>> {
        let command = Command::AddNote { text: Text::note(text)?, decision };
        self.run_command(principal, id, command).await
    }

    /// Break-glass: an admin waives the two-person rule for this incident, saying why.
    pub async fn waive_two_person_rule(
        &self,
        principal: &Principal,
        id: i64,
        reason: &str,
    ) -> ServiceResult<Vec<TimelineEntry>> {
        let command = Command::WaiveTwoPersonRule { reason: Text::note(reason)? };
        self.run_command(principal, id, command).await
    }

    /// One incident, or not found.
    pub async fn incident(&self, id: i64) -> ServiceResult<Incident> {
        self.incidents.get(id).await?.ok_or_else(|| IncidentError::NotFound(id).into())
    }

    /// A page of the incidents matching the input, worst severity first, then oldest first.
    pub async fn incidents(&self, input: &ListInput) -> ServiceResult<Page<Incident>> {
        let filter = input.filter()?;
        let limit = input.page.limit()?;
        let incidents = self.incidents.list(&filter).await?;
        Ok(paged(incidents, limit, |incident| IncidentCursor::after(incident).encode()))
    }

    /// An incident's whole timeline, oldest first.
    pub async fn timeline(&self, id: i64) -> ServiceResult<Vec<TimelineEntry>> {
        self.incident(id).await?;
        Ok(self.incidents.timeline(id).await?)
    }

    /// A page of an incident's timeline, oldest first.
    pub async fn timeline_page(&self, id: i64, page: &PageInput) -> ServiceResult<Page<TimelineEntry>> {
        let limit = page.limit()?;
        let after = match page.cursor() {
            Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
                FieldError::new(
                    "cursor",
                    "The cursor is not one this timeline answered; start from the first page.",
                )
            })?),
            None => None,
        };
        self.incident(id).await?;
        let entries = self.incidents.timeline_page(id, after, Some(limit + 1)).await?;
        Ok(paged(entries, limit, |entry| entry.id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transition_names_exactly_one_change() {
        let none = TransitionInput::default();
        assert_eq!(none.command().unwrap_err().field, "transition");
        let two =
            TransitionInput { status: Some("identified".into()), acknowledge: true, ..Default::default() };
        assert_eq!(two.command().unwrap_err().field, "transition");
        let blank_and_one = TransitionInput {
            status: Some("  ".into()),
            severity: Some("SEV1".into()),
            ..Default::default()
        };
        assert_eq!(blank_and_one.command().unwrap(), Command::ChangeSeverity(Severity::Sev1));
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_was_found() {
        let page = paged(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((page.items, page.next.as_deref()), (vec![1, 2], Some("2")));
        let last = paged(vec![3], 2, |n| n.to_string());
        assert_eq!((last.items, last.next), (vec![3], None));
    }

    #[test]
    fn a_page_size_out_of_range_or_a_foreign_cursor_is_refused_by_field() {
        let input = ListInput { page: PageInput { limit: Some(0), cursor: None }, ..Default::default() };
        assert_eq!(input.filter().unwrap_err().field, "limit");
        let input = ListInput {
            page: PageInput { limit: None, cursor: Some("yesterday".into()) },
            ..Default::default()
        };
        assert_eq!(input.filter().unwrap_err().field, "cursor");
        let cursor = IncidentCursor { severity: Severity::Sev2, declared_at: 1_700_000_000_000, id: 15 };
        assert_eq!(IncidentCursor::parse(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn a_list_filter_names_the_field_it_cannot_read() {
        let input = ListInput { status: Some("fixed".into()), ..Default::default() };
        assert_eq!(input.filter().unwrap_err().field, "status");
    }
}
