//! Account roles and their ordering: each role may do everything the roles below it may.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What an account may do in Wheelhouse. Ordered from least to most privileged,
/// so `role >= Role::Responder` reads as "responder or higher".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A monitoring system's token (Alertmanager, a script): may post alerts
    /// and nothing else. Tokens only; no account holds it.
    Alerts,
    /// Executives and stakeholders: the briefing, read-only.
    Viewer,
    /// On-call engineers and SREs: dashboard, incidents, cluster.
    Responder,
    /// Manages users, components, templates and playbooks.
    Admin,
}

impl Role {
    /// Every role an account may hold, least privileged first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Responder, Role::Admin];
    /// Every role an API token may hold: the account roles and `alerts`.
    pub const TOKEN_ROLES: [Role; 4] = [Role::Alerts, Role::Viewer, Role::Responder, Role::Admin];

    /// The name used in the database, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Alerts => "alerts",
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Admin => "admin",
        }
    }

    /// Whether a caller with this role may do what `required` may. Each role
    /// may do everything the roles below it may, with one exception: posting
    /// alerts (`alerts`) is for alert tokens, responders and admins, not viewers,
    /// who change nothing.
    pub fn satisfies(self, required: Role) -> bool {
        match required {
            Role::Alerts => self != Role::Viewer,
            _ => self >= required,
        }
    }

    /// Reads a role an account may hold (not `alerts`, which is for tokens).
    pub fn parse_for_account(raw: &str) -> Result<Role, UnknownRole> {
        match raw.parse::<Role>() {
            Ok(Role::Alerts) | Err(_) => Err(UnknownRole(raw.to_owned())),
            Ok(role) => Ok(role),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of `admin`, `responder`, `viewer` (or `alerts`, for tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}': expected one of admin, responder, viewer (and alerts, for API tokens)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::TOKEN_ROLES
            .into_iter()
            .find(|role| role.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_satisfies_every_role() {
        for role in Role::ALL {
            assert!(Role::Admin.satisfies(role));
        }
    }

    #[test]
    fn viewer_satisfies_only_viewer() {
        assert!(Role::Viewer.satisfies(Role::Viewer));
        assert!(!Role::Viewer.satisfies(Role::Responder));
        assert!(!Role::Viewer.satisfies(Role::Admin));
    }

    #[test]
    fn responder_is_not_admin() {
        assert!(Role::Responder.satisfies(Role::Viewer));
        assert!(!Role::Responder.satisfies(Role::Admin));
    }

    #[test]
    fn alerts_may_post_alerts_only_and_viewers_may_not_post_them() {
        assert!(Role::Alerts.satisfies(Role::Alerts));
        for role in Role::ALL {
            assert!(!Role::Alerts.satisfies(role), "an alert token is not a {role}");
        }
        assert!(!Role::Viewer.satisfies(Role::Alerts));
        assert!(Role::Responder.satisfies(Role::Alerts));
        assert!(Role::Admin.satisfies(Role::Alerts));
    }

    #[test]
    fn accounts_cannot_hold_the_alerts_role() {
        assert!(Role::parse_for_account("alerts").is_err());
        assert_eq!(Role::parse_for_account("Responder"), Ok(Role::Responder));
    }

    #[test]
    fn roles_parse_from_their_names_in_any_case() {
        for role in Role::TOKEN_ROLES {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.as_str().to_uppercase().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn an_unknown_role_is_refused_with_the_expected_names() {
        let err = "owner".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("admin, responder, viewer"));
    }
}
