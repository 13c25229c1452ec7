//! Insights over a period: what the figures are, how a period is chosen, how a
//! trend reads, and the CSV download. The aggregation itself runs in SQL
//! (`server::insights`); this is what it answers.

use super::calendar;
use super::incident::{Category, FieldError, Severity};
use super::uptime::DAY_MS;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The default look back, in days.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest period asked for, in days.
pub const MAX_DAYS: i64 = 3 * 366;

/// `[from, to)` in milliseconds, whole UTC days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// From `from` to `to` (both `YYYY-MM-DD`, inclusive); empty: the last
    /// [`DEFAULT_DAYS`] days up to today.
    pub fn parse(from: &str, to: &str, now: i64) -> Result<Period, FieldError> {
        let today = now.div_euclid(DAY_MS);
        let last = match to.trim() {
            "" => today,
            raw => calendar::parse_date("to", raw)?,
        };
        let first = match from.trim() {
            "" => last - DEFAULT_DAYS + 1,
            raw => calendar::parse_date("from", raw)?,
        };
        if first > last {
            return Err(FieldError::new("from", "The period starts after it ends."));
        }
        if last - first + 1 > MAX_DAYS {
            return Err(FieldError::new("from", format!("A period is at most {MAX_DAYS} days.")));
        }
        Ok(Period { from: first * DAY_MS, to: (last + 1) * DAY_MS })
    }

    /// The period of the same length just before this one (what trends compare with).
    pub fn previous(&self) -> Period {
        Period { from: self.from - (self.to - self.from), to: self.from }
    }

    /// The first and last day, `YYYY-MM-DD`.
    pub fn days(&self) -> (String, String) {
        (calendar::date(self.from), calendar::date(self.to - 1))
    }
}

/// Nearest-rank percentiles of durations in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Percentiles {
    pub count: i64,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

/// How a median moved against the previous period (shorter is better).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Better,
    Worse,
    Steady,
    /// One of the two periods has no figure.
    Unknown,
}

impl Trend {
    /// Within 10 % either way is steady.
    pub fn of(now: Option<i64>, before: Option<i64>) -> Trend {
        match (now, before) {
            (Some(now), Some(before)) if now * 10 < before * 9 => Trend::Better,
            (Some(now), Some(before)) if now * 10 > before * 11 => Trend::Worse,
            (Some(_), Some(_)) => Trend::Steady,
            _ => Trend::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Trend::Better => "faster than the period before",
            Trend::Worse => "slower than the period before",
            Trend::Steady => "about as before",
            Trend::Unknown => "nothing to compare with",
        }
    }
}

/// Time to acknowledge and to resolve for one severity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeverityTimes {
    pub severity: Severity,
    pub acknowledge: Percentiles,
    pub acknowledge_trend: Trend,
    pub resolve: Percentiles,
    pub resolve_trend: Trend,
}

/// A component with a figure (incidents, or downtime in milliseconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentFigure {
    pub component: String,
    pub name: String,
    pub value: i64,
}

/// Follow-ups over the period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpFigures {
    /// Added during the period.
    pub opened: i64,
    /// Marked done during the period.
    pub done: i64,
    /// Open and past their due day now.
    pub overdue: i64,
}

/// Everything `/insights` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insights {
    pub period: Period,
    /// `(YYYY-MM, incidents declared)` for every month of the period.
    pub by_month: Vec<(String, i64)>,
    pub by_severity: Vec<(Severity, i64)>,
    pub by_category: Vec<(Category, i64)>,
    /// Measured from the declaration; for the incidents declared in the period.
    pub times: Vec<SeverityTimes>,
    /// Most incidents first, at most [`TOP`].
    pub components_by_incidents: Vec<ComponentFigure>,
    /// Public components, most customer-facing downtime first (weighted as on the status page), at most [`TOP`].
    pub components_by_downtime: Vec<ComponentFigure>,
    /// DORA's failed deployment recovery time: from declaration to resolution, for
    /// incidents contained by a successful rollback.
    pub recovery: Percentiles,
    pub follow_ups: FollowUpFigures,
}

/// How many components each ranking lists.
pub const TOP: usize = 10;

/// What each figure means, as the page shows it.
pub const DEFINITIONS: &[(&str, &str)] = &[
    ("Period", "Incidents declared from the first day to the last, both included (UTC)."),
    ("Time to acknowledge", "From the declaration to the commander's acknowledgement."),
    ("Time to resolve", "From the declaration to the last resolution."),
    (
        "Median, p90",
        "Nearest rank: half of the incidents took at most the median, nine in ten at most the p90.",
    ),
    ("Trend", "The median against the period of the same length just before; within 10 % is steady."),
    (
        "Customer-facing downtime",
        "Time public components spent in outage during the period: a major outage in full, a partial outage as half.",
    ),
    (
        "Failed deployment recovery time",
        "DORA's measure: from the declaration to the resolution of incidents contained by a successful rollback.",
    ),
];

