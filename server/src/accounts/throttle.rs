//! Sign-in throttling. Each attempt *reserves* a place against its account and
//! its client address before the password is checked (so concurrent wrong
//! passwords cannot all reach the slow check), and counts as a failure unless
//! it succeeds. An account allows few failures a minute; a client address
//! more, so that one address (a proxy, an office) does not lock everyone out
//! after a few typos. The map of keys is bounded. Pure logic over a clock
//! value passed in, so it is tested without waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account within [`WINDOW`].
pub const ACCOUNT_FAILURES: usize = 5;
/// Failures allowed per client address within [`WINDOW`].
pub const CLIENT_FAILURES: usize = 30;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Most keys kept; past it, expired keys are swept and then the stalest dropped.
pub const MAX_KEYS: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(String),
}

impl Key {
    fn limit(&self) -> usize {
        match self {
            Key::Account(_) => ACCOUNT_FAILURES,
            Key::Client(_) => CLIENT_FAILURES,
        }
    }
}

/// A reserved sign-in attempt: a failure unless [`LoginThrottle::succeeded`] is called.
#[derive(Debug)]
pub struct Attempt {
    account: Key,
    client: Key,
    at: Instant,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    attempts: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// Reserves an attempt for `email` from `client`, or answers how long to
    /// wait when either has used up its failures. `email` must already be
    /// bounded in length (see `app::domain::account::Email::MAX_LEN`).
    pub fn reserve(&self, email: &str, client: &str, now: Instant) -> Result<Attempt, Duration> {
        let account = Key::Account(email.trim().to_lowercase());
        let client = Key::Client(client.to_owned());
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for key in [&account, &client] {
            if let Some(times) = attempts.get_mut(key) {
                while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    times.pop_front();
                }
                if times.len() >= key.limit()
                    && let Some(oldest) = times.front()
                {
                    let left = WINDOW.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait.max(Duration::from_secs(1)));
        }
        for key in [&account, &client] {
            if !attempts.contains_key(key) && attempts.len() >= MAX_KEYS {
                make_room(&mut attempts, now);
            }
            attempts.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Attempt { account, client, at: now })
    }

    /// The attempt signed in: it is no failure, and the account's earlier failures are forgotten.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        attempts.remove(&attempt.account);
        if let Some(times) = attempts.get_mut(&attempt.client)
            && let Some(at) = times.iter().position(|t| *t == attempt.at)
        {
            times.remove(at);
        }
    }

    /// The attempt could not be judged (the account store was unavailable): it counts for nothing.
    pub fn release(&self, attempt: Attempt) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        for key in [&attempt.account, &attempt.client] {
            if let Some(times) = attempts.get_mut(key)
                && let Some(at) = times.iter().position(|t| *t == attempt.at)
            {
                times.remove(at);
            }
        }
    }

    /// How many keys are tracked (for tests and the benchmark).
    pub fn tracked(&self) -> usize {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Frees places: sweeps keys whose attempts all expired, else drops the tenth
/// of keys whose latest attempts are the oldest (in one pass, so that a flood
/// of new keys costs little per attempt).
fn make_room(attempts: &mut HashMap<Key, VecDeque<Instant>>, now: Instant) {
    attempts.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
    if attempts.len() < MAX_KEYS {
        return;
    }
    let mut latest: Vec<(Instant, Key)> =
        attempts.iter().filter_map(|(key, times)| times.back().map(|t| (*t, key.clone()))).collect();
    let drop = (MAX_KEYS / 10).max(1).min(latest.len());
    latest.select_nth_unstable_by_key(drop - 1, |(t, _)| *t);
    for (_, key) in latest.into_iter().take(drop) {
        attempts.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_within_a_minute_block_the_account() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..ACCOUNT_FAILURES {
            assert!(
                throttle.reserve("a@example.com", "10.0.0.1", start + Duration::from_secs(i as u64)).is_ok()
            );
        }
        let wait =
            throttle.reserve("a@example.com", "10.0.0.2", start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50), "from any address");
    }

    #[test]
    fn concurrent_attempts_are_counted_before_any_password_is_checked() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        // Forty attempts at once, none finished yet: only five get to check a password.
        let reserved = (0..40).filter(|_| throttle.reserve("a@example.com", "10.0.0.1", now).is_ok()).count();
        assert_eq!(reserved, ACCOUNT_FAILURES);
    }

    #[test]
    fn the_block_lifts_when_the_oldest_failure_leaves_the_window() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..ACCOUNT_FAILURES {
            throttle.reserve("a@example.com", "10.0.0.1", start).unwrap();
        }
        assert!(
            throttle.reserve("a@example.com", "10.0.0.1", start + WINDOW - Duration::from_millis(1)).is_err()
        );
        assert!(throttle.reserve("a@example.com", "10.0.0.1", start + WINDOW).is_ok());
    }

    #[test]
    fn one_address_may_fail_more_than_one_account_so_a_proxy_does_not_lock_everyone_out() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..7 {
            throttle.reserve(&format!("user{i}@example.com"), "10.0.0.9", now).unwrap();
        }
        assert!(
            throttle.reserve("fresh@example.com", "10.0.0.9", now).is_ok(),
            "seven typos block nobody else"
        );
        for i in 8..CLIENT_FAILURES {
            throttle.reserve(&format!("user{i}@example.com"), "10.0.0.9", now).unwrap();
        }
        assert!(
            throttle.reserve("another@example.com", "10.0.0.9", now).is_err(),
            "a spray from one address is stopped"
        );
        assert!(throttle.reserve("another@example.com", "10.0.0.10", now).is_ok());
    }

    #[test]
    fn a_success_forgets_the_accounts_failures_and_is_not_counted() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES - 1 {
            throttle.reserve("a@example.com", "10.0.0.1", now).unwrap();
        }
        let attempt = throttle.reserve("a@example.com", "10.0.0.1", now).unwrap();
        throttle.succeeded(attempt);
        for _ in 0..ACCOUNT_FAILURES {
            assert!(throttle.reserve("a@example.com", "10.0.0.2", now).is_ok());
        }
    }

    #[test]
    fn the_map_stays_bounded() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_KEYS / 2 + 10_000 {
            let client = format!("10.{}.{}.{}", i / 65_536, i / 256 % 256, i % 256);
            let at = now + Duration::from_micros(i as u64);
            throttle.reserve(&format!("u{i}@example.com"), &client, at).unwrap();
        }
        assert!(throttle.tracked() <= MAX_KEYS, "{} keys", throttle.tracked());
    }
}
