//! Post-incident review use cases: read a review with its times and customer
//! impact computed from facts, save its sections, set the impact start by
//! hand, star timeline entries, move it through its states (publishing closes
//! the incident), add and change follow-ups, export it as Markdown, and list
//! open follow-ups for the dashboard and the briefing.

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::incidents::{Incident, TimelineEntry};
use crate::reviews::{FollowUpCounts, FollowUpRow, ReviewError, Revision, StoredReview};
use domain::calendar;
use domain::component::Visibility;
use domain::incident::FieldError;
use domain::incident_lifecycle::{Command, require_any_role};
use domain::review::{
    ComponentImpact, Facts, FollowUpForm, FollowUpInput, KeyEvent, ReviewDocument, ReviewState, Sections,
    SectionsForm, Times, starred_by_default, trouble_start,
};
use domain::uptime::DAY_MS;

impl From<ReviewError> for ServiceError {
    fn from(error: ReviewError) -> Self {
        match error {
            ReviewError::NotFound(id) => ServiceError::NotFound(format!("There is no incident {id}.")),
            ReviewError::Closed(message) => ServiceError::Conflict(message),
            ReviewError::Stale { revision, author } => ServiceError::Conflict(format!(
                "{author} saved the review (revision {revision}) after you opened it. Your text is kept below: \
                 open the review again in another tab, merge, and save."
            )),
            ReviewError::NoSuch(message) => ServiceError::NotFound(message),
            ReviewError::Db(source) => ServiceError::unavailable(
                "The review could not be saved or read right now; nothing was changed. Try again shortly.",
                &source,
            ),
        }
    }
}

/// How far back from the declaration a component's trouble is looked for.
const TROUBLE_LOOKBACK_MS: i64 = DAY_MS;

/// A review with everything computed from facts.
#[derive(Clone, Debug)]
pub struct Review {
    pub incident: Incident,
    pub stored: StoredReview,
    pub times: Times,
    pub impact: Vec<ComponentImpact>,
    /// The whole timeline, each entry with whether it is starred.
    pub timeline: Vec<(TimelineEntry, bool)>,
    pub follow_ups: Vec<FollowUpRow>,
    pub revisions: Vec<Revision>,
}

impl Review {
    pub fn state(&self) -> Option<ReviewState> {
        self.incident.state.review
    }

    /// The review as the Markdown export writes it (starred entries only).
    pub fn document(&self) -> Option<ReviewDocument> {
        Some(ReviewDocument {
            incident_id: self.incident.id,
            title: self.incident.title.clone(),
            severity: self.incident.state.severity,
            category: self.incident.category,
            state: self.state()?,
            times: self.times.clone(),
            impact: self.impact.clone(),
            sections: self.stored.sections.clone(),
            timeline: self
                .timeline
                .iter()
                .filter(|(_, starred)| *starred)
                .map(|(entry, _)| KeyEvent {
                    at: entry.at,
                    actor: entry.actor.clone(),
                    text: entry.event.describe(),
                })
                .collect(),
            follow_ups: self.follow_ups.iter().map(|row| row.follow_up.clone()).collect(),
        })
    }
}

/// The impact start as typed: `YYYY-MM-DDTHH:MM` (UTC) and why; both empty: computed again.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ImpactStartForm {
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub reason: String,
}

