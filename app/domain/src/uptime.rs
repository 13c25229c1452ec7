//! Uptime per component per day, from its recorded status changes and the
//! times Wheelhouse could not see the cluster. Time not seen is *unknown*,
//! never uptime. Weighted by impact: a major outage counts as full downtime,
//! a partial outage as half, degraded performance and maintenance as none.

use super::health::ComponentStatus;
use serde::{Deserialize, Serialize};

pub const DAY_MS: i64 = 86_400_000;

/// How long a component spent in each status during one UTC day, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBreakdown {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub operational: i64,
    pub under_maintenance: i64,
    pub degraded_performance: i64,
    pub partial_outage: i64,
    pub major_outage: i64,
    pub unknown: i64,
}

impl DayBreakdown {
    fn slot(&mut self, status: Option<ComponentStatus>) -> &mut i64 {
        match status {
            None => &mut self.unknown,
            Some(ComponentStatus::Operational) => &mut self.operational,
            Some(ComponentStatus::UnderMaintenance) => &mut self.under_maintenance,
            Some(ComponentStatus::DegradedPerformance) => &mut self.degraded_performance,
            Some(ComponentStatus::PartialOutage) => &mut self.partial_outage,
            Some(ComponentStatus::MajorOutage) => &mut self.major_outage,
        }
    }

    fn add(&mut self, status: Option<ComponentStatus>, millis: i64) {
        *self.slot(status) += millis;
    }

    fn known(&self) -> i64 {
        self.operational
            + self.under_maintenance
            + self.degraded_performance
            + self.partial_outage
            + self.major_outage
    }

    /// The share of the known time that counts as up, or `None` when nothing
    /// was known that day.
    pub fn uptime(&self) -> Option<f64> {
        let known = self.known();
        (known > 0).then(|| {
            (known as f64 - self.major_outage as f64 - self.partial_outage as f64 / 2.0) / known as f64
        })
    }

    /// The fraction of the day's elapsed time spent in `status` (`None`: unknown).
    pub fn fraction(&self, status: Option<ComponentStatus>) -> f64 {
        let total = self.known() + self.unknown;
        let mut copy = *self;
        if total == 0 { 0.0 } else { *copy.slot(status) as f64 / total as f64 }
    }
}

/// A recorded status change: from `at` on, the component had `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub at: i64,
    pub status: ComponentStatus,
}

/// A stretch when the cluster could not be seen; `end: None` means still going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blind {
    pub start: i64,
    pub end: Option<i64>,
}

/// The breakdown for `days` UTC days starting at day `first_day`, up to `now`.
/// `changes` must be sorted by time and include the last change before the
/// first day, if any (it sets the status the period starts with).
pub fn daily(
    changes: &[Recorded],
    blind: &[Blind],
    first_day: i64,
    days: usize,
    now: i64,
) -> Vec<DayBreakdown> {
    let start = first_day * DAY_MS;
    let end = ((first_day + days as i64) * DAY_MS).min(now);
    let blind: Vec<(i64, i64)> = blind.iter().map(|b| (b.start, b.end.unwrap_or(now))).collect();
    let mut result: Vec<DayBreakdown> =
        (0..days as i64).map(|i| DayBreakdown { day: first_day + i, ..DayBreakdown::default() }).collect();
    for (from, to, status) in segments(changes, start, end) {
        for (piece_from, piece_to, seen) in split_by_blind(from, to, &blind) {
            let mut t = piece_from;
            while t < piece_to {
                let day = t.div_euclid(DAY_MS);
                let day_end = ((day + 1) * DAY_MS).min(piece_to);
                if let Some(entry) = result.get_mut((day - first_day) as usize) {
                    entry.add(if seen { status } else { None }, day_end - t);
                }
                t = day_end;
            }
        }
    }
    result
}

/// The time spent in each status between `from` and `to` (one span, not cut
/// into days; `day` is the span's first day). `changes` as for [`daily`].
pub fn span(changes: &[Recorded], blind: &[Blind], from: i64, to: i64) -> DayBreakdown {
    let blind: Vec<(i64, i64)> = blind.iter().map(|b| (b.start, b.end.unwrap_or(to))).collect();
    let mut total = DayBreakdown { day: from.div_euclid(DAY_MS), ..DayBreakdown::default() };
    for (from, to, status) in segments(changes, from, to) {
        for (piece_from, piece_to, seen) in split_by_blind(from, to, &blind) {
            total.add(if seen { status } else { None }, piece_to - piece_from);
        }
    }
    total
}

impl DayBreakdown {
    /// Downtime weighted by impact, as the status page counts it: a major
    /// outage in full, a partial outage as half, the rest as none.
    pub fn weighted_downtime(&self) -> i64 {
        self.major_outage + self.partial_outage / 2
    }
}

