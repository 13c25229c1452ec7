//! Evidence, playbooks and suggested mitigations: capturing evidence (by
//! hand, and for every object an incident concerns when it is declared),
//! reading it back, matching the playbooks and deriving their suggested
//! actions, ticking checklist steps, administering playbooks, and declaring
//! in one click from a red tile or an inbox alert.

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::evidence::EvidenceRecord;
use crate::playbooks::PlaybookEntry;
use domain::action::ActionFailure;
use domain::component::{ComponentKey, ComponentKind};
use domain::evidence::Subject;
use domain::incident::DeclarationForm;
use domain::incident_lifecycle::{Actor, Command};
use domain::object_name::ObjectName;
use domain::playbook::{Guidance, Playbook};
use domain::role::Role;
use std::collections::BTreeSet;

/// A checklist tick, as the room's form or the API sends it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TickForm {
    #[serde(default)]
    pub playbook: String,
    #[serde(default)]
    pub step: String,
    /// `true` ticks, `false` unticks.
    #[serde(default)]
    pub done: String,
}

/// What a one-click declaration is prefilled from: a component or alerts.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct DeclareNowForm {
    /// A component key (`service/3`, `node/worker-2`).
    #[serde(default)]
    pub component: String,
    /// Alert ids, comma-separated.
    #[serde(default)]
    pub alerts: String,
}

fn capture_refused(subject: &Subject, failure: &ActionFailure) -> ServiceError {
    let message = format!("Could not capture {subject}: {}", failure.plain_words());
    match failure {
        ActionFailure::NotFound { .. } => ServiceError::NotFound(message),
        ActionFailure::Unreachable => ServiceError::Unavailable { message, error_id: None },
        _ => ServiceError::Refused(message),
    }
}

impl Services {
    /// Captures evidence about `subject` (`deployment/shop/checkout`,
    /// `pod/shop/x`, `node/worker-2`, `control-plane`) for an incident.
    #[tracing::instrument(skip_all, fields(incident.id = incident_id))]
    pub async fn capture_evidence(
        &self,
        principal: &Principal,
        incident_id: i64,
        subject: &str,
    ) -> ServiceResult<EvidenceRecord> {
        let subject = Subject::parse(subject)?;
        self.incident(incident_id).await?;
        let evidence = self
            .evidence_source
            .capture(&subject, self.clock.now_millis())
            .await
            .map_err(|failure| capture_refused(&subject, &failure))?;
        Ok(self.evidence.record(incident_id, &principal.actor(), &evidence).await?)
    }

    /// The objects behind components: a service component's workloads, a
    /// node, the control plane for the platform components.
    pub async fn subjects_of(&self, components: &[ComponentKey]) -> Vec<Subject> {
        let mut subjects = BTreeSet::new();
        for key in components {
            let name = key.as_str().split_once('/').map(|(_, name)| name).unwrap_or_default();
            match key.kind() {
                ComponentKind::Platform => {
                    subjects.insert(Subject::ControlPlane);
                }
                ComponentKind::Node => {
                    if let Some(name) = ObjectName::parse(name) {
                        subjects.insert(Subject::Node { name });
                    }
                }
                ComponentKind::Service => {
                    let Some(component) = name.parse().ok() else { continue };
                    let Ok(component) = self.components.get(component).await else { continue };
                    let definition = component.definition;
                    for (kind, workload) in
                        self.cluster.workloads_matching(&definition.namespace, &definition.selector)
                    {
                        if let (Some(namespace), Some(name)) =
                            (ObjectName::parse(&definition.namespace), ObjectName::parse(&workload))
                        {
                            subjects.insert(Subject::Workload { workload: kind, namespace, name });
                        }
                    }
                }
            }
        }
        subjects.into_iter().collect()
    }

    /// Captures every object the incident's components stand on, as Wheelhouse,
    /// one after the other; returns how many were kept. A subject that cannot
    /// be read is logged and skipped (the room's button can try again).
    pub async fn capture_for_incident(&self, incident_id: i64) -> usize {
        let Ok(incident) = self.incident(incident_id).await else { return 0 };
        let actor = Actor { person: None, role: Role::Admin, name: "wheelhouse".into() };
        let mut kept = 0;
        for subject in self.subjects_of(&incident.components).await {
            match self.evidence_source.capture(&subject, self.clock.now_millis()).await {
                Ok(evidence) => match self.evidence.record(incident_id, &actor, &evidence).await {
                    Ok(_) => kept += 1,
                    Err(error) => {
                        tracing::error!(incident.id = incident_id, %subject, error = &error as &dyn std::error::Error, "evidence could not be kept");
                    }
                },
                Err(failure) => {
                    tracing::warn!(incident.id = incident_id, %subject, reason = %failure.plain_words(), "evidence could not be captured");
                }
            }
        }
        kept
    }

    /// Starts capturing for a newly declared incident, without holding up the declaration.
    pub fn capture_on_declaration(&self, incident_id: i64) {
        let services = self.clone();
        tokio::spawn(async move {
            let kept = services.capture_for_incident(incident_id).await;
            tracing::info!(incident.id = incident_id, captures = kept, "evidence captured at declaration");
        });
    }

    /// An incident's captures, newest first.
    pub async fn evidence_list(&self, incident_id: i64) -> ServiceResult<Vec<EvidenceRecord>> {
        self.incident(incident_id).await?;
        Ok(self.evidence.list(incident_id).await?)
    }

