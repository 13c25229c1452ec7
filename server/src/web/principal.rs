//! Who is asking: a signed-in account (session cookie) or an API token
//! (`Authorization: Bearer whk_…`, on `/api/` paths). [`authorise`] is the one
//! check every mutating route, API route and server function makes.

use super::error::api_error;
use super::render::plain_error;
use app::domain::access::{Denial as Denied, authorise_role};
use app::domain::role::Role;
use axum::response::Response;
use http::{Extensions, HeaderMap, StatusCode, header};

pub use crate::services::Principal;

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
    use crate::accounts::User;

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
