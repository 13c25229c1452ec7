//! The server's side of the incident pages, and the one conversion from
//! stored incidents to what pages and the JSON API show.

use crate::accounts::Accounts;
use crate::actions::drain::PodProgress;
use crate::actions::{ActionRecord, Actions};
use crate::cluster::state::WorkloadInfo;
use crate::cluster::watch::Live;
use crate::components::Components;
use crate::incidents::{Incident, IncidentFilter, Incidents, ResolvedCursor, TimelineEntry};
use crate::tokens::Tokens;
use app::domain::component::{ComponentKey, ComponentKind};
use app::domain::health::ComponentStatus;
use app::domain::incident::{IncidentRole, PublicStatus, Severity};
use app::domain::incident_lifecycle::TimelineEvent;
use app::domain::label_selector::LabelSelector;
use app::domain::role::Role;
use app::domain::update::Audience;
use app::incidents::{
    ActionView, AffectedComponent, Briefing, BriefingIncident, Choice, ComponentChoice, IncidentBackend,
    IncidentList, IncidentQuery, IncidentRoom, IncidentView, Pickers, PreviewView, Recent, RoleHolder,
    TemplateRow, TimelineLine, TokenRow, WebhookRow,
};
use app::live::{ComponentTile, LiveBackend};
use std::collections::HashMap;
use std::sync::Arc;

pub struct IncidentPages {
    pub incidents: Incidents,
    pub accounts: Accounts,
    pub tokens: Tokens,
    pub actions: Actions,
    pub components: Components,
    pub templates: crate::updates::Templates,
    pub webhooks: crate::webhooks::Webhooks,
    pub live_state: Arc<Live>,
    pub live: Arc<dyn LiveBackend>,
    /// For what the room reads through use cases: evidence and matched playbooks.
    pub services: crate::services::Services,
}

/// The room's view of captures, matched playbooks (steps ticked as the
/// timeline says) and their suggestions (with the action already planned for each).
fn guidance_views(
    guidance: Vec<app::domain::playbook::Guidance>,
    timeline: &[TimelineEntry],
    actions: &[ActionRecord],
) -> Vec<app::incidents::GuidanceView> {
    let ticks: Vec<(String, usize, bool)> = timeline
        .iter()
        .filter_map(|entry| match &entry.event {
            TimelineEvent::PlaybookStepTicked { playbook, step, done, .. } => {
                Some((playbook.clone(), *step, *done))
            }
            _ => None,
        })
        .collect();
    guidance
        .into_iter()
        .map(|g| app::incidents::GuidanceView {
            steps: g
                .playbook
                .steps
                .iter()
                .enumerate()
                .map(|(index, text)| app::incidents::StepView {
                    index,
                    text: text.clone(),
                    done: app::domain::playbook::ticked(&ticks, &g.playbook.id, index),
                })
                .collect(),
            suggestions: g
                .suggestions
                .into_iter()
                .map(|s| {
                    let spec = app::domain::action::ActionSpec::parse(&s.form).ok();
                    let action = actions
                        .iter()
                        .filter(|a| Some(&a.spec) == spec.as_ref())
                        .max_by_key(|a| a.id)
                        .map(|a| (a.id, a.status));
                    app::incidents::SuggestionView { title: s.title, form: s.form, action }
                })
                .collect(),
            id: g.playbook.id,
            title: g.playbook.title,
            summary: g.playbook.summary,
            matched_by: g.matched_by,
        })
        .collect()
}

/// At most this many choices per picker, so that a large cluster's room stays light.
const PICKER_LIMIT: usize = 300;

