//! Sign-in throttling, shared by every replica through the database. Each
//! attempt *reserves* a place against its account and its client address
//! before the password is checked (so concurrent wrong passwords cannot all
//! reach the slow check), and counts as a failure unless it succeeds. An
//! account allows few failures a minute; a client address more, so that one
//! address (a proxy, an office) does not lock everyone out after a few typos.
//! Reservations of one key take turns (PostgreSQL: an advisory lock per key;
//! SQLite: its one writer), and attempts older than the window are swept.

use crate::db::{Backend, Database, DbError};
use std::time::Duration;

/// Failures allowed per account within [`WINDOW`].
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failures allowed per client address within [`WINDOW`].
pub const CLIENT_FAILURES: i64 = 30;
pub const WINDOW: Duration = Duration::from_secs(60);
const WINDOW_MS: i64 = 60_000;

/// A reserved sign-in attempt: a failure unless [`SignInThrottle::succeeded`] is called.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    id: String,
}

/// The two keys an attempt counts against, with their limits.
fn keys(email: &str, client: &str) -> [(String, i64); 2] {
    [
        (format!("account:{}", email.trim().to_lowercase()), ACCOUNT_FAILURES),
        (format!("client:{client}"), CLIENT_FAILURES),
    ]
}

/// How long to wait, given for each key the attempts in the window (oldest
/// first, in milliseconds) and its limit; `None` when there is room.
pub fn wait_for(keys: &[(&[i64], i64)], now: i64) -> Option<Duration> {
    keys.iter()
        .filter(|(times, limit)| times.len() as i64 >= *limit)
        .filter_map(|(times, _)| times.first())
        .map(|oldest| Duration::from_millis(u64::try_from(oldest + WINDOW_MS - now).unwrap_or(0)))
        .max()
        .map(|wait| wait.max(Duration::from_secs(1)))
}

#[derive(Clone, Debug)]
pub struct SignInThrottle {
    db: Database,
}

impl SignInThrottle {
    pub fn new(db: Database) -> SignInThrottle {
        SignInThrottle { db }
    }