impl Services {
    /// Incident `id`'s review, computed from the timeline, the alerts and the component history.
    pub async fn review(&self, id: i64) -> ServiceResult<Review> {
        let incident = self.incident(id).await?;
        let entries = self.incidents.timeline(id).await?;
        let stored = self.reviews.get(id).await?;
        let stars = self.reviews.stars(id).await?;
        let (first_alert_start, first_alert_seen) =
            self.alerts.first_times_for_incident(id).await.map_err(|e| {
                ServiceError::unavailable("The incident's alerts could not be read right now.", &e)
            })?;
        let declared_at = incident.state.declared_at;
        let history = |e: crate::db::DbError| {
            ServiceError::unavailable("The component history could not be read right now.", &e)
        };
        let mut trouble = None;
        for key in &incident.components {
            let (changes, _) =
                self.history.since(key, declared_at - TROUBLE_LOOKBACK_MS).await.map_err(history)?;
            trouble = match (trouble, trouble_start(&changes, declared_at)) {
                (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
                (a, b) => a.or(b),
            };
        }
        let facts = Facts {
            declared_at,
            timeline: entries.iter().map(|e| (e.at, &e.event)).collect(),
            first_alert_start,
            first_alert_seen,
            trouble_start: trouble,
            impact_override: stored.impact_override.clone(),
        };
        let times = Times::compute(&facts);
        let end = times.resolved.unwrap_or_else(|| self.clock.now_millis());
        let components = self
            .components
            .list()
            .await
            .map_err(|e| ServiceError::unavailable("The components could not be read right now.", &e))?;
        let mut impact = Vec::new();
        for component in components.iter().filter(|c| c.definition.visibility == Visibility::Public) {
            let key = component.key();
            if !incident.components.contains(&key) {
                continue;
            }
            let (changes, blind) = self.history.since(&key, times.impact_start).await.map_err(history)?;
            impact.push(ComponentImpact::compute(
                key.as_str(),
                &component.definition.name,
                &changes,
                &blind,
                times.impact_start,
                end,
            ));
        }
        let timeline = entries
            .into_iter()
            .map(|entry| {
                let starred = stars
                    .iter()
                    .find(|(event, _)| *event == entry.id)
                    .map_or_else(|| starred_by_default(&entry.event), |(_, starred)| *starred);
                (entry, starred)
            })
            .collect();
        Ok(Review {
            times,
            impact,
            timeline,
            follow_ups: self.reviews.follow_ups(id).await?,
            revisions: self.reviews.revisions(id).await?,
            stored,
            incident,
        })
    }

    /// Refused until the review is open, and unless the caller holds a role on
    /// the incident or is an admin.
    async fn may_write_review(&self, principal: &Principal, id: i64, what: &str) -> ServiceResult<Incident> {
        let incident = self.incident(id).await?;
        if incident.state.review.is_none() {
            return Err(ServiceError::Conflict("The review opens when the incident is resolved.".into()));
        }
        require_any_role(&incident.state, &principal.actor(), what)?;
        Ok(incident)
    }

    /// Saves the written sections as the next revision after `based_on`.
    pub async fn save_review(
        &self,
        principal: &Principal,
        id: i64,
        form: &SectionsForm,
        based_on: i64,
    ) -> ServiceResult<i64> {
        let sections = Sections::parse(form)?;
        self.may_write_review(principal, id, "write the review").await?;
        let now = self.clock.now_millis();
        Ok(self.reviews.save_sections(id, &principal.name(), &sections, based_on, now).await?)
    }

    /// Sets the impact start by hand with a reason, or (both empty) goes back to the computed one.
    pub async fn set_impact_start(
        &self,
        principal: &Principal,
        id: i64,
        form: &ImpactStartForm,
    ) -> ServiceResult<()> {
        let start = match (form.at.trim(), form.reason.trim()) {
            ("", "") => None,
            (at, reason) => {
                let at = calendar::parse_date_time("at", at)?;
                let reason = domain::review::impact_reason(reason)?;
                Some((at, reason))
            }
        };
        let incident = self.may_write_review(principal, id, "set the impact start").await?;
        if let Some((at, _)) = &start
            && *at > incident.state.declared_at
        {
            return Err(
                FieldError::new("at", "The impact started before the declaration, not after it.").into()
            );
        }
        let now = self.clock.now_millis();
        self.reviews.set_impact_start(id, &principal.name(), start, now).await?;
        Ok(())
    }

    /// Stars or unstars a timeline entry in the review.
    pub async fn star(&self, principal: &Principal, id: i64, event: i64, starred: bool) -> ServiceResult<()> {
        self.may_write_review(principal, id, "star timeline entries").await?;
        let now = self.clock.now_millis();
        Ok(self.reviews.set_star(id, event, starred, &principal.name(), now).await?)
    }

    /// Moves the review (`draft`, `in_review`, `published`); publishing closes the incident.
    pub async fn move_review(&self, principal: &Principal, id: i64, to: &str) -> ServiceResult<()> {
        let to = ReviewState::parse(to).map_err(|e| FieldError::new("state", e.to_string()))?;
        self.run_command(principal, id, Command::MoveReview(to)).await?;
        Ok(())
    }

    async fn follow_up_owner(&self, input: &FollowUpInput) -> ServiceResult<Option<i64>> {
        let Some(email) = &input.owner else { return Ok(None) };
        match self.accounts.find_by_email(email).await {
            Ok(Some(user)) => Ok(Some(user.id)),
            Ok(None) => Err(FieldError::new("owner", format!("There is no account {email}.")).into()),
            Err(error) => Err(ServiceError::unavailable("The accounts could not be read right now.", &error)),
        }
    }

    /// Adds a follow-up to the review; answers its id.
    pub async fn add_follow_up(
        &self,
        principal: &Principal,
        id: i64,
        form: &FollowUpForm,
    ) -> ServiceResult<i64> {
        let input = FollowUpInput::parse(form)?;
        self.may_write_review(principal, id, "add follow-ups").await?;
        let owner = self.follow_up_owner(&input).await?;
        let now = self.clock.now_millis();
        Ok(self.reviews.add_follow_up(id, &principal.name(), &input, owner, now).await?)
    }

    /// Changes a follow-up (its owner may too, e.g. to mark it done).
    pub async fn update_follow_up(
        &self,
        principal: &Principal,
        id: i64,
        follow_up: i64,
        form: &FollowUpForm,
    ) -> ServiceResult<()> {
        let input = FollowUpInput::parse(form)?;
        let incident = self.incident(id).await?;
        let existing = self.reviews.follow_ups(id).await?;
        let row = existing.iter().find(|row| row.follow_up.id == follow_up).ok_or_else(|| {
            ServiceError::NotFound(format!("Incident #{id} has no follow-up #{follow_up}."))
        })?;
        domain::review::may_change_follow_up(&incident.state, &principal.actor(), &row.follow_up)?;
        let owner = self.follow_up_owner(&input).await?;
        let now = self.clock.now_millis();
        Ok(self.reviews.update_follow_up(id, follow_up, &principal.name(), &input, owner, now).await?)
    }

    /// The review as Markdown, for a team's wiki.
    pub async fn review_markdown(&self, id: i64) -> ServiceResult<String> {
        let review = self.review(id).await?;
        let document = review.document().ok_or_else(|| {
            ServiceError::Conflict("The review opens when the incident is resolved.".into())
        })?;
        Ok(domain::review::markdown(&document))
    }

    /// Open follow-ups, soonest due first: `owner`'s when given, else everyone's; at most `limit`.
    pub async fn open_follow_ups(&self, owner: Option<i64>, limit: usize) -> ServiceResult<Vec<FollowUpRow>> {
        Ok(self.reviews.open_follow_ups(owner, limit).await?)
    }

    /// How many follow-ups are open and overdue now.
    pub async fn follow_up_counts(&self) -> ServiceResult<FollowUpCounts> {
        let today = self.clock.now_millis().div_euclid(DAY_MS);
        Ok(self.reviews.follow_up_counts(today).await?)
    }
}
