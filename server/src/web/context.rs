//! Per-request middleware: who is signed in (the [`PageContext`] pages read),
//! and whether they may open the path they asked for.

use super::AppState;
use super::error::api_error;
use super::principal::{Principal, bearer_token};
use super::render::plain_error;
use app::domain::access::{Access, access_for};
use app::page_context::{PageContext, SignedInUser};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode};
use tower_sessions::Session;

/// The session key that holds the signed-in account's id.
pub const USER_ID_KEY: &str = "user.id";
/// The session key that holds the session's anti-forgery token.
pub const CSRF_KEY: &str = "csrf";
/// The session key that holds when the session signed in (Unix milliseconds).
pub const SIGNED_IN_AT_KEY: &str = "user.signed_in_at";
/// However active, a session ends this long after signing in.
pub const SESSION_MAX_MS: i64 = 7 * 24 * 3600 * 1000;

/// The account a session names, while the session is still good: within its
/// absolute maximum, and not ended by a change to the account (disabled, a new
/// role, a reset password). A session that is no longer good is ended here.
async fn session_account(
    state: &AppState,
    session: &Session,
) -> Result<Option<crate::accounts::User>, Response> {
    let Ok(Some(id)) = session.get::<i64>(USER_ID_KEY).await else { return Ok(None) };
    let now = crate::db::now_millis();
    // Sessions from before this key existed count from now on.
    let signed_in_at = match session.get::<i64>(SIGNED_IN_AT_KEY).await {
        Ok(Some(at)) => at,
        _ => {
            let _ = session.insert(SIGNED_IN_AT_KEY, now).await;
            now
        }
    };
    let user = if now - signed_in_at > SESSION_MAX_MS {
        None
    } else {
        state.accounts.session_user(id, signed_in_at).await.map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "could not load the signed-in account");
            plain_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Wheelhouse cannot reach its database right now. Try again shortly.",
            )
        })?
    };
    if user.is_none() {
        tracing::info!(user.id = id, "session ended: expired, or the account changed");
        let _ = session.flush().await;
    }
    Ok(user)
}

/// The signed-in session's anti-forgery token, for the cross-site check.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// The session's anti-forgery token, made on first use (sessions from before
/// tokens existed get one here).
async fn csrf_token(session: &Session) -> Option<String> {
    match session.get::<String>(CSRF_KEY).await {
        Ok(Some(token)) => Some(token),
        Ok(None) => {
            let token = crate::accounts::generate_secret(24);
            session.insert(CSRF_KEY, &token).await.ok()?;
            Some(token)
        }
        Err(_) => None,
    }
}

/// Paths that never need to know the visitor: no session or database look-up.
fn is_anonymous_path(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/api/v2/")
        || path == "/status"
        || path.starts_with("/status/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.ico")
}

/// Loads the signed-in account (if any) and attaches a [`PageContext`].
pub async fn attach_page_context(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_anonymous_path(&path) {
        return next.run(request).await;
    }
    let user = match session_account(&state, &session).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let principal = match (user, bearer_token(request.headers())) {
        (Some(user), _) => Some(Principal::Account(user)),
        (None, Some(secret)) if path.starts_with("/api/") => match state.tokens.authenticate(secret).await {
            Ok(Some(token)) => Some(Principal::Token(token)),
            Ok(None) => {
                return api_error(
                    StatusCode::UNAUTHORIZED,
                    "The API token is not valid or has been revoked.",
                    None,
                );
            }
            Err(error) => {
                tracing::error!(error = &error as &dyn std::error::Error, "could not check an API token");
                return api_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Wheelhouse cannot reach its database right now. Try again shortly.",
                    None,
                );
            }
        },
        (None, _) => None,
    };
    let principal_for_pages = principal.clone();
    let csrf = match &principal {
        Some(Principal::Account(_)) => csrf_token(&session).await,
        _ => None,
    };
    if let Some(token) = &csrf {
        request.extensions_mut().insert(CsrfToken(token.clone()));
    }
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    let setup_open = path == "/setup" && matches!(state.accounts.has_users().await, Ok(false));
    request.extensions_mut().insert(PageContext {
        // A token's requests reach only /api/ (the JSON API and server functions), never pages.
        user: match principal_for_pages {
            Some(Principal::Account(u)) => Some(SignedInUser { email: u.email, role: u.role }),
            Some(Principal::Token(t)) => {
                Some(SignedInUser { email: format!("token:{}", t.name), role: t.role })
            }
            None => None,
        },
        cluster: state.cluster,
        feedback: None,
        setup_open,
        csrf,
    });
    next.run(request).await
}

/// Enforces [`access_for`]: signed-out visitors are sent to sign in; a role
/// that is too low gets the page's 403 explanation.
pub async fn enforce_access(request: Request, next: Next) -> Response {
    let role = request.extensions().get::<PageContext>().and_then(PageContext::role);
    let path = request.uri().path();
    match access_for(path, role) {
        Access::Allowed => next.run(request).await,
        Access::SignInRequired if matches!(*request.method(), Method::GET | Method::HEAD) => {
            let target = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
            let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
            Redirect::to(&format!("/login?{query}")).into_response()
        }
        Access::SignInRequired => plain_error(StatusCode::UNAUTHORIZED, "Sign in first."),
        Access::Forbidden { .. } if matches!(*request.method(), Method::GET | Method::HEAD) => {
            // The page itself explains what is missing (components::guard).
            let mut response = next.run(request).await;
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
        }
        Access::Forbidden { required } => {
            plain_error(StatusCode::FORBIDDEN, &format!("This needs the role {required} or higher."))
        }
    }
}
