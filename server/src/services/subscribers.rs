//! Status-page subscriber use cases: subscribe (answered the same whether or
//! not the address is known, within the abuse limits), confirm through the
//! mailed link, unsubscribe with one click, and the notices subscribers get:
//! public incident updates, maintenance scheduled, started and completed, and
//! public component changes once they hold (a flapping component sends one
//! message). Notices are stored where they happen; the leader mails them.

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::subscribers::{Requested, SubscriberRow};
use domain::component::{ComponentKey, ComponentKind, Visibility};
use domain::role::Role;
use domain::subscriber::{Notice, Settled, SubscribeForm, settled_change};

fn unavailable(source: crate::db::DbError) -> ServiceError {
    ServiceError::unavailable("Subscriptions cannot be changed right now. Try again shortly.", &source)
}

impl Services {
    /// Whether the status page offers subscriptions (SMTP is configured).
    pub fn subscriptions_offered(&self) -> bool {
        self.mailer.is_some()
    }

    fn public_components(&self) -> Vec<(ComponentKey, String)> {
        self.live
            .all_components()
            .into_iter()
            .filter(|(_, tile)| tile.kind == ComponentKind::Service && tile.visibility == Visibility::Public)
            .map(|(_, tile)| (tile.key, tile.name))
            .collect()
    }

    /// Asks for a subscription: a confirmation mail, unless the limits say no
    /// or the address is confirmed already. The answer never tells which.
    pub async fn subscribe(&self, form: &SubscribeForm, client: &str) -> ServiceResult<()> {
        let Some(mailer) = &self.mailer else {
            return Err(ServiceError::NotFound("This status page offers no subscriptions.".into()));
        };
        let public: Vec<ComponentKey> = self.public_components().into_iter().map(|(key, _)| key).collect();
        let input = form.parse(|key| public.contains(key))?;
        if let Some(url) = &input.webhook {
            // The admin webhooks' destination rules: nothing inside Wheelhouse's own network.
            self.webhooks
                .check_url(url)
                .map_err(|error| domain::incident::FieldError::new("url", error.to_string()))?;
        }
        let now = self.clock.now_millis();
        let how = match &input.webhook {
            Some(url) => format!("by a JSON POST to {url}"),
            None => "by e-mail".to_owned(),
        };
        let confirm_mail = |token: &str| {
            let text = format!(
                "Someone, probably you, asked to be told {how} when the status of {} changes.\n\n\
                 Confirm within 24 hours: {}\n\nIf it was not you, ignore this message: nothing more will come.",
                mailer.status_url(),
                mailer.confirm_url(token)
            );
            ("Confirm your status subscription".to_owned(), text)
        };
        let requested =
            self.subscribers.request(&input, client, now, confirm_mail).await.map_err(unavailable)?;
        if requested == Requested::Nothing {
            tracing::info!("a subscription request sent no mail (a limit, or confirmed already)");
        }
        Ok(())
    }

    pub async fn confirm_subscription(&self, token: &str) -> ServiceResult<bool> {
        self.subscribers.confirm(token, self.clock.now_millis()).await.map_err(unavailable)
    }

    pub async fn unsubscribe(&self, token: &str) -> ServiceResult<bool> {
        self.subscribers.unsubscribe(token, self.clock.now_millis()).await.map_err(unavailable)
    }

    /// Stores a notice for subscribers (nothing when subscriptions are off);
    /// a failure is logged, never passed on: what happened stands.
    pub async fn notify_subscribers(&self, notice: &Notice, concerned: &[String]) {
        if self.mailer.is_none() {
            return;
        }
        let (subject, text) = notice.subject_and_text();
        if let Err(error) = self.subscribers.notice(&subject, &text, concerned, self.clock.now_millis()).await
        {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "could not store a notice for subscribers"
            );
        }
    }

    /// The public components' statuses that held since subscribers were last
    /// told: a notice each. The first look only records what they are.
    pub async fn notice_component_changes(&self) -> ServiceResult<usize> {
        let Some(mailer) = &self.mailer else { return Ok(0) };
        let hold_ms = i64::try_from(mailer.hold.as_millis()).unwrap_or(i64::MAX);
        let now = self.clock.now_millis();
        let told = self.subscribers.told().await.map_err(unavailable)?;
        let mut sent = 0;
        for (_, tile) in self.live.all_components() {
            if tile.kind != ComponentKind::Service || tile.visibility != Visibility::Public {
                continue;
            }
            let key = tile.key.as_str().to_owned();
            let status = tile.status.as_str().to_owned();
            let before = told.iter().find(|(k, _)| *k == key).map(|(_, s)| s.as_str());
            let Some(before) = before else {
                self.subscribers.set_told(&key, &status, now).await.map_err(unavailable)?;
                continue;
            };
            let current = Settled { status, since: tile.since };
            if let Some(status) = settled_change(&current, Some(before), now, hold_ms) {
                let notice = Notice::Component { name: tile.name.clone(), status: status.clone() };
                self.notify_subscribers(&notice, std::slice::from_ref(&key)).await;
                self.subscribers.set_told(&key, &status, now).await.map_err(unavailable)?;
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// `/admin/subscribers` and its CSV (admins only, checked by their entry points):
    /// the subscribers whose address contains `search`.
    pub async fn subscribers_list(&self, search: &str) -> ServiceResult<Vec<SubscriberRow>> {
        self.subscribers.list(search).await.map_err(unavailable)
    }

    pub async fn remove_subscriber(&self, principal: &Principal, id: i64) -> ServiceResult<()> {
        if !principal.role().satisfies(Role::Admin) {
            return Err(ServiceError::Forbidden("Only an admin may remove subscribers.".into()));
        }
        match self.subscribers.remove(id).await.map_err(unavailable)? {
            true => {
                tracing::info!(subscriber.id = id, actor = %principal.name(), "subscriber removed");
                Ok(())
            }
            false => Err(ServiceError::NotFound(format!("There is no subscriber {id}."))),
        }
    }
}

/// The leader's look at public components for subscribers: every 15 seconds,
/// or four times per hold when the hold (`--subscriber-hold`) is shorter.
pub async fn run_component_notices(services: Services) {
    let hold = services.mailer.as_ref().map_or(std::time::Duration::from_secs(60), |m| m.hold);
    let every = (hold / 4).clamp(std::time::Duration::from_millis(250), std::time::Duration::from_secs(15));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(error) = services.notice_component_changes().await {
            tracing::warn!(error = %error, "cannot tell subscribers about component changes");
        }
    }
}