pub fn action_view(action: &ActionRecord) -> ActionView {
    ActionView {
        id: action.id,
        incident_id: action.incident_id,
        action: action.spec.name().to_owned(),
        description: action.description.clone(),
        status: action.status,
        planned_by: action.planned_by.clone(),
        planned_at: action.planned_at,
        preview: action.preview.as_ref().map(|p| PreviewView {
            changes: p.dry_run.changes.clone(),
            pods: p.dry_run.pods,
            components: p.components.clone(),
        }),
        confirmed_by: action.confirmed_by.clone(),
        confirmed_at: action.confirmed_at,
        result: action.result.clone(),
        undo: action.undo.as_ref().map(ToString::to_string),
        failure: action.failure.clone(),
        finished_at: action.finished_at,
        undone_by: action.undone_by.clone(),
        progress: action.progress.iter().map(PodProgress::describe).collect(),
        needs_second_person: action.spec.needs_second_person(),
        protected_namespace: None,
        viewer_may_step: false,
    }
}

/// The action as `viewer` sees it in the room: the safety rules that apply,
/// and whether they may take its next step (the server decides again on post).
fn action_view_for(
    action: &ActionRecord,
    state: &app::domain::incident_lifecycle::IncidentState,
    viewer: Option<&app::domain::incident_lifecycle::Actor>,
    policy: &app::domain::action::SafetyPolicy,
) -> ActionView {
    use app::domain::action::{ActionStatus, may_confirm};
    let mut view = action_view(action);
    view.protected_namespace = policy.protects(&action.spec).map(str::to_owned);
    let next = match action.status {
        ActionStatus::Previewed => Some(&action.spec),
        ActionStatus::Succeeded => action.undo.as_ref(),
        _ => None,
    };
    view.viewer_may_step = match (next, viewer) {
        (Some(spec), Some(actor)) => may_confirm(state, actor, spec, &action.planned_by, policy).is_ok(),
        _ => false,
    };
    view
}

/// The pickers, from the live state: the affected components' workloads and pods first.
pub(crate) fn pickers(live: &Live, affected: &[(String, LabelSelector)]) -> Pickers {
    let state = live.read();
    let choice = |value: String, label: String| Choice { value, label };
    let nodes = state
        .nodes
        .values()
        .take(PICKER_LIMIT)
        .map(|n| {
            let label = if n.unschedulable { format!("{} (cordoned)", n.name) } else { n.name.clone() };
            choice(n.name.clone(), label)
        })
        .collect();
    let first: Vec<&WorkloadInfo> =
        affected.iter().flat_map(|(namespace, selector)| state.matching(namespace, selector)).collect();
    let is_first = |w: &WorkloadInfo| {
        first.iter().any(|f| f.kind == w.kind && f.namespace == w.namespace && f.name == w.name)
    };
    let mut workloads: Vec<&WorkloadInfo> = state.workloads.values().collect();
    workloads.sort_by_key(|w| !is_first(w));
    let mut pods: Vec<Choice> = Vec::new();
    for w in first.iter() {
        for pod in state.pods_of(w) {
            pods.push(choice(
                format!("{}/{}", pod.namespace, pod.name),
                format!("{}/{} (affected)", pod.namespace, pod.name),
            ));
        }
    }
    let namespaces: std::collections::BTreeSet<&str> =
        state.workloads.values().map(|w| w.namespace.as_str()).collect();
    Pickers {
        nodes,
        workloads: workloads
            .into_iter()
            .take(PICKER_LIMIT)
            .map(|w| {
                let value = format!("{}/{}/{}", w.kind.as_str(), w.namespace, w.name);
                let label = if is_first(w) {
                    format!("{value} (affected, {} replicas)", w.desired)
                } else {
                    format!("{value} ({} replicas)", w.desired)
                };
                choice(value, label)
            })
            .collect(),
        pods: pods.into_iter().take(PICKER_LIMIT).collect(),
        namespaces: namespaces.into_iter().map(|n| choice(n.to_owned(), n.to_owned())).collect(),
    }
}

/// The live status of every component, by key.
pub fn tiles_by_key(live: &dyn LiveBackend) -> HashMap<ComponentKey, ComponentTile> {
    live.all_components().into_iter().map(|(_, tile)| (tile.key.clone(), tile)).collect()
}