/// `[start, end)` cut where the status changes: `(from, to, status)`, no empty pieces;
/// `None` before the first change.
fn segments(changes: &[Recorded], start: i64, end: i64) -> Vec<(i64, i64, Option<ComponentStatus>)> {
    let mut segments = Vec::new();
    let mut cursor = start;
    let mut status = None;
    for change in changes {
        if change.at > cursor {
            segments.push((cursor, change.at.min(end), status));
            cursor = change.at;
        }
        status = Some(change.status);
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        segments.push((cursor, end, status));
    }
    segments.retain(|(from, to, _)| from < to);
    segments
}

/// Cuts `[from, to)` into pieces, each seen or not seen.
fn split_by_blind(from: i64, to: i64, blind: &[(i64, i64)]) -> Vec<(i64, i64, bool)> {
    let mut overlaps: Vec<(i64, i64)> =
        blind.iter().map(|&(s, e)| (s.max(from), e.min(to))).filter(|(s, e)| s < e).collect();
    overlaps.sort_unstable();
    let mut pieces = Vec::new();
    let mut cursor = from;
    for (s, e) in overlaps {
        if s > cursor {
            pieces.push((cursor, s, true));
        }
        if e > cursor {
            pieces.push((cursor.max(s), e, false));
            cursor = e;
        }
    }
    if cursor < to {
        pieces.push((cursor, to, true));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;

    const HOUR: i64 = 3_600_000;

    fn at(hours: i64, status: ComponentStatus) -> Recorded {
        Recorded { at: hours * HOUR, status }
    }

    #[test]
    fn a_whole_day_operational_is_full_uptime() {
        let days = daily(&[at(-5, Operational)], &[], 0, 1, 2 * DAY_MS);
        assert_eq!(days[0].operational, DAY_MS);
        assert_eq!(days[0].uptime(), Some(1.0));
    }

    #[test]
    fn outages_are_weighted_by_impact() {
        // 12 h operational, 6 h partial outage, 6 h major outage.
        let changes = [at(0, Operational), at(12, PartialOutage), at(18, MajorOutage)];
        let day = daily(&changes, &[], 0, 1, DAY_MS)[0];
        assert_eq!(day.partial_outage, 6 * HOUR);
        assert_eq!(day.major_outage, 6 * HOUR);
        assert_eq!(day.uptime(), Some((24.0 - 6.0 - 3.0) / 24.0));
        assert_eq!(day.fraction(Some(Operational)), 0.5);
    }

    #[test]
    fn degraded_performance_counts_as_up() {
        let day = daily(&[at(0, DegradedPerformance)], &[], 0, 1, DAY_MS)[0];
        assert_eq!(day.uptime(), Some(1.0));
        assert_eq!(day.fraction(Some(DegradedPerformance)), 1.0);
    }

    #[test]
    fn time_before_the_first_record_and_blind_time_are_unknown_not_uptime() {
        let changes = [at(6, MajorOutage), at(12, Operational)];
        let blind = [Blind { start: 18 * HOUR, end: Some(20 * HOUR) }];
        let day = daily(&changes, &blind, 0, 1, DAY_MS)[0];
        assert_eq!(day.unknown, 8 * HOUR);
        assert_eq!(day.major_outage, 6 * HOUR);
        assert_eq!(day.operational, 10 * HOUR);
        assert_eq!(day.uptime(), Some(10.0 / 16.0));
    }

    #[test]
    fn a_day_with_nothing_known_has_no_uptime() {
        let day = daily(&[], &[], 0, 1, DAY_MS)[0];
        assert_eq!(day.uptime(), None);
        assert_eq!(day.unknown, DAY_MS);
    }

    #[test]
    fn a_change_spanning_midnight_is_split_between_the_days_and_today_ends_now() {
        let changes = [at(0, Operational), at(22, PartialOutage)];
        let days = daily(&changes, &[Blind { start: 30 * HOUR, end: None }], 0, 2, 36 * HOUR);
        assert_eq!(days[0].partial_outage, 2 * HOUR);
        assert_eq!(days[1].partial_outage, 6 * HOUR, "from midnight until the cluster went out of sight");
        assert_eq!(days[1].unknown, 6 * HOUR, "blind until now");
        assert_eq!(days[1].known() + days[1].unknown, 12 * HOUR, "the day so far, not all of it");
    }

    #[test]
    fn ninety_days_can_be_asked_for_at_once() {
        let days = daily(&[at(0, Operational)], &[], 0, 90, 90 * DAY_MS);
        assert_eq!(days.len(), 90);
        assert_eq!(days[89].day, 89);
        assert!(days.iter().all(|d| d.uptime() == Some(1.0)));
    }
}
