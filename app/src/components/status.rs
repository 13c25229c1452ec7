//! Status shown the same way everywhere: colour always with words and a
//! symbol, times as "since HH:MM:SS UTC (for 4 min)", and the cluster link
//! with the age of the data when it is stale.

use crate::domain::connection::{Link, describe_age};
use crate::domain::health::ComponentStatus;
use crate::live::ClusterLink;
use leptos::prelude::*;

/// The class suffix for a status: `status-partial-outage`.
pub fn status_class(status: ComponentStatus) -> String {
    format!("status-{}", status.as_str().replace('_', "-"))
}

/// A symbol that tells statuses apart without colour.
pub fn status_symbol(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "✓",
        ComponentStatus::UnderMaintenance => "🔧",
        ComponentStatus::DegradedPerformance => "▲",
        ComponentStatus::PartialOutage => "◐",
        ComponentStatus::MajorOutage => "✕",
    }
}

#[component]
pub fn StatusBadge(status: ComponentStatus) -> impl IntoView {
    view! {
        <span class=format!("badge {}", status_class(status)) data-status=status.as_str()>
            <span aria-hidden="true">{status_symbol(status)}</span>
            " "
            {status.label()}
        </span>
    }
}

/// `HH:MM:SS` (UTC) of a time in milliseconds since the Unix epoch.
pub fn clock(millis: i64) -> String {
    let seconds = millis.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", seconds / 3600, (seconds / 60) % 60, seconds % 60)
}

/// "since 14:03:12 UTC (for 4 min)".
pub fn since_text(since: i64, now: i64) -> String {
    format!("since {} UTC (for {})", clock(since), describe_age(now - since))
}

/// Connected, reconnecting, or unreachable since when, with the data's age.
#[component]
pub fn ConnectionIndicator(link: ClusterLink) -> impl IntoView {
    let age = link.last_contact.map(|contact| describe_age(link.now - contact));
    let (class, text) = match link.link {
        Link::Connected => ("connection connected", "Connected to the cluster".to_owned()),
        Link::Connecting => ("connection stale", "Connecting to the cluster…".to_owned()),
        Link::Reconnecting => ("connection stale", format!("Reconnecting since {} UTC", clock(link.since))),
        Link::Unreachable => {
            ("connection stale", format!("Cluster unreachable since {} UTC", clock(link.since)))
        }
    };
    let stale_note = link.is_stale().then(|| match age {
        Some(age) => format!("What is shown is stale: last heard from the cluster {age} ago."),
        None => "Nothing has been received from the cluster yet.".to_owned(),
    });
    view! {
        <div class=class role="status" data-link=format!("{:?}", link.link).to_lowercase()>
            <strong>{text}</strong>
            {stale_note.map(|note| view! { " — " <span class="stale-note">{note}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_utc_time_of_day() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock((13 * 3600 + 5 * 60 + 9) * 1000 + 86_400_000 * 3), "13:05:09");
    }

    #[test]
    fn status_classes_use_dashes() {
        assert_eq!(status_class(ComponentStatus::PartialOutage), "status-partial-outage");
    }
}
