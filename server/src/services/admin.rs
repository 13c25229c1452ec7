//! Administration use cases: service components, API tokens and webhook
//! receivers. Only admins reach these (the route table says so).

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::components::ComponentStoreError;
use crate::tokens::{ApiToken, TokenError};
use crate::webhooks::{Format, WebhookError};
use domain::component::{ComponentDefinition, ComponentForm};
use domain::role::Role;
use domain::update::Audience;

impl From<ComponentStoreError> for ServiceError {
    fn from(error: ComponentStoreError) -> Self {
        match error {
            ComponentStoreError::Invalid(error) => ServiceError::invalid(error.field(), error.to_string()),
            ComponentStoreError::NotFound(_) => {
                ServiceError::NotFound("That component no longer exists.".into())
            }
            ComponentStoreError::Db(source) => ServiceError::unavailable(
                "The component could not be saved right now; nothing was changed. Try again shortly.",
                &source,
            ),
        }
    }
}

impl From<TokenError> for ServiceError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::BadName | TokenError::NameTaken(_) => {
                ServiceError::invalid("name", error.to_string())
            }
            TokenError::NotFound => ServiceError::NotFound(error.to_string()),
            TokenError::Db(source) => ServiceError::unavailable(
                "API tokens cannot be changed right now. Try again shortly.",
                &source,
            ),
        }
    }
}

impl From<WebhookError> for ServiceError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::Invalid(message) => ServiceError::invalid("url", message),
            WebhookError::Db(source) => {
                ServiceError::unavailable("Webhooks cannot be changed right now. Try again shortly.", &source)
            }
        }
    }
}

impl Services {
    /// Creates (`id` None) or replaces a service component; answers its name.
    #[tracing::instrument(skip_all, fields(component.id = ?id))]
    pub async fn save_component(&self, id: Option<i64>, form: &ComponentForm) -> ServiceResult<String> {
        let definition = ComponentDefinition::parse(form).map_err(ComponentStoreError::from)?;
        match id {
            Some(id) => self.components.update(id, &definition).await?,
            None => {
                self.components.create(&definition).await?;
            }
        }
        Ok(definition.name)
    }

    /// Deletes a service component; one already gone counts as deleted.
    pub async fn delete_component(&self, id: i64) -> ServiceResult<()> {
        match self.components.delete(id).await {
            Ok(()) | Err(ComponentStoreError::NotFound(_)) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates an API token; answers it and its secret, shown once.
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        role: &str,
    ) -> ServiceResult<(ApiToken, String)> {
        let role = role.parse::<Role>().map_err(|error| ServiceError::invalid("role", error.to_string()))?;
        Ok(self.tokens.create(name, role, &principal.name()).await?)
    }

    /// Revokes an API token; one already gone counts as revoked.
    pub async fn revoke_token(&self, id: i64) -> ServiceResult<()> {
        match self.tokens.revoke(id).await {
            Ok(_) | Err(TokenError::NotFound) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Adds a webhook receiver for an audience.
    pub async fn add_webhook(
        &self,
        principal: &Principal,
        audience: &str,
        format: &str,
        url: &str,
    ) -> ServiceResult<i64> {
        let audience = Audience::parse(audience).ok_or_else(|| {
            ServiceError::invalid("url", "Choose the audience: public, internal or executive.")
        })?;
        let format = Format::parse(format)
            .ok_or_else(|| ServiceError::invalid("url", "Choose the format: slack or generic."))?;
        Ok(self.webhooks.create(audience, format, url, &principal.name()).await?)
    }

    /// Removes a webhook receiver.
    pub async fn remove_webhook(&self, id: i64) -> ServiceResult<()> {
        Ok(self.webhooks.delete(id).await?)
    }
}

fn account_refused(error: crate::accounts::AccountError) -> ServiceError {
    use crate::accounts::AccountError;
    match error {
        AccountError::NotFound(_) => ServiceError::NotFound(error.to_string()),
        AccountError::LastAdmin(_) => ServiceError::Conflict(format!("Not changed: {error}.")),
        AccountError::Database(source) => {
            ServiceError::unavailable("Accounts cannot be changed right now. Try again shortly.", &source)
        }
        other => ServiceError::internal("an account change failed", &other),
    }
}

/// What an admin may do to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountChange {
    Disable,
    Enable,
}

impl Services {
    /// Every account with its role and whether it is disabled (`Some(when)`).
    pub async fn users(&self) -> ServiceResult<Vec<(crate::accounts::User, Option<i64>)>> {
        self.accounts.list_all().await.map_err(account_refused)
    }

    /// Gives an account another role; its sessions end at once.
    pub async fn set_user_role(
        &self,
        principal: &Principal,
        email: &str,
        role: &str,
    ) -> ServiceResult<String> {
        let role = Role::parse_for_account(role).map_err(|e| ServiceError::invalid("role", e.to_string()))?;
        let user = self.accounts.set_role(email, role).await.map_err(account_refused)?;
        tracing::info!(by = %principal.name(), user.id = user.id, "role changed by an admin");
        Ok(format!("{} is now {}; their sessions have ended.", user.email, user.role))
    }

    /// Disables or enables an account; disabling ends its sessions at once.
    pub async fn change_user(
        &self,
        principal: &Principal,
        email: &str,
        change: AccountChange,
    ) -> ServiceResult<String> {
        if let (AccountChange::Disable, Principal::Account(me)) = (change, principal)
            && me.email.eq_ignore_ascii_case(email.trim())
        {
            return Err(ServiceError::Conflict("You cannot disable your own account.".into()));
        }
        let disabled = change == AccountChange::Disable;
        let user = self.accounts.set_disabled(email, disabled).await.map_err(account_refused)?;
        tracing::info!(by = %principal.name(), user.id = user.id, disabled, "account changed by an admin");
        Ok(if disabled {
            format!("{} is disabled; their sessions have ended.", user.email)
        } else {
            format!("{} is enabled again.", user.email)
        })
    }

    /// Sets a new generated password for an account (shown once); its sessions end at once.
    pub async fn reset_user_password(
        &self,
        principal: &Principal,
        email: &str,
    ) -> ServiceResult<(String, String)> {
        let (user, password) = self.accounts.reset_password(email).await.map_err(account_refused)?;
        tracing::info!(by = %principal.name(), user.id = user.id, "password reset by an admin");
        Ok((user.email, password))
    }
}
