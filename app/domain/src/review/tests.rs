use super::*;
use crate::incident::PublicStatus;
use crate::incident_lifecycle::{Actor, Command, IncidentState, Refusal, apply, decide};
use crate::role::Role;

const MIN: i64 = 60_000;
/// 2026-11-30 09:00 UTC.
const T0: i64 = 1_796_029_200_000;

fn commander() -> Actor {
    Actor::account(1, "ic@example.com", Role::Responder)
}

fn bystander() -> Actor {
    Actor::account(2, "someone@example.com", Role::Responder)
}

/// A scripted incident: runs each command at its minute after `T0` as the
/// store does, and keeps the timeline.
struct Script {
    state: IncidentState,
    timeline: Vec<(i64, TimelineEvent)>,
}

impl Script {
    fn declared_at(minute: i64) -> Script {
        let at = T0 + minute * MIN;
        let person = commander().person.unwrap();
        let declared = TimelineEvent::Declared {
            title: "Checkout fails".into(),
            severity: Severity::Sev2,
            category: Category::ApplicationFailure,
            components: vec!["service/1".into()],
            summary: String::new(),
            commander: Some(person.clone()),
        };
        Script { state: IncidentState::declared(Severity::Sev2, person, at), timeline: vec![(at, declared)] }
    }

    fn run(&mut self, minute: i64, actor: &Actor, command: Command) -> Result<(), Refusal> {
        let at = T0 + minute * MIN;
        for event in decide(&self.state, actor, command)? {
            apply(&mut self.state, &event, at);
            self.timeline.push((at, event));
        }
        Ok(())
    }

    fn at(&mut self, minute: i64, command: Command) -> &mut Script {
        self.run(minute, &commander(), command).unwrap();
        self
    }

    fn executed(&mut self, minute: i64) -> &mut Script {
        let event = TimelineEvent::ActionExecuted {
            action: 1,
            description: "Roll back shop/checkout".into(),
            result: "Rolled back.".into(),
            undo: None,
        };
        self.timeline.push((T0 + minute * MIN, event));
        self
    }

    fn facts(&self) -> Facts<'_> {
        Facts {
            declared_at: self.timeline[0].0,
            timeline: self.timeline.iter().map(|(at, e)| (*at, e)).collect(),
            ..Facts::default()
        }
    }
}

#[test]
fn times_come_from_the_timeline_and_are_measured_from_the_impact_start() {
    let mut script = Script::declared_at(10);
    script
        .at(12, Command::Acknowledge)
        .at(15, Command::ChangePhase(Phase::Containment))
        .executed(20)
        .at(25, Command::ChangePhase(Phase::Recovery))
        .at(40, Command::ChangeStatus(PublicStatus::Resolved));
    let facts = Facts {
        first_alert_start: Some(T0 + 4 * MIN),
        first_alert_seen: Some(T0 + 5 * MIN),
        ..script.facts()
    };
    let times = Times::compute(&facts);
    assert_eq!(times.impact_start, T0 + 4 * MIN);
    assert_eq!(times.impact_source, ImpactSource::Alert);
    assert_eq!(times.detected, T0 + 5 * MIN);
    assert_eq!(times.declared, T0 + 10 * MIN);
    assert_eq!(times.time_to_detect(), Some(MIN));
    assert_eq!(times.time_to_acknowledge(), Some(8 * MIN));
    assert_eq!(times.mitigated, Some(T0 + 20 * MIN), "the action came before the move out of containment");
    assert_eq!(times.time_to_mitigate(), Some(16 * MIN));
    assert_eq!(times.time_to_resolve(), Some(36 * MIN));
}

#[test]
fn the_impact_start_is_the_earliest_fact_or_the_declaration_or_set_by_hand() {
    let script = Script::declared_at(10);
    let detection =
        Facts { first_alert_start: Some(T0 + 6 * MIN), trouble_start: Some(T0 + 2 * MIN), ..script.facts() };
    let times = Times::compute(&detection);
    assert_eq!((times.impact_start, times.impact_source), (T0 + 2 * MIN, ImpactSource::Detection));

    // An alert that started after the declaration does not move the start later.
    let late = Facts { first_alert_start: Some(T0 + 30 * MIN), ..script.facts() };
    let times = Times::compute(&late);
    assert_eq!((times.impact_start, times.impact_source), (T0 + 10 * MIN, ImpactSource::Declaration));
    assert_eq!(times.time_to_detect(), Some(0));

    let edited =
        Facts { impact_override: Some((T0, "Customers reported errors at 09:00".into())), ..script.facts() };
    let times = Times::compute(&edited);
    assert_eq!((times.impact_start, times.impact_source), (T0, ImpactSource::Edited));
    assert_eq!(times.impact_reason.as_deref(), Some("Customers reported errors at 09:00"));
}