    /// One capture and its document, exactly as stored (its SHA-256 matches).
    pub async fn evidence_document(
        &self,
        incident_id: i64,
        id: i64,
    ) -> ServiceResult<(EvidenceRecord, String)> {
        self.evidence.document(incident_id, id).await?.ok_or_else(|| {
            ServiceError::NotFound(format!("There is no evidence {id} on incident {incident_id}."))
        })
    }

    /// The playbooks matching the incident's alerts and latest captures, best
    /// first, with their suggested actions.
    pub async fn guidance(&self, incident_id: i64) -> ServiceResult<Vec<Guidance>> {
        self.incident(incident_id).await?;
        let playbooks: Vec<Playbook> = self.playbook_list().await?.into_iter().map(|e| e.playbook).collect();
        let alertnames = self.alerts.names_for_incident(incident_id).await.map_err(|error| {
            ServiceError::unavailable("The incident's alerts could not be read right now.", &error)
        })?;
        let captures = self.evidence.latest(incident_id).await?;
        Ok(domain::playbook::guide(&playbooks, &alertnames, &captures, self.clock.now_millis()))
    }

    /// Ticks or unticks a checklist step; recorded on the timeline.
    pub async fn tick_step(
        &self,
        principal: &Principal,
        incident_id: i64,
        form: &TickForm,
    ) -> ServiceResult<()> {
        let playbooks = self.playbook_list().await?;
        let playbook = playbooks
            .iter()
            .find(|e| e.playbook.id == form.playbook.trim())
            .ok_or_else(|| ServiceError::invalid("playbook", "There is no such playbook."))?;
        let step: usize = form
            .step
            .trim()
            .parse()
            .ok()
            .filter(|n: &usize| *n < playbook.playbook.steps.len())
            .ok_or_else(|| ServiceError::invalid("step", "There is no such step in this playbook."))?;
        let done = match form.done.trim() {
            "true" | "1" | "on" => true,
            "false" | "0" | "off" => false,
            _ => return Err(ServiceError::invalid("done", "Send done as true or false.")),
        };
        let command = Command::TickStep {
            playbook: playbook.playbook.id.clone(),
            step,
            text: playbook.playbook.steps[step].clone(),
            done,
        };
        self.run_command(principal, incident_id, command).await?;
        Ok(())
    }

    /// Every playbook, shipped and added.
    pub async fn playbook_list(&self) -> ServiceResult<Vec<PlaybookEntry>> {
        self.playbooks
            .list()
            .await
            .map_err(|error| ServiceError::unavailable("The playbooks could not be read right now.", &error))
    }

    /// Saves a playbook from its YAML (a new id adds one); refused with the
    /// line and column of what is wrong.
    pub async fn save_playbook(&self, principal: &Principal, source: &str) -> ServiceResult<Playbook> {
        let playbook = crate::playbooks::parse(source)
            .map_err(|error| ServiceError::invalid("source", error.to_string()))?;
        self.playbooks.save(&playbook, source, &principal.name(), self.clock.now_millis()).await.map_err(
            |error| ServiceError::unavailable("The playbook could not be saved right now.", &error),
        )?;
        tracing::info!(playbook = %playbook.id, by = %principal.name(), "playbook saved");
        Ok(playbook)
    }

    /// Puts a shipped playbook back as shipped, or removes an added one.
    pub async fn reset_playbook(&self, principal: &Principal, id: &str) -> ServiceResult<()> {
        let removed = self.playbooks.reset(id.trim()).await.map_err(|error| {
            ServiceError::unavailable("The playbook could not be reset right now.", &error)
        })?;
        if !removed {
            return Err(ServiceError::NotFound(format!(
                "There is no edited or added playbook '{}'.",
                id.chars().take(63).collect::<String>()
            )));
        }
        tracing::info!(playbook = %id, by = %principal.name(), "playbook reset");
        Ok(())
    }

    /// The declaration a red tile or inbox alerts prefill.
    pub async fn prefilled_declaration(&self, form: &DeclareNowForm) -> ServiceResult<DeclarationForm> {
        if !form.alerts.trim().is_empty() {
            let ids = super::incidents::alert_ids(&form.alerts)?;
            return self.declaration_for_alerts(&ids).await;
        }
        let key = ComponentKey::parse(form.component.trim()).ok_or_else(|| {
            ServiceError::invalid("component", "Choose a component or alerts to declare from.")
        })?;
        let tile = self
            .live
            .all_components()
            .into_iter()
            .map(|(_, tile)| tile)
            .find(|tile| tile.key == key)
            .ok_or_else(|| ServiceError::invalid("component", format!("There is no component {key}.")))?;
        let reasons: Vec<(String, String)> =
            tile.reasons.iter().map(|r| (r.subject.clone(), r.detail.clone())).collect();
        Ok(domain::incident::declaration_for_component(&tile.key, &tile.name, tile.status, &reasons))
    }

    /// Declares in one click, prefilled from a component or alerts; the
    /// evidence capture starts as for any declaration.
    pub async fn declare_now(&self, principal: &Principal, form: &DeclareNowForm) -> ServiceResult<i64> {
        let prefilled = self.prefilled_declaration(form).await?;
        self.declare(principal, &prefilled).await
    }
}
