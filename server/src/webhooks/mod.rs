//! Outgoing notifications: admins configure webhooks per audience (a
//! Slack-compatible payload or a generic JSON one). Each published update is
//! put in a delivery **outbox** in the database for its audience's webhooks;
//! a background worker delivers from it, retrying with back-off up to a
//! bound, and logs every attempt. Deliveries survive a restart (a kill
//! included) and resume; each carries a stable delivery id and an HMAC
//! signature ([`signature`]); receivers inside Wheelhouse's own network are
//! refused ([`destination`]); redirects are never followed; errors are stored
//! without the URL (for Slack, the URL is the secret). A failing receiver never
//! blocks publishing.

pub mod destination;
pub mod signature;

use crate::db::{Database, DbError, now_millis};
use crate::incidents::TimelineEntry;
use app::domain::incident_lifecycle::TimelineEvent;
use app::domain::update::Audience;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Attempts per delivery, and the wait before the second (doubling after).
pub const ATTEMPTS: u32 = 6;
pub const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The waits between attempts: [`FIRST_RETRY`], doubling.
fn retry_schedule() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(FIRST_RETRY)
        .with_factor(2.0)
        .with_max_delay(FIRST_RETRY * 2u32.pow(ATTEMPTS))
        .with_max_times(ATTEMPTS as usize - 1)
        .build()
}

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Slack,
    Generic,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Format> {
        match raw.trim() {
            "slack" => Some(Format::Slack),
            "generic" => Some(Format::Generic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Slack => "slack",
            Format::Generic => "generic",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub audience: Audience,
    pub format: Format,
    pub url: String,
    pub created_by: String,
    /// Signs each delivery (see [`signature`]); shown to admins to configure the receiver.
    #[serde(skip)]
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub webhook_id: i64,
    /// The update's timeline event, or for a maintenance window's notice its planned action.
    pub event_id: i64,
    /// The maintenance window a notice is about (no incident then).
    pub window_id: Option<i64>,
    pub attempt: i64,
    pub outcome: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for WebhookError {
    fn from(error: sqlx::Error) -> Self {
        WebhookError::Db(DbError::Query(error))
    }
}

/// Checks a receiver URL: http or https, a host, not too long, and not an
/// address inside Wheelhouse's own network (names are checked when connecting).
pub fn parse_url(raw: &str, policy: &destination::Policy) -> Result<String, WebhookError> {
    let url = raw.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let parsed = reqwest::Url::parse(url).ok();
    match (rest, parsed) {
        (Some(rest), Some(parsed))
            if !rest.is_empty()
                && !rest.starts_with('/')
                && url.len() <= 2000
                && !url.contains(char::is_whitespace)
                && parsed.host().is_some() =>
        {
            if literal_ip(&parsed).is_some_and(|ip| !policy.permits(ip)) {
                return Err(WebhookError::Invalid(
                    "That address is inside Wheelhouse's own network (loopback, link-local, private or \
                     unspecified); webhooks may not reach it unless an operator allows it with --webhook-allow."
                        .into(),
                ));
            }
            Ok(url.to_owned())
        }
        _ => {
            Err(WebhookError::Invalid("The URL must start with http:// or https:// and name a host.".into()))
        }
    }
}

/// The URL's host when it is an IP address (the resolver never sees those).
fn literal_ip(url: &reqwest::Url) -> Option<std::net::IpAddr> {
    url.host_str()?.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Slack reads `<`, `>` and `&` as markup (`<!channel>` pings everyone): escaped, as Slack asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The body sent for one update.
pub fn payload(format: Format, incident_id: i64, title: &str, entry: &TimelineEntry) -> Option<Value> {
    let TimelineEvent::UpdatePosted { audience, purpose, text } = &entry.event else { return None };
    Some(match format {
        Format::Slack => json!({
            "text": format!(
                "*{}* — {} ({} update)\n{}",
                slack_escape(title),
                purpose.label(),
                audience.as_str(),
                slack_escape(text)
            ),
        }),
        Format::Generic => json!({
            "event": "update_posted",
            "incident": {"id": incident_id, "title": title},
            "update": {"id": entry.id, "audience": audience, "purpose": purpose, "text": text, "at": entry.at},
        }),
    })
}

#[derive(Clone, Debug)]
pub struct Webhooks {
    db: Database,
    client: reqwest::Client,
    policy: destination::Policy,
    /// Wakes the outbox worker when deliveries are queued.
    wake: Arc<Notify>,
}

type Row = (i64, String, String, String, String, String);

/// A published update whose deliveries were never queued, with its incident's titles.
#[derive(sqlx::FromRow)]
struct MissedUpdate {
    id: i64,
    incident_id: i64,
    at: i64,
    actor: String,
    payload: String,
    title: String,
    public_title: Option<String>,
}
type DeliveryRow = (i64, i64, i64, Option<i64>, i64, String, Option<i64>, Option<String>, i64);

const DELIVERY_COLUMNS: &str =
    "incident_id, webhook_id, event_id, window_id, attempt, outcome, status_code, error, at";

fn delivery_of(
    (incident, webhook_id, event_id, window_id, attempt, outcome, status_code, error, at): DeliveryRow,
) -> (i64, Delivery) {
    (incident, Delivery { webhook_id, event_id, window_id, attempt, outcome, status_code, error, at })
}

/// The body sent to an internal webhook when a planned maintenance action failed or was skipped.
pub fn maintenance_payload(format: Format, notice: &MaintenanceTrouble) -> Value {
    match format {
        Format::Slack => json!({
            "text": format!(
                "*Maintenance: {}* — a planned action did not run as planned\n{}",
                slack_escape(&notice.title),
                slack_escape(&notice.text)
            ),
        }),
        Format::Generic => json!({
            "event": "maintenance_action_failed",
            "maintenance": {"id": notice.window_id, "title": notice.title},
            "action": {"id": notice.action_id, "text": notice.text},
        }),
    }
}

/// A planned maintenance action that failed or was skipped, for responders.
#[derive(Clone, Debug)]
pub struct MaintenanceTrouble {
    pub window_id: i64,
    pub action_id: i64,
    pub title: String,
    /// What happened, in words (as on the window's record).
    pub text: String,
}

fn from_row((id, audience, format, url, created_by, secret): Row) -> Option<Webhook> {
    Some(Webhook {
        id,
        audience: Audience::parse(&audience)?,
        format: Format::parse(&format)?,
        url,
        created_by,
        secret,
    })
}

/// What a delivery to queue is for: an incident's update, or a maintenance window's notice.
struct Queued {
    webhook: i64,
    event_id: i64,
    incident_id: i64,
    window_id: Option<i64>,
}

impl Queued {
    /// Puts the delivery in the outbox, due now, with a delivery id of its own.
    async fn insert(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        body: &Value,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO webhook_outbox (delivery_id, webhook_id, event_id, incident_id, window_id, body, attempts, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
        )
        .bind(format!("dlv_{}", crate::accounts::generate_secret(24)))
        .bind(self.webhook)
        .bind(self.event_id)
        .bind(self.incident_id)
        .bind(self.window_id)
        .bind(body.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// One queued delivery.
#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    delivery_id: String,
    webhook_id: i64,
    event_id: i64,
    incident_id: i64,
    window_id: Option<i64>,
    body: String,
    attempts: i64,
    next_attempt_at: i64,
}

/// What went wrong with an attempt, in words, never with the URL.
fn failure_words(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<destination::Refused>().is_some() {
            return destination::Refused.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect to the receiver".to_owned()
    } else {
        "the request could not be sent".to_owned()
    }
}

/// How many queued deliveries one pass of the worker takes on.
const OUTBOX_BATCH: i64 = 32;
/// Deliveries in flight at once; a slow receiver holds up only its own.
const IN_FLIGHT: usize = 32;
/// A claimed delivery is not taken again (by this or another replica) for
/// this long: longer than an attempt may take. After a crash, its deliveries
/// resume once their claims run out.
const CLAIM_MS: i64 = 15_000;

impl Webhooks {
    /// `allow`: networks inside Wheelhouse's own that webhooks may still reach (`--webhook-allow`).
    pub fn new(db: Database, allow: Vec<ipnet::IpNet>) -> Webhooks {
        let policy = destination::Policy { allow: Arc::new(allow) };
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(policy.clone()))
            .build()
            .unwrap_or_default();
        Webhooks { db, client, policy, wake: Arc::new(Notify::new()) }
    }

    /// Checks a receiver URL under this instance's destination rules ([`parse_url`]).
    pub fn check_url(&self, raw: &str) -> Result<String, WebhookError> {
        parse_url(raw, &self.policy)
    }

    /// Posts one JSON body under the destination rules (no redirects, names
    /// resolved to internal addresses refused, a time limit), with its stable
    /// delivery id and, when given a secret, its signature. Answers the HTTP
    /// status, or what went wrong in words, never with the URL.
    pub async fn post(
        &self,
        url: &str,
        delivery_id: &str,
        secret: Option<&str>,
        body: &str,
    ) -> (Option<i64>, Option<String>) {
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::DELIVERY_HEADER, delivery_id);
        if let Some(secret) = secret {
            request = request
                .header(signature::SIGNATURE_HEADER, signature::sign(secret, now_millis() / 1000, body));
        }
        match request.body(body.to_owned()).send().await {
            Ok(response) if response.status().is_success() => {
                (Some(i64::from(response.status().as_u16())), None)
            }
            Ok(response) => (
                Some(i64::from(response.status().as_u16())),
                Some(format!("the receiver answered HTTP {}", response.status().as_u16())),
            ),
            Err(error) => (None, Some(failure_words(&error))),
        }
    }

    pub async fn list(&self) -> Result<Vec<Webhook>, WebhookError> {
        let rows: Vec<Row> =
            sqlx::query_as("SELECT id, audience, format, url, created_by, secret FROM webhooks ORDER BY id")
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().filter_map(from_row).collect())
    }

    #[tracing::instrument(skip_all, fields(webhook.audience = %audience))]
    pub async fn create(
        &self,
        audience: Audience,
        format: Format,
        url: &str,
        by: &str,
    ) -> Result<i64, WebhookError> {
        let url = parse_url(url, &self.policy)?;
        let secret = format!("whsec_{}", crate::accounts::generate_secret(32));
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO webhooks (audience, format, url, created_at, created_by, secret) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(audience.as_str())
        .bind(format.as_str())
        .bind(&url)
        .bind(now_millis())
        .bind(by)
        .bind(&secret)
        .fetch_one(&self.db.pool)
        .await?;
        tracing::info!(webhook.id = id, "webhook added");
        Ok(id)
    }

    /// Removes a webhook and the deliveries still waiting for it.
    pub async fn delete(&self, id: i64) -> Result<(), WebhookError> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_outbox WHERE webhook_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every attempt for the updates of one incident, oldest first.
    pub async fn deliveries(&self, incident_id: i64) -> Result<Vec<Delivery>, WebhookError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE incident_id = $1 AND window_id IS NULL ORDER BY id"
        ))
        .bind(incident_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(|row| delivery_of(row).1).collect())
    }

    /// The latest attempts across all incidents, newest first, with their incident.
    pub async fn recent(&self, limit: i64) -> Result<Vec<(i64, Delivery)>, WebhookError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(delivery_of).collect())
    }

    /// Queues the updates among `entries` for their audiences' webhooks, in
    /// the outbox; the worker delivers them. Returns once they are stored.
    pub async fn enqueue(
        &self,
        incident_id: i64,
        title: &str,
        entries: &[TimelineEntry],
    ) -> Result<usize, WebhookError> {
        let updates: Vec<(&TimelineEntry, Audience)> = entries
            .iter()
            .filter_map(|entry| match &entry.event {
                TimelineEvent::UpdatePosted { audience, .. } => Some((entry, *audience)),
                _ => None,
            })
            .collect();
        if updates.is_empty() {
            return Ok(0);
        }
        let hooks = self.list().await?;
        let now = now_millis();
        let mut queued = 0;
        let mut tx = self.db.pool.begin().await?;
        for (entry, audience) in updates {
            // Each update fans out once: whoever records it first (the publishing request,
            // or the start-up sweep after a crash between the two commits) queues its deliveries.
            let claimed = sqlx::query(
                "INSERT INTO webhook_fanout (event_id, at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(entry.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                continue;
            }
            for hook in hooks.iter().filter(|h| h.audience == audience) {
                let Some(body) = payload(hook.format, incident_id, title, entry) else { continue };
                let about = Queued { webhook: hook.id, event_id: entry.id, incident_id, window_id: None };
                about.insert(&mut tx, &body, now).await?;
                queued += 1;
            }
        }
        self.committed(tx, queued).await
    }

    /// Commits queued deliveries and wakes the worker for them.
    async fn committed(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Any>,
        queued: usize,
    ) -> Result<usize, WebhookError> {
        tx.commit().await?;
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// Queues the deliveries of updates that were published but never fanned
    /// out: the process stopped (kill -9, a crash) after the update committed
    /// and before its deliveries did. Answers how many updates it fanned out.
    pub async fn fan_out_missed(&self) -> Result<usize, WebhookError> {
        let rows: Vec<MissedUpdate> = sqlx::query_as(
            "SELECT e.id, e.incident_id, e.at, e.actor, e.payload, i.title, i.public_title \
             FROM incident_events e JOIN incidents i ON i.id = e.incident_id \
             WHERE e.kind = $1 AND NOT EXISTS (SELECT 1 FROM webhook_fanout f WHERE f.event_id = e.id) \
             ORDER BY e.id",
        )
        .bind("update_posted")
        .fetch_all(&self.db.pool)
        .await?;
        let mut fanned_out = 0;
        for MissedUpdate { id, incident_id, at, actor, payload, title, public_title } in rows {
            let Ok(event) = serde_json::from_str::<TimelineEvent>(&payload) else { continue };
            // A public receiver never sees the internal title.
            let title = match &event {
                TimelineEvent::UpdatePosted { audience: Audience::Public, .. } => {
                    public_title.unwrap_or_else(|| format!("Incident #{incident_id}"))
                }
                _ => title,
            };
            let entry = TimelineEntry { id, incident_id, at, actor, event };
            self.enqueue(incident_id, &title, std::slice::from_ref(&entry)).await?;
            fanned_out += 1;
        }
        Ok(fanned_out)
    }

    /// Queues, for every internal webhook, the news that a planned
    /// maintenance action failed or was skipped.
    pub async fn enqueue_maintenance(&self, notice: &MaintenanceTrouble) -> Result<usize, WebhookError> {
        let hooks = self.list().await?;
        let now = now_millis();
        let mut queued = 0;
        let mut tx = self.db.pool.begin().await?;
        for hook in hooks.iter().filter(|h| h.audience == Audience::Internal) {
            let about = Queued {
                webhook: hook.id,
                event_id: notice.action_id,
                incident_id: 0,
                window_id: Some(notice.window_id),
            };
            about.insert(&mut tx, &maintenance_payload(hook.format, notice), now).await?;
            queued += 1;
        }
        self.committed(tx, queued).await
    }

    /// Delivers from the outbox until the process ends: due deliveries as
    /// they come, a few at a time, each claimed so that another replica does
    /// not send it at the same moment. First fans out what a stopped process left.
    pub async fn run_outbox(self) {
        match self.fan_out_missed().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                updates = n,
                "queued the webhook deliveries of updates published before a stop"
            ),
            Err(error) => tracing::error!(
                error = &error as &dyn std::error::Error,
                "cannot look for updates whose webhook deliveries were never queued"
            ),
        }
        let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        loop {
            match self.due().await {
                Ok(rows) if !rows.is_empty() => {
                    for row in rows {
                        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                        let this = self.clone();
                        tokio::spawn(async move {
                            this.attempt(row).await;
                            drop(permit);
                        });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        "cannot read the webhook outbox"
                    );
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }

    /// Due deliveries, claimed for this worker.
    async fn due(&self) -> Result<Vec<OutboxRow>, WebhookError> {
        let now = now_millis();
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, delivery_id, webhook_id, event_id, incident_id, window_id, body, attempts, next_attempt_at \
             FROM webhook_outbox WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(OUTBOX_BATCH)
        .fetch_all(&self.db.pool)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let won = sqlx::query(
                "UPDATE webhook_outbox SET next_attempt_at = $3 WHERE id = $1 AND next_attempt_at = $2",
            )
            .bind(row.id)
            .bind(row.next_attempt_at)
            .bind(now + CLAIM_MS)
            .execute(&self.db.pool)
            .await?
            .rows_affected();
            if won == 1 {
                claimed.push(row);
            }
        }
        Ok(claimed)
    }

    /// One attempt at one delivery; then done, retried later, or given up, and logged.
    async fn attempt(&self, row: OutboxRow) {
        let hook: Option<(String, String)> =
            match sqlx::query_as("SELECT url, secret FROM webhooks WHERE id = $1")
                .bind(row.webhook_id)
                .fetch_optional(&self.db.pool)
                .await
            {
                Ok(hook) => hook,
                Err(error) => {
                    tracing::warn!(error = &error as &dyn std::error::Error, "cannot read a webhook");
                    return;
                }
            };
        let Some((url, secret)) = hook else {
            // The webhook was removed: its deliveries go with it.
            let _ = sqlx::query("DELETE FROM webhook_outbox WHERE id = $1")
                .bind(row.id)
                .execute(&self.db.pool)
                .await;
            return;
        };
        let attempt = row.attempts + 1;
        let (status, error) = self.post(&url, &row.delivery_id, Some(&secret), &row.body).await;
        let outcome = match (error.is_none(), attempt >= i64::from(ATTEMPTS)) {
            (true, _) => "delivered",
            (false, false) => "retrying",
            (false, true) => "gave_up",
        };
        let now = now_millis();
        let settled = async {
            let mut tx = self.db.pool.begin().await?;
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, incident_id, window_id, attempt, outcome, \
                 status_code, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(row.webhook_id)
            .bind(row.event_id)
            .bind(row.incident_id)
            .bind(row.window_id)
            .bind(attempt)
            .bind(outcome)
            .bind(status)
            .bind(error.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if outcome == "retrying" {
                let wait =
                    retry_schedule().nth(usize::try_from(attempt - 1).unwrap_or(0)).unwrap_or(FIRST_RETRY);
                sqlx::query("UPDATE webhook_outbox SET attempts = $2, next_attempt_at = $3 WHERE id = $1")
                    .bind(row.id)
                    .bind(attempt)
                    .bind(now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query("DELETE FROM webhook_outbox WHERE id = $1")
                    .bind(row.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        };
        if let Err(error) = settled.await {
            // Left claimed: tried again once the claim runs out.
            tracing::warn!(error = &error as &dyn std::error::Error, "could not record a webhook delivery");
        }
        if outcome == "gave_up" {
            tracing::warn!(webhook.id = row.webhook_id, attempts = ATTEMPTS, "webhook delivery given up");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_receiver_is_tried_six_times_with_doubling_waits() {
        let waits: Vec<u128> = retry_schedule().map(|d| d.as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000], "five waits between six attempts");
    }

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        let open = destination::Policy::default();
        assert!(parse_url("https://hooks.slack.com/services/T/B/X", &open).is_ok());
        assert!(parse_url("ftp://x", &open).is_err());
        assert!(parse_url("https://", &open).is_err());
        assert!(parse_url("https://a b", &open).is_err());
        assert!(parse_url("http://169.254.169.254/latest/meta-data", &open).is_err(), "cloud metadata");
        assert!(parse_url("http://127.0.0.1:6443/", &open).is_err());
        assert!(parse_url("http://[::1]:9/hook", &open).is_err());
        let loopback = destination::Policy { allow: Arc::new(vec!["127.0.0.0/8".parse().unwrap()]) };
        assert!(parse_url("http://127.0.0.1:9/hook", &loopback).is_ok(), "allowed by --webhook-allow");
    }

    #[test]
    fn payloads_come_in_slack_and_generic_shapes() {
        let entry = TimelineEntry {
            id: 9,
            incident_id: 3,
            at: 1,
            actor: "comms@example.com".into(),
            event: TimelineEvent::UpdatePosted {
                audience: Audience::Public,
                purpose: app::domain::update::Purpose::Identified,
                text: "Fixing it.".into(),
            },
        };
        let slack = payload(Format::Slack, 3, "Checkout errors", &entry).unwrap();
        assert!(slack["text"].as_str().unwrap().contains("*Checkout errors* — Identified"));
        let loud = payload(Format::Slack, 3, "<!channel> a & b", &entry).unwrap();
        assert!(loud["text"].as_str().unwrap().contains("*&lt;!channel&gt; a &amp; b*"), "{loud}");
        let generic = payload(Format::Generic, 3, "Checkout errors", &entry).unwrap();
        assert_eq!(generic["update"]["text"], "Fixing it.");
        assert!(!generic.to_string().contains("comms@example.com"), "the author is not sent");
    }
}
