//! What the post-incident review page, the follow-up lists and `/insights`
//! show, and the server functions that read them through
//! [`crate::incidents::IncidentBackend`].
//! Changes go through form posts and the JSON API.

use crate::domain::review::{ComponentImpact, FollowUp, ReviewState, Sections, Times};
use crate::incidents::{Choice, IncidentView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One timeline entry in the review, starred or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLine {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub text: String,
    pub starred: bool,
}

/// A follow-up with what a list shows beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpLine {
    pub follow_up: FollowUp,
    pub incident_title: String,
    pub overdue: bool,
}

/// One edit of the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionLine {
    pub revision: i64,
    pub at: i64,
    pub author: String,
    pub changed: String,
}

/// `/incidents/:id/review`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPage {
    pub incident: IncidentView,
    /// `None` until the incident is resolved.
    pub state: Option<ReviewState>,
    pub closed_at: Option<i64>,
    /// The revision the editor is based on (0: never saved).
    pub revision: i64,
    pub sections: Sections,
    pub times: Times,
    pub impact: Vec<ComponentImpact>,
    /// The whole timeline, oldest first.
    pub timeline: Vec<ReviewLine>,
    pub follow_ups: Vec<FollowUpLine>,
    pub revisions: Vec<RevisionLine>,
    /// Accounts a follow-up can be given to (responders and admins).
    pub people: Vec<String>,
    /// The incident's components, for follow-ups.
    pub components: Vec<Choice>,
    /// Whether the viewer may write, and publish (the server still decides).
    pub may_write: bool,
    pub may_publish: bool,
    pub now: i64,
}

/// The open follow-ups on a dashboard or the briefing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpSummary {
    pub items: Vec<FollowUpLine>,
    pub open: i64,
    pub overdue: i64,
}

/// Customer-facing downtime of one public component over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downtime {
    pub name: String,
    /// Weighted as on the status page, in milliseconds.
    pub weighted: i64,
}

#[server]
pub async fn load_review(id: i64) -> Result<Option<ReviewPage>, ServerFnError> {
    let review = crate::incidents::backend(crate::domain::role::Role::Viewer)?
        .review(id, viewer().as_ref())
        .await
        .map_err(ServerFnError::new)?;
    if let (None, Some(response)) = (&review, use_context::<leptos_axum::ResponseOptions>()) {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    Ok(review)
}

/// The signed-in person's open follow-ups, for the dashboard.
#[server]
pub async fn load_my_follow_ups() -> Result<FollowUpSummary, ServerFnError> {
    let backend = crate::incidents::backend(crate::domain::role::Role::Viewer)?;
    let Some(viewer) = viewer() else { return Ok(FollowUpSummary::default()) };
    backend.my_follow_ups(&viewer).await.map_err(ServerFnError::new)
}

/// Insights for the period `from`..`to` (`YYYY-MM-DD`; empty: the last 90 days).
#[server]
pub async fn load_insights(
    from: String,
    to: String,
) -> Result<crate::domain::insights::Insights, ServerFnError> {
    crate::incidents::backend(crate::domain::role::Role::Viewer)?
        .insights(&from, &to)
        .await
        .map_err(ServerFnError::new)
}

/// Who is asking, from the request.
#[cfg(feature = "ssr")]
fn viewer() -> Option<crate::page_context::SignedInUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::page_context::PageContext>().cloned())
        .and_then(|ctx| ctx.user)
}
