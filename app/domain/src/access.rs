//! Which role each area of Wheelhouse needs, decided from the request path alone.
//! The server's middleware and the pages both ask [`access_for`], so the rule
//! lives in one place.

use super::role::Role;

/// A part of the product that appears in the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Dashboard,
    Incidents,
    Alerts,
    Cluster,
    Maintenance,
    StatusPage,
    Briefing,
    Insights,
    Admin,
}

impl Area {
    /// The navigation, in the order it is shown.
    pub const NAVIGATION: [Area; 9] = [
        Area::Dashboard,
        Area::Incidents,
        Area::Alerts,
        Area::Cluster,
        Area::Maintenance,
        Area::StatusPage,
        Area::Briefing,
        Area::Insights,
        Area::Admin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Area::Dashboard => "Dashboard",
            Area::Incidents => "Incidents",
            Area::Alerts => "Alerts",
            Area::Cluster => "Cluster",
            Area::Maintenance => "Maintenance",
            Area::StatusPage => "Status page",
            Area::Briefing => "Briefing",
            Area::Insights => "Insights",
            Area::Admin => "Admin",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Area::Dashboard => "/",
            Area::Incidents => "/incidents",
            Area::Alerts => "/alerts",
            Area::Cluster => "/cluster",
            Area::Maintenance => "/maintenance",
            Area::StatusPage => "/status",
            Area::Briefing => "/briefing",
            Area::Insights => "/insights",
            Area::Admin => "/admin",
        }
    }

    /// The least role that may open this area; `None` means anyone, signed in or not.
    pub fn required_role(self) -> Option<Role> {
        match self {
            Area::StatusPage => None,
            Area::Briefing | Area::Insights => Some(Role::Viewer),
            Area::Dashboard | Area::Incidents | Area::Alerts | Area::Cluster | Area::Maintenance => {
                Some(Role::Responder)
            }
            Area::Admin => Some(Role::Admin),
        }
    }

    /// Whether an account (or an anonymous visitor, `None`) sees this area in the navigation.
    pub fn visible_to(self, role: Option<Role>) -> bool {
        match (self.required_role(), role) {
            (None, _) => true,
            (Some(required), Some(role)) => role.satisfies(required),
            (Some(_), None) => false,
        }
    }
}

/// The outcome of asking whether a visitor may open a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// Nobody is signed in and the path needs an account: send them to sign in.
    SignInRequired,
    /// Signed in, but the role is too low: answer 403.
    Forbidden {
        required: Role,
    },
}

/// The least role a path needs, or `None` for public paths (the status page,
/// sign-in, setup, health and metrics endpoints, assets, and unknown paths, which
/// answer 404 to everyone). API routes authorise each call themselves.
pub fn required_role_for(path: &str) -> Option<Role> {
    let path = path.trim_end_matches('/');
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match first {
        "" => Area::Dashboard.required_role(),
        "incidents" if segments.len() == 3 && segments[2] == "briefing" => Area::Briefing.required_role(),
        // Reviews are for everyone who learns from incidents, executives included.
        "incidents" if segments.len() == 3 && matches!(segments[2], "review" | "review.md") => {
            Area::Insights.required_role()
        }
        "incidents" => Area::Incidents.required_role(),
        "alerts" => Area::Alerts.required_role(),
        "cluster" => Area::Cluster.required_role(),
        "maintenance" => Area::Maintenance.required_role(),
        "briefing" => Area::Briefing.required_role(),
        "insights" | "insights.csv" => Area::Insights.required_role(),
        "admin" => Area::Admin.required_role(),
        _ => None,
    }
}

/// Decides whether a visitor with `role` (`None` when signed out) may open `path`.
pub fn access_for(path: &str, role: Option<Role>) -> Access {
    match (required_role_for(path), role) {
        (None, _) => Access::Allowed,
        (Some(_), None) => Access::SignInRequired,
        (Some(required), Some(role)) if role.satisfies(required) => Access::Allowed,
        (Some(required), Some(_)) => Access::Forbidden { required },
    }
}

/// Why a caller may not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Nobody signed in and no valid API token.
    Unauthenticated,
    /// The caller's role is below `required`.
    Forbidden { required: Role },
}

/// The one authorisation rule every mutating route, API route and server
/// function applies: the caller (`None` when unknown) must hold at least `required`.
pub fn authorise_role(held: Option<Role>, required: Role) -> Result<Role, Denial> {
    match held {
        None => Err(Denial::Unauthenticated),
        Some(role) if role.satisfies(required) => Ok(role),
        Some(_) => Err(Denial::Forbidden { required }),
    }
}