#[test]
fn an_incident_nobody_acknowledged_or_contained_has_no_such_times() {
    let mut script = Script::declared_at(0);
    script.at(30, Command::ChangeStatus(PublicStatus::Resolved));
    let times = Times::compute(&script.facts());
    assert_eq!(times.acknowledged, None);
    assert_eq!(times.time_to_acknowledge(), None);
    assert_eq!(times.mitigated, None);
    assert_eq!(times.time_to_resolve(), Some(30 * MIN));
    let rows = times.rows();
    assert_eq!(rows[3], ("Acknowledged", None, None));
}

#[test]
fn a_reopened_incident_counts_its_last_resolution_and_its_first_acknowledgement() {
    let mut script = Script::declared_at(0);
    script
        .at(5, Command::Acknowledge)
        .at(20, Command::ChangeStatus(PublicStatus::Resolved))
        .at(50, Command::Reopen);
    assert_eq!(Times::compute(&script.facts()).resolved, None, "reopened and not resolved again");
    script.at(90, Command::ChangeStatus(PublicStatus::Resolved));
    let times = Times::compute(&script.facts());
    assert_eq!(times.acknowledged, Some(T0 + 5 * MIN));
    assert_eq!(times.resolved, Some(T0 + 90 * MIN));
}

#[test]
fn resolving_opens_the_review_and_publishing_it_closes_the_incident() {
    let mut script = Script::declared_at(0);
    assert_eq!(script.state.review, None);
    let refused = script.run(1, &commander(), Command::MoveReview(ReviewState::InReview));
    assert!(matches!(refused, Err(Refusal::Invalid(_))), "{refused:?}");

    script.at(10, Command::ChangeStatus(PublicStatus::Resolved));
    assert_eq!(script.state.review, Some(ReviewState::Draft));
    assert!(
        script
            .timeline
            .iter()
            .any(|(_, e)| *e == TimelineEvent::ReviewStateChanged { from: None, to: ReviewState::Draft })
    );

    let early = script.run(11, &commander(), Command::MoveReview(ReviewState::Published));
    assert!(matches!(early, Err(Refusal::Invalid(ref m)) if m.contains("for review")), "{early:?}");
    let stranger = script.run(11, &bystander(), Command::MoveReview(ReviewState::InReview));
    assert!(matches!(stranger, Err(Refusal::NotPermitted(_))), "{stranger:?}");

    script.at(12, Command::MoveReview(ReviewState::InReview));
    script.at(13, Command::MoveReview(ReviewState::Published));
    assert!(script.state.is_closed());
    assert_eq!(script.state.closed_at, Some(T0 + 13 * MIN));
    assert_eq!(Times::compute(&script.facts()).mitigated, None, "moving to post-incident is not mitigation");
    assert_eq!(script.state.phase, Phase::PostIncident);
    assert_eq!(script.timeline.last().map(|(_, e)| e), Some(&TimelineEvent::Closed));

    let frozen = script.run(14, &commander(), Command::MoveReview(ReviewState::Draft));
    assert!(matches!(frozen, Err(Refusal::Invalid(ref m)) if m.contains("reopen")), "{frozen:?}");

    // The commander may reopen a closed incident; the review goes back to draft.
    script.at(20, Command::Reopen);
    assert!(!script.state.is_closed());
    assert_eq!(script.state.review, Some(ReviewState::Draft));
    assert_eq!(script.state.status, PublicStatus::Investigating);
    let moved = script.run(21, &commander(), Command::MoveReview(ReviewState::InReview));
    assert!(matches!(moved, Err(Refusal::Invalid(ref m)) if m.contains("resolve")), "{moved:?}");
    // Resolving again does not open a second review.
    script.at(30, Command::ChangeStatus(PublicStatus::Resolved));
    let opened = script
        .timeline
        .iter()
        .filter(|(_, e)| matches!(e, TimelineEvent::ReviewStateChanged { from: None, .. }));
    assert_eq!(opened.count(), 1);
}

