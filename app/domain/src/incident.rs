//! The words of an incident: severity (with its written definition and update
//! cadence), category, public status, response phase, the roles people hold on
//! an incident, and the validated parts of a declaration.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Defines `as_str`, `ALL`, `Display` and parsing for a fieldless enum whose
/// stored and API name is given per variant.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name used in storage, forms and the API.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            /// Reads a name (any case, surrounding space ignored).
            pub fn parse(raw: &str) -> Result<$ty, $crate::incident::UnknownName> {
                let wanted = raw.trim().to_ascii_lowercase();
                $ty::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| $crate::incident::UnknownName {
                    what: $what,
                    given: raw.trim().chars().take(40).collect(),
                    expected: $ty::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                })
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

/// A name that is not one of the expected values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}': expected one of {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

/// How bad an incident is. `Sev1` is the worst; the derived order puts it first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
    #[serde(rename = "SEV4")]
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// Reads `SEV1`..`SEV4` (any case; `1`..`4` too).
    pub fn parse(raw: &str) -> Result<Severity, UnknownName> {
        let wanted = raw.trim().to_ascii_uppercase();
        let wanted = if wanted.len() == 1 { format!("SEV{wanted}") } else { wanted };
        Severity::ALL.into_iter().find(|s| s.as_str() == wanted).ok_or_else(|| UnknownName {
            what: "severity",
            given: raw.trim().chars().take(40).collect(),
            expected: "SEV1, SEV2, SEV3, SEV4".to_owned(),
        })
    }

    /// The written definition shown wherever a severity is chosen.
    pub fn definition(self) -> &'static str {
        match self {
            Severity::Sev1 => {
                "Critical: a customer-facing service is down, or data is at risk, for many customers. \
                 Everyone needed is paged now."
            }
            Severity::Sev2 => {
                "Major: an important function is down or badly degraded for some customers, \
                 with no workaround."
            }
            Severity::Sev3 => {
                "Minor: a partial degradation with a workaround, or an internal system is impaired."
            }
            Severity::Sev4 => "Low: little or no customer impact; handled in working hours.",
        }
    }

    /// How often stakeholders must hear from the incident, in milliseconds; `None` for no cadence.
    pub fn update_interval_ms(self) -> Option<i64> {
        const MINUTE: i64 = 60_000;
        match self {
            Severity::Sev1 => Some(30 * MINUTE),
            Severity::Sev2 => Some(60 * MINUTE),
            Severity::Sev3 => Some(240 * MINUTE),
            Severity::Sev4 => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of failure an incident is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ApplicationFailure,
    Misconfiguration,
    ResourceExhaustion,
    Networking,
    InfrastructureNode,
    Security,
    ExternalDependency,
}

named_enum!(Category, "category", {
    ApplicationFailure => "application_failure",
    Misconfiguration => "misconfiguration",
    ResourceExhaustion => "resource_exhaustion",
    Networking => "networking",
    InfrastructureNode => "infrastructure_node",
    Security => "security",
    ExternalDependency => "external_dependency",
});

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::ApplicationFailure => "Application failure",
            Category::Misconfiguration => "Misconfiguration",
            Category::ResourceExhaustion => "Resource exhaustion",
            Category::Networking => "Networking",
            Category::InfrastructureNode => "Infrastructure / node",
            Category::Security => "Security",
            Category::ExternalDependency => "External dependency",
        }
    }
}

/// What the business and customers are told, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

named_enum!(PublicStatus, "status", {
    Investigating => "investigating",
    Identified => "identified",
    Monitoring => "monitoring",
    Resolved => "resolved",
});

/// Where the response is, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Identification,
    Containment,
    Eradication,
    Recovery,
    PostIncident,
}

named_enum!(Phase, "phase", {
    Identification => "identification",
    Containment => "containment",
    Eradication => "eradication",
    Recovery => "recovery",
    PostIncident => "post_incident",
});

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Identification => "Identification",
            Phase::Containment => "Containment",
            Phase::Eradication => "Eradication",
            Phase::Recovery => "Recovery",
            Phase::PostIncident => "Post-incident",
        }
    }
}

/// A role a person holds on one incident (not to be confused with an account's [`super::role::Role`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentRole {
    IncidentCommander,
    CommunicationsLead,
    OperationsLead,
    Scribe,
    SubjectMatterExpert,
}

named_enum!(IncidentRole, "incident role", {
    IncidentCommander => "incident_commander",
    CommunicationsLead => "communications_lead",
    OperationsLead => "operations_lead",
    Scribe => "scribe",
    SubjectMatterExpert => "subject_matter_expert",
});

impl IncidentRole {
    pub fn label(self) -> &'static str {
        match self {
            IncidentRole::IncidentCommander => "Incident commander",
            IncidentRole::CommunicationsLead => "Communications lead",
            IncidentRole::OperationsLead => "Operations lead",
            IncidentRole::Scribe => "Scribe",
            IncidentRole::SubjectMatterExpert => "Subject matter expert",
        }
    }
}