/// Where to go after signing in: only a local path is accepted, so that a crafted
/// `next=` parameter cannot send a person to another site.
///
/// Browsers drop tabs and newlines from URLs and read `\` as `/`, so
/// `/<TAB>/evil.example` would become `//evil.example`, another site: a
/// path with any whitespace, control character or backslash is refused, as is
/// one that starts with two slashes.
pub fn safe_return_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            p
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_page_is_open_to_everyone() {
        assert_eq!(access_for("/status", None), Access::Allowed);
        assert_eq!(access_for("/status/feed.atom", None), Access::Allowed);
    }

    #[test]
    fn the_dashboard_asks_a_signed_out_visitor_to_sign_in() {
        assert_eq!(access_for("/", None), Access::SignInRequired);
        assert_eq!(access_for("/incidents/42", None), Access::SignInRequired);
    }

    #[test]
    fn a_viewer_may_open_the_briefing_but_not_the_dashboard() {
        assert_eq!(access_for("/briefing", Some(Role::Viewer)), Access::Allowed);
        assert_eq!(access_for("/incidents/7/briefing", Some(Role::Viewer)), Access::Allowed);
        assert_eq!(access_for("/", Some(Role::Viewer)), Access::Forbidden { required: Role::Responder });
        assert_eq!(
            access_for("/incidents/7", Some(Role::Viewer)),
            Access::Forbidden { required: Role::Responder }
        );
    }

    #[test]
    fn only_an_admin_may_open_admin_pages() {
        assert_eq!(access_for("/admin", Some(Role::Responder)), Access::Forbidden { required: Role::Admin });
        assert_eq!(
            access_for("/admin/users/", Some(Role::Responder)),
            Access::Forbidden { required: Role::Admin }
        );
        assert_eq!(access_for("/admin/users", Some(Role::Admin)), Access::Allowed);
    }

    #[test]
    fn reviews_are_read_by_viewers_while_the_room_needs_a_responder() {
        assert_eq!(access_for("/incidents/4/review", Some(Role::Viewer)), Access::Allowed);
        assert_eq!(access_for("/incidents/4/review.md", Some(Role::Viewer)), Access::Allowed);
        assert_eq!(
            access_for("/incidents/4", Some(Role::Viewer)),
            Access::Forbidden { required: Role::Responder }
        );
        assert_eq!(access_for("/insights", None), Access::SignInRequired);
    }

    #[test]
    fn paths_that_merely_start_like_an_area_are_not_that_area() {
        assert_eq!(required_role_for("/administrator"), None);
        assert_eq!(required_role_for("/clusterfoo"), None);
    }

    #[test]
    fn navigation_shows_each_role_only_what_it_may_open() {
        let visible = |role| {
            Area::NAVIGATION.into_iter().filter(|a| a.visible_to(role)).map(Area::label).collect::<Vec<_>>()
        };
        assert_eq!(visible(None), ["Status page"]);
        assert_eq!(visible(Some(Role::Viewer)), ["Status page", "Briefing", "Insights"]);
        assert_eq!(
            visible(Some(Role::Responder)),
            [
                "Dashboard",
                "Incidents",
                "Alerts",
                "Cluster",
                "Maintenance",
                "Status page",
                "Briefing",
                "Insights"
            ]
        );
        assert_eq!(visible(Some(Role::Admin)).len(), 9);
        assert_eq!(visible(Some(Role::Alerts)), ["Status page"], "an alert token opens no page");
    }

    #[test]
    fn navigation_paths_need_the_role_their_area_names() {
        for area in Area::NAVIGATION {
            assert_eq!(required_role_for(area.path()), area.required_role(), "{area:?}");
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_return_path(Some("/incidents")), "/incidents");
        assert_eq!(safe_return_path(Some("//evil.example")), "/");
        assert_eq!(safe_return_path(Some("https://evil.example")), "/");
        assert_eq!(safe_return_path(Some("/\\evil.example")), "/");
        assert_eq!(safe_return_path(Some("/\t/evil.example")), "/", "a tab the browser drops");
        assert_eq!(safe_return_path(Some("/\n/evil.example")), "/");
        assert_eq!(safe_return_path(Some("/ /evil.example")), "/");
        assert_eq!(safe_return_path(Some("/\u{0}/evil.example")), "/");
        assert_eq!(safe_return_path(Some("/incidents?severity=SEV1")), "/incidents?severity=SEV1");
        assert_eq!(safe_return_path(None), "/");
    }
}