/// An incident as pages and the API show it, with its components' live status.
pub fn incident_view(
    incident: &Incident,
    tiles: &HashMap<ComponentKey, ComponentTile>,
    now: i64,
) -> IncidentView {
    let state = &incident.state;
    IncidentView {
        id: incident.id,
        title: incident.title.clone(),
        severity: state.severity,
        category: incident.category,
        summary: incident.summary.clone(),
        status: state.status,
        phase: state.phase,
        components: incident
            .components
            .iter()
            .map(|key| AffectedComponent {
                key: key.clone(),
                name: tiles.get(key).map_or_else(|| key.to_string(), |t| t.name.clone()),
                status: tiles.get(key).map(|t| t.status),
            })
            .collect(),
        roles: state
            .assignments
            .iter()
            .map(|a| RoleHolder { email: a.person.email.clone(), role: a.role })
            .collect(),
        commander: state.commander().map(|p| p.email.clone()),
        declared_at: state.declared_at,
        declared_by: incident.declared_by.clone(),
        acknowledged_at: state.acknowledged_at,
        contained_at: state.contained_at,
        resolved_at: state.resolved_at,
        next_update_due: state.next_update_due(),
        update_overdue: state.update_overdue(now),
        two_person_waived: state.two_person_waived,
        public_title: crate::updates::public_title(incident, tiles),
        public_title_set: state.public_title.is_some(),
        review: state.review,
        closed_at: state.closed_at,
    }
}

pub fn timeline_line(entry: &TimelineEntry) -> TimelineLine {
    TimelineLine {
        id: entry.id,
        at: entry.at,
        actor: entry.actor.clone(),
        kind: entry.event.kind().to_owned(),
        text: entry.event.describe(),
        decision: matches!(entry.event, TimelineEvent::Note { decision: true, .. }),
    }
}

impl IncidentPages {
    /// The namespace and selector of each affected service component.
    async fn incidents_services(&self, incident: &Incident) -> Vec<(String, LabelSelector)> {
        let Ok(components) = self.components.list().await else { return Vec::new() };
        components
            .into_iter()
            .filter(|c| incident.components.contains(&ComponentKey::service(c.id)))
            .map(|c| (c.definition.namespace, c.definition.selector))
            .collect()
    }
}

#[async_trait::async_trait]
impl IncidentBackend for IncidentPages {
    async fn list(&self, query: &IncidentQuery) -> Result<IncidentList, String> {
        let failed = |error: &(dyn std::error::Error + 'static)| {
            tracing::error!(error, "could not list incidents");
            "The incidents cannot be read right now.".to_owned()
        };
        // Active incidents are few: all of them. Resolved ones come a page at a time.
        let active = if query.status != Some(PublicStatus::Resolved) {
            let filter = IncidentFilter {
                severity: query.severity,
                status: query.status,
                active: Some(true),
                ..IncidentFilter::default()
            };
            self.incidents.list(&filter).await.map_err(|e| failed(&e))?
        } else {
            Vec::new()
        };
        let mut resolved = if query.status.is_none_or(|status| status == PublicStatus::Resolved) {
            let before = query.resolved_before.as_deref().and_then(ResolvedCursor::parse);
            self.incidents
                .resolved(query.severity, before, RESOLVED_PAGE + 1)
                .await
                .map_err(|e| failed(&e))?
        } else {
            Vec::new()
        };
        let older = if resolved.len() > RESOLVED_PAGE {
            resolved.truncate(RESOLVED_PAGE);
            resolved.last().and_then(ResolvedCursor::after).map(|cursor| cursor.encode())
        } else {
            None
        };
        let now = crate::db::now_millis();
        let tiles = tiles_by_key(self.live.as_ref());
        let view = |incident: &Incident| incident_view(incident, &tiles, now);
        Ok(IncidentList {
            active: active.iter().map(view).collect(),
            resolved: resolved.iter().map(view).collect(),
            older,
            now,
        })
    }

