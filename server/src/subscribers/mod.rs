//! Status-page subscribers as stored: the subscriptions (an e-mail address or
//! a webhook URL with its contact address; pending until the confirmation
//! link is followed, then confirmed, then perhaps unsubscribed),
//! the requests counted for the abuse limits, the notices, the mail outbox
//! (one message per subscriber, retried with back-off) and the delivery log.

pub mod mail;

use crate::db::{Database, DbError};
use app::domain::subscriber::{
    CONFIRM_FOR_MS, LIMIT_WINDOW_MS, SubscribeInput, may_send_confirmation, wants,
};
use serde_json::json;
use sha2::{Digest, Sha256};

fn hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Attempts per message, and the wait before the second (doubling after).
pub const ATTEMPTS: i64 = 5;
const FIRST_RETRY_MS: i64 = 1000;
/// A message being sent is claimed for this long (longer than an attempt may take).
const CLAIM_MS: i64 = 60_000;

/// A message due for delivery.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub subscriber_id: i64,
    /// `confirmation` (always by e-mail) or `notice`.
    pub kind: String,
    pub subject: String,
    /// The mail's text, or the JSON a webhook subscriber receives.
    pub body: String,
    pub attempts: i64,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address, or the webhook's URL.
    pub address: String,
    /// A webhook subscriber's contact address.
    pub contact: Option<String>,
    pub unsubscribe_token: String,
}

impl OutboxRow {
    /// A notice to a webhook subscriber: posted to its URL, not mailed.
    pub fn to_webhook(&self) -> bool {
        self.channel == "webhook" && self.kind == "notice"
    }

    /// Where a mail goes: the address, or a webhook subscriber's contact.
    pub fn mailbox(&self) -> &str {
        self.contact.as_deref().unwrap_or(&self.address)
    }
}

/// One notice on its way to one subscriber, for the message body to be written.
pub struct Outgoing<'a> {
    pub webhook: bool,
    pub subject: &'a str,
    pub text: &'a str,
    pub concerned: &'a [String],
    pub unsubscribe_token: &'a str,
}

/// A subscriber as the admin page lists them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct SubscriberRow {
    pub id: i64,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address, or the webhook's URL.
    pub address: String,
    /// A webhook subscriber's contact address.
    pub contact: Option<String>,
    pub components: String,
    pub state: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

/// What a subscription request led to (the person is answered the same either way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requested {
    /// A confirmation mail is queued.
    Confirmation,
    /// Confirmed already, or over a limit: nothing sent.
    Nothing,
}

#[derive(Clone, Debug)]
pub struct Subscribers {
    db: Database,
}

impl Subscribers {
    pub fn new(db: Database) -> Subscribers {
        Subscribers { db }
    }

