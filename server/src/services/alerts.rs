//! Alert use cases: take in an Alertmanager delivery, a generic alert or
//! Wheelhouse's own detections; route each new or re-firing alert (declare,
//! attach, inbox, keep); and the inbox's acknowledge, silence and attach, the
//! alert list, and the routing policy.

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::alerts::{AlertFilter, AlertRecord, GroupInfo, Incoming, Observed, PolicyRules};
use crate::db::DbError;
use domain::action::WorkloadKind;
use domain::alert::{
    AlertFacts, AlertInput, AlertSeverity, AlertSource, AlertStatus, Change, ClusterLookup, Route,
    RoutedAlert, RoutingRule, RuleForm, component_for, declaration_from, route,
};
use domain::component::{ComponentKey, ServiceComponent, Visibility};
use domain::incident::{Declaration, Severity};
use domain::incident_lifecycle::{Actor, AlertNotice, Command};
use domain::role::Role;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The only Alertmanager webhook payload version this reads.
pub const ALERTMANAGER_VERSION: &str = "4";

/// Alertmanager's webhook payload, version 4.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerPayload {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u32,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    #[serde(default)]
    pub alerts: Vec<AlertmanagerAlert>,
}

/// One alert of an Alertmanager payload.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerAlert {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    #[serde(default)]
    pub fingerprint: String,
}

/// An alert in the generic shape, for monitors other than Alertmanager.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GenericAlert {
    #[serde(default)]
    pub title: String,
    /// `firing` (default) or `resolved`.
    #[serde(default)]
    pub status: Option<String>,
    /// `critical`, `warning` (default) or `info`.
    #[serde(default)]
    pub severity: Option<String>,
    /// Repeats with the same key update one alert; the title when absent.
    #[serde(default)]
    pub dedup_key: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source_url: Option<String>,
}

/// What an intake did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntakeReport {
    pub received: usize,
    /// Alerts seen for the first time.
    pub new: usize,
    pub resolved: usize,
    /// Incidents declared from these alerts.
    pub declared: Vec<i64>,
    /// Incidents these alerts were attached to.
    pub attached: Vec<i64>,
}

/// Most alerts in one delivery.
pub const MAX_ALERTS_PER_DELIVERY: usize = 1_000;

fn millis(field: &str, raw: Option<&str>) -> Result<Option<i64>, ServiceError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    let at = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        ServiceError::invalid(
            "alerts",
            format!("{field}: '{}' is not an RFC 3339 time.", raw.chars().take(40).collect::<String>()),
        )
    })?;
    Ok(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok())
}

fn checked(input: AlertInput, place: &str) -> ServiceResult<AlertInput> {
    input.check(place).map_err(|error| ServiceError::invalid("alerts", error.to_string()))?;
    Ok(input)
}

impl AlertmanagerPayload {
    /// The payload's alerts as domain inputs, or the first field at fault.
    pub fn inputs(&self) -> ServiceResult<Vec<AlertInput>> {
        if self.version.trim() != ALERTMANAGER_VERSION {
            return Err(ServiceError::invalid(
                "version",
                format!(
                    "Alertmanager payload version '{}' is not supported; Wheelhouse reads version {ALERTMANAGER_VERSION}.",
                    self.version.chars().take(20).collect::<String>()
                ),
            ));
        }
        if self.alerts.len() > MAX_ALERTS_PER_DELIVERY {
            return Err(ServiceError::invalid(
                "alerts",
                format!("At most {MAX_ALERTS_PER_DELIVERY} alerts in one delivery (set max_alerts)."),
            ));
        }
        self.alerts
            .iter()
            .enumerate()
            .map(|(i, alert)| {
                let place = format!("alerts[{i}]");
                let status = AlertStatus::parse(&alert.status)
                    .map_err(|e| ServiceError::invalid("alerts", format!("{place}.status: {e}")))?;
                let input = AlertInput {
                    key: alert.fingerprint.clone(),
                    status,
                    name: alert.labels.get("alertname").cloned().unwrap_or_default(),
                    severity: AlertSeverity::from_label(alert.labels.get("severity").map(String::as_str)),
                    labels: alert.labels.clone(),
                    annotations: alert.annotations.clone(),
                    starts_at: millis(&format!("{place}.startsAt"), alert.starts_at.as_deref())?,
                    ends_at: millis(&format!("{place}.endsAt"), alert.ends_at.as_deref())?,
                    source_url: alert.generator_url.clone().filter(|u| !u.is_empty()),
                };
                checked(input, &place)
            })
            .collect()
    }