    async fn room(
        &self,
        id: i64,
        viewer: Option<&app::incidents::SignedInUserRef>,
    ) -> Result<Option<IncidentRoom>, String> {
        let failed = |error: &(dyn std::error::Error + 'static)| {
            tracing::error!(incident.id = id, error, "could not read an incident");
            "The incident cannot be read right now.".to_owned()
        };
        let Some(incident) = self.incidents.get(id).await.map_err(|e| failed(&e))? else {
            return Ok(None);
        };
        let timeline = self.incidents.timeline(id).await.map_err(|e| failed(&e))?;
        let people = self
            .accounts
            .list()
            .await
            .map_err(|e| failed(&e))?
            .into_iter()
            .filter(|user| user.role.satisfies(Role::Responder))
            .map(|user| user.email)
            .collect();
        let now = crate::db::now_millis();
        let tiles = tiles_by_key(self.live.as_ref());
        let actions = self.actions.list(id).await.map_err(|e| failed(&e))?;
        let services = self.incidents_services(&incident).await;
        // The viewer as the rules see them: their account's id, so that incident roles count.
        let viewer = match viewer {
            Some(user) => self.accounts.find_by_email(&user.email).await.ok().flatten().map(|account| {
                app::domain::incident_lifecycle::Actor::account(account.id, &account.email, account.role)
            }),
            None => None,
        };
        let policy = self.actions.policy();
        let evidence = match self.services.evidence_list(id).await {
            Ok(records) => records
                .into_iter()
                .map(|r| app::incidents::EvidenceLine {
                    id: r.id,
                    subject: r.subject,
                    captured_at: r.captured_at,
                    captured_by: r.captured_by,
                    sha256: r.sha256,
                    bytes: r.bytes,
                })
                .collect(),
            Err(error) => return Err(error.to_string()),
        };
        let guidance = match self.services.guidance(id).await {
            Ok(guidance) => guidance_views(guidance, &timeline, &actions),
            Err(error) => return Err(error.to_string()),
        };
        Ok(Some(IncidentRoom {
            incident: incident_view(&incident, &tiles, now),
            timeline: timeline.iter().rev().map(timeline_line).collect(),
            people,
            actions: actions
                .iter()
                .map(|a| action_view_for(a, &incident.state, viewer.as_ref(), policy))
                .collect(),
            pickers: pickers(&self.live_state, &services),
            form_key: crate::accounts::generate_secret(16),
            now,
            evidence,
            guidance,
        }))
    }

    fn component_choices(&self) -> Vec<ComponentChoice> {
        let mut choices: Vec<ComponentChoice> = self
            .live
            .all_components()
            .into_iter()
            // Thousands of healthy nodes would drown the list; a node is offered when it is in trouble.
            .filter(|(_, tile)| {
                tile.kind != ComponentKind::Node || tile.status != ComponentStatus::Operational
            })
            .map(|(group, tile)| ComponentChoice {
                key: tile.key,
                name: tile.name,
                group,
                status: tile.status,
            })
            .collect();
        choices.sort_by_key(|c| (c.key.kind() != ComponentKind::Service, c.group.clone(), c.name.clone()));
        choices
    }

