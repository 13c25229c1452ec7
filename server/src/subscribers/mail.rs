//! Sending subscribers' messages over SMTP with lettre: plain text, with
//! `List-Unsubscribe` (the one-click link) and `List-Unsubscribe-Post`
//! (RFC 8058) on every message; and the leader's loop that expands notices
//! and delivers the outbox, a few messages at a time, retrying with back-off.

use super::{OutboxRow, Subscribers};
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
}

impl Mailer {
    /// `smtp_url`: `smtp://host:port` (plain, or STARTTLS with `?tls=required`),
    /// `smtps://host:port` (TLS), with `user:password@` when the server wants it.
    pub fn new(smtp_url: &str, from: &str, base_url: String) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from.parse::<Mailbox>().map_err(|_| MailError::From)?;
        Ok(Mailer { transport, from, base_url })
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
        let to = row.email.parse::<Mailbox>().map_err(|_| "the address cannot receive mail".to_owned())?;
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
}

/// The leader's mail loop: expands notices, then delivers what is due.
pub async fn run(subscribers: Subscribers, mailer: Mailer) {
    let status = mailer.status_url();
    loop {
        let now = crate::db::now_millis();
        let body = |text: &str, token: &str| {
            app::domain::subscriber::message_body(text, &status, &mailer.unsubscribe_url(token))
        };
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
                let (subscribers, mailer) = (&subscribers, &mailer);
                async move {
                    let outcome = mailer.send(&row).await;
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
