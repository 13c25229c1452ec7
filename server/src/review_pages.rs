//! The server's side of the review page and the follow-up lists: what
//! `Services::review` computed, shaped for the page, with what the viewer
//! may do (the server still decides on each post).

use crate::incident_pages::{IncidentPages, incident_view, tiles_by_key};
use crate::reviews::FollowUpRow;
use app::domain::incident::IncidentRole;
use app::domain::incident_lifecycle::{Actor, require_any_role};
use app::domain::role::Role;
use app::incidents::{Choice, SignedInUserRef};
use app::reviews::{FollowUpLine, FollowUpSummary, ReviewLine, ReviewPage, RevisionLine};

/// How many open follow-ups a dashboard or the briefing lists.
pub const FOLLOW_UPS_LISTED: usize = 20;

pub fn follow_up_line(row: FollowUpRow, now: i64) -> FollowUpLine {
    FollowUpLine {
        overdue: row.follow_up.overdue(now),
        follow_up: row.follow_up,
        incident_title: row.incident_title,
    }
}

async fn actor_of(pages: &IncidentPages, viewer: Option<&SignedInUserRef>) -> Option<Actor> {
    let viewer = viewer?;
    let account = pages.accounts.find_by_email(&viewer.email).await.ok().flatten()?;
    Some(Actor::account(account.id, &account.email, account.role))
}

pub async fn review_page(
    pages: &IncidentPages,
    id: i64,
    viewer: Option<&SignedInUserRef>,
) -> Result<Option<ReviewPage>, String> {
    let review = match pages.services.review(id).await {
        Ok(review) => review,
        Err(crate::services::ServiceError::NotFound(_)) => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let now = crate::db::now_millis();
    let tiles = tiles_by_key(pages.live.as_ref());
    let actor = actor_of(pages, viewer).await;
    let state = &review.incident.state;
    let may_write = actor.as_ref().is_some_and(|a| require_any_role(state, a, "write").is_ok());
    let may_publish = actor.as_ref().is_some_and(|a| {
        a.role.satisfies(Role::Admin)
            || a.person.as_ref().is_some_and(|p| state.holds(p.id, IncidentRole::IncidentCommander))
    });
    let people = pages
        .accounts
        .list()
        .await
        .map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "could not list accounts");
            "The accounts cannot be read right now.".to_owned()
        })?
        .into_iter()
        .filter(|user| user.role.satisfies(Role::Responder))
        .map(|user| user.email)
        .collect();
    let incident = incident_view(&review.incident, &tiles, now);
    let components = incident
        .components
        .iter()
        .map(|c| Choice { value: c.key.to_string(), label: c.name.clone() })
        .collect();
    Ok(Some(ReviewPage {
        state: review.incident.state.review,
        closed_at: review.incident.state.closed_at,
        revision: review.stored.revision,
        sections: review.stored.sections.clone(),
        times: review.times.clone(),
        impact: review.impact.clone(),
        timeline: review
            .timeline
            .iter()
            .map(|(entry, starred)| ReviewLine {
                id: entry.id,
                at: entry.at,
                actor: entry.actor.clone(),
                text: entry.event.describe(),
                starred: *starred,
            })
            .collect(),
        follow_ups: review.follow_ups.iter().cloned().map(|row| follow_up_line(row, now)).collect(),
        revisions: review
            .revisions
            .iter()
            .map(|r| RevisionLine {
                revision: r.revision,
                at: r.at,
                author: r.author.clone(),
                changed: r.changed.clone(),
            })
            .collect(),
        people,
        components,
        may_write,
        may_publish,
        now,
        incident,
    }))
}

pub async fn my_follow_ups(
    pages: &IncidentPages,
    viewer: &SignedInUserRef,
) -> Result<FollowUpSummary, String> {
    let Some(actor) = actor_of(pages, Some(viewer)).await else { return Ok(FollowUpSummary::default()) };
    let owner = actor.person.map(|p| p.id);
    let now = crate::db::now_millis();
    let items = pages.services.open_follow_ups(owner, FOLLOW_UPS_LISTED).await.map_err(|e| e.to_string())?;
    let items: Vec<FollowUpLine> = items.into_iter().map(|row| follow_up_line(row, now)).collect();
    let overdue = items.iter().filter(|i| i.overdue).count() as i64;
    Ok(FollowUpSummary { open: items.len() as i64, overdue, items })
}

/// What the briefing shows of past incidents: everyone's open follow-ups and
/// the customer-facing downtime of each public component over the last 30 days.
pub async fn briefing_extras(
    pages: &IncidentPages,
    now: i64,
) -> Result<(FollowUpSummary, Vec<app::reviews::Downtime>), String> {
    let services = &pages.services;
    let items = services.open_follow_ups(None, FOLLOW_UPS_LISTED).await.map_err(|e| e.to_string())?;
    let counts = services.follow_up_counts().await.map_err(|e| e.to_string())?;
    let follow_ups = FollowUpSummary {
        items: items.into_iter().map(|row| follow_up_line(row, now)).collect(),
        open: counts.open,
        overdue: counts.overdue,
    };
    let failed = |error: &(dyn std::error::Error + 'static)| {
        tracing::error!(error, "could not read component history for the briefing");
        "The briefing cannot be read right now.".to_owned()
    };
    let components = pages.components.list().await.map_err(|e| failed(&e))?;
    let mut downtime = Vec::new();
    for component in
        components.iter().filter(|c| c.definition.visibility == app::domain::component::Visibility::Public)
    {
        let days =
            services.history.daily(&component.key(), BRIEFING_DAYS, now).await.map_err(|e| failed(&e))?;
        let weighted = days.iter().map(|d| d.weighted_downtime()).sum();
        downtime.push(app::reviews::Downtime { name: component.definition.name.clone(), weighted });
    }
    downtime.sort_by(|a, b| b.weighted.cmp(&a.weighted).then(a.name.cmp(&b.name)));
    Ok((follow_ups, downtime))
}

/// The briefing's look back for downtime, in days.
const BRIEFING_DAYS: usize = 30;
