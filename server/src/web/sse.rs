//! `GET /api/v1/events`: Server-Sent Events for signed-in responders. Stored
//! events carry their id; a client reconnecting with `Last-Event-ID` first
//! gets every stored event after it, then the live ones, without gaps or
//! repeats. A client too far behind gets a `reset` event and should reload.
//! The frames are the hub's, written once and shared by every stream
//! (heartbeats included), so a subscriber costs its connection and little more.

use super::AppState;
use super::extract::{Caller, Responder};
use super::render::plain_error;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

fn reset() -> Bytes {
    Bytes::from_static(b"event: reset\ndata: {\"reason\":\"events were missed; reload\"}\n\n")
}

pub async fn events(State(state): State<AppState>, _: Caller<Responder>, headers: HeaderMap) -> Response {
    let hub = state.events.clone();
    // Subscribe before reading the backlog, so nothing falls between the two.
    let receiver = hub.subscribe();
    // Absent: a fresh page. Present but unreadable (not a number, or too large): the
    // client holds a state this stream cannot continue, so it is told to reload.
    let last_id =
        headers.get("last-event-id").map(|v| v.to_str().ok().and_then(|v| v.trim().parse::<i64>().ok()));
    let (backlog, mut sent_up_to) = match last_id {
        None => (Vec::new(), None),
        Some(None) => (vec![reset()], None),
        Some(Some(id)) => match hub.since(id).await {
            Ok(Some(events)) => {
                let last = events.last().and_then(|e| e.id).unwrap_or(id);
                (events.into_iter().map(|event| event.frame).collect(), Some(last))
            }
            Ok(None) => (vec![reset()], None),
            Err(error) => {
                tracing::error!(error = &error as &dyn std::error::Error, "cannot replay live events");
                return plain_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Live events are unavailable right now.",
                );
            }
        },
    };
    let live = stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(event) => Some((Some(event), receiver)),
            Err(RecvError::Lagged(_)) => Some((None, receiver)),
            Err(RecvError::Closed) => None,
        }
    })
    .filter_map(move |event| {
        let out = match event {
            // Already sent from the backlog.
            Some(event) if event.id.is_some_and(|id| sent_up_to.is_some_and(|up_to| id <= up_to)) => None,
            Some(event) => {
                if event.id.is_some() {
                    sent_up_to = event.id;
                }
                Some(event.frame.clone())
            }
            None => Some(reset()),
        };
        std::future::ready(out)
    });
    // The stream ends when the server shuts down, so that shutting down need not wait for it.
    let mut stop = state.stop.clone();
    let stopping = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let frames = stream::iter(backlog).chain(live).map(Ok::<_, Infallible>).take_until(stopping);
    let mut response = Body::from_stream(frames).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
