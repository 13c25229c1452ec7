//! Whether Wheelhouse can see the cluster: connected, reconnecting after a
//! failed check, or unreachable since a given time, and how old its data is.
//! Pages use this to say honestly when what they show is stale.

use serde::{Deserialize, Serialize};

/// Consecutive failed checks after which the cluster counts as unreachable.
pub const UNREACHABLE_AFTER_FAILURES: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Not yet heard from the cluster since start.
    Connecting,
    Connected,
    /// A check failed; the next one decides.
    Reconnecting,
    Unreachable,
}

impl Link {
    pub fn label(self) -> &'static str {
        match self {
            Link::Connecting => "Connecting",
            Link::Connected => "Connected",
            Link::Reconnecting => "Reconnecting",
            Link::Unreachable => "Unreachable",
        }
    }
}

/// The link to the cluster API. Times are milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub link: Link,
    /// When the current link state began.
    pub since: i64,
    /// The last time the cluster answered: the age of the data is `now - last_contact`.
    pub last_contact: Option<i64>,
    failures: u32,
}

impl Connection {
    pub fn new(now: i64) -> Connection {
        Connection { link: Link::Connecting, since: now, last_contact: None, failures: 0 }
    }

    /// The cluster answered. Returns whether the link state changed.
    pub fn succeeded(&mut self, now: i64) -> bool {
        self.last_contact = Some(now);
        self.failures = 0;
        self.set(Link::Connected, now)
    }

    /// A check failed or timed out. Returns whether the link state changed.
    pub fn failed(&mut self, now: i64) -> bool {
        self.failures += 1;
        let link = if self.failures >= UNREACHABLE_AFTER_FAILURES || self.last_contact.is_none() {
            Link::Unreachable
        } else {
            Link::Reconnecting
        };
        // "Unreachable since" counts from the first failure, not the one that confirmed it.
        let since = if self.link == Link::Reconnecting { self.since } else { now };
        self.set(link, since)
    }

    fn set(&mut self, link: Link, since: i64) -> bool {
        if self.link == link {
            return false;
        }
        self.link = link;
        self.since = since;
        true
    }

    /// Whether what Wheelhouse shows may no longer match the cluster.
    pub fn is_stale(&self) -> bool {
        self.link != Link::Connected
    }

    /// Milliseconds since the cluster last answered.
    pub fn data_age(&self, now: i64) -> Option<i64> {
        self.last_contact.map(|contact| (now - contact).max(0))
    }
}

/// "4 s", "3 min 20 s", "2 h 5 min": an age for people.
pub fn describe_age(millis: i64) -> String {
    let seconds = millis.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => match seconds % 60 {
            0 => format!("{} min", seconds / 60),
            s => format!("{} min {s} s", seconds / 60),
        },
        _ => match (seconds % 3600) / 60 {
            0 => format!("{} h", seconds / 3600),
            m => format!("{} h {m} min", seconds / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_answer_connects() {
        let mut c = Connection::new(0);
        assert!(c.is_stale());
        assert!(c.succeeded(100));
        assert_eq!(c.link, Link::Connected);
        assert!(!c.is_stale());
        assert_eq!(c.data_age(1_100), Some(1_000));
    }

    #[test]
    fn one_failure_is_reconnecting_and_a_second_is_unreachable_since_the_first() {
        let mut c = Connection::new(0);
        c.succeeded(1_000);
        assert!(c.failed(2_000));
        assert_eq!((c.link, c.since), (Link::Reconnecting, 2_000));
        assert!(c.is_stale());
        assert!(c.failed(3_000));
        assert_eq!((c.link, c.since), (Link::Unreachable, 2_000));
        assert!(!c.failed(4_000), "still unreachable: no change to report");
        assert_eq!(c.data_age(4_000), Some(3_000));
    }

    #[test]
    fn an_answer_after_an_outage_reconnects() {
        let mut c = Connection::new(0);
        c.succeeded(1_000);
        c.failed(2_000);
        c.failed(3_000);
        assert!(c.succeeded(9_000));
        assert_eq!((c.link, c.since), (Link::Connected, 9_000));
    }

    #[test]
    fn a_cluster_never_reached_is_unreachable_at_the_first_failure() {
        let mut c = Connection::new(0);
        c.failed(500);
        assert_eq!(c.link, Link::Unreachable);
        assert_eq!(c.data_age(600), None);
    }

    #[test]
    fn ages_read_like_people_say_them() {
        assert_eq!(describe_age(4_200), "4 s");
        assert_eq!(describe_age(200_000), "3 min 20 s");
        assert_eq!(describe_age(120_000), "2 min");
        assert_eq!(describe_age(7_500_000), "2 h 5 min");
    }
}
