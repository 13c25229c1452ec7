//! Sign-in, sign-out and first-start setup: plain HTML form posts, so they work
//! with JavaScript off. A refused form is rendered again with its message.

use super::AppState;
use super::context::{CSRF_KEY, SIGNED_IN_AT_KEY, USER_ID_KEY};
use super::extract::FormPost;
use super::render::{plain_error, render_page, render_with_feedback};
use crate::accounts::{AccountError, User};
use crate::db::now_millis;
use app::domain::access::safe_return_path;
use app::domain::account::{Email, NewPassword};
use app::page_context::{FormFeedback, PageContext};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// The wall-clock time `seconds` from now, `HH:MM:SS`, for "try again at".
fn clock_in(seconds: u64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(i64::try_from(seconds).unwrap_or(0));
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &http::HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded.iter().rev().find(|ip| !is_trusted(ip)).or(forwarded.first()).copied().unwrap_or(peer)
}

fn page_context_of(request: &Request) -> Option<PageContext> {
    request.extensions().get::<PageContext>().cloned()
}

/// Stores the account in the session under a fresh session id, so that an id
/// planted before sign-in is worthless after it.
async fn sign_in(session: &Session, user: &User) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user.id).await?;
    session.insert(SIGNED_IN_AT_KEY, crate::db::now_millis()).await?;
    // Made here rather than on first use, so that the first requests after signing in
    // (a page and its data, at once) do not each make one.
    session.insert(CSRF_KEY, crate::accounts::generate_secret(24)).await?;
    session.save().await
}

/// `POST /login`
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    FormPost { form, request }: FormPost<LoginForm>,
) -> Response {
    let next = safe_return_path(form.next.as_deref()).to_owned();
    let page =
        format!("/login?{}", serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default());
    let client = client_address(peer.ip(), request.headers(), &state.trusted_proxies);
    let feedback = |message: String| FormFeedback {
        message,
        email: Some(form.email.trim().chars().take(Email::MAX_LEN).collect()),
        ..FormFeedback::default()
    };
    if form.email.trim().chars().count() > Email::MAX_LEN {
        let message = format!("An e-mail address is at most {} characters.", Email::MAX_LEN);
        return render_with_feedback(
            &state,
            request,
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            feedback(message),
        )
        .await;
    }

    // The attempt is counted before the slow password check, so concurrent guesses cannot all reach it.
    let attempt = match state.accounts.throttle.reserve(&form.email, &client.to_string(), now_millis()).await
    {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(wait)) => {
            let seconds = wait.as_secs().max(1);
            tracing::warn!(client.address = %client, "sign-in refused: too many failures");
            let message = format!(
                "Too many failed sign-in attempts. Wait {seconds} seconds (until {} UTC), then try again.",
                clock_in(seconds)
            );
            let mut response = render_with_feedback(
                &state,
                request,
                &page,
                StatusCode::TOO_MANY_REQUESTS,
                feedback(message),
            )
            .await;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        Err(error) => {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "sign-in failed: the throttle is unavailable"
            );
            let message =
                "Signing in is not possible right now: the account store is unavailable. Try again shortly.";
            return render_with_feedback(
                &state,
                request,
                &page,
                StatusCode::SERVICE_UNAVAILABLE,
                feedback(message.to_owned()),
            )
            .await;
        }
    };

    match state.accounts.authenticate(&form.email, &form.password).await {
        Ok(Some(user)) => {
            if let Err(error) = state.accounts.throttle.succeeded(attempt).await {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "could not clear the sign-in throttle"
                );
            }
            if let Err(error) = sign_in(&session, &user).await {
                tracing::error!(error = &error as &dyn std::error::Error, "could not store the session");
                return plain_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Signing in is not possible right now. Try again shortly.",
                );
            }
            tracing::info!(user.id = user.id, "signed in");
            Redirect::to(&next).into_response()
        }
        Ok(None) => {
            tracing::info!(client.address = %client, "sign-in failed: wrong e-mail address or password");
            let message = "Wrong e-mail address or password.".to_owned();
            render_with_feedback(&state, request, &page, StatusCode::UNAUTHORIZED, feedback(message)).await
        }
        Err(error) => {
            if let Err(release) = state.accounts.throttle.release(attempt).await {
                tracing::warn!(
                    error = &release as &dyn std::error::Error,
                    "could not release a sign-in attempt"
                );
            }
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "sign-in failed: account store unavailable"
            );
            let message =
                "Signing in is not possible right now: the account store is unavailable. Try again shortly.";
            render_with_feedback(
                &state,
                request,
                &page,
                StatusCode::SERVICE_UNAVAILABLE,
                feedback(message.into()),
            )
            .await
        }
    }
}

