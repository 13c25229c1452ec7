//! The post-incident review: its states, its written sections, follow-ups,
//! the key times computed from the timeline, the customer impact computed
//! from component history, and the Markdown export. Blameless by design: the
//! sections ask what happened and why, never who.

use super::calendar;
use super::connection::describe_age;
use super::health::ComponentStatus;
use super::incident::{Category, FieldError, MAX_TEXT_CHARS, MAX_TITLE_CHARS, Phase, Severity, bounded_text};
use super::incident::{PublicStatus, named_enum};
use super::incident_lifecycle::{Person, TimelineEvent};
use super::update::Audience;
use super::uptime::{self, Blind, DAY_MS, DayBreakdown, Recorded};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a review is: written (`draft`), read by others (`in_review`), done (`published`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Draft,
    InReview,
    Published,
}

named_enum!(ReviewState, "review state", {
    Draft => "draft",
    InReview => "in_review",
    Published => "published",
});

impl ReviewState {
    pub fn label(self) -> &'static str {
        match self {
            ReviewState::Draft => "Draft",
            ReviewState::InReview => "In review",
            ReviewState::Published => "Published",
        }
    }
}

/// What kind of thing contributed to an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Change,
    Dependency,
    Capacity,
    Configuration,
    Detection,
    Process,
}

named_enum!(FactorKind, "contributing factor type", {
    Change => "change",
    Dependency => "dependency",
    Capacity => "capacity",
    Configuration => "configuration",
    Detection => "detection",
    Process => "process",
});

/// One contributing factor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Factor {
    pub kind: FactorKind,
    pub text: String,
}

/// At most this many contributing factors.
pub const MAX_FACTORS: usize = 30;

/// The written part of a review, after the Google SRE postmortem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sections {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub factors: Vec<Factor>,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub detection: String,
    #[serde(default)]
    pub went_well: String,
    #[serde(default)]
    pub went_wrong: String,
    #[serde(default)]
    pub got_lucky: String,
}

/// The free-text sections: field name, heading, and what to write there.
pub const TEXT_SECTIONS: &[(&str, &str, &str)] = &[
    ("summary", "Summary", "What happened, in two or three sentences a newcomer understands."),
    ("impact", "Impact", "Who was affected, how, and for how long."),
    ("trigger", "Trigger", "What set it off (a change, a load, a failure elsewhere)."),
    ("resolution", "Resolution", "What stopped the impact and what made it safe again."),
    ("detection", "Detection", "How we found out, and how we could have found out sooner."),
    ("went_well", "What went well", ""),
    ("went_wrong", "What went wrong", ""),
    ("got_lucky", "Where we got lucky", ""),
];

impl Sections {
    /// The text of the section named `field` (one of [`TEXT_SECTIONS`]).
    pub fn text(&self, field: &str) -> &str {
        match field {
            "summary" => &self.summary,
            "impact" => &self.impact,
            "trigger" => &self.trigger,
            "resolution" => &self.resolution,
            "detection" => &self.detection,
            "went_well" => &self.went_well,
            "went_wrong" => &self.went_wrong,
            "got_lucky" => &self.got_lucky,
            _ => "",
        }
    }

    fn text_mut(&mut self, field: &str) -> Option<&mut String> {
        Some(match field {
            "summary" => &mut self.summary,
            "impact" => &mut self.impact,
            "trigger" => &mut self.trigger,
            "resolution" => &mut self.resolution,
            "detection" => &mut self.detection,
            "went_well" => &mut self.went_well,
            "went_wrong" => &mut self.went_wrong,
            "got_lucky" => &mut self.got_lucky,
            _ => return None,
        })
    }

