//! Which incidents a list holds and where a page of it starts: the filter, and
//! the cursors written into API links and page URLs.

use super::Incident;
use domain::incident::{PublicStatus, Severity};

/// Which incidents to list.
#[derive(Clone, Debug, Default)]
pub struct IncidentFilter {
    pub severity: Option<Severity>,
    pub status: Option<PublicStatus>,
    /// `Some(true)`: unresolved only; `Some(false)`: resolved only.
    pub active: Option<bool>,
    /// Only incidents after this one in the list's order (the next page).
    pub after: Option<IncidentCursor>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Only incidents declared at or after this time.
    pub declared_since: Option<i64>,
    /// Only incidents with at least one public update (what the status page shows).
    pub public_only: bool,
}

/// A place in the incident list's order (severity, then declaration time,
/// then id), written into API links as `SEV2.1700000000000.15`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncidentCursor {
    pub severity: Severity,
    pub declared_at: i64,
    pub id: i64,
}

impl IncidentCursor {
    /// The cursor that continues after `incident`.
    pub fn after(incident: &Incident) -> IncidentCursor {
        IncidentCursor {
            severity: incident.state.severity,
            declared_at: incident.state.declared_at,
            id: incident.id,
        }
    }

    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.severity.as_str(), self.declared_at, self.id)
    }

    pub fn parse(raw: &str) -> Option<IncidentCursor> {
        let mut parts = raw.trim().splitn(3, '.');
        let severity = Severity::parse(parts.next()?).ok()?;
        let declared_at = parts.next()?.parse().ok()?;
        let id = parts.next()?.parse().ok()?;
        Some(IncidentCursor { severity, declared_at, id })
    }
}

/// A place in the resolved list's order (latest resolved first), written into
/// the incidents page's URL as `1700000000000.15`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedCursor {
    pub resolved_at: i64,
    pub id: i64,
}

impl ResolvedCursor {
    /// The cursor that continues after `incident`, if it is resolved.
    pub fn after(incident: &Incident) -> Option<ResolvedCursor> {
        Some(ResolvedCursor { resolved_at: incident.state.resolved_at?, id: incident.id })
    }

    pub fn encode(&self) -> String {
        format!("{}.{}", self.resolved_at, self.id)
    }

    pub fn parse(raw: &str) -> Option<ResolvedCursor> {
        let (at, id) = raw.trim().split_once('.')?;
        Some(ResolvedCursor { resolved_at: at.parse().ok()?, id: id.parse().ok()? })
    }
}