    fn group(&self) -> Option<GroupInfo> {
        (!self.group_key.is_empty()).then(|| GroupInfo {
            key: self.group_key.chars().take(1_000).collect(),
            receiver: self.receiver.chars().take(200).collect(),
            labels: self.group_labels.clone(),
            external_url: Some(self.external_url.clone()).filter(|u| !u.is_empty()),
            truncated_alerts: self.truncated_alerts,
        })
    }
}

impl GenericAlert {
    pub fn input(&self) -> ServiceResult<AlertInput> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err(ServiceError::invalid("title", "An alert needs a title."));
        }
        let status = match self.status.as_deref() {
            None => AlertStatus::Firing,
            Some(raw) => AlertStatus::parse(raw).map_err(ServiceError::from)?,
        };
        let severity = match self.severity.as_deref() {
            None => AlertSeverity::Warning,
            Some(raw) => AlertSeverity::parse(raw).map_err(ServiceError::from)?,
        };
        let mut annotations = BTreeMap::new();
        if let Some(description) = self.description.as_deref().filter(|d| !d.trim().is_empty()) {
            annotations.insert("description".to_owned(), description.to_owned());
        }
        let key = self.dedup_key.clone().filter(|k| !k.trim().is_empty()).unwrap_or_else(|| title.to_owned());
        let input = AlertInput {
            key,
            status,
            name: title.to_owned(),
            severity,
            labels: self.labels.clone(),
            annotations,
            starts_at: None,
            ends_at: None,
            source_url: self.source_url.clone().filter(|u| !u.trim().is_empty()),
        };
        input.check("alert").map_err(|error| ServiceError::invalid("alert", error.to_string()))?;
        Ok(input)
    }
}

fn unavailable(error: DbError) -> ServiceError {
    ServiceError::unavailable("Alerts cannot be read or stored right now. Try again shortly.", &error)
}

/// What Wheelhouse's own detection raises: the actor on timelines.
pub fn detector() -> Actor {
    Actor { person: None, role: Role::Alerts, name: "wheelhouse".to_owned() }
}

/// The cluster as the component mapping reads it.
pub trait ClusterDirectory: Send + Sync + 'static {
    fn workload_labels(
        &self,
        kind: WorkloadKind,
        namespace: &str,
        name: &str,
    ) -> Option<BTreeMap<String, String>>;
    /// The workload a pod belongs to, with its labels.
    fn pod_workload(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Option<(WorkloadKind, String, BTreeMap<String, String>)>;
    fn node_exists(&self, name: &str) -> bool;
    /// The workloads in `namespace` whose labels `selector` matches (a service component's).
    fn workloads_matching(
        &self,
        namespace: &str,
        selector: &domain::label_selector::LabelSelector,
    ) -> Vec<(WorkloadKind, String)>;
}

impl ClusterDirectory for crate::cluster::watch::Live {
    fn workload_labels(
        &self,
        kind: WorkloadKind,
        namespace: &str,
        name: &str,
    ) -> Option<BTreeMap<String, String>> {
        self.read().workload(kind, namespace, name).map(|w| w.labels.clone())
    }

