//! Stakeholder updates: templates (shipped defaults, or an admin's edit,
//! checked on save), the variables an incident gives them, rendering, and
//! publishing, which goes through the incident state machine
//! (`Command::PostUpdate`) so the text lands on the append-only timeline and
//! the update-due timer resets in the same transaction.

pub mod defaults;
pub mod engine;

use crate::db::{Database, DbError, now_millis};
use crate::incidents::{Incident, TimelineEntry};
use app::domain::component::{ComponentKey, Visibility};
use app::domain::incident_lifecycle::TimelineEvent;
use app::domain::update::{Audience, Purpose, VARIABLES};
use app::live::ComponentTile;
use engine::TemplateError;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// A template as listed and edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateRecord {
    pub audience: Audience,
    pub purpose: Purpose,
    pub body: String,
    /// `false` while it is the shipped default.
    pub customised: bool,
    pub updated_by: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateStoreError {
    #[error(transparent)]
    Invalid(#[from] TemplateError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TemplateStoreError {
    fn from(error: sqlx::Error) -> Self {
        TemplateStoreError::Db(DbError::Query(error))
    }
}

#[derive(Clone, Debug)]
pub struct Templates {
    db: Database,
}

impl Templates {
    pub fn new(db: Database) -> Templates {
        Templates { db }
    }

    /// All eighteen templates, by audience then purpose.
    pub async fn list(&self) -> Result<Vec<TemplateRecord>, TemplateStoreError> {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT audience, purpose, body, updated_by FROM update_templates")
                .fetch_all(&self.db.pool)
                .await?;
        let mut records = Vec::new();
        for audience in Audience::ALL {
            for purpose in Purpose::ALL {
                let custom = rows.iter().find(|(a, p, _, _)| a == audience.as_str() && p == purpose.as_str());
                records.push(match custom {
                    Some((_, _, body, by)) => TemplateRecord {
                        audience,
                        purpose,
                        body: body.clone(),
                        customised: true,
                        updated_by: Some(by.clone()),
                    },
                    None => TemplateRecord {
                        audience,
                        purpose,
                        body: defaults::default_template(audience, purpose),
                        customised: false,
                        updated_by: None,
                    },
                });
            }
        }
        Ok(records)
    }

    pub async fn get(
        &self,
        audience: Audience,
        purpose: Purpose,
    ) -> Result<TemplateRecord, TemplateStoreError> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .find(|t| t.audience == audience && t.purpose == purpose)
            .expect("all 18 are listed"))
    }

    /// Saves an admin's template after checking it; an empty body goes back to the default.
    #[tracing::instrument(skip_all, fields(template.audience = %audience, template.purpose = %purpose))]
    pub async fn save(
        &self,
        audience: Audience,
        purpose: Purpose,
        body: &str,
        by: &str,
    ) -> Result<TemplateRecord, TemplateStoreError> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("DELETE FROM update_templates WHERE audience = $1 AND purpose = $2")
            .bind(audience.as_str())
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
        if !body.trim().is_empty() {
            engine::check(audience, body)?;
            sqlx::query(
                "INSERT INTO update_templates (audience, purpose, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(audience.as_str())
            .bind(purpose.as_str())
            .bind(body)
            .bind(now_millis())
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(by, "update template saved");
        self.get(audience, purpose).await
    }
}

/// "14:05" (UTC) of a time in milliseconds.
fn hh_mm(millis: i64) -> String {
    let minutes = millis.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The title the public sees: the one set at a public update, or the neutral
/// one naming the public components affected. Never the internal title.
pub fn public_title(incident: &Incident, tiles: &HashMap<ComponentKey, ComponentTile>) -> String {
    incident.state.public_title.clone().unwrap_or_else(|| {
        let names: Vec<String> = incident
            .components
            .iter()
            .filter_map(|key| tiles.get(key))
            .filter(|tile| tile.visibility == Visibility::Public)
            .map(|tile| tile.name.clone())
            .collect();
        app::domain::incident::neutral_public_title(&names)
    })
}

/// What a person adds when rendering: impact and workaround, as they would write them.
#[derive(Clone, Debug, Default)]
pub struct UpdateInput {
    pub impact: String,
    pub workaround: String,
}

/// The variables for one render. A public audience gets only the public variables,
/// so with strict undefined variables nothing internal can leak into its text.
pub fn variables(
    audience: Audience,
    incident: &Incident,
    timeline: &[TimelineEntry],
    tiles: &HashMap<ComponentKey, ComponentTile>,
    input: &UpdateInput,
    now: i64,
) -> Value {
    let state = &incident.state;
    let names = |public_only: bool| -> Vec<String> {
        incident
            .components
            .iter()
            .filter_map(|key| tiles.get(key))
            .filter(|tile| !public_only || tile.visibility == Visibility::Public)
            .map(|tile| tile.name.clone())
            .collect()
    };
    let decisions: Vec<String> = timeline
        .iter()
        .filter_map(|entry| match &entry.event {
            TimelineEvent::Note { text, decision: true } => Some(text.clone()),
            _ => None,
        })
        .collect();
    let end = state.resolved_at.unwrap_or(now);
    let all = json!({
        "title": if audience == Audience::Public { public_title(incident, tiles) } else { incident.title.clone() },
        "severity": state.severity.as_str(),
        "severity_definition": state.severity.definition(),
        "status": state.status.as_str(),
        "phase": state.phase.as_str(),
        "affected_components": names(true),
        "all_affected_components": names(false),
        "impact": input.impact.trim(),
        "workaround": input.workaround.trim(),
        "next_update_at": state.next_update_due().map(hh_mm).unwrap_or_default(),
        "started_at": hh_mm(state.declared_at),
        "duration": app::incidents::duration_text(end - state.declared_at),
        "commander": state.commander().map(|p| p.email.clone()).unwrap_or_default(),
        "communications_lead": state
            .holders(app::domain::incident::IncidentRole::CommunicationsLead)
            .next()
            .map(|p| p.email.clone())
            .unwrap_or_default(),
        "summary": incident.summary,
        "decisions": decisions,
        "incident_id": incident.id,
    });
    let mut allowed = Map::new();
    for variable in VARIABLES.iter().filter(|v| v.public || audience != Audience::Public) {
        allowed.insert(variable.name.to_owned(), all[variable.name].clone());
    }
    Value::Object(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_hours_and_minutes() {
        assert_eq!(hh_mm((14 * 60 + 5) * 60_000 + 3 * 86_400_000), "14:05");
    }
}