    /// Checks sections as typed: every text at most [`MAX_TEXT_CHARS`], factors
    /// with a known type and some text (blank rows are dropped).
    pub fn parse(form: &SectionsForm) -> Result<Sections, FieldError> {
        let mut sections = Sections::default();
        for (field, heading, _) in TEXT_SECTIONS {
            let raw = form.texts.iter().find(|(name, _)| name == field).map(|(_, text)| text.as_str());
            let text = bounded_text(field, heading, raw.unwrap_or(""), MAX_TEXT_CHARS, false)?;
            if let Some(slot) = sections.text_mut(field) {
                *slot = text;
            }
        }
        for (kind, text) in &form.factors {
            let text = bounded_text("factors", "A contributing factor", text, MAX_TITLE_CHARS * 5, false)?;
            if text.is_empty() {
                continue;
            }
            let kind = FactorKind::parse(kind).map_err(|e| FieldError::new("factors", e.to_string()))?;
            sections.factors.push(Factor { kind, text });
        }
        if sections.factors.len() > MAX_FACTORS {
            return Err(FieldError::new("factors", format!("At most {MAX_FACTORS} contributing factors.")));
        }
        Ok(sections)
    }

    /// The headings of the sections that differ between `self` and `other`.
    pub fn changed(&self, other: &Sections) -> Vec<&'static str> {
        let mut changed: Vec<&'static str> = TEXT_SECTIONS
            .iter()
            .filter(|(field, _, _)| self.text(field) != other.text(field))
            .map(|(_, heading, _)| *heading)
            .collect();
        if self.factors != other.factors {
            changed.push("Contributing factors");
        }
        changed
    }
}

/// Sections as a form or the API sends them, before checking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionsForm {
    /// `(field, text)` for the fields of [`TEXT_SECTIONS`]; missing ones are empty.
    pub texts: Vec<(String, String)>,
    /// `(type, text)` per contributing factor.
    pub factors: Vec<(String, String)>,
}

/// What became of a follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    Open,
    Done,
    WontDo,
}

named_enum!(FollowUpStatus, "follow-up status", {
    Open => "open",
    Done => "done",
    WontDo => "wont_do",
});

impl FollowUpStatus {
    pub fn label(self) -> &'static str {
        match self {
            FollowUpStatus::Open => "Open",
            FollowUpStatus::Done => "Done",
            FollowUpStatus::WontDo => "Won't do",
        }
    }
}

/// A follow-up as typed, before checking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    pub title: String,
    /// The owner's e-mail address; empty: nobody yet.
    #[serde(default)]
    pub owner: String,
    /// `YYYY-MM-DD`; empty: no due date.
    #[serde(default)]
    pub due: String,
    /// Empty: open.
    #[serde(default)]
    pub status: String,
    /// A link to the team's tracker; empty: none.
    #[serde(default)]
    pub link: String,
    /// Component keys.
    #[serde(default)]
    pub components: Vec<String>,
}

/// A checked follow-up; the owner is still an address for the service to look up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUpInput {
    pub title: String,
    pub owner: Option<String>,
    /// Days since 1970-01-01.
    pub due: Option<i64>,
    pub status: FollowUpStatus,
    pub link: Option<String>,
    pub components: Vec<String>,
}

/// Longest tracker link.
pub const MAX_LINK_CHARS: usize = 2_000;

impl FollowUpInput {
    pub fn parse(form: &FollowUpForm) -> Result<FollowUpInput, FieldError> {
        let title = bounded_text("title", "A follow-up's title", &form.title, MAX_TITLE_CHARS, true)?;
        if title.contains(['\n', '\r']) {
            return Err(FieldError::new("title", "A follow-up's title is one line."));
        }
        let owner = Some(form.owner.trim().to_ascii_lowercase()).filter(|o| !o.is_empty());
        let due = match form.due.trim() {
            "" => None,
            raw => Some(calendar::parse_date("due", raw)?),
        };
        let status = match form.status.trim() {
            "" => FollowUpStatus::Open,
            raw => FollowUpStatus::parse(raw).map_err(|e| FieldError::new("status", e.to_string()))?,
        };
        let link = match form.link.trim() {
            "" => None,
            raw => Some(parse_link(raw)?),
        };
        let mut components: Vec<String> =
            form.components.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
        components.sort();
        components.dedup();
        Ok(FollowUpInput { title, owner, due, status, link, components })
    }
}