    fn pod_workload(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Option<(WorkloadKind, String, BTreeMap<String, String>)> {
        self.read().workload_of_pod(namespace, pod).map(|w| (w.kind, w.name.clone(), w.labels.clone()))
    }

    fn node_exists(&self, name: &str) -> bool {
        self.read().nodes.contains_key(name)
    }

    fn workloads_matching(
        &self,
        namespace: &str,
        selector: &domain::label_selector::LabelSelector,
    ) -> Vec<(WorkloadKind, String)> {
        let mut found: Vec<(WorkloadKind, String)> =
            self.read().matching(namespace, selector).into_iter().map(|w| (w.kind, w.name.clone())).collect();
        found.sort();
        found
    }
}

/// The directory joined with the service components' selectors.
struct Lookup<'a> {
    directory: &'a dyn ClusterDirectory,
    services: &'a [ServiceComponent],
}

impl Lookup<'_> {
    fn matching(&self, namespace: &str, labels: &BTreeMap<String, String>) -> Option<ComponentKey> {
        self.services
            .iter()
            .find(|s| s.definition.namespace == namespace && s.definition.selector.matches(labels))
            .map(ServiceComponent::key)
    }
}

impl ClusterLookup for Lookup<'_> {
    fn workload_component(&self, namespace: &str, kind: WorkloadKind, name: &str) -> Option<ComponentKey> {
        let labels = self.directory.workload_labels(kind, namespace, name)?;
        self.matching(namespace, &labels)
    }

    fn pod_component(&self, namespace: &str, pod: &str) -> Option<ComponentKey> {
        let (_, _, labels) = self.directory.pod_workload(namespace, pod)?;
        self.matching(namespace, &labels)
    }

    fn node_exists(&self, name: &str) -> bool {
        self.directory.node_exists(name)
    }
}

/// Inbox input: include what the default view leaves out, and the page.
#[derive(Clone, Debug, Default)]
pub struct InboxInput {
    pub include_kept: bool,
    pub include_silenced: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The longest silence, in minutes (a week).
pub const MAX_SILENCE_MINUTES: u32 = 7 * 24 * 60;

impl Services {
    /// Takes in an Alertmanager delivery.
    #[tracing::instrument(skip_all, fields(principal = %principal.name(), alerts.count = payload.alerts.len()))]
    pub async fn receive_alertmanager(
        &self,
        principal: &Principal,
        payload: &AlertmanagerPayload,
    ) -> ServiceResult<IntakeReport> {
        let inputs = payload.inputs()?;
        let group = payload.group();
        if let Some(group) = group.as_ref().filter(|g| g.truncated_alerts > 0) {
            tracing::warn!(
                alerts.group = %group.key,
                alerts.truncated = group.truncated_alerts,
                "Alertmanager left alerts out of a delivery (max_alerts)"
            );
        }
        let batch = self.mapped(inputs).await?;
        self.ingest(&principal.actor(), AlertSource::Alertmanager, batch, group.as_ref()).await
    }

    /// Takes in one alert in the generic shape.
    pub async fn receive_generic(
        &self,
        principal: &Principal,
        alert: &GenericAlert,
    ) -> ServiceResult<IntakeReport> {
        let batch = self.mapped(vec![alert.input()?]).await?;
        self.ingest(&principal.actor(), AlertSource::Generic, batch, None).await
    }

    /// Takes in Wheelhouse's own detections, each for its component (see `alerts::detection`).
    pub async fn receive_detections(&self, batch: Vec<Incoming>) -> ServiceResult<IntakeReport> {
        self.ingest(&detector(), AlertSource::Wheelhouse, batch, None).await
    }

    /// The inputs with the components their labels map to.
    async fn mapped(&self, inputs: Vec<AlertInput>) -> ServiceResult<Vec<Incoming>> {
        let services = self.components.list().await.map_err(unavailable)?;
        let lookup = Lookup { directory: self.cluster.as_ref(), services: &services };
        Ok(inputs
            .into_iter()
            .map(|input| {
                let component = component_for(&input.name, &input.labels, &lookup);
                Incoming { input, component }
            })
            .collect())
    }

