//! Sending subscribers' messages over SMTP with lettre: plain text, with
//! `List-Unsubscribe` (the one-click link) and `List-Unsubscribe-Post`
//! (RFC 8058) on every message; and the leader's loop that expands notices
//! and delivers the outbox, a few messages at a time, retrying with back-off.
//! Webhook subscribers' notices are posted as JSON under the admin webhooks'
//! destination rules ([`crate::webhooks::Webhooks::post`]).

use super::{OutboxRow, Outgoing, Subscribers};
use crate::webhooks::Webhooks;
use futures_util::StreamExt;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Messages handed to the SMTP server at once.
const IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid --smtp-url: {0}")]
    Url(String),
    #[error(
        "invalid --mail-from: expected an address such as status@example.com or \"Status <status@example.com>\""
    )]
    From,
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where people reach Wheelhouse: the links in messages start here.
    pub base_url: String,
    /// How long a public component's status holds before subscribers hear of it.
    pub hold: Duration,
}

impl Mailer {
    /// `smtp_url`: `smtp://host:port` (plain, or STARTTLS with `?tls=required`),
    /// `smtps://host:port` (TLS), with `user:password@` when the server wants it.
    pub fn new(settings: &crate::config::MailSettings, base_url: String) -> Result<Mailer, MailError> {
        let (smtp_url, from) = (settings.smtp_url.as_str(), settings.from.as_str());
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from.parse::<Mailbox>().map_err(|_| MailError::From)?;
        Ok(Mailer { transport, from, base_url, hold: settings.hold })
    }

    pub fn status_url(&self) -> String {
        format!("{}/status", self.base_url)
    }

    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/status/unsubscribe?token={token}", self.base_url)
    }

    pub fn confirm_url(&self, token: &str) -> String {
        format!("{}/status/subscribe/confirm?token={token}", self.base_url)
    }

    /// Hands one message to the SMTP server; the error in words when it refuses.
    pub async fn send(&self, row: &OutboxRow) -> Result<(), String> {
        let to =
            row.mailbox().parse::<Mailbox>().map_err(|_| "the address cannot receive mail".to_owned())?;
        let unsubscribe = self.unsubscribe_url(&row.unsubscribe_token);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{unsubscribe}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .body(row.body.clone())
            .map_err(|e| format!("the message could not be built: {e}"))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(error = %error, "the SMTP server did not take a subscriber's message");
                Err(if error.is_permanent() {
                    "refused by the mail server".to_owned()
                } else {
                    "the mail server could not be reached or failed for now".to_owned()
                })
            }
        }
    }

    /// A message's body: the mail's text with its footer, or a webhook subscriber's JSON.
    pub fn body(&self, outgoing: &Outgoing) -> String {
        let (status, unsubscribe) = (self.status_url(), self.unsubscribe_url(outgoing.unsubscribe_token));
        if outgoing.webhook {
            let notice = app::domain::subscriber::WebhookNotice {
                event: "status_notice",
                subject: outgoing.subject,
                text: outgoing.text,
                components: outgoing.concerned,
                status_url: &status,
                unsubscribe_url: &unsubscribe,
            };
            serde_json::to_string(&notice).unwrap_or_default()
        } else {
            app::domain::subscriber::message_body(outgoing.text, &status, &unsubscribe)
        }
    }
}

/// Delivers one message: a notice to a webhook subscriber as a POST to its
/// URL (checked again against the destination rules), anything else by mail.
async fn deliver(mailer: &Mailer, webhooks: &Webhooks, row: &OutboxRow) -> Result<(), String> {
    if !row.to_webhook() {
        return mailer.send(row).await;
    }
    let url = webhooks.check_url(&row.address).map_err(|error| error.to_string())?;
    let delivery = format!("sub_{}_{}", row.subscriber_id, row.id);
    match webhooks.post(&url, &delivery, None, &row.body).await {
        (_, None) => Ok(()),
        (_, Some(error)) => Err(error),
    }
}

/// The leader's subscriber loop: expands notices, then delivers what is due.
pub async fn run(subscribers: Subscribers, mailer: Mailer, webhooks: Webhooks) {
    loop {
        let now = crate::db::now_millis();
        let body = |outgoing: &Outgoing| mailer.body(outgoing);
        if let Err(error) = subscribers.fan_out(now, body).await {
            tracing::warn!(error = &error as &dyn std::error::Error, "cannot expand subscriber notices");
        }
        let due = match subscribers.due(now, 200).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(error = &error as &dyn std::error::Error, "cannot read the mail outbox");
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        futures_util::stream::iter(due)
            .for_each_concurrent(IN_FLIGHT, |row| {
                let (subscribers, mailer, webhooks) = (&subscribers, &mailer, &webhooks);
                async move {
                    let outcome = deliver(mailer, webhooks, &row).await;
                    if let Err(error) = subscribers
                        .settle(&row, outcome.as_ref().err().map(String::as_str), crate::db::now_millis())
                        .await
                    {
                        tracing::warn!(
                            error = &error as &dyn std::error::Error,
                            "cannot record a mail delivery"
                        );
                    }
                }
            })
            .await;
    }
}
