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