#[test]
fn only_the_commander_or_an_admin_publishes() {
    let mut script = Script::declared_at(0);
    script
        .at(10, Command::ChangeStatus(PublicStatus::Resolved))
        .at(11, Command::MoveReview(ReviewState::InReview));
    let refused = script.run(12, &bystander(), Command::MoveReview(ReviewState::Published));
    assert!(matches!(refused, Err(Refusal::NotPermitted(_))), "{refused:?}");
    let admin = Actor::account(9, "admin@example.com", Role::Admin);
    script.run(12, &admin, Command::MoveReview(ReviewState::Published)).unwrap();
    assert!(script.state.is_closed());
}

fn recorded(minute: i64, status: ComponentStatus) -> Recorded {
    Recorded { at: T0 + minute * MIN, status }
}

#[test]
fn trouble_start_is_the_start_of_the_run_of_trouble_going_on_at_the_time() {
    use ComponentStatus::*;
    let changes = [
        recorded(0, Operational),
        recorded(5, DegradedPerformance),
        recorded(7, Operational),
        recorded(9, PartialOutage),
        recorded(11, MajorOutage),
        recorded(30, Operational),
    ];
    assert_eq!(trouble_start(&changes, T0 + 12 * MIN), Some(T0 + 9 * MIN));
    assert_eq!(trouble_start(&changes, T0 + 6 * MIN), Some(T0 + 5 * MIN));
    assert_eq!(trouble_start(&changes, T0 + 8 * MIN), None);
    assert_eq!(trouble_start(&changes, T0 + 40 * MIN), None);
    assert_eq!(trouble_start(&[recorded(0, UnderMaintenance)], T0 + MIN), None, "maintenance is not trouble");
}

#[test]
fn customer_impact_counts_minutes_per_status_weighted_as_the_status_page_does() {
    use ComponentStatus::*;
    let changes = [
        recorded(-60, Operational),
        recorded(10, PartialOutage),
        recorded(20, MajorOutage),
        recorded(26, Operational),
    ];
    let blind = [Blind { start: T0 + 28 * MIN, end: Some(T0 + 29 * MIN) }];
    let impact = ComponentImpact::compute("service/1", "Checkout", &changes, &blind, T0, T0 + 30 * MIN);
    assert_eq!(impact.partial_outage, 10 * MIN);
    assert_eq!(impact.major_outage, 6 * MIN);
    assert_eq!(impact.operational, 13 * MIN);
    assert_eq!(impact.unknown, MIN);
    assert_eq!(impact.weighted_downtime, 11 * MIN);
}

#[test]
fn follow_ups_are_checked_and_flagged_overdue_after_their_due_day() {
    let form = FollowUpForm {
        title: " Alert on rollout failures ".into(),
        owner: "Ops@Example.com".into(),
        due: "2026-12-01".into(),
        link: "https://tracker.example/OPS-12".into(),
        components: vec!["service/1".into(), " ".into(), "service/1".into()],
        ..FollowUpForm::default()
    };
    let input = FollowUpInput::parse(&form).unwrap();
    assert_eq!(input.title, "Alert on rollout failures");
    assert_eq!(input.owner.as_deref(), Some("ops@example.com"));
    assert_eq!(input.status, FollowUpStatus::Open);
    assert_eq!(input.components, ["service/1"]);
    let day = input.due.unwrap();
    assert_eq!(calendar::date_of_day(day), "2026-12-01");

    for (field, bad) in [
        ("link", FollowUpForm { link: "javascript:alert(1)".into(), ..form.clone() }),
        ("link", FollowUpForm { link: "https:// spaced".into(), ..form.clone() }),
        ("due", FollowUpForm { due: "next week".into(), ..form.clone() }),
        ("status", FollowUpForm { status: "maybe".into(), ..form.clone() }),
        ("title", FollowUpForm { title: "  ".into(), ..form.clone() }),
    ] {
        assert_eq!(FollowUpInput::parse(&bad).unwrap_err().field, field);
    }

    let item = FollowUp {
        id: 1,
        incident_id: 1,
        title: input.title,
        owner: None,
        due: Some(day),
        status: FollowUpStatus::Open,
        link: None,
        components: Vec::new(),
    };
    assert!(!item.overdue((day + 1) * DAY_MS - 1), "due that day: not overdue until it ends");
    assert!(item.overdue((day + 1) * DAY_MS));
    assert!(!FollowUp { status: FollowUpStatus::Done, ..item }.overdue((day + 5) * DAY_MS));
}