    async fn ingest(
        &self,
        actor: &Actor,
        source: AlertSource,
        batch: Vec<Incoming>,
        group: Option<&GroupInfo>,
    ) -> ServiceResult<IntakeReport> {
        // One delivery routes at a time, so two cannot both declare for one component.
        let _turn = self.alert_routing.lock().await;
        let now = self.clock.now_millis();
        let observed = self.alerts.observe(source, &batch, group, now).await.map_err(unavailable)?;
        let mut report = IntakeReport { received: batch.len(), ..IntakeReport::default() };
        if observed.iter().all(|item| item.change == Change::Repeated) {
            return Ok(report);
        }
        let tiles = self.tiles();
        let rules: Vec<RoutingRule> =
            self.alerts.rules().await.map_err(unavailable)?.rules.into_iter().map(|(_, rule)| rule).collect();
        for item in &observed {
            match item.change {
                Change::New => report.new += 1,
                Change::Resolved => report.resolved += 1,
                Change::Repeated | Change::Refired => {}
            }
            self.route_one(actor, item, &rules, &tiles, now, &mut report).await?;
        }
        report.declared.dedup();
        report.attached.sort_unstable();
        report.attached.dedup();
        Ok(report)
    }

    /// Names and visibility of the components known now.
    fn tiles(&self) -> HashMap<ComponentKey, (String, Visibility)> {
        self.live.all_components().into_iter().map(|(_, t)| (t.key, (t.name, t.visibility))).collect()
    }

    async fn route_one(
        &self,
        actor: &Actor,
        item: &Observed,
        rules: &[RoutingRule],
        tiles: &HashMap<ComponentKey, (String, Visibility)>,
        now: i64,
        report: &mut IntakeReport,
    ) -> ServiceResult<()> {
        let alert = &item.record;
        let flapping = item.before.is_some_and(|before| before.flapping_at(now));
        match item.change {
            Change::Repeated => return Ok(()),
            Change::Resolved => {
                if let Some(incident) = alert.incident_id.filter(|_| !flapping) {
                    self.record_alert(actor, incident, alert, true).await?;
                }
                return Ok(());
            }
            Change::New | Change::Refired => {}
        }
        if alert.silenced_at(now) {
            return Ok(());
        }
        if item.change == Change::Refired
            && let Some(incident) = alert.incident_id
            && self.under_way(incident).await?
        {
            if !flapping {
                self.record_alert(actor, incident, alert, false).await?;
            }
            report.attached.push(incident);
            return Ok(());
        }
        let public =
            alert.component.as_ref().and_then(|key| tiles.get(key)).map(|(_, v)| *v == Visibility::Public);
        let routed = RoutedAlert { name: &alert.name, severity: alert.severity, public_component: public };
        let context = self.alerts.route_context(alert.component.as_ref(), now).await.map_err(unavailable)?;
        let decision = route(&routed, rules, &context, self.alert_settings.storm);
        let incident = match decision {
            Route::Declare(severity) => {
                let id = self.declare_from_alerts(actor, &[alert], severity, tiles, now).await?;
                report.declared.push(id);
                Some(id)
            }
            Route::Attach(id) => {
                self.record_alert(actor, id, alert, false).await?;
                report.attached.push(id);
                Some(id)
            }
            Route::Inbox | Route::Keep => None,
        };
        self.alerts.set_route(alert.id, decision.as_str(), incident).await.map_err(unavailable)
    }

    async fn under_way(&self, incident: i64) -> ServiceResult<bool> {
        Ok(self.incidents.get(incident).await?.is_some_and(|i| !i.state.is_resolved()))
    }

    fn notice(alert: &AlertRecord) -> AlertNotice {
        AlertNotice {
            alert: alert.id,
            name: alert.name.clone(),
            severity: alert.severity,
            summary: domain::alert::summary_of(&alert.annotations).map(|s| s.chars().take(500).collect()),
            component: alert.component.as_ref().map(|c| c.as_str().to_owned()),
        }
    }

    async fn record_alert(
        &self,
        actor: &Actor,
        incident: i64,
        alert: &AlertRecord,
        resolved: bool,
    ) -> ServiceResult<()> {
        let command = Command::RecordAlert { alert: Self::notice(alert), resolved };
        let now = self.clock.now_millis();
        self.incidents.run(incident, actor, command, now).await?;
        Ok(())
    }