/// A tracker link: an absolute `http` or `https` URL with a host, one line.
fn parse_link(raw: &str) -> Result<String, FieldError> {
    let refuse = |why: &str| FieldError::new("link", why.to_owned());
    if raw.chars().count() > MAX_LINK_CHARS {
        return Err(refuse("The link is too long."));
    }
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")).ok_or_else(|| {
        refuse("A link starts with https:// (or http://), like https://tracker.example/ISSUE-1.")
    })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("A link names a host and holds no spaces."));
    }
    Ok(raw.to_owned())
}

/// A follow-up as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub owner: Option<Person>,
    /// Days since 1970-01-01.
    pub due: Option<i64>,
    pub status: FollowUpStatus,
    pub link: Option<String>,
    pub components: Vec<String>,
}

impl FollowUp {
    /// Open and past the end of its due day (UTC).
    pub fn overdue(&self, now: i64) -> bool {
        self.status == FollowUpStatus::Open && self.due.is_some_and(|day| now >= (day + 1) * DAY_MS)
    }
}

/// Who may change a follow-up: its owner (a responder), anyone holding a role
/// on the incident, or an admin.
pub fn may_change_follow_up(
    state: &super::incident_lifecycle::IncidentState,
    actor: &super::incident_lifecycle::Actor,
    follow_up: &FollowUp,
) -> Result<(), super::incident_lifecycle::Refusal> {
    let owns = follow_up.owner.as_ref().zip(actor.person.as_ref()).is_some_and(|(o, p)| o.id == p.id);
    if owns && actor.role.satisfies(super::role::Role::Responder) {
        return Ok(());
    }
    super::incident_lifecycle::require_any_role(state, actor, "change follow-ups")
}

/// Whether a timeline entry is starred in a new review: the events a reader
/// needs to follow what happened.
pub fn starred_by_default(event: &TimelineEvent) -> bool {
    match event {
        TimelineEvent::Declared { .. }
        | TimelineEvent::Acknowledged
        | TimelineEvent::SeverityChanged { .. }
        | TimelineEvent::StatusChanged { .. }
        | TimelineEvent::AlertReceived(_)
        | TimelineEvent::ActionPlanned { .. }
        | TimelineEvent::ActionExecuted { .. }
        | TimelineEvent::ActionFailed { .. }
        | TimelineEvent::ActionUndone { .. }
        | TimelineEvent::EvidenceCaptured { .. }
        | TimelineEvent::Reopened { .. } => true,
        TimelineEvent::UpdatePosted { audience, .. } => *audience == Audience::Public,
        TimelineEvent::Note { decision, .. } => *decision,
        _ => false,
    }
}

/// Why the impact start was set by hand: required, at most a few lines.
pub fn impact_reason(raw: &str) -> Result<String, FieldError> {
    bounded_text("reason", "The reason for the impact start", raw, MAX_TITLE_CHARS * 5, true)
}

/// Where the impact start was taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImpactSource {
    /// The earliest start of an alert attached to the incident.
    Alert,
    /// The start of the affected components' trouble that was still going on at the declaration.
    Detection,
    /// Nothing earlier is known: the declaration.
    Declaration,
    /// A responder set it, with a reason.
    Edited,
}

impl ImpactSource {
    pub fn label(self) -> &'static str {
        match self {
            ImpactSource::Alert => "the first alert's start",
            ImpactSource::Detection => "the first detection of the affected components",
            ImpactSource::Declaration => "the declaration (nothing earlier is known)",
            ImpactSource::Edited => "set by hand",
        }
    }
}

