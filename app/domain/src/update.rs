//! Stakeholder updates: who they are for (audience), what moment they mark
//! (purpose), and the fixed set of variables a template may use — with the
//! ones a public template may not, so that responder names and internal notes
//! cannot reach the status page.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The status page: plain language, no internal names.
    Public,
    /// Responders and the rest of engineering.
    Internal,
    /// Impact, decisions and the next update time.
    Executive,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Public, Audience::Internal, Audience::Executive];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Internal => "internal",
            Audience::Executive => "executive",
        }
    }

    pub fn parse(raw: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.as_str() == raw.trim().to_ascii_lowercase())
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    SeverityChange,
    Maintenance,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::Investigating,
        Purpose::Identified,
        Purpose::Monitoring,
        Purpose::Resolved,
        Purpose::SeverityChange,
        Purpose::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Investigating => "investigating",
            Purpose::Identified => "identified",
            Purpose::Monitoring => "monitoring",
            Purpose::Resolved => "resolved",
            Purpose::SeverityChange => "severity_change",
            Purpose::Maintenance => "maintenance",
        }
    }

    pub fn parse(raw: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == raw.trim().to_ascii_lowercase())
    }

    pub fn label(self) -> &'static str {
        match self {
            Purpose::Investigating => "Investigating",
            Purpose::Identified => "Identified",
            Purpose::Monitoring => "Monitoring",
            Purpose::Resolved => "Resolved",
            Purpose::SeverityChange => "Severity change",
            Purpose::Maintenance => "Maintenance",
        }
    }

    /// The public status a public update of this purpose moves the incident to, if any.
    pub fn public_status(self) -> Option<super::incident::PublicStatus> {
        use super::incident::PublicStatus;
        match self {
            Purpose::Investigating => Some(PublicStatus::Investigating),
            Purpose::Identified => Some(PublicStatus::Identified),
            Purpose::Monitoring => Some(PublicStatus::Monitoring),
            Purpose::Resolved => Some(PublicStatus::Resolved),
            Purpose::SeverityChange | Purpose::Maintenance => None,
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A template variable: its name, what it holds, and whether public templates may use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub description: &'static str,
    pub public: bool,
}

const fn var(name: &'static str, description: &'static str, public: bool) -> Variable {
    Variable { name, description, public }
}

/// Every variable a template may use. Nothing else is defined when a template renders.
pub const VARIABLES: &[Variable] = &[
    var("title", "The incident's title", true),
    var("severity", "SEV1 to SEV4", false),
    var("severity_definition", "What the severity means, in words", false),
    var("status", "investigating, identified, monitoring or resolved", true),
    var("phase", "identification, containment, eradication, recovery or post_incident", false),
    var("affected_components", "Names of the affected public components (list)", true),
    var("all_affected_components", "Names of every affected component, internal ones too (list)", false),
    var("impact", "The impact, as written for this update", true),
    var("workaround", "A workaround, if any, as written for this update", true),
    var("next_update_at", "When the next update is due, as HH:MM UTC (empty when none is due)", true),
    var("started_at", "When the incident was declared, as HH:MM UTC", true),
    var("duration", "How long the incident has lasted, e.g. 1 h 20 min", true),
    var("commander", "The incident commander's e-mail address", false),
    var("communications_lead", "The communications lead's e-mail address (empty when none)", false),
    var("summary", "The incident's internal summary", false),
    var("decisions", "Decisions recorded on the timeline (list)", false),
    var("incident_id", "The incident's number", false),
];

/// Whether `audience` may use the variable `name`; `None` when there is no such variable.
pub fn allowed(audience: Audience, name: &str) -> Option<bool> {
    VARIABLES.iter().find(|v| v.name == name).map(|v| v.public || audience != Audience::Public)
}

/// Checks the variables a template uses: each must exist and be allowed for its audience.
pub fn check_variables<'a>(
    audience: Audience,
    used: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let mut used: Vec<&str> = used.into_iter().collect();
    used.sort_unstable();
    for name in used {
        match allowed(audience, name) {
            None => {
                return Err(format!(
                    "unknown variable '{name}'; the variables are: {}",
                    VARIABLES.iter().map(|v| v.name).collect::<Vec<_>>().join(", ")
                ));
            }
            Some(false) => {
                return Err(format!("'{name}' is internal and cannot be used in a public template"));
            }
            Some(true) => {}
        }
    }
    Ok(())
}

/// Longest text a template may produce, or a person may publish.
pub const MAX_UPDATE_CHARS: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_templates_cannot_name_responders_or_internal_notes() {
        assert_eq!(allowed(Audience::Public, "commander"), Some(false));
        assert_eq!(allowed(Audience::Public, "summary"), Some(false));
        assert_eq!(allowed(Audience::Public, "affected_components"), Some(true));
        assert_eq!(allowed(Audience::Internal, "commander"), Some(true));
        assert_eq!(allowed(Audience::Executive, "nonsense"), None);
    }

    #[test]
    fn variable_checks_name_the_first_problem() {
        assert!(check_variables(Audience::Public, ["title", "impact"]).is_ok());
        assert!(check_variables(Audience::Public, ["commander"]).unwrap_err().contains("internal"));
        assert!(
            check_variables(Audience::Internal, ["titel"]).unwrap_err().contains("unknown variable 'titel'")
        );
    }

    #[test]
    fn names_round_trip_and_purposes_map_to_public_statuses() {
        for audience in Audience::ALL {
            assert_eq!(Audience::parse(audience.as_str()), Some(audience));
        }
        for purpose in Purpose::ALL {
            assert_eq!(Purpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(Purpose::Maintenance.public_status(), None);
    }
}