/// `POST /logout`: ends the session everywhere it is stored.
pub async fn logout(session: Session) -> Response {
    if let Err(error) = session.flush().await {
        tracing::error!(error = &error as &dyn std::error::Error, "could not end the session");
        return plain_error(StatusCode::SERVICE_UNAVAILABLE, "Signing out failed. Try again.");
    }
    Redirect::to("/login").into_response()
}

/// `POST /setup`: creates the first administrator and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    session: Session,
    FormPost { form, request }: FormPost<SetupForm>,
) -> Response {
    let Some(mut ctx) = page_context_of(&request) else {
        return plain_error(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.");
    };
    let page =
        format!("/setup?{}", serde_urlencoded::to_string([("token", form.token.trim())]).unwrap_or_default());
    let feedback = |message: String| FormFeedback {
        message,
        email: Some(form.email.trim().to_owned()),
        ..FormFeedback::default()
    };

    let parsed = Email::parse(&form.email)
        .and_then(|email| Ok((email, NewPassword::parse_confirmed(&form.password, &form.password_again)?)));
    let (email, password) = match parsed {
        Ok(valid) => valid,
        Err(reason) => {
            ctx.feedback = Some(feedback(capitalise(&reason.to_string())));
            return render_page(&state, request, &page, StatusCode::UNPROCESSABLE_ENTITY, ctx).await;
        }
    };
    let (status, message) = match state.accounts.complete_setup(&form.token, &email, &password).await {
        Ok(user) => {
            tracing::info!(user.id = user.id, "first administrator created");
            if let Err(error) = sign_in(&session, &user).await {
                tracing::error!(error = &error as &dyn std::error::Error, "could not store the session");
                return Redirect::to("/login").into_response();
            }
            return Redirect::to("/").into_response();
        }
        Err(AccountError::SetupClosed) => {
            ctx.setup_open = false;
            (StatusCode::GONE, "Setup is complete: an account already exists.".to_owned())
        }
        Err(AccountError::SetupTokenInvalid) => (
            StatusCode::FORBIDDEN,
            "This setup token is not valid. Use the link printed in the server log at start-up; restarting the server prints a new one.".to_owned(),
        ),
        Err(error) => {
            tracing::error!(error = &error as &dyn std::error::Error, "setup failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Setup is not possible right now. Try again shortly.".to_owned())
        }
    };
    ctx.feedback = Some(feedback(message));
    render_page(&state, request, &page, status, ctx).await
}

fn capitalise(sentence: &str) -> String {
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            client_address(outsider, &forwarded("198.51.100.1"), &trusted),
            outsider,
            "spoofed header ignored"
        );
        assert_eq!(
            client_address(proxy, &forwarded("198.51.100.1"), &trusted),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_address(proxy, &forwarded("6.6.6.6, 198.51.100.1, 10.9.9.9"), &trusted),
            "198.51.100.1".parse::<IpAddr>().unwrap(),
            "the last untrusted hop, not what the client wrote first"
        );
        assert_eq!(client_address(proxy, &http::HeaderMap::new(), &trusted), proxy);
        assert_eq!(
            client_address(proxy, &forwarded("not an address"), &[]),
            proxy,
            "no trusted proxies: the peer"
        );
    }
}