    /// Reserves an attempt for `email` from `client` at `now` (milliseconds),
    /// or answers how long to wait when either has used up its failures.
    /// `email` must already be bounded in length (see `app::domain::account::Email::MAX_LEN`).
    pub async fn reserve(
        &self,
        email: &str,
        client: &str,
        now: i64,
    ) -> Result<Result<Attempt, Duration>, DbError> {
        let keys = keys(email, client);
        let id = crate::accounts::generate_secret(12);
        let mut tx = self.db.pool.begin().await?;
        let mut seen: Vec<(Vec<i64>, i64)> = Vec::with_capacity(2);
        for (key, limit) in &keys {
            if self.db.backend == Backend::Postgres {
                // Always the account's key before the client's, so two attempts cannot wait on each other.
                sqlx::query("SELECT pg_advisory_xact_lock(7412002, hashtext($1))")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
            // A write first: with SQLite it takes the one writer's lock, so reservations take turns.
            sqlx::query("DELETE FROM sign_in_attempts WHERE throttle_key = $1 AND at <= $2")
                .bind(key)
                .bind(now - WINDOW_MS)
                .execute(&mut *tx)
                .await?;
            let times: Vec<(i64,)> = sqlx::query_as(
                "SELECT at FROM sign_in_attempts WHERE throttle_key = $1 ORDER BY at LIMIT $2",
            )
            .bind(key)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            seen.push((times.into_iter().map(|(at,)| at).collect(), *limit));
        }
        let counted: Vec<(&[i64], i64)> =
            seen.iter().map(|(times, limit)| (times.as_slice(), *limit)).collect();
        if let Some(wait) = wait_for(&counted, now) {
            return Ok(Err(wait));
        }
        for (key, _) in &keys {
            sqlx::query("INSERT INTO sign_in_attempts (throttle_key, attempt, at) VALUES ($1, $2, $3)")
                .bind(key)
                .bind(&id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let [(account, _), _] = keys;
        Ok(Ok(Attempt { account, id }))
    }

    /// The attempt signed in: it is no failure, and the account's earlier failures are forgotten.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE throttle_key = $1 OR attempt = $2")
            .bind(&attempt.account)
            .bind(&attempt.id)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// The attempt could not be judged (the account store was unavailable): it counts for nothing.
    pub async fn release(&self, attempt: Attempt) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE attempt = $1")
            .bind(&attempt.id)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Forgets attempts that left the window (the table holds about a minute of failures).
    pub async fn sweep(&self, now: i64) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM sign_in_attempts WHERE at <= $1")
            .bind(now - WINDOW_MS)
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_room_until_a_key_reaches_its_limit() {
        let five = [0, 1_000, 2_000, 3_000, 4_000];
        assert_eq!(wait_for(&[(&five[..4], ACCOUNT_FAILURES), (&[], CLIENT_FAILURES)], 10_000), None);
        assert_eq!(
            wait_for(&[(&five, ACCOUNT_FAILURES), (&[], CLIENT_FAILURES)], 10_000),
            Some(Duration::from_secs(50)),
            "until the oldest failure leaves the window"
        );
    }

    #[test]
    fn the_longer_wait_of_the_two_keys_wins_and_is_at_least_a_second() {
        let account = [0; 5];
        let client = [30_000; 30];
        assert_eq!(
            wait_for(&[(&account, ACCOUNT_FAILURES), (&client, CLIENT_FAILURES)], 40_000),
            Some(Duration::from_secs(50))
        );
        assert_eq!(wait_for(&[(&account, ACCOUNT_FAILURES)], 59_999), Some(Duration::from_secs(1)));
    }

    async fn throttle() -> (SignInThrottle, std::path::PathBuf) {
        let (db, path) = Database::scratch("throttle").await;
        (SignInThrottle::new(db), path)
    }

    #[tokio::test]
    async fn five_failures_within_a_minute_block_the_account_from_any_address() {
        let (throttle, path) = throttle().await;
        for i in 0..ACCOUNT_FAILURES {
            assert!(throttle.reserve("a@example.com", "10.0.0.1", i * 1000).await.unwrap().is_ok());
        }
        let wait = throttle.reserve("A@example.com ", "10.0.0.2", 10_000).await.unwrap().unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            throttle.reserve("a@example.com", "10.0.0.1", WINDOW_MS).await.unwrap().is_ok(),
            "the oldest left"
        );
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn concurrent_attempts_are_counted_before_any_password_is_checked() {
        let (throttle, path) = throttle().await;
        let attempts = (0..20).map(|_| throttle.reserve("a@example.com", "10.0.0.1", 1_000));
        let results = futures_util::future::join_all(attempts).await;
        let reserved = results.into_iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert_eq!(reserved as i64, ACCOUNT_FAILURES);
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn a_success_forgets_the_accounts_failures_and_a_release_counts_for_nothing() {
        let (throttle, path) = throttle().await;
        for _ in 0..ACCOUNT_FAILURES - 1 {
            throttle.reserve("a@example.com", "10.0.0.1", 0).await.unwrap().unwrap();
        }
        let attempt = throttle.reserve("a@example.com", "10.0.0.1", 0).await.unwrap().unwrap();
        throttle.succeeded(attempt).await.unwrap();
        for _ in 0..ACCOUNT_FAILURES - 1 {
            throttle.reserve("a@example.com", "10.0.0.2", 0).await.unwrap().unwrap();
        }
        let attempt = throttle.reserve("a@example.com", "10.0.0.2", 0).await.unwrap().unwrap();
        throttle.release(attempt).await.unwrap();
        assert!(
            throttle.reserve("a@example.com", "10.0.0.2", 0).await.unwrap().is_ok(),
            "the released place is free"
        );
        let _ = std::fs::remove_file(path);
    }

    #[tokio::test]
    async fn one_address_may_fail_more_than_one_account_so_a_proxy_does_not_lock_everyone_out() {
        let (throttle, path) = throttle().await;
        for i in 0..CLIENT_FAILURES {
            throttle.reserve(&format!("user{i}@example.com"), "10.0.0.9", 0).await.unwrap().unwrap();
        }
        assert!(throttle.reserve("another@example.com", "10.0.0.9", 0).await.unwrap().is_err());
        assert!(throttle.reserve("another@example.com", "10.0.0.10", 0).await.unwrap().is_ok());
        assert_eq!(throttle.sweep(WINDOW_MS).await.unwrap(), 62, "the sweep empties the window");
        let _ = std::fs::remove_file(path);
    }
}