/// What the key times are computed from. Times are Unix milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Facts<'a> {
    pub declared_at: i64,
    /// The incident's whole timeline, oldest first: `(at, event)`.
    pub timeline: Vec<(i64, &'a TimelineEvent)>,
    /// The earliest `startsAt` (or first sight) of the alerts attached to the incident.
    pub first_alert_start: Option<i64>,
    /// When Wheelhouse first received one of those alerts.
    pub first_alert_seen: Option<i64>,
    /// The earliest [`trouble_start`] of the affected components.
    pub trouble_start: Option<i64>,
    /// A start set by hand, with its reason.
    pub impact_override: Option<(i64, String)>,
}

/// The key times of an incident, computed from facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Times {
    pub impact_start: i64,
    pub impact_source: ImpactSource,
    /// Why the start was set by hand.
    pub impact_reason: Option<String>,
    pub detected: i64,
    pub declared: i64,
    pub acknowledged: Option<i64>,
    pub mitigated: Option<i64>,
    /// The last resolution, when the incident is resolved now.
    pub resolved: Option<i64>,
}

/// How each time is defined, as the review page shows it.
pub const DEFINITIONS: &[(&str, &str)] = &[
    (
        "Impact start",
        "The earliest of: the start of the first alert attached to the incident, the moment the affected \
         components left operational (when that trouble was still going on at the declaration), and the \
         declaration. A responder may set it by hand, with a reason.",
    ),
    ("Detected", "When Wheelhouse first received an alert for the incident, or the declaration if earlier."),
    ("Declared", "When the incident was declared."),
    ("Acknowledged", "When the incident commander first acknowledged it."),
    (
        "Mitigated",
        "The first successful containment action, or the move out of the containment phase, whichever came first.",
    ),
    ("Resolved", "The last move to resolved (after any reopening)."),
    ("Time to detect, acknowledge, mitigate, resolve", "Each measured from the impact start."),
];

impl Times {
    pub fn compute(facts: &Facts) -> Times {
        let declared = facts.declared_at;
        let (impact_start, impact_source, impact_reason) = match &facts.impact_override {
            Some((at, reason)) => (*at, ImpactSource::Edited, Some(reason.clone())),
            None => {
                let alert = facts.first_alert_start.filter(|at| *at < declared);
                let trouble = facts.trouble_start.filter(|at| *at < declared);
                match (alert, trouble) {
                    (Some(a), Some(t)) if t < a => (t, ImpactSource::Detection, None),
                    (Some(a), _) => (a, ImpactSource::Alert, None),
                    (None, Some(t)) => (t, ImpactSource::Detection, None),
                    (None, None) => (declared, ImpactSource::Declaration, None),
                }
            }
        };
        let detected = facts.first_alert_seen.map_or(declared, |seen| seen.min(declared));
        let acknowledged = facts
            .timeline
            .iter()
            .find(|(_, event)| matches!(event, TimelineEvent::Acknowledged))
            .map(|(at, _)| *at);
        let mitigated = facts
            .timeline
            .iter()
            .find(|(_, event)| match event {
                TimelineEvent::ActionExecuted { .. } => true,
                // On to eradication or recovery; the post-incident phase comes after resolution, not mitigation.
                TimelineEvent::PhaseChanged { to, .. } => matches!(to, Phase::Eradication | Phase::Recovery),
                _ => false,
            })
            .map(|(at, _)| *at);
        let mut resolved = None;
        for (at, event) in &facts.timeline {
            match event {
                TimelineEvent::StatusChanged { to: PublicStatus::Resolved, .. } => resolved = Some(*at),
                TimelineEvent::Reopened { .. } => resolved = None,
                _ => {}
            }
        }
        Times {
            impact_start,
            impact_source,
            impact_reason,
            detected,
            declared,
            acknowledged,
            mitigated,
            resolved,
        }
    }

    fn since_impact(&self, at: Option<i64>) -> Option<i64> {
        at.map(|at| (at - self.impact_start).max(0))
    }

    pub fn time_to_detect(&self) -> Option<i64> {
        self.since_impact(Some(self.detected))
    }

    pub fn time_to_acknowledge(&self) -> Option<i64> {
        self.since_impact(self.acknowledged)
    }

