//! Sign-in throttling: after too many failures within a window for one account
//! or one client address, further attempts are refused until the window passes.
//! Pure logic over a clock value passed in, so it is tested without waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account or address within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Past this many tracked keys, expired ones are swept on every failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// The keys one sign-in attempt counts against.
pub fn keys(email: &str, address: &str) -> [String; 2] {
    [format!("account:{}", email.trim().to_lowercase()), format!("address:{address}")]
}

impl LoginThrottle {
    /// `Some(wait)` when any key has used up its failures: how long until one expires.
    pub fn blocked_for(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|key| failures.get(key))
            .filter_map(|times| {
                let recent: Vec<&Instant> =
                    times.iter().filter(|t| now.duration_since(**t) < WINDOW).collect();
                (recent.len() >= MAX_FAILURES).then(|| WINDOW.saturating_sub(now.duration_since(*recent[0])))
            })
            .max()
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            times.retain(|t| now.duration_since(*t) < WINDOW);
            times.push_back(now);
        }
    }

    /// A successful sign-in forgets the account's failures (not the address's).
    pub fn record_success(&self, account_key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(account_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_within_a_minute_block_the_account() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        let keys = keys("a@example.com", "10.0.0.1");
        for i in 0..MAX_FAILURES {
            assert_eq!(throttle.blocked_for(&keys, start), None, "attempt {i}");
            throttle.record_failure(&keys, start + Duration::from_secs(i as u64));
        }
        let wait = throttle.blocked_for(&keys, start + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
    }

    #[test]
    fn the_block_lifts_when_the_oldest_failure_leaves_the_window() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        let keys = keys("a@example.com", "10.0.0.1");
        for _ in 0..MAX_FAILURES {
            throttle.record_failure(&keys, start);
        }
        assert!(throttle.blocked_for(&keys, start + WINDOW - Duration::from_millis(1)).is_some());
        assert_eq!(throttle.blocked_for(&keys, start + WINDOW), None);
    }

    #[test]
    fn failures_from_one_address_block_other_accounts_from_it() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_FAILURES {
            throttle.record_failure(&keys(&format!("user{i}@example.com"), "10.0.0.9"), now);
        }
        assert!(throttle.blocked_for(&keys("fresh@example.com", "10.0.0.9"), now).is_some());
        assert_eq!(throttle.blocked_for(&keys("fresh@example.com", "10.0.0.10"), now), None);
    }

    #[test]
    fn four_failures_then_a_success_start_the_account_count_again() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        let k = keys("a@example.com", "10.0.0.1");
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure(&k, now);
        }
        throttle.record_success(&k[0]);
        throttle.record_failure(&keys("a@example.com", "10.0.0.2"), now);
        assert_eq!(throttle.blocked_for(&keys("a@example.com", "10.0.0.2"), now), None);
    }
}