    async fn users(&self) -> Result<Vec<app::incidents::UserRow>, String> {
        let users = self.accounts.list_all().await.map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "could not list accounts");
            "The accounts cannot be read right now.".to_owned()
        })?;
        Ok(users
            .into_iter()
            .map(|(user, disabled_at)| app::incidents::UserRow {
                email: user.email,
                role: user.role,
                disabled_at,
            })
            .collect())
    }

    async fn api_tokens(&self) -> Result<Vec<TokenRow>, String> {
        let tokens = self.tokens.list().await.map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "could not list API tokens");
            "The tokens cannot be read right now.".to_owned()
        })?;
        Ok(tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                name: t.name,
                role: t.role,
                created_at: t.created_at,
                created_by: t.created_by,
                revoked_at: t.revoked_at,
                last_used_at: t.last_used_at,
            })
            .collect())
    }

    async fn templates(&self) -> Result<Vec<TemplateRow>, String> {
        let templates = self.templates.list().await.map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "could not list templates");
            "The templates cannot be read right now.".to_owned()
        })?;
        Ok(templates
            .into_iter()
            .map(|t| TemplateRow {
                audience: t.audience,
                purpose: t.purpose,
                body: t.body,
                customised: t.customised,
            })
            .collect())
    }

    async fn playbooks(&self) -> Result<Vec<app::incidents::PlaybookRow>, String> {
        let entries = self.services.playbook_list().await.map_err(|error| error.to_string())?;
        Ok(entries
            .into_iter()
            .map(|e| app::incidents::PlaybookRow {
                id: e.playbook.id,
                title: e.playbook.title,
                source: e.source,
                shipped: e.shipped,
                customised: e.customised,
                enabled: e.playbook.enabled,
                updated_by: e.updated_by,
            })
            .collect())
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRow>, String> {
        let failed = |error: &(dyn std::error::Error + 'static)| {
            tracing::error!(error, "could not list webhooks");
            "The webhooks cannot be read right now.".to_owned()
        };
        let hooks = self.webhooks.list().await.map_err(|e| failed(&e))?;
        let recent = self.webhooks.recent(200).await.map_err(|e| failed(&e))?;
        Ok(hooks
            .into_iter()
            .map(|hook| WebhookRow {
                id: hook.id,
                audience: hook.audience,
                format: hook.format.as_str().to_owned(),
                url: hook.url,
                secret: hook.secret,
                deliveries: recent
                    .iter()
                    .filter(|(_, d)| d.webhook_id == hook.id)
                    .take(20)
                    .map(|(incident, d)| {
                        let detail = match (&d.status_code, &d.error) {
                            (Some(code), _) => format!("HTTP {code}"),
                            (None, Some(error)) => error.clone(),
                            (None, None) => String::new(),
                        };
                        let about = match d.window_id {
                            Some(window) => {
                                format!("maintenance window {window}, planned action {}", d.event_id)
                            }
                            None => format!("incident {incident}, update {}", d.event_id),
                        };
                        format!("{about}, attempt {}: {} ({detail})", d.attempt, d.outcome)
                    })
                    .collect(),
            })
            .collect())
    }

    async fn review(
        &self,
        id: i64,
        viewer: Option<&app::incidents::SignedInUserRef>,
    ) -> Result<Option<app::reviews::ReviewPage>, String> {
        crate::review_pages::review_page(self, id, viewer).await
    }

    async fn insights(&self, from: &str, to: &str) -> Result<app::domain::insights::Insights, String> {
        let query = crate::services::insights::InsightsQuery { from: from.to_owned(), to: to.to_owned() };
        self.services.insights(&query).await.map_err(|error| error.to_string())
    }

    async fn subscribers(&self, search: &str) -> Result<(bool, Vec<app::incidents::SubscriberLine>), String> {
        crate::maintenance_pages::subscribers(self, search).await
    }

    async fn maintenance(&self) -> Result<app::maintenance::MaintenanceList, String> {
        crate::maintenance_pages::list(self).await
    }

    async fn maintenance_window(
        &self,
        id: i64,
        viewer: Option<String>,
    ) -> Result<Option<app::maintenance::WindowPage>, String> {
        crate::maintenance_pages::window(self, id, viewer).await
    }

    async fn my_follow_ups(
        &self,
        viewer: &app::incidents::SignedInUserRef,
    ) -> Result<app::reviews::FollowUpSummary, String> {
        crate::review_pages::my_follow_ups(self, viewer).await
    }

    async fn briefing(&self, only: Option<i64>) -> Result<Briefing, String> {
        let failed = |error: &(dyn std::error::Error + 'static)| {
            tracing::error!(error, "could not build the briefing");
            "The briefing cannot be read right now.".to_owned()
        };
        let now = crate::db::now_millis();
        // Three queries whatever the number of incidents: the ones to brief on,
        // their executive updates and decisions, and the last 30 days.
        let briefed = match only {
            Some(id) => self.incidents.get(id).await.map_err(|e| failed(&e))?.into_iter().collect(),
            None => {
                let filter = IncidentFilter { active: Some(true), ..IncidentFilter::default() };
                self.incidents.list(&filter).await.map_err(|e| failed(&e))?
            }
        };
        let ids: Vec<i64> = briefed.iter().map(|i| i.id).collect();
        let events =
            self.incidents.events_of_kinds(&ids, &["update_posted", "note"]).await.map_err(|e| failed(&e))?;
        let since =
            (now.div_euclid(app::domain::uptime::DAY_MS) - RECENT_DAYS + 1) * app::domain::uptime::DAY_MS;
        let filter = IncidentFilter { declared_since: Some(since), ..IncidentFilter::default() };
        let all = self.incidents.list(&filter).await.map_err(|e| failed(&e))?;
        let mut active = Vec::new();
        for incident in &briefed {
            let timeline: Vec<&TimelineEntry> =
                events.iter().filter(|e| e.incident_id == incident.id).collect();
            let impact = timeline.iter().rev().find_map(|entry| match &entry.event {
                TimelineEvent::UpdatePosted { audience: Audience::Executive, text, .. } => Some(text.clone()),
                _ => None,
            });
            let decisions = timeline
                .iter()
                .filter_map(|entry| match &entry.event {
                    TimelineEvent::Note { text, decision: true } => Some(text.clone()),
                    _ => None,
                })
                .collect();
            let state = &incident.state;
            active.push(BriefingIncident {
                id: incident.id,
                title: incident.title.clone(),
                severity: state.severity,
                status: state.status,
                impact,
                declared_at: state.declared_at,
                commander: state.commander().map(|p| p.email.clone()),
                communications_lead: state
                    .holders(IncidentRole::CommunicationsLead)
                    .next()
                    .map(|p| p.email.clone()),
                next_update_due: state.next_update_due(),
                update_overdue: state.update_overdue(now),
                decisions,
            });
        }
        let (follow_ups, downtime) = crate::review_pages::briefing_extras(self, now).await?;
        Ok(Briefing { active, recent: recent(&all, now), now, follow_ups, downtime })
    }
}