    pub fn time_to_mitigate(&self) -> Option<i64> {
        self.since_impact(self.mitigated)
    }

    pub fn time_to_resolve(&self) -> Option<i64> {
        self.since_impact(self.resolved)
    }

    /// `(name, time, time since impact start)` for each key time, in order.
    pub fn rows(&self) -> Vec<(&'static str, Option<i64>, Option<i64>)> {
        vec![
            ("Impact start", Some(self.impact_start), None),
            ("Detected", Some(self.detected), self.time_to_detect()),
            ("Declared", Some(self.declared), self.since_impact(Some(self.declared))),
            ("Acknowledged", self.acknowledged, self.time_to_acknowledge()),
            ("Mitigated", self.mitigated, self.time_to_mitigate()),
            ("Resolved", self.resolved, self.time_to_resolve()),
        ]
    }
}

/// When a component's trouble that was going on at `at` began: the start of
/// the run of non-operational statuses (maintenance is not trouble) that holds
/// `at`. `None` when it was operational (or unknown) at `at`. `changes` sorted by time.
pub fn trouble_start(changes: &[Recorded], at: i64) -> Option<i64> {
    let mut start = None;
    for change in changes.iter().take_while(|c| c.at <= at) {
        let trouble =
            !matches!(change.status, ComponentStatus::Operational | ComponentStatus::UnderMaintenance);
        start = match (trouble, start) {
            (true, None) => Some(change.at),
            (true, Some(since)) => Some(since),
            (false, _) => None,
        };
    }
    start
}

/// How one public component fared during an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentImpact {
    pub component: String,
    pub name: String,
    /// Milliseconds in each status.
    pub operational: i64,
    pub under_maintenance: i64,
    pub degraded_performance: i64,
    pub partial_outage: i64,
    pub major_outage: i64,
    pub unknown: i64,
    /// Downtime weighted as on the status page: a major outage in full, a partial outage as half.
    pub weighted_downtime: i64,
}

impl ComponentImpact {
    /// The component's time in each status between `from` and `to`.
    pub fn compute(
        component: &str,
        name: &str,
        changes: &[Recorded],
        blind: &[Blind],
        from: i64,
        to: i64,
    ) -> ComponentImpact {
        let DayBreakdown {
            operational,
            under_maintenance,
            degraded_performance,
            partial_outage,
            major_outage,
            unknown,
            ..
        } = uptime::span(changes, blind, from, to);
        ComponentImpact {
            component: component.to_owned(),
            name: name.to_owned(),
            operational,
            under_maintenance,
            degraded_performance,
            partial_outage,
            major_outage,
            unknown,
            weighted_downtime: major_outage + partial_outage / 2,
        }
    }
}

/// One entry of the review's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEvent {
    pub at: i64,
    pub actor: String,
    pub text: String,
}

/// Everything the Markdown export writes.
#[derive(Clone, Debug)]
pub struct ReviewDocument {
    pub incident_id: i64,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub state: ReviewState,
    pub times: Times,
    pub impact: Vec<ComponentImpact>,
    pub sections: Sections,
    /// The starred entries, oldest first.
    pub timeline: Vec<KeyEvent>,
    pub follow_ups: Vec<FollowUp>,
}

/// Minutes, rounded to the nearest.
fn minutes(millis: i64) -> i64 {
    (millis + 30_000).div_euclid(60_000)
}

fn duration(millis: Option<i64>) -> String {
    millis.map_or_else(|| "—".to_owned(), describe_age)
}

fn at(millis: Option<i64>) -> String {
    millis.map_or_else(|| "—".to_owned(), calendar::date_time)
}

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|")
}

struct Markdown<'a>(&'a ReviewDocument);

