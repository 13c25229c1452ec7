//! Stakeholder-update use cases: render an audience's template with an
//! incident's live data, publish the (edited) text through the incident state
//! machine and tell the audience's receivers; list and save templates.

use super::Principal;
use super::{ServiceError, ServiceResult, Services};
use crate::incidents::TimelineEntry;
use crate::updates::engine::TemplateError;
use crate::updates::{TemplateRecord, TemplateStoreError, UpdateInput, public_title, variables};
use crate::webhooks::Delivery;
use domain::incident::{IncidentTitle, Text};
use domain::incident_lifecycle::Command;
use domain::update::{Audience, Purpose};

impl From<TemplateStoreError> for ServiceError {
    fn from(error: TemplateStoreError) -> Self {
        match error {
            TemplateStoreError::Invalid(error) => ServiceError::invalid("body", error.to_string()),
            TemplateStoreError::Db(source) => ServiceError::unavailable(
                "Templates are not available right now. Try again shortly.",
                &source,
            ),
        }
    }
}

fn not_renderable(error: TemplateError) -> ServiceError {
    ServiceError::invalid("template", format!("The template cannot be rendered: {error}"))
}

/// The audience and purpose named in a request.
pub fn audience_purpose(audience: &str, purpose: &str) -> ServiceResult<(Audience, Purpose)> {
    let audience = Audience::parse(audience)
        .ok_or_else(|| ServiceError::invalid("audience", "The audience is public, internal or executive."))?;
    let purpose = Purpose::parse(purpose).ok_or_else(|| {
        ServiceError::invalid(
            "purpose",
            "The purpose is investigating, identified, monitoring, resolved, severity_change or maintenance.",
        )
    })?;
    Ok((audience, purpose))
}

/// An update to publish, as typed.
#[derive(Clone, Debug, Default)]
pub struct PublishInput {
    pub audience: String,
    pub purpose: String,
    pub text: String,
    /// For a public update: also move the public status to the purpose's.
    pub move_status: bool,
    /// For a public update: the title the public sees (blank: keep it, or the neutral one the first time).
    pub public_title: Option<String>,
}

impl Services {
    /// Renders the audience's template for `purpose` with the incident's live data.
    #[tracing::instrument(skip_all, fields(incident.id = id))]
    pub async fn render_update(
        &self,
        id: i64,
        audience: &str,
        purpose: &str,
        input: &UpdateInput,
    ) -> ServiceResult<String> {
        let (audience, purpose) = audience_purpose(audience, purpose)?;
        let incident = self.incident(id).await?;
        let timeline = self.incidents.timeline(id).await?;
        let template = self.templates.get(audience, purpose).await?;
        let tiles = crate::incident_pages::tiles_by_key(self.live.as_ref());
        let context = variables(audience, &incident, &timeline, &tiles, input, self.clock.now_millis());
        crate::updates::engine::render(&template.body, &context).map_err(not_renderable)
    }

    /// Publishes: the text on the timeline, the due timer reset, and for a
    /// public update the public status moved to its purpose's when asked; then
    /// the audience's receivers are told, in the background.
    #[tracing::instrument(skip_all, fields(incident.id = id))]
    pub async fn publish_update(
        &self,
        principal: &Principal,
        id: i64,
        input: &PublishInput,
    ) -> ServiceResult<Vec<TimelineEntry>> {
        let (audience, purpose) = audience_purpose(&input.audience, &input.purpose)?;
        let text = Text::update(&input.text)?;
        // A public update carries the title the public sees: as typed, else the one set
        // before, else the neutral one naming the public components.
        let for_public = match input.public_title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(typed) if audience == Audience::Public => Some(
                IncidentTitle::parse(typed).map_err(|e| ServiceError::invalid("public_title", e.message))?,
            ),
            _ if audience == Audience::Public => {
                let incident = self.incident(id).await?;
                let tiles = crate::incident_pages::tiles_by_key(self.live.as_ref());
                IncidentTitle::parse(&public_title(&incident, &tiles)).ok()
            }
            _ => None,
        };
        let command = Command::PostUpdate {
            audience,
            purpose,
            text,
            move_status: input.move_status,
            public_title: for_public,
        };
        let entries = self.run_command(principal, id, command).await?;
        // Committed: a failure to read the title back only costs the receivers a title.
        match self.incidents.get(id).await {
            Ok(Some(incident)) => {
                let title = match audience {
                    Audience::Public => {
                        public_title(&incident, &crate::incident_pages::tiles_by_key(self.live.as_ref()))
                    }
                    _ => incident.title.clone(),
                };
                self.notifier.updates_published(id, &title, &entries).await;
                if audience == Audience::Public {
                    let notice = domain::subscriber::Notice::Update {
                        title,
                        status: incident.state.status.as_str().to_owned(),
                        text: input.text.trim().to_owned(),
                    };
                    let concerned: Vec<String> =
                        incident.components.iter().map(|c| c.as_str().to_owned()).collect();
                    self.notify_subscribers(&notice, &concerned).await;
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(
                incident.id = id,
                error = &error as &dyn std::error::Error,
                "an update was published but its receivers could not be told"
            ),
        }
        Ok(entries)
    }

    /// The incident's timeline and every delivery attempt to the webhooks of its
    /// updates. The timeline is what was published; when the delivery log
    /// cannot be read, that is logged and the updates come without it.
    pub async fn updates_with_deliveries(
        &self,
        id: i64,
    ) -> ServiceResult<(Vec<TimelineEntry>, Vec<Delivery>)> {
        let timeline = self.timeline(id).await?;
        let deliveries = self.webhooks.deliveries(id).await.unwrap_or_else(|error| {
            tracing::warn!(
                incident.id = id,
                error = &error as &dyn std::error::Error,
                "cannot read the webhook delivery log"
            );
            Vec::new()
        });
        Ok((timeline, deliveries))
    }

    /// Every template, by audience and purpose.
    pub async fn templates(&self) -> ServiceResult<Vec<TemplateRecord>> {
        Ok(self.templates.list().await?)
    }

    /// Replaces a template (empty goes back to the shipped default); refused
    /// with line, column and reason when it does not check.
    pub async fn save_template(
        &self,
        principal: &Principal,
        audience: &str,
        purpose: &str,
        body: &str,
    ) -> ServiceResult<TemplateRecord> {
        let (audience, purpose) = audience_purpose(audience, purpose)?;
        Ok(self.templates.save(audience, purpose, body, &principal.name()).await?)
    }
}
