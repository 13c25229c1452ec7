//! Who is asking: a signed-in account (session cookie) or an API token
//! (`Authorization: Bearer whk_…`, on `/api/` paths). [`authorise`] is the one
//! check every mutating route, API route and server function makes.

use super::api::api_error;
use super::render::plain_error;
use crate::accounts::User;
use crate::tokens::ApiToken;
use app::domain::access::{Denial as Denied, authorise_role};
use app::domain::incident_lifecycle::Actor;
use app::domain::role::Role;
use axum::response::Response;
use http::{Extensions, HeaderMap, StatusCode, header};

/// The caller of a request, attached by the page-context middleware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Account(User),
    Token(ApiToken),
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Account(user) => user.role,
            Principal::Token(token) => token.role,
        }
    }

    /// The caller as the incident rules and the timeline see it.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Account(user) => Actor::account(user.id, &user.email, user.role),
            Principal::Token(token) => Actor::token(&token.name, token.role),
        }
    }

    /// A name for logs and for "created by" columns.
    pub fn name(&self) -> String {
        self.actor().name
    }
}

/// As HTTP responses.
pub trait DenialResponse {
    fn json(self) -> Response;
    fn page(self) -> Response;
}

impl DenialResponse for Denied {
    /// As a JSON API error.
    fn json(self) -> Response {
        match self {
            Denied::Unauthenticated => api_error(
                StatusCode::UNAUTHORIZED,
                "Sign in, or send an API token as 'Authorization: Bearer …'.",
                None,
            ),
            Denied::Forbidden { required } => {
                api_error(StatusCode::FORBIDDEN, &format!("This needs the role {required} or higher."), None)
            }
        }
    }

    /// As a plain page for a form post.
    fn page(self) -> Response {
        match self {
            Denied::Unauthenticated => plain_error(StatusCode::UNAUTHORIZED, "Sign in first."),
            Denied::Forbidden { required } => {
                plain_error(StatusCode::FORBIDDEN, &format!("This needs the role {required} or higher."))
            }
        }
    }
}

/// The one authorisation check: the caller, if they hold at least `required`.
pub fn authorise(extensions: &Extensions, required: Role) -> Result<Principal, Denied> {
    let principal = extensions.get::<Principal>();
    authorise_role(principal.map(Principal::role), required)?;
    principal.cloned().ok_or(Denied::Unauthenticated)
}

/// The bearer token in `headers`, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(principal: Option<Principal>) -> Extensions {
        let mut extensions = Extensions::new();
        if let Some(principal) = principal {
            extensions.insert(principal);
        }
        extensions
    }

    fn account(role: Role) -> Principal {
        Principal::Account(User { id: 1, email: "a@example.com".into(), role })
    }

    #[test]
    fn nobody_is_unauthenticated_and_a_low_role_is_forbidden() {
        assert_eq!(authorise(&with(None), Role::Viewer), Err(Denied::Unauthenticated));
        assert_eq!(
            authorise(&with(Some(account(Role::Viewer))), Role::Responder),
            Err(Denied::Forbidden { required: Role::Responder })
        );
        assert!(authorise(&with(Some(account(Role::Admin))), Role::Responder).is_ok());
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_scheme_case() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer whk_x".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("whk_x"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