/// Resolved incidents per page of `/incidents`.
pub const RESOLVED_PAGE: usize = 25;

/// The briefing's look back, in days.
const RECENT_DAYS: i64 = 30;

/// The last 30 days in numbers, from the incidents declared in them.
fn recent(all: &[Incident], now: i64) -> Recent {
    const DAYS: i64 = RECENT_DAYS;
    let day = app::domain::uptime::DAY_MS;
    let first_day = now.div_euclid(day) - DAYS + 1;
    let window: Vec<&Incident> =
        all.iter().filter(|i| i.state.declared_at.div_euclid(day) >= first_day).collect();
    let mean =
        |values: Vec<i64>| (!values.is_empty()).then(|| values.iter().sum::<i64>() / values.len() as i64);
    let mut per_day = vec![0; DAYS as usize];
    for incident in &window {
        let index = (incident.state.declared_at.div_euclid(day) - first_day) as usize;
        if let Some(count) = per_day.get_mut(index) {
            *count += 1;
        }
    }
    Recent {
        by_severity: Severity::ALL
            .into_iter()
            .map(|s| (s, window.iter().filter(|i| i.state.severity == s).count()))
            .collect(),
        mean_to_acknowledge: mean(
            window.iter().filter_map(|i| i.state.acknowledged_at.map(|a| a - i.state.declared_at)).collect(),
        ),
        mean_to_resolve: mean(
            window.iter().filter_map(|i| i.state.resolved_at.map(|r| r - i.state.declared_at)).collect(),
        ),
        per_day,
    }
}