    /// Records a request from `client` and, within the limits and unless the
    /// address is confirmed already, makes it pending with a new confirmation
    /// link and queues the mail that carries it (`confirm_mail` builds it from
    /// the token and the subscriber's unsubscribe token).
    pub async fn request(
        &self,
        input: &SubscribeInput,
        client: &str,
        now: i64,
        confirm_mail: impl Fn(&str) -> (String, String),
    ) -> Result<Requested, DbError> {
        let (address_key, client_key) = (format!("address:{}", input.email), format!("client:{client}"));
        let mut tx = self.db.pool.begin().await?;
        // A write first: with SQLite it takes the writer's lock, so requests take turns.
        sqlx::query("DELETE FROM subscribe_requests WHERE at <= $1")
            .bind(now - LIMIT_WINDOW_MS)
            .execute(&mut *tx)
            .await?;
        let count = |key: String| {
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM subscribe_requests WHERE throttle_key = $1")
                .bind(key)
        };
        let (to_address,) = count(address_key.clone()).fetch_one(&mut *tx).await?;
        let (from_client,) = count(client_key.clone()).fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO subscribe_requests (throttle_key, at) VALUES ($1, $2)")
            .bind(&client_key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if !may_send_confirmation(to_address, from_client) {
            tx.commit().await?;
            return Ok(Requested::Nothing);
        }
        let existing: Option<(i64, String)> =
            sqlx::query_as("SELECT id, state FROM subscribers WHERE address = $1")
                .bind(input.address())
                .fetch_optional(&mut *tx)
                .await?;
        if existing.as_ref().is_some_and(|(_, state)| state == "confirmed") {
            tx.commit().await?;
            return Ok(Requested::Nothing);
        }
        let token = crate::accounts::generate_secret(24);
        let components =
            serde_json::to_string(&input.components.iter().map(|c| c.as_str()).collect::<Vec<_>>())
                .unwrap_or_default();
        let (channel, contact) = match &input.webhook {
            Some(_) => ("webhook", Some(input.email.as_str())),
            None => ("email", None),
        };
        let id = match existing {
            Some((id, _)) => {
                sqlx::query(
                    "UPDATE subscribers SET state = 'pending', components = $2, confirm_hash = $3, confirm_sent_at = $4, \
                     unsubscribed_at = NULL, contact = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(&components)
                .bind(hash(&token))
                .bind(now)
                .bind(contact)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO subscribers (address, channel, contact, components, state, confirm_hash, unsubscribe_token, \
                     created_at, confirm_sent_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $7) RETURNING id",
                )
                .bind(input.address())
                .bind(channel)
                .bind(contact)
                .bind(&components)
                .bind(hash(&token))
                .bind(crate::accounts::generate_secret(24))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        sqlx::query("INSERT INTO subscribe_requests (throttle_key, at) VALUES ($1, $2)")
            .bind(&address_key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let (subject, body) = confirm_mail(&token);
        queue(&mut tx, id, "confirmation", &subject, &body, now).await?;
        tx.commit().await?;
        Ok(Requested::Confirmation)
    }

    /// Confirms the subscription whose link carries `token`, if it has not expired.
    pub async fn confirm(&self, token: &str, now: i64) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE subscribers SET state = 'confirmed', confirmed_at = $2, confirm_hash = NULL \
             WHERE confirm_hash = $1 AND state = 'pending' AND confirm_sent_at >= $3",
        )
        .bind(hash(token))
        .bind(now)
        .bind(now - CONFIRM_FOR_MS)
        .execute(&self.db.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Unsubscribes whoever holds `token`; true when the token is known (again is fine).
    pub async fn unsubscribe(&self, token: &str, now: i64) -> Result<bool, DbError> {
        let mut tx = self.db.pool.begin().await?;
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM subscribers WHERE unsubscribe_token = $1")
            .bind(token.trim())
            .fetch_optional(&mut *tx)
            .await?;
        let Some((id,)) = found else { return Ok(false) };
        sqlx::query(
            "UPDATE subscribers SET state = 'unsubscribed', unsubscribed_at = COALESCE(unsubscribed_at, $2), confirm_hash = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Nothing more reaches them, not even what was queued.
        sqlx::query("DELETE FROM mail_outbox WHERE subscriber_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a notice (subject, text, the component keys it concerns) to be
    /// fanned out to subscribers; cheap, so publishing never waits for mail.
    pub async fn notice(
        &self,
        subject: &str,
        text: &str,
        concerned: &[String],
        now: i64,
    ) -> Result<(), DbError> {
        sqlx::query("INSERT INTO mail_notices (payload, created_at) VALUES ($1, $2)")
            .bind(json!({"subject": subject, "text": text, "concerned": concerned}).to_string())
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Expands stored notices into one message per confirmed subscriber who
    /// wants it; `body` writes each (a mail with its footer, or a webhook's
    /// JSON). Answers how many messages.
    pub async fn fan_out(&self, now: i64, body: impl Fn(&Outgoing) -> String) -> Result<usize, DbError> {
        let notices: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, payload FROM mail_notices WHERE fanned_out_at IS NULL ORDER BY id LIMIT 20",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let mut queued = 0;
        for (notice_id, payload) in notices {
            let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            let concerned: Vec<String> =
                serde_json::from_value(payload["concerned"].clone()).unwrap_or_default();
            let subject = payload["subject"].as_str().unwrap_or_default();
            let text = payload["text"].as_str().unwrap_or_default();
            let mut tx = self.db.pool.begin().await?;
            // Claimed first, so that two leaders in a handover cannot both fan it out.
            let claimed = sqlx::query(
                "UPDATE mail_notices SET fanned_out_at = $2 WHERE id = $1 AND fanned_out_at IS NULL",
            )
            .bind(notice_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                continue;
            }
            let subscribers: Vec<(i64, String, String, String)> = sqlx::query_as(
                "SELECT id, channel, components, unsubscribe_token FROM subscribers WHERE state = 'confirmed'",
            )
            .fetch_all(&mut *tx)
            .await?;
            for (id, channel, components, unsubscribe_token) in subscribers {
                let chosen: Vec<String> = serde_json::from_str(&components).unwrap_or_default();
                if wants(&chosen, &concerned) {
                    let outgoing = Outgoing {
                        webhook: channel == "webhook",
                        subject,
                        text,
                        concerned: &concerned,
                        unsubscribe_token: &unsubscribe_token,
                    };
                    queue(&mut tx, id, "notice", subject, &body(&outgoing), now).await?;
                    queued += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(queued)
    }

    /// Messages due now, claimed for this worker.
    pub async fn due(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT o.id, o.subscriber_id, o.kind, o.subject, o.body, o.attempts, s.channel, s.address, s.contact, \
             s.unsubscribe_token \
             FROM mail_outbox o JOIN subscribers s ON s.id = o.subscriber_id \
             WHERE o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        if rows.is_empty() {
            return Ok(rows);
        }
        let mut tx = self.db.pool.begin().await?;
        for row in &rows {
            sqlx::query("UPDATE mail_outbox SET next_attempt_at = $2 WHERE id = $1")
                .bind(row.id)
                .bind(now + CLAIM_MS)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows)
    }

    /// Records an attempt: delivered (gone from the outbox), retried later, or given up.
    pub async fn settle(&self, row: &OutboxRow, error: Option<&str>, now: i64) -> Result<(), DbError> {
        let attempt = row.attempts + 1;
        let outcome = match (error, attempt >= ATTEMPTS) {
            (None, _) => "delivered",
            (Some(_), false) => "retrying",
            (Some(_), true) => "gave_up",
        };
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("INSERT INTO mail_log (subscriber_id, kind, subject, outcome, error, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(row.subscriber_id)
            .bind(&row.kind)
            .bind(&row.subject)
            .bind(outcome)
            .bind(error)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if outcome == "retrying" {
            sqlx::query("UPDATE mail_outbox SET attempts = $2, next_attempt_at = $3 WHERE id = $1")
                .bind(row.id)
                .bind(attempt)
                .bind(now + FIRST_RETRY_MS * (1 << (attempt - 1).min(10)))
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM mail_outbox WHERE id = $1").bind(row.id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Subscribers whose address or contact contains `search` (all when empty), newest first.
    pub async fn list(&self, search: &str) -> Result<Vec<SubscriberRow>, DbError> {
        let pattern = format!("%{}%", search.trim().to_lowercase().replace(['%', '_'], ""));
        Ok(sqlx::query_as(
            "SELECT id, channel, address, contact, components, state, created_at, confirmed_at, unsubscribed_at \
             FROM subscribers WHERE LOWER(address) LIKE $1 OR LOWER(COALESCE(contact, '')) LIKE $1 \
             ORDER BY id DESC LIMIT 5000",
        )
        .bind(pattern)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Removes a subscriber, their queued messages and their log.
    pub async fn remove(&self, id: i64) -> Result<bool, DbError> {
        let mut tx = self.db.pool.begin().await?;
        for table in ["mail_outbox", "mail_log"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE subscriber_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let removed = sqlx::query("DELETE FROM subscribers WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed == 1)
    }

    /// The status each public component's subscribers were last told.
    pub async fn told(&self) -> Result<Vec<(String, String)>, DbError> {
        Ok(sqlx::query_as("SELECT component_key, status FROM subscriber_component_status")
            .fetch_all(&self.db.pool)
            .await?)
    }

    pub async fn set_told(&self, key: &str, status: &str, now: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO subscriber_component_status (component_key, status, at) VALUES ($1, $2, $3) \
             ON CONFLICT (component_key) DO UPDATE SET status = $2, at = $3",
        )
        .bind(key)
        .bind(status)
        .bind(now)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }
}

async fn queue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    subscriber: i64,
    kind: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO mail_outbox (subscriber_id, kind, subject, body, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $5)",
    )
    .bind(subscriber)
    .bind(kind)
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