impl fmt::Display for Markdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let doc = self.0;
        writeln!(f, "# Incident #{}: {}", doc.incident_id, doc.title)?;
        writeln!(f)?;
        writeln!(
            f,
            "{} · {} · Review: {}",
            doc.severity,
            doc.category.label(),
            doc.state.label().to_lowercase()
        )?;
        let sections = &doc.sections;
        for (field, heading, _) in TEXT_SECTIONS.iter().take(2) {
            section(f, heading, sections.text(field))?;
        }
        writeln!(f)?;
        writeln!(f, "## Key times")?;
        writeln!(f)?;
        writeln!(f, "| | When | Since impact start |")?;
        writeln!(f, "| --- | --- | --- |")?;
        for (name, when, since) in doc.times.rows() {
            let since = if name == "Impact start" { String::new() } else { duration(since) };
            writeln!(f, "| {name} | {} | {since} |", at(when))?;
        }
        writeln!(f)?;
        match &doc.times.impact_reason {
            Some(reason) => writeln!(f, "Impact start set by hand: {}", cell(reason))?,
            None => writeln!(f, "Impact start taken from {}.", doc.times.impact_source.label())?,
        }
        writeln!(f)?;
        writeln!(f, "## Customer impact")?;
        writeln!(f)?;
        if doc.impact.is_empty() {
            writeln!(f, "No public component was affected.")?;
        } else {
            writeln!(
                f,
                "| Component | Major outage | Partial outage | Degraded | Maintenance | Unknown | Weighted downtime |"
            )?;
            writeln!(f, "| --- | --- | --- | --- | --- | --- | --- |")?;
            for c in &doc.impact {
                writeln!(
                    f,
                    "| {} | {} min | {} min | {} min | {} min | {} min | {} min |",
                    cell(&c.name),
                    minutes(c.major_outage),
                    minutes(c.partial_outage),
                    minutes(c.degraded_performance),
                    minutes(c.under_maintenance),
                    minutes(c.unknown),
                    minutes(c.weighted_downtime)
                )?;
            }
        }
        writeln!(f)?;
        writeln!(f, "## Contributing factors")?;
        writeln!(f)?;
        if sections.factors.is_empty() {
            writeln!(f, "_None recorded._")?;
        }
        for factor in &sections.factors {
            writeln!(f, "- **{}**: {}", factor.kind, cell(&factor.text))?;
        }
        for (field, heading, _) in TEXT_SECTIONS.iter().skip(2) {
            section(f, heading, sections.text(field))?;
        }
        writeln!(f)?;
        writeln!(f, "## Timeline")?;
        writeln!(f)?;
        for event in &doc.timeline {
            writeln!(
                f,
                "- {} — {} ({})",
                calendar::date_time(event.at),
                cell(&event.text),
                cell(&event.actor)
            )?;
        }
        writeln!(f)?;
        writeln!(f, "## Follow-ups")?;
        writeln!(f)?;
        if doc.follow_ups.is_empty() {
            writeln!(f, "_None._")?;
        } else {
            writeln!(f, "| Follow-up | Owner | Due | Status | Link |")?;
            writeln!(f, "| --- | --- | --- | --- | --- |")?;
            for item in &doc.follow_ups {
                writeln!(
                    f,
                    "| {} | {} | {} | {} | {} |",
                    cell(&item.title),
                    item.owner.as_ref().map_or("—", |p| p.email.as_str()),
                    item.due.map_or_else(|| "—".to_owned(), calendar::date_of_day),
                    item.status.label(),
                    item.link.as_deref().map_or_else(|| "—".to_owned(), |l| format!("<{}>", cell(l)))
                )?;
            }
        }
        Ok(())
    }
}

fn section(f: &mut fmt::Formatter<'_>, heading: &str, text: &str) -> fmt::Result {
    writeln!(f)?;
    writeln!(f, "## {heading}")?;
    writeln!(f)?;
    if text.trim().is_empty() { writeln!(f, "_Not written yet._") } else { writeln!(f, "{}", text.trim()) }
}

/// The review as Markdown, for a team's wiki.
pub fn markdown(doc: &ReviewDocument) -> String {
    Markdown(doc).to_string()
}

#[cfg(test)]
mod tests;
