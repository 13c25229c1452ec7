//! Status-page subscribers: people who asked, on `/status`, to be told when
//! the public status changes, by e-mail or at a webhook URL (a JSON POST per
//! notice, confirmed through a contact e-mail). Double opt-in (a confirmation
//! link that expires), a one-click unsubscribe in every message, a few
//! confirmation mails per address and per client an hour, and what each
//! notice says.

use crate::account::Email;
use crate::component::ComponentKey;
use crate::incident::FieldError;
use serde::{Deserialize, Serialize};

/// How long a confirmation link works.
pub const CONFIRM_FOR_MS: i64 = 24 * 3600 * 1000;
/// Confirmation mails per address within [`LIMIT_WINDOW_MS`].
pub const MAILS_PER_ADDRESS: i64 = 3;
/// Subscription requests per client address within [`LIMIT_WINDOW_MS`].
pub const REQUESTS_PER_CLIENT: i64 = 10;
pub const LIMIT_WINDOW_MS: i64 = 3600 * 1000;
/// By default, a component's public status must hold this long before
/// subscribers hear of it, so that a flapping component sends one message,
/// not one per flap.
pub const COMPONENT_QUIET_MS: i64 = 2 * 60 * 1000;

/// The subscribe form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeForm {
    /// The address told, or for a webhook subscriber the contact that confirms it.
    #[serde(default)]
    pub email: String,
    /// A webhook subscriber's URL; empty for an e-mail subscription.
    #[serde(default)]
    pub url: String,
    /// Component keys; none ticked means all components.
    #[serde(default)]
    pub components: Vec<String>,
}

/// A checked subscription request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscribeInput {
    /// Where the confirmation goes (and, without a webhook, every notice).
    pub email: String,
    /// Where notices go as JSON, when it is a webhook subscription. Its
    /// destination is checked again where it is sent (the admin webhook rules).
    pub webhook: Option<String>,
    /// Empty: every public component.
    pub components: Vec<ComponentKey>,
}

impl SubscribeForm {
    /// `public` says whether a key is a public component.
    pub fn parse(&self, public: impl Fn(&ComponentKey) -> bool) -> Result<SubscribeInput, FieldError> {
        let email = Email::parse(&self.email).map_err(|e| FieldError::new("email", e.to_string()))?;
        let mut components = Vec::new();
        for raw in self.components.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            let key = ComponentKey::parse(raw).filter(|key| public(key)).ok_or_else(|| {
                FieldError::new("components", format!("There is no public component \u{201c}{raw}\u{201d}."))
            })?;
            if !components.contains(&key) {
                components.push(key);
            }
        }
        let url = self.url.trim();
        let webhook = if url.is_empty() {
            None
        } else {
            let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
            let host = rest.and_then(|rest| rest.split(['/', '?', '#']).next()).unwrap_or_default();
            if host.is_empty() || url.len() > 2000 || url.contains(char::is_whitespace) {
                return Err(FieldError::new(
                    "url",
                    "The webhook URL must start with http:// or https:// and name a host.",
                ));
            }
            Some(url.to_owned())
        };
        Ok(SubscribeInput { email: email.as_str().to_owned(), webhook, components })
    }
}

impl SubscribeInput {
    /// What the subscription is keyed by: the webhook URL, or the e-mail address.
    pub fn address(&self) -> &str {
        self.webhook.as_deref().unwrap_or(&self.email)
    }
}

/// What a webhook subscriber receives for each notice, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookNotice<'a> {
    /// Always `status_notice`.
    pub event: &'static str,
    pub subject: &'a str,
    pub text: &'a str,
    /// The component keys the notice concerns (empty: the whole page).
    pub components: &'a [String],
    pub status_url: &'a str,
    /// A POST here (no body needed) ends the subscription.
    pub unsubscribe_url: &'a str,
}

/// Whether a subscriber to `chosen` (empty: all) hears of a notice about
/// `concerned` (empty: the whole page, such as an incident with no component).
pub fn wants(chosen: &[String], concerned: &[String]) -> bool {
    chosen.is_empty() || concerned.is_empty() || concerned.iter().any(|c| chosen.contains(c))
}

/// Whether a request may send another confirmation mail: `to_address` and
/// `from_client` are the mails and requests of the last hour.
pub fn may_send_confirmation(to_address: i64, from_client: i64) -> bool {
    to_address < MAILS_PER_ADDRESS && from_client < REQUESTS_PER_CLIENT
}

/// A component's public status over time, as the debouncer reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    pub status: String,
    pub since: i64,
}

/// What a subscriber should hear about a component now: its status when it
/// has held for `hold_ms` (by default [`COMPONENT_QUIET_MS`]) and differs
/// from what they were last told (`told`); `None` otherwise (still flapping,
/// or nothing new).
pub fn settled_change(current: &Settled, told: Option<&str>, now: i64, hold_ms: i64) -> Option<String> {
    let held = now - current.since >= hold_ms;
    (held && told != Some(current.status.as_str())).then(|| current.status.clone())
}

/// What a message tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A public update on an incident (its public title).
    Update { title: String, status: String, text: String },
    /// A public component's status changed and held.
    Component { name: String, status: String },
    /// A maintenance window was scheduled, started or completed.
    Maintenance { title: String, state: String, when: String, description: String },
}

