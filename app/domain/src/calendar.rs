//! Calendar dates in UTC, without a date library: days since 1970-01-01, the
//! `YYYY-MM-DD` form people type and read, and month starts for grouping.
//! The arithmetic is the proleptic Gregorian calendar (eras of 400 years).

use super::incident::FieldError;
use super::uptime::DAY_MS;

/// Days since 1970-01-01 of the civil date `year-month-day`.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `(year, month, day)` of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads `YYYY-MM-DD` into days since 1970-01-01; `field` names the form field in the refusal.
pub fn parse_date(field: &'static str, raw: &str) -> Result<i64, FieldError> {
    let refuse =
        || FieldError::new(field, format!("\u{201c}{}\u{201d} is not a date like 2026-12-31.", raw.trim()));
    let mut parts = raw.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(refuse());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(refuse());
    }
    let (year, month, day): (i64, u32, u32) = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => (y, m, d),
        _ => return Err(refuse()),
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(refuse());
    }
    Ok(days_from_civil(year, month, day))
}

/// Reads `YYYY-MM-DDTHH:MM` (what a `datetime-local` field sends) or
/// `YYYY-MM-DD HH:MM`, in UTC, into milliseconds (seconds, when given, are dropped).
pub fn parse_date_time(field: &'static str, raw: &str) -> Result<i64, FieldError> {
    parse_moment(field, raw).map(|millis| millis - millis.rem_euclid(60_000))
}

/// Like [`parse_date_time`], keeping the seconds of `YYYY-MM-DDTHH:MM:SS`
/// (as an API client sends an instant, with or without a trailing `Z`).
pub fn parse_moment(field: &'static str, raw: &str) -> Result<i64, FieldError> {
    let raw = raw.trim().trim_end_matches(" UTC").trim_end_matches('Z');
    let refuse = || {
        FieldError::new(field, format!("\u{201c}{raw}\u{201d} is not a time like 2026-12-31T14:05 (UTC)."))
    };
    let (date, time) = raw.split_once(['T', ' ']).ok_or_else(refuse)?;
    let day = parse_date(field, date).map_err(|_| refuse())?;
    // HH:MM, or HH:MM:SS.
    let parts: Vec<&str> = time.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return Err(refuse());
    }
    let seconds = match parts.get(2).map(|s| s.parse::<i64>()) {
        None => 0,
        Some(Ok(s)) if (0..60).contains(&s) => s,
        Some(_) => return Err(refuse()),
    };
    match (parts[0].parse::<i64>(), parts[1].parse::<i64>()) {
        (Ok(h), Ok(m)) if (0..24).contains(&h) && (0..60).contains(&m) => {
            Ok(day * DAY_MS + ((h * 60 + m) * 60 + seconds) * 1000)
        }
        _ => Err(refuse()),
    }
}

/// `YYYY-MM-DDTHH:MM` of a time, as a `datetime-local` field shows it.
pub fn date_time_input(millis: i64) -> String {
    let minutes = millis.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{}T{:02}:{:02}", date(millis), minutes / 60, minutes % 60)
}

/// `YYYY-MM-DD` of `days` since 1970-01-01.
pub fn date_of_day(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DD` of a time in milliseconds (UTC).
pub fn date(millis: i64) -> String {
    date_of_day(millis.div_euclid(DAY_MS))
}

/// `YYYY-MM-DD HH:MM UTC` of a time in milliseconds.
pub fn date_time(millis: i64) -> String {
    let minutes = millis.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{} {:02}:{:02} UTC", date(millis), minutes / 60, minutes % 60)
}

/// The start (in milliseconds) of the UTC month holding `millis`.
pub fn month_start(millis: i64) -> i64 {
    let (year, month, _) = civil_from_days(millis.div_euclid(DAY_MS));
    days_from_civil(year, month, 1) * DAY_MS
}

/// The start of the month after the one starting at `month_start`.
pub fn next_month(month_start: i64) -> i64 {
    let (year, month, _) = civil_from_days(month_start.div_euclid(DAY_MS));
    let (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    days_from_civil(year, month, 1) * DAY_MS
}

/// `YYYY-MM` of the month holding `millis`.
pub fn month_label(millis: i64) -> String {
    date(millis)[..7].to_owned()
}

/// The starts of every month that overlaps `[from, to)`, in order.
pub fn months(from: i64, to: i64) -> Vec<i64> {
    let mut starts = Vec::new();
    let mut start = month_start(from);
    while start < to {
        starts.push(start);
        start = next_month(start);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_agree_both_ways_across_leap_years_and_eras() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn a_typed_date_is_checked_for_shape_and_calendar() {
        assert_eq!(parse_date("due", "2024-02-29").map(date_of_day).unwrap(), "2024-02-29");
        assert!(parse_date("due", "2023-02-29").is_err());
        assert!(parse_date("due", "2026-13-01").is_err());
        assert!(parse_date("due", "26-1-1").is_err());
        let refused = parse_date("due", "tomorrow").unwrap_err();
        assert_eq!(refused.field, "due");
        assert!(refused.message.contains("2026-12-31"), "{}", refused.message);
    }

    #[test]
    fn a_typed_time_reads_as_utc_minutes() {
        let at = parse_date_time("at", "2026-11-30T09:03").unwrap();
        assert_eq!(date_time(at), "2026-11-30 09:03 UTC");
        assert_eq!(parse_date_time("at", "2026-11-30 09:03").unwrap(), at);
        assert_eq!(parse_date_time("at", &date_time_input(at)).unwrap(), at);
        for bad in ["2026-11-30", "2026-11-30T24:00", "2026-11-30T9:3", "yesterday", "2026-11-30T09:60"] {
            assert_eq!(parse_date_time("at", bad).unwrap_err().field, "at", "{bad}");
        }
    }

    #[test]
    fn times_read_as_utc_dates_and_months() {
        let at = days_from_civil(2026, 11, 30) * DAY_MS + (7 * 60 + 5) * 60_000 + 59_000;
        assert_eq!(date_time(at), "2026-11-30 07:05 UTC");
        assert_eq!(month_label(at), "2026-11");
        assert_eq!(date(month_start(at)), "2026-11-01");
        assert_eq!(date(next_month(month_start(at))), "2026-12-01");
        let labels: Vec<String> =
            months(month_start(at) - 1, at + 40 * DAY_MS).into_iter().map(month_label).collect();
        assert_eq!(labels, ["2026-10", "2026-11", "2026-12", "2027-01"]);
    }
}
