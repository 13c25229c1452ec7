//! Outgoing notifications: admins configure webhooks per audience (a
//! Slack-compatible payload or a generic JSON one); each published update is
//! delivered to its audience's webhooks in the background, retried with
//! back-off up to a bound, and every attempt is logged. A failing receiver
//! never blocks publishing: delivery starts after the update is committed.

use crate::db::{Database, DbError, now_millis};
use crate::incidents::TimelineEntry;
use app::domain::incident_lifecycle::TimelineEvent;
use app::domain::update::Audience;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub webhook_id: i64,
    pub event_id: i64,
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

/// Checks a receiver URL: http or https, a host, not too long.
pub fn parse_url(raw: &str) -> Result<String, WebhookError> {
    let url = raw.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && url.len() <= 2000
                && !url.contains(char::is_whitespace) =>
        {
            Ok(url.to_owned())
        }
        _ => {
            Err(WebhookError::Invalid("The URL must start with http:// or https:// and name a host.".into()))
        }
    }
}

/// The body sent for one update.
pub fn payload(format: Format, incident_id: i64, title: &str, entry: &TimelineEntry) -> Option<Value> {
    let TimelineEvent::UpdatePosted { audience, purpose, text } = &entry.event else { return None };
    Some(match format {
        Format::Slack => json!({
            "text": format!("*{title}* — {} ({} update)\n{text}", purpose.label(), audience.as_str()),
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
}

type Row = (i64, String, String, String, String);
type DeliveryRow = (i64, i64, i64, i64, String, Option<i64>, Option<String>, i64);

const DELIVERY_COLUMNS: &str = "incident_id, webhook_id, event_id, attempt, outcome, status_code, error, at";

fn delivery_of(
    (incident, webhook_id, event_id, attempt, outcome, status_code, error, at): DeliveryRow,
) -> (i64, Delivery) {
    (incident, Delivery { webhook_id, event_id, attempt, outcome, status_code, error, at })
}

fn from_row((id, audience, format, url, created_by): Row) -> Option<Webhook> {
    Some(Webhook {
        id,
        audience: Audience::parse(&audience)?,
        format: Format::parse(&format)?,
        url,
        created_by,
    })
}

impl Webhooks {
    pub fn new(db: Database) -> Webhooks {
        let client = reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build().unwrap_or_default();
        Webhooks { db, client }
    }

    pub async fn list(&self) -> Result<Vec<Webhook>, WebhookError> {
        let rows: Vec<Row> =
            sqlx::query_as("SELECT id, audience, format, url, created_by FROM webhooks ORDER BY id")
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
        let url = parse_url(url)?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO webhooks (audience, format, url, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(audience.as_str())
        .bind(format.as_str())
        .bind(&url)
        .bind(now_millis())
        .bind(by)
        .fetch_one(&self.db.pool)
        .await?;
        tracing::info!(webhook.id = id, "webhook added");
        Ok(id)
    }

    pub async fn delete(&self, id: i64) -> Result<(), WebhookError> {
        sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&self.db.pool).await?;
        Ok(())
    }

    /// Every attempt for the updates of one incident, oldest first.
    pub async fn deliveries(&self, incident_id: i64) -> Result<Vec<Delivery>, WebhookError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE incident_id = $1 ORDER BY id"
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

    /// Starts delivering the updates among `entries` to their audiences' webhooks; returns at once.
    pub fn dispatch(&self, incident_id: i64, title: &str, entries: &[TimelineEntry]) {
        for entry in entries {
            let TimelineEvent::UpdatePosted { audience, .. } = &entry.event else { continue };
            let (this, audience, entry, title) = (self.clone(), *audience, entry.clone(), title.to_owned());
            tokio::spawn(async move {
                let hooks = match this.list().await {
                    Ok(hooks) => hooks,
                    Err(error) => {
                        tracing::error!(
                            error = &error as &dyn std::error::Error,
                            "could not read the webhooks"
                        );
                        return;
                    }
                };
                for hook in hooks.into_iter().filter(|h| h.audience == audience) {
                    let this = this.clone();
                    let (entry, title) = (entry.clone(), title.clone());
                    tokio::spawn(async move { this.deliver(&hook, incident_id, &title, &entry).await });
                }
            });
        }
    }

    async fn deliver(&self, hook: &Webhook, incident_id: i64, title: &str, entry: &TimelineEntry) {
        let Some(body) = payload(hook.format, incident_id, title, entry) else { return };
        let mut waits = retry_schedule();
        for attempt in 1..=ATTEMPTS {
            let result = self.client.post(&hook.url).json(&body).send().await;
            let (status, error) = match &result {
                Ok(response) => (Some(i64::from(response.status().as_u16())), None),
                Err(error) => (None, Some(error.to_string())),
            };
            let delivered = result.as_ref().is_ok_and(|r| r.status().is_success());
            let outcome = match (delivered, attempt == ATTEMPTS) {
                (true, _) => "delivered",
                (false, false) => "retrying",
                (false, true) => "gave_up",
            };
            let logged = sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, incident_id, attempt, outcome, status_code, error, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(hook.id)
            .bind(entry.id)
            .bind(incident_id)
            .bind(i64::from(attempt))
            .bind(outcome)
            .bind(status)
            .bind(error.clone())
            .bind(now_millis())
            .execute(&self.db.pool)
            .await;
            if let Err(error) = logged {
                tracing::warn!(error = &error as &dyn std::error::Error, "could not log a webhook delivery");
            }
            match outcome {
                "delivered" => return,
                "gave_up" => {
                    tracing::warn!(webhook.id = hook.id, attempts = ATTEMPTS, "webhook delivery given up");
                    return;
                }
                _ => tokio::time::sleep(waits.next().unwrap_or(FIRST_RETRY)).await,
            }
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
        assert!(parse_url("https://hooks.slack.com/services/T/B/X").is_ok());
        assert!(parse_url("http://127.0.0.1:9/hook").is_ok());
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("https://").is_err());
        assert!(parse_url("https://a b").is_err());
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
        let generic = payload(Format::Generic, 3, "Checkout errors", &entry).unwrap();
        assert_eq!(generic["update"]["text"], "Fixing it.");
        assert!(!generic.to_string().contains("comms@example.com"), "the author is not sent");
    }
}