impl Notice {
    /// The message's subject and its text (before the footer).
    pub fn subject_and_text(&self) -> (String, String) {
        match self {
            Notice::Update { title, status: incident_status, text } => {
                (format!("[{}] {title}", incident_status.replace('_', " ")), text.clone())
            }
            Notice::Component { name, status } => (
                format!("{name}: {}", status.replace('_', " ")),
                format!("{name} is now {}.", status.replace('_', " ")),
            ),
            Notice::Maintenance { title, state, when, description } => {
                let what = match state.as_str() {
                    "scheduled" => "Scheduled maintenance",
                    "in_progress" => "Maintenance in progress",
                    "completed" => "Maintenance completed",
                    _ => "Maintenance",
                };
                (
                    format!("{what}: {title}"),
                    format!("{what}: {title}\n{when}\n\n{description}").trim().to_owned(),
                )
            }
        }
    }
}

/// A message's body: its text, then the footer with the status page and the
/// one-click unsubscribe link (absolute URLs).
pub fn message_body(text: &str, status: &str, unsubscribe: &str) -> String {
    format!(
        "{text}\n\nCurrent status: {status}\n\n--\nYou receive this because you subscribed on {status}.\n\
         Unsubscribe with one click: {unsubscribe}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_names_a_valid_address_and_public_components_only() {
        let public = |key: &ComponentKey| key.as_str() == "service/1";
        let form = SubscribeForm {
            email: " Ana@Example.com ".into(),
            components: vec!["service/1".into(), "service/1".into()],
            ..SubscribeForm::default()
        };
        let input = form.parse(public).unwrap();
        assert_eq!(input.email, "ana@example.com");
        assert_eq!((input.address(), input.webhook.as_deref()), ("ana@example.com", None));
        assert_eq!(input.components, vec![ComponentKey::service(1)]);
        let bad = SubscribeForm { email: "nope".into(), ..SubscribeForm::default() };
        assert_eq!(bad.parse(public).unwrap_err().field, "email");
        let internal = SubscribeForm {
            email: "a@example.com".into(),
            components: vec!["node/worker-1".into()],
            ..SubscribeForm::default()
        };
        assert_eq!(internal.parse(public).unwrap_err().field, "components");
    }

    #[test]
    fn a_webhook_subscription_names_a_url_and_a_contact_address() {
        let form = |url: &str, email: &str| SubscribeForm {
            email: email.into(),
            url: url.into(),
            ..SubscribeForm::default()
        };
        let input = form(" https://hooks.example.com/status ", "ops@example.com").parse(|_| true).unwrap();
        assert_eq!(input.webhook.as_deref(), Some("https://hooks.example.com/status"));
        assert_eq!(input.address(), "https://hooks.example.com/status");
        assert_eq!(input.email, "ops@example.com", "the contact, where the confirmation goes");
        for bad in ["ftp://x", "https://", "https:///path", "https://a b"] {
            assert_eq!(form(bad, "ops@example.com").parse(|_| true).unwrap_err().field, "url", "{bad}");
        }
        assert_eq!(form("https://hooks.example.com", "").parse(|_| true).unwrap_err().field, "email");
    }

    #[test]
    fn subscribers_hear_of_their_components_or_of_everything() {
        let one = vec!["service/1".to_owned()];
        assert!(wants(&[], &one));
        assert!(wants(&one, &one));
        assert!(!wants(&one, &["service/2".to_owned()]));
        assert!(wants(&one, &[]), "a notice about the whole page reaches everyone");
    }

    #[test]
    fn a_flapping_component_is_told_once_it_holds() {
        let now = 10 * COMPONENT_QUIET_MS;
        let fresh = Settled { status: "major_outage".into(), since: now - 1000 };
        let hold = COMPONENT_QUIET_MS;
        assert_eq!(settled_change(&fresh, Some("operational"), now, hold), None, "still flapping");
        let held = Settled { status: "major_outage".into(), since: now - COMPONENT_QUIET_MS };
        assert_eq!(settled_change(&held, Some("operational"), now, hold), Some("major_outage".into()));
        assert_eq!(settled_change(&held, Some("major_outage"), now, hold), None, "told already");
    }

    #[test]
    fn confirmations_are_limited_per_address_and_per_client() {
        assert!(may_send_confirmation(0, 0));
        assert!(!may_send_confirmation(MAILS_PER_ADDRESS, 0));
        assert!(!may_send_confirmation(0, REQUESTS_PER_CLIENT));
    }

    #[test]
    fn every_message_ends_with_the_one_click_unsubscribe_link() {
        let notice = Notice::Update {
            title: "Checkout is slow".into(),
            status: "identified".into(),
            text: "We found it.".into(),
        };
        let (subject, text) = notice.subject_and_text();
        let body = message_body(
            &text,
            "https://status.example/status",
            "https://status.example/status/unsubscribe?token=t",
        );
        assert_eq!(subject, "[identified] Checkout is slow");
        assert!(body.starts_with("We found it."));
        assert!(
            body.ends_with("Unsubscribe with one click: https://status.example/status/unsubscribe?token=t\n")
        );
    }
}