    /// Declares an incident from alerts, with no commander, and records them on it.
    async fn declare_from_alerts(
        &self,
        actor: &Actor,
        alerts: &[&AlertRecord],
        severity: Severity,
        tiles: &HashMap<ComponentKey, (String, Visibility)>,
        now: i64,
    ) -> ServiceResult<i64> {
        let facts: Vec<AlertFacts<'_>> = alerts.iter().map(|a| facts(a, tiles)).collect();
        let form = declaration_from(&facts, severity);
        let declaration = Declaration::parse(&form)?;
        let id = self.incidents.declare(actor, &declaration, None, now).await?;
        for alert in alerts {
            self.record_alert(actor, id, alert, false).await?;
        }
        tracing::info!(incident.id = id, alerts = alerts.len(), "incident declared from alerts");
        self.capture_on_declaration(id);
        Ok(id)
    }

    /// Attaches alerts named by a declaration to the incident it made.
    pub(super) async fn attach_declared(
        &self,
        principal: &Principal,
        incident: i64,
        ids: &[i64],
    ) -> ServiceResult<()> {
        let alerts = self.alerts.get_many(ids).await.map_err(unavailable)?;
        for alert in &alerts {
            self.record_alert(&principal.actor(), incident, alert, false).await?;
            self.alerts.set_route(alert.id, "attached", Some(incident)).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// The prefilled declaration for one alert, or for every alert of its group.
    pub async fn declaration_for_alerts(
        &self,
        ids: &[i64],
    ) -> ServiceResult<domain::incident::DeclarationForm> {
        let alerts = self.alerts.get_many(ids).await.map_err(unavailable)?;
        if alerts.is_empty() {
            return Err(ServiceError::NotFound("There is no such alert.".to_owned()));
        }
        let tiles = self.tiles();
        let facts: Vec<AlertFacts<'_>> = alerts.iter().map(|a| facts(a, &tiles)).collect();
        let worst = alerts.iter().map(|a| a.severity).min().unwrap_or(AlertSeverity::Warning);
        let mut form = declaration_from(&facts, domain::alert::suggested_severity(worst));
        form.alerts = alerts.iter().map(|a| a.id.to_string()).collect::<Vec<_>>().join(",");
        Ok(form)
    }

    /// One alert, or not found.
    pub async fn alert(&self, id: i64) -> ServiceResult<AlertRecord> {
        self.alerts
            .get(id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ServiceError::NotFound(format!("There is no alert {id}.")))
    }

    /// The inbox: firing and recently resolved alerts, newest first, a page at a time.
    pub async fn inbox(&self, input: &InboxInput) -> ServiceResult<super::incidents::Page<AlertRecord>> {
        let limit = match input.limit.unwrap_or(super::incidents::DEFAULT_PAGE) {
            limit @ 1..=super::incidents::LARGEST_PAGE => limit as usize,
            _ => {
                return Err(ServiceError::invalid(
                    "limit",
                    format!("limit is 1 to {}.", super::incidents::LARGEST_PAGE),
                ));
            }
        };
        let before = match input.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
                ServiceError::invalid(
                    "cursor",
                    "The cursor is not one this list answered; start from the first page.",
                )
            })?),
            None => None,
        };
        let filter = AlertFilter {
            include_kept: input.include_kept,
            include_silenced: input.include_silenced,
            before,
            limit: limit + 1,
        };
        let mut items = self.alerts.inbox(&filter, self.clock.now_millis()).await.map_err(unavailable)?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(|a| a.id.to_string()) } else { None };
        Ok(super::incidents::Page { items, next })
    }

    /// The groups the alerts came in.
    pub async fn alert_groups(
        &self,
        alerts: &[AlertRecord],
    ) -> ServiceResult<Vec<crate::alerts::AlertGroup>> {
        let mut keys: Vec<&str> = alerts.iter().filter_map(|a| a.group_key.as_deref()).collect();
        keys.sort_unstable();
        keys.dedup();
        self.alerts.groups(&keys).await.map_err(unavailable)
    }

    /// A responder acknowledges an alert: someone is looking at it.
    pub async fn acknowledge_alert(&self, principal: &Principal, id: i64) -> ServiceResult<AlertRecord> {
        responder(principal)?;
        self.alert(id).await?;
        let acknowledged = self
            .alerts
            .acknowledge(id, &principal.name(), self.clock.now_millis())
            .await
            .map_err(unavailable)?;
        if !acknowledged {
            return Err(ServiceError::Conflict("The alert is already acknowledged.".to_owned()));
        }
        self.alert(id).await
    }

    /// Silences an alert inside Wheelhouse for `minutes`, with a reason: it
    /// leaves the inbox's default view and opens or joins no incident meanwhile.
    pub async fn silence_alert(
        &self,
        principal: &Principal,
        id: i64,
        minutes: &str,
        reason: &str,
    ) -> ServiceResult<AlertRecord> {
        responder(principal)?;
        let minutes: u32 = minutes
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=MAX_SILENCE_MINUTES).contains(m))
            .ok_or_else(|| {
                ServiceError::invalid("minutes", format!("Silence for 1 to {MAX_SILENCE_MINUTES} minutes."))
            })?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ServiceError::invalid("reason", "Say why, in at most 500 characters."));
        }
        self.alert(id).await?;
        let until = self.clock.now_millis() + i64::from(minutes) * 60_000;
        self.alerts.silence(id, until, &principal.name(), reason).await.map_err(unavailable)?;
        self.alert(id).await
    }

    /// Attaches an alert to an incident under way (recorded on its timeline).
    pub async fn attach_alert(
        &self,
        principal: &Principal,
        id: i64,
        incident: &str,
    ) -> ServiceResult<AlertRecord> {
        responder(principal)?;
        let incident: i64 = incident
            .trim()
            .trim_start_matches('#')
            .parse()
            .map_err(|_| ServiceError::invalid("incident", "Choose an incident under way."))?;
        let alert = self.alert(id).await?;
        if alert.incident_id == Some(incident) {
            return Err(ServiceError::Conflict(format!(
                "The alert is already attached to incident {incident}."
            )));
        }
        self.incident(incident).await?;
        self.record_alert(&principal.actor(), incident, &alert, false).await?;
        self.alerts.set_route(id, "attached", Some(incident)).await.map_err(unavailable)?;
        self.alert(id).await
    }

    /// The routing policy in force.
    pub async fn alert_rules(&self) -> ServiceResult<PolicyRules> {
        self.alerts.rules().await.map_err(unavailable)
    }

    /// Adds a rule at the end of the policy (the first match wins).
    pub async fn add_alert_rule(&self, principal: &Principal, form: &RuleForm) -> ServiceResult<()> {
        let rule = RoutingRule::parse(form)?;
        let mut rules: Vec<RoutingRule> =
            self.alert_rules().await?.rules.into_iter().map(|(_, r)| r).collect();
        if rules.len() >= 100 {
            return Err(ServiceError::invalid("outcome", "A policy has at most 100 rules."));
        }
        let position = form.position.trim();
        let at = if position.is_empty() {
            rules.len()
        } else {
            position
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=rules.len() + 1).contains(p))
                .map(|p| p - 1)
                .ok_or_else(|| {
                    ServiceError::invalid("position", format!("A position is 1 to {}.", rules.len() + 1))
                })?
        };
        rules.insert(at, rule);
        self.alerts.save_rules(&rules, &principal.name(), self.clock.now_millis()).await.map_err(unavailable)
    }

    /// Removes the rule with `id` (as listed) from the policy.
    pub async fn delete_alert_rule(&self, principal: &Principal, id: i64) -> ServiceResult<()> {
        let rules = self.alert_rules().await?.rules;
        if !rules.iter().any(|(rule_id, _)| *rule_id == id) {
            return Err(ServiceError::NotFound(
                "There is no such rule (the policy may have changed).".to_owned(),
            ));
        }
        let kept: Vec<RoutingRule> =
            rules.into_iter().filter(|(rule_id, _)| *rule_id != id).map(|(_, r)| r).collect();
        self.alerts.save_rules(&kept, &principal.name(), self.clock.now_millis()).await.map_err(unavailable)
    }

    /// Goes back to the shipped policy.
    pub async fn reset_alert_rules(&self) -> ServiceResult<()> {
        self.alerts.reset_rules().await.map_err(unavailable)
    }
}