/// A refused field of a form or API body: which field and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError { field, message: message.into() }
    }
}

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest summary or note, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Trims `raw` and checks it is present and not longer than `max` characters.
pub(crate) fn bounded_text(
    field: &'static str,
    label: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err(FieldError::new(field, format!("{label} is required.")));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(FieldError::new(
            field,
            format!("{label} is {chars} characters long; the limit is {max}."),
        ));
    }
    Ok(text.to_owned())
}

/// An incident's title: present, at most [`MAX_TITLE_CHARS`], one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentTitle(String);

impl IncidentTitle {
    pub fn parse(raw: &str) -> Result<IncidentTitle, FieldError> {
        let text = bounded_text("title", "A title", raw, MAX_TITLE_CHARS, true)?;
        if text.contains(['\n', '\r']) {
            return Err(FieldError::new("title", "A title is one line."));
        }
        Ok(IncidentTitle(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text (a summary or a note), at most [`MAX_TEXT_CHARS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub fn summary(raw: &str) -> Result<Text, FieldError> {
        bounded_text("summary", "The summary", raw, MAX_TEXT_CHARS, false).map(Text)
    }

    pub fn note(raw: &str) -> Result<Text, FieldError> {
        bounded_text("text", "A note", raw, MAX_TEXT_CHARS, true).map(Text)
    }

    /// A stakeholder update's text.
    pub fn update(raw: &str) -> Result<Text, FieldError> {
        bounded_text("text", "An update", raw, super::update::MAX_UPDATE_CHARS, true).map(Text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A declaration as typed into the form or sent to the API, before checking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclarationForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub category: String,
    /// Component keys (`service/3`, `node/worker-1`, `platform/etcd`).
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub summary: String,
    /// The commander's e-mail address; empty means the declarer.
    #[serde(default)]
    pub commander: String,
    /// Ids of alerts this declaration answers (comma-separated), attached to
    /// the new incident; empty for none.
    #[serde(default)]
    pub alerts: String,
}

/// The declaration a component's tile prefills: its name and status as the
/// title, a severity from the status, the category its reasons suggest, and
/// the reasons as the summary. One click declares it.
pub fn declaration_for_component(
    key: &crate::component::ComponentKey,
    name: &str,
    status: crate::health::ComponentStatus,
    reasons: &[(String, String)],
) -> DeclarationForm {
    use crate::health::ComponentStatus;
    let severity = match status {
        ComponentStatus::MajorOutage => Severity::Sev2,
        ComponentStatus::PartialOutage => Severity::Sev3,
        _ => Severity::Sev4,
    };
    let what = match status {
        ComponentStatus::Operational | ComponentStatus::UnderMaintenance => "trouble reported".to_owned(),
        other => other.label().to_lowercase(),
    };
    let details: Vec<&str> = reasons.iter().map(|(_, detail)| detail.as_str()).collect();
    let category = crate::alert::category_for(&details.join(" "), Some(key));
    let mut summary: String =
        reasons.iter().take(20).map(|(subject, detail)| format!("{subject}: {detail}\n")).collect();
    if reasons.len() > 20 {
        summary.push_str(&format!("and {} more\n", reasons.len() - 20));
    }
    let title: String = format!("{name}: {what}").chars().take(MAX_TITLE_CHARS).collect();
    DeclarationForm {
        title,
        severity: severity.as_str().to_owned(),
        category: category.as_str().to_owned(),
        components: vec![key.as_str().to_owned()],
        summary: summary.trim_end().chars().take(MAX_TEXT_CHARS).collect(),
        ..DeclarationForm::default()
    }
}

/// The neutral public title offered at the first public update: it names the
/// public components affected and nothing internal.
pub fn neutral_public_title(public_components: &[String]) -> String {
    let title = match public_components {
        [] => "Service disruption".to_owned(),
        names => format!("Service disruption: {}", names.join(", ")),
    };
    if title.chars().count() <= MAX_TITLE_CHARS {
        title
    } else {
        let mut cut: String = title.chars().take(MAX_TITLE_CHARS - 1).collect();
        cut.push('\u{2026}');
        cut
    }
}

/// A checked declaration. Whether the components and the commander exist is
/// for the store to check; this holds well-formed values only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    pub title: IncidentTitle,
    pub severity: Severity,
    pub category: Category,
    pub components: Vec<super::component::ComponentKey>,
    pub summary: Text,
    /// The commander named in the form; `None`: the declarer commands.
    pub commander: Option<super::account::Email>,
}

/// At most this many affected components on one incident.
pub const MAX_COMPONENTS: usize = 100;

impl Declaration {
    pub fn parse(form: &DeclarationForm) -> Result<Declaration, FieldError> {
        let title = IncidentTitle::parse(&form.title)?;
        let severity =
            Severity::parse(&form.severity).map_err(|e| FieldError::new("severity", e.to_string()))?;
        let category =
            Category::parse(&form.category).map_err(|e| FieldError::new("category", e.to_string()))?;
        if form.components.len() > MAX_COMPONENTS {
            return Err(FieldError::new("components", format!("At most {MAX_COMPONENTS} components.")));
        }
        let mut components = Vec::new();
        for raw in form.components.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            let key = super::component::ComponentKey::parse(raw).ok_or_else(|| {
                FieldError::new(
                    "components",
                    format!("'{}' is not a component.", raw.chars().take(80).collect::<String>()),
                )
            })?;
            if !components.contains(&key) {
                components.push(key);
            }
        }
        let summary = Text::summary(&form.summary)?;
        let commander = match form.commander.trim() {
            "" => None,
            raw => Some(
                super::account::Email::parse(raw)
                    .map_err(|error| FieldError::new("commander", format!("The commander: {error}.")))?,
            ),
        };
        Ok(Declaration { title, severity, category, components, summary, commander })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_prefills_a_declaration_that_reads_and_parses() {
        use crate::component::ComponentKey;
        use crate::health::ComponentStatus;
        let reasons = vec![("pod shop/checkout-x".to_owned(), "waiting: CrashLoopBackOff".to_owned())];
        let form = declaration_for_component(
            &ComponentKey::service(3),
            "Checkout",
            ComponentStatus::MajorOutage,
            &reasons,
        );
        assert_eq!(form.title, "Checkout: major outage");
        assert_eq!(form.severity, "SEV2");
        assert_eq!(form.components, ["service/3"]);
        assert_eq!(form.summary, "pod shop/checkout-x: waiting: CrashLoopBackOff");
        let declaration = Declaration::parse(&form).unwrap();
        assert_eq!(declaration.category, Category::ApplicationFailure);
        let node = declaration_for_component(
            &ComponentKey::node("worker-2"),
            "worker-2",
            ComponentStatus::PartialOutage,
            &[],
        );
        assert_eq!((node.severity.as_str(), node.category.as_str()), ("SEV3", "infrastructure_node"));
    }

    fn form() -> DeclarationForm {
        DeclarationForm {
            title: "  Checkout errors  ".into(),
            severity: "sev2".into(),
            category: "application_failure".into(),
            components: vec!["service/1".into(), "service/1".into(), "node/worker-1".into()],
            summary: "Payments fail at checkout.".into(),
            commander: String::new(),
            alerts: String::new(),
        }
    }

    #[test]
    fn a_good_declaration_is_trimmed_and_deduplicated() {
        let declaration = Declaration::parse(&form()).unwrap();
        assert_eq!(declaration.title.as_str(), "Checkout errors");
        assert_eq!(declaration.severity, Severity::Sev2);
        assert_eq!(declaration.components.len(), 2);
        assert_eq!(declaration.commander, None);
    }

    #[test]
    fn an_empty_title_is_refused_on_the_title_field() {
        let error = Declaration::parse(&DeclarationForm { title: "   ".into(), ..form() }).unwrap_err();
        assert_eq!(error.field, "title");
    }

    #[test]
    fn a_huge_title_is_refused_with_its_length() {
        let error =
            Declaration::parse(&DeclarationForm { title: "x".repeat(10_000_000), ..form() }).unwrap_err();
        assert_eq!(error.field, "title");
        assert!(error.message.contains("10000000 characters"), "{}", error.message);
    }

    #[test]
    fn an_unknown_severity_names_the_ones_there_are() {
        let error = Declaration::parse(&DeclarationForm { severity: "SEV9".into(), ..form() }).unwrap_err();
        assert_eq!(error.field, "severity");
        assert!(error.message.contains("SEV1, SEV2, SEV3, SEV4"));
    }

    #[test]
    fn a_component_key_of_no_known_kind_is_refused() {
        let error = Declaration::parse(&DeclarationForm { components: vec!["database/x".into()], ..form() })
            .unwrap_err();
        assert_eq!(error.field, "components");
    }

    #[test]
    fn severities_read_in_several_spellings_and_sort_worst_first() {
        assert_eq!(Severity::parse("1").unwrap(), Severity::Sev1);
        assert_eq!(Severity::parse(" sev3 ").unwrap(), Severity::Sev3);
        assert!(Severity::Sev1 < Severity::Sev4);
    }

    #[test]
    fn sev4_has_no_update_cadence_and_sev1_the_shortest() {
        assert_eq!(Severity::Sev4.update_interval_ms(), None);
        assert_eq!(Severity::Sev1.update_interval_ms(), Some(30 * 60_000));
    }

    #[test]
    fn names_round_trip() {
        for phase in Phase::ALL {
            assert_eq!(Phase::parse(phase.as_str()).unwrap(), *phase);
        }
        for role in IncidentRole::ALL {
            assert_eq!(IncidentRole::parse(role.as_str()).unwrap(), *role);
        }
        assert!(PublicStatus::parse("fixed").is_err());
    }
}