fn minutes(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{:.1}", ms as f64 / 60_000.0)).unwrap_or_default()
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

/// The figures as CSV, one row per figure: `section,key,measure,value`
/// (durations in minutes), for a spreadsheet.
pub fn csv(insights: &Insights) -> String {
    let mut out = String::from("section,key,measure,value\n");
    let mut row = |section: &str, key: &str, measure: &str, value: String| {
        let _ = writeln!(out, "{},{},{},{}", field(section), field(key), field(measure), field(&value));
    };
    let (first, last) = insights.period.days();
    row("period", "from", "date", first);
    row("period", "to", "date", last);
    for (month, n) in &insights.by_month {
        row("incidents_by_month", month, "incidents", n.to_string());
    }
    for (severity, n) in &insights.by_severity {
        row("incidents_by_severity", severity.as_str(), "incidents", n.to_string());
    }
    for (category, n) in &insights.by_category {
        row("incidents_by_category", category.as_str(), "incidents", n.to_string());
    }
    for t in &insights.times {
        let s = t.severity.as_str();
        row("time_to_acknowledge", s, "count", t.acknowledge.count.to_string());
        row("time_to_acknowledge", s, "p50_minutes", minutes(t.acknowledge.p50));
        row("time_to_acknowledge", s, "p90_minutes", minutes(t.acknowledge.p90));
        row("time_to_resolve", s, "count", t.resolve.count.to_string());
        row("time_to_resolve", s, "p50_minutes", minutes(t.resolve.p50));
        row("time_to_resolve", s, "p90_minutes", minutes(t.resolve.p90));
    }
    for c in &insights.components_by_incidents {
        row("components_by_incidents", &c.name, "incidents", c.value.to_string());
    }
    for c in &insights.components_by_downtime {
        row("components_by_downtime", &c.name, "weighted_minutes", minutes(Some(c.value)));
    }
    row("failed_deployment_recovery", "rollback", "count", insights.recovery.count.to_string());
    row("failed_deployment_recovery", "rollback", "p50_minutes", minutes(insights.recovery.p50));
    row("failed_deployment_recovery", "rollback", "p90_minutes", minutes(insights.recovery.p90));
    row("follow_ups", "all", "opened", insights.follow_ups.opened.to_string());
    row("follow_ups", "all", "done", insights.follow_ups.done.to_string());
    row("follow_ups", "all", "overdue", insights.follow_ups.overdue.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_029_200_000; // 2026-11-30 09:00 UTC

    #[test]
    fn a_period_defaults_to_the_last_ninety_days_and_is_checked() {
        let p = Period::parse("", "", NOW).unwrap();
        assert_eq!(p.days(), ("2026-09-02".to_owned(), "2026-11-30".to_owned()));
        assert_eq!(p.to - p.from, 90 * DAY_MS);
        assert_eq!(p.previous().to, p.from);
        let june = Period::parse("2026-06-01", "2026-06-30", NOW).unwrap();
        assert_eq!(june.to - june.from, 30 * DAY_MS);
        assert_eq!(Period::parse("2026-07-01", "2026-06-30", NOW).unwrap_err().field, "from");
        assert_eq!(Period::parse("2020-01-01", "2026-06-30", NOW).unwrap_err().field, "from");
        assert_eq!(Period::parse("", "June", NOW).unwrap_err().field, "to");
    }

    #[test]
    fn a_trend_needs_a_ten_percent_move() {
        assert_eq!(Trend::of(Some(80), Some(100)), Trend::Better);
        assert_eq!(Trend::of(Some(95), Some(100)), Trend::Steady);
        assert_eq!(Trend::of(Some(120), Some(100)), Trend::Worse);
        assert_eq!(Trend::of(None, Some(100)), Trend::Unknown);
    }

    #[test]
    fn the_csv_has_one_figure_per_row_and_is_safe_for_spreadsheets() {
        let insights = Insights {
            period: Period::parse("2026-11-01", "2026-11-30", NOW).unwrap(),
            by_month: vec![("2026-11".into(), 3)],
            by_severity: vec![(Severity::Sev1, 1)],
            by_category: vec![],
            times: vec![SeverityTimes {
                severity: Severity::Sev1,
                acknowledge: Percentiles { count: 1, p50: Some(90_000), p90: Some(90_000) },
                acknowledge_trend: Trend::Unknown,
                resolve: Percentiles::default(),
                resolve_trend: Trend::Unknown,
            }],
            components_by_incidents: vec![ComponentFigure {
                component: "service/1".into(),
                name: "=HYPERLINK(\"x\"), checkout".into(),
                value: 2,
            }],
            components_by_downtime: vec![],
            recovery: Percentiles::default(),
            follow_ups: FollowUpFigures { opened: 2, done: 1, overdue: 1 },
        };
        let text = csv(&insights);
        assert!(text.starts_with("section,key,measure,value\nperiod,from,date,2026-11-01\n"), "{text}");
        assert!(text.contains("time_to_acknowledge,SEV1,p50_minutes,1.5\n"), "{text}");
        assert!(
            text.contains("components_by_incidents,\"'=HYPERLINK(\"\"x\"\"), checkout\",incidents,2\n"),
            "{text}"
        );
        assert!(text.contains("follow_ups,all,overdue,1\n"), "{text}");
    }
}