fn responder(principal: &Principal) -> ServiceResult<()> {
    if principal.role().satisfies(Role::Responder) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("Only responders and admins handle alerts.".to_owned()))
    }
}

fn facts<'a>(
    alert: &'a AlertRecord,
    tiles: &'a HashMap<ComponentKey, (String, Visibility)>,
) -> AlertFacts<'a> {
    let component = alert
        .component
        .as_ref()
        .map(|key| (key, tiles.get(key).map_or(key.as_str(), |(name, _)| name.as_str())));
    AlertFacts {
        name: &alert.name,
        severity: alert.severity,
        annotations: &alert.annotations,
        labels: &alert.labels,
        component,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> AlertmanagerPayload {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_alertmanager_payload_reads_into_inputs_with_times_and_severity() {
        let body = payload(
            r#"{"version":"4","groupKey":"{}:{alertname=\"KubePodCrashLooping\"}","truncatedAlerts":0,
            "status":"firing","receiver":"wheelhouse","groupLabels":{"alertname":"KubePodCrashLooping"},
            "commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093",
            "alerts":[{"status":"firing","labels":{"alertname":"KubePodCrashLooping","severity":"critical",
            "namespace":"shop","pod":"checkout-1"},"annotations":{"summary":"crash"},
            "startsAt":"2026-11-30T10:00:00.5Z","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":"http://prom/graph","fingerprint":"a1b2"}]}"#,
        );
        let inputs = body.inputs().unwrap();
        assert_eq!(inputs.len(), 1);
        let alert = &inputs[0];
        assert_eq!((alert.key.as_str(), alert.name.as_str()), ("a1b2", "KubePodCrashLooping"));
        assert_eq!(alert.severity, AlertSeverity::Critical);
        assert_eq!(alert.starts_at, Some(1_796_032_800_500));
        assert_eq!(alert.effective_status(1_796_032_900_000), AlertStatus::Firing, "year 1 is no end");
        assert_eq!(body.group().unwrap().receiver, "wheelhouse");
    }

    #[test]
    fn another_version_or_a_bad_time_is_refused_naming_it() {
        let error = payload(r#"{"version":"3","alerts":[]}"#).inputs().unwrap_err();
        assert_eq!(error.field(), Some("version"));
        assert!(error.to_string().contains("'3'"), "{error}");
        let error = payload(
            r#"{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"yesterday","fingerprint":"f"}]}"#,
        )
        .inputs()
        .unwrap_err();
        assert!(error.to_string().contains("alerts[0].startsAt"), "{error}");
        let error = payload(r#"{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"X"}}]}"#)
            .inputs()
            .unwrap_err();
        assert!(error.to_string().contains("alerts[0].fingerprint"), "{error}");
    }

    #[test]
    fn a_generic_alert_dedups_on_its_key_or_title_and_refuses_unknown_words() {
        let alert = GenericAlert { title: "Disk full on db-1".into(), ..GenericAlert::default() };
        let input = alert.input().unwrap();
        assert_eq!(
            (input.key.as_str(), input.severity, input.status),
            ("Disk full on db-1", AlertSeverity::Warning, AlertStatus::Firing)
        );
        let bad = GenericAlert { severity: Some("urgent".into()), ..alert.clone() };
        assert_eq!(bad.input().unwrap_err().field(), Some("severity"));
        let bad = GenericAlert { status: Some("gone".into()), ..alert };
        assert_eq!(bad.input().unwrap_err().field(), Some("status"));
        assert_eq!(GenericAlert::default().input().unwrap_err().field(), Some("title"));
    }
}