#[test]
fn sections_are_checked_and_their_changes_named() {
    let form = SectionsForm {
        texts: vec![
            ("summary".into(), " Checkout failed. ".into()),
            ("trigger".into(), "A bad image".into()),
        ],
        factors: vec![("change".into(), "Deploy without canary".into()), ("process".into(), "  ".into())],
    };
    let sections = Sections::parse(&form).unwrap();
    assert_eq!(sections.summary, "Checkout failed.");
    assert_eq!(sections.factors, [Factor { kind: FactorKind::Change, text: "Deploy without canary".into() }]);
    assert_eq!(sections.changed(&Sections::default()), ["Summary", "Trigger", "Contributing factors"]);
    let bad = SectionsForm { factors: vec![("blame".into(), "Bob".into())], ..form };
    assert_eq!(Sections::parse(&bad).unwrap_err().field, "factors");
}

#[test]
fn key_events_are_starred_by_default_and_chatter_is_not() {
    assert!(starred_by_default(&TimelineEvent::Acknowledged));
    assert!(starred_by_default(&TimelineEvent::Note { text: "Roll back".into(), decision: true }));
    assert!(!starred_by_default(&TimelineEvent::Note { text: "looking".into(), decision: false }));
    let internal = TimelineEvent::UpdatePosted {
        audience: Audience::Internal,
        purpose: crate::update::Purpose::Investigating,
        text: "x".into(),
    };
    assert!(!starred_by_default(&internal));
}

/// The Markdown a team pastes into its wiki, byte for byte
/// (`UPDATE_GOLDEN=1 cargo test -p domain review` rewrites the file after a deliberate change).
#[test]
fn the_markdown_export_matches_the_golden_file() {
    let mut script = Script::declared_at(10);
    script.at(12, Command::Acknowledge).executed(20).at(40, Command::ChangeStatus(PublicStatus::Resolved));
    let facts =
        Facts { trouble_start: Some(T0 + 3 * MIN), first_alert_seen: Some(T0 + 6 * MIN), ..script.facts() };
    let times = Times::compute(&facts);
    let changes = [
        recorded(3, ComponentStatus::MajorOutage),
        recorded(20, ComponentStatus::PartialOutage),
        recorded(30, ComponentStatus::Operational),
    ];
    let impact = vec![ComponentImpact::compute(
        "service/1",
        "Checkout | EU",
        &changes,
        &[],
        times.impact_start,
        times.resolved.unwrap(),
    )];
    let timeline = script
        .timeline
        .iter()
        .filter(|(_, e)| starred_by_default(e))
        .map(|(at, e)| KeyEvent { at: *at, actor: "ic@example.com".into(), text: e.describe() })
        .collect();
    let sections = Sections {
        summary: "Checkout answered 500 for half an hour after a release.".into(),
        factors: vec![
            Factor { kind: FactorKind::Change, text: "Release 1.4 shipped a broken image tag".into() },
            Factor { kind: FactorKind::Detection, text: "No alert on rollout progress".into() },
        ],
        trigger: "Release 1.4.".into(),
        resolution: "Rolled back to 1.3.".into(),
        went_well: "The rollback took one click.".into(),
        ..Sections::default()
    };
    let follow_ups = vec![FollowUp {
        id: 7,
        incident_id: 42,
        title: "Alert when a rollout stalls".into(),
        owner: Some(Person { id: 3, email: "ops@example.com".into() }),
        due: Some(calendar::days_from_civil(2026, 12, 15)),
        status: FollowUpStatus::Open,
        link: Some("https://tracker.example/OPS-12".into()),
        components: vec!["service/1".into()],
    }];
    let doc = ReviewDocument {
        incident_id: 42,
        title: "Checkout fails".into(),
        severity: Severity::Sev2,
        category: Category::ApplicationFailure,
        state: ReviewState::InReview,
        times,
        impact,
        sections,
        timeline,
        follow_ups,
    };
    let written = markdown(&doc);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/review/golden.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &written).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("the golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(written, golden);
}
