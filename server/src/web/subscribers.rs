//! Status-page subscriptions: the public subscribe form's post (answered the
//! same whatever the address), the confirmation link (a page with a button,
//! so that a mail scanner following links confirms nothing), the unsubscribe
//! link and its one-click POST (RFC 8058), and for admins the list, removal
//! and a CSV export.

use super::AppState;
use super::auth::client_address;
use super::extract::{Admin, Caller, FormPost};
use crate::services::ServiceError;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::subscriber::SubscribeForm;
use serde::Deserialize;
use std::net::SocketAddr;

fn page(status: StatusCode, heading: &str, text: &str, form: Option<(&str, &str, &str)>) -> Response {
    let html = crate::status_page::render::notice(heading, text, form, crate::db::now_millis());
    let mut response = (status, Html(html)).into_response();
    // Tokens travel in these URLs: never cached, never sent to another site as a
    // referrer (`no-referrer` would make the browser send `Origin: null` with the
    // page's own button, which the cross-site check rightly refuses).
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // The status site's policy: its stylesheet, forms to itself, no script.
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::status::CSP));
    response
}

fn refused(error: &ServiceError) -> Response {
    let status = super::error::status_of(error);
    page(status, "Not subscribed", &error.to_string(), None)
}

/// `POST /status/subscribe`: e-mail and, optionally, the components.
pub async fn subscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    FormPost { form, request }: FormPost<SubscribeForm>,
) -> Response {
    let client = client_address(peer.ip(), request.headers(), &state.trusted_proxies);
    match state.services.subscribe(&form, &client.to_string()).await {
        Ok(()) => page(
            StatusCode::OK,
            "Check your inbox",
            "If this address can be subscribed, a message with a confirmation link is on its way. \
             Follow it within 24 hours to start receiving updates.",
            None,
        ),
        Err(error) => refused(&error),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: String,
}

/// `GET /status/subscribe/confirm?token=…`: a button that confirms.
pub async fn confirm_page(State(state): State<AppState>, Query(query): Query<TokenQuery>) -> Response {
    if !state.services.subscriptions_offered() {
        return StatusCode::NOT_FOUND.into_response();
    }
    page(
        StatusCode::OK,
        "Confirm your subscription",
        "Press the button to start receiving status updates.",
        Some(("/status/subscribe/confirm", &query.token, "Confirm")),
    )
}

/// `POST /status/subscribe/confirm`.
pub async fn confirm(State(state): State<AppState>, FormPost { form, .. }: FormPost<TokenQuery>) -> Response {
    match state.services.confirm_subscription(&form.token).await {
        Ok(true) => page(StatusCode::OK, "Subscribed", "You will receive status updates.", None),
        Ok(false) => page(
            StatusCode::NOT_FOUND,
            "This link does not work",
            "It has expired or was used already. Subscribe again on the status page.",
            None,
        ),
        Err(error) => refused(&error),
    }
}

/// `GET /status/unsubscribe?token=…`: a button that unsubscribes.
pub async fn unsubscribe_page(Query(query): Query<TokenQuery>) -> Response {
    page(
        StatusCode::OK,
        "Unsubscribe",
        "Press the button to stop receiving status updates.",
        Some(("/status/unsubscribe", &query.token, "Unsubscribe")),
    )
}

/// The unsubscribe post: the page's button (`token=…`), or a mail client's
/// one-click POST to the link itself (`List-Unsubscribe=One-Click`, the token in the URL).
#[derive(Debug, Default, Deserialize)]
pub struct UnsubscribePost {
    #[serde(default)]
    pub token: String,
    #[serde(default, rename = "List-Unsubscribe")]
    pub one_click: String,
}

/// `POST /status/unsubscribe[?token=…]`.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    FormPost { form, .. }: FormPost<UnsubscribePost>,
) -> Response {
    let token = if form.token.trim().is_empty() { query.token } else { form.token };
    match state.services.unsubscribe(&token).await {
        Ok(true) => page(StatusCode::OK, "Unsubscribed", "You will receive no more status updates.", None),
        Ok(false) => {
            page(StatusCode::NOT_FOUND, "This link does not work", "No subscription has this link.", None)
        }
        Err(error) => refused(&error),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

/// `GET /admin/subscribers.csv`: every subscriber matching `q`.
pub async fn csv(
    State(state): State<AppState>,
    _: Caller<Admin>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let rows = match state.services.subscribers_list(&query.q).await {
        Ok(rows) => rows,
        Err(error) => return error.into_response(),
    };
    let cell = |text: &str| {
        // Quoted, and never read as a formula by a spreadsheet.
        let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
        format!("\"{}\"", text.replace('"', "\"\""))
    };
    let time = |at: Option<i64>| at.map(domain::calendar::date_time).unwrap_or_default();
    let mut out =
        String::from("id,email,webhook_url,state,components,subscribed_at,confirmed_at,unsubscribed_at\n");
    for row in rows {
        let (email, webhook) = match row.channel.as_str() {
            "webhook" => (row.contact.as_deref().unwrap_or_default(), row.address.as_str()),
            _ => (row.address.as_str(), ""),
        };
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            row.id,
            cell(email),
            cell(webhook),
            row.state,
            cell(&row.components),
            cell(&time(Some(row.created_at))),
            cell(&time(row.confirmed_at)),
            cell(&time(row.unsubscribed_at)),
        ));
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"subscribers.csv\""),
            ),
        ],
        out,
    )
        .into_response()
}

/// `POST /admin/subscribers/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Caller(principal, _): Caller<Admin>,
    FormPost { request, .. }: FormPost<SearchQuery>,
) -> Response {
    match state.services.remove_subscriber(&principal, id).await {
        Ok(()) => Redirect::to("/admin/subscribers").into_response(),
        Err(error) => {
            super::error::form_refused(&state, request, "/admin/subscribers", &error, Default::default())
                .await
        }
    }
}
