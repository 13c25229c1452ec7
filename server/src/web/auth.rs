//! Sign-in, sign-out and first-start setup: plain HTML form posts, so they work
//! with JavaScript off. A refused form is rendered again with its message.

use super::AppState;
use super::context::USER_ID_KEY;
use super::extract::FormPost;
use super::render::{plain_error, render_page, render_with_feedback};
use crate::accounts::{AccountError, User, throttle};
use app::domain::access::safe_return_path;
use app::domain::account::{Email, NewPassword};
use app::page_context::{FormFeedback, PageContext};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Instant;
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

fn page_context_of(request: &Request) -> Option<PageContext> {
    request.extensions().get::<PageContext>().cloned()
}

/// Stores the account in the session under a fresh session id, so that an id
/// planted before sign-in is worthless after it.
async fn sign_in(session: &Session, user: &User) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user.id).await?;
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
    let keys = throttle::keys(&form.email, &peer.ip().to_string());
    let feedback = |message: String| FormFeedback {
        message,
        email: Some(form.email.trim().to_owned()),
        ..FormFeedback::default()
    };

    if let Some(wait) = state.accounts.throttle.blocked_for(&keys, Instant::now()) {
        let seconds = wait.as_secs().max(1);
        tracing::warn!(client.address = %peer.ip(), "sign-in refused: too many failures");
        let message = format!("Too many failed sign-in attempts. Wait {seconds} seconds, then try again.");
        let mut response =
            render_with_feedback(&state, request, &page, StatusCode::TOO_MANY_REQUESTS, feedback(message))
                .await;
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }

    match state.accounts.authenticate(&form.email, &form.password).await {
        Ok(Some(user)) => {
            state.accounts.throttle.record_success(&keys[0]);
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
            state.accounts.throttle.record_failure(&keys, Instant::now());
            tracing::info!(client.address = %peer.ip(), "sign-in failed: wrong e-mail address or password");
            let message = "Wrong e-mail address or password.".to_owned();
            render_with_feedback(&state, request, &page, StatusCode::UNAUTHORIZED, feedback(message)).await
        }
        Err(error) => {
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
