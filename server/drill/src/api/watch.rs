//! Watches: a chunked stream of JSON lines (`{"type":"ADDED","object":…}`),
//! resumable from a resourceVersion, with bookmarks and a server-side timeout.
//! An injected API outage ends open watches.
//! A version older than the kept history is answered, as a real server does,
//! with a 200 stream holding one `ERROR` event whose status is 410 Expired.

use super::status::ApiError;
use crate::DrillCluster;
use crate::resources::Resource;
use crate::store::{Change, EventType, Filter, Store};
use crate::table;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

pub struct WatchRequest {
    pub resource: Resource,
    pub filter: Filter,
    /// `None` or `Some(0)`: start with the current objects as ADDED events.
    pub from: Option<u64>,
    pub timeout: Duration,
    pub bookmarks: bool,
    pub as_table: bool,
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut text = serde_json::to_string(&json!({"type": kind, "object": object})).unwrap_or_default();
    text.push('\n');
    Bytes::from(text)
}

fn shaped(request: &WatchRequest, store: &Store, object: Value) -> Value {
    if request.as_table {
        table::table(&request.resource, &[object], store.revision(), "Metadata", store.now())
    } else {
        object
    }
}

pub fn watch(cluster: Arc<DrillCluster>, request: WatchRequest) -> Response {
    let store = cluster.store.clone();
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    let (initial, mut changes, mut last_revision) = match request.from.filter(|rv| *rv > 0) {
        None => {
            let (items, revision, changes) = store.list_and_watch(request.resource, &request.filter);
            let events =
                items.into_iter().map(|o| line("ADDED", shaped(&request, &store, o))).collect::<Vec<_>>();
            (events, Some(changes), revision)
        }
        Some(from) => match store.watch_from(request.resource, from) {
            Ok((backlog, changes)) => {
                let mut last = from;
                let events = backlog
                    .iter()
                    .filter_map(|c| {
                        last = c.revision;
                        seen_as(&request, c).map(|kind| event(&request, &store, c, kind))
                    })
                    .collect();
                (events, Some(changes), last.max(backlog.last().map_or(from, |c| c.revision)))
            }
            Err(error) => (vec![line("ERROR", ApiError::from(error).status())], None, 0),
        },
    };
    tokio::spawn(async move {
        for event in initial {
            if tx.send(event).await.is_err() {
                return;
            }
        }
        let Some(changes) = changes.as_mut() else { return };
        let deadline = tokio::time::sleep(request.timeout);
        tokio::pin!(deadline);
        let mut bookmark = tokio::time::interval(Duration::from_secs(10));
        bookmark.tick().await;
        // An injected API outage cuts open watches too, as a real outage would.
        let mut outage_check = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                () = &mut deadline => return,
                _ = outage_check.tick() => if cluster.faults.api_down() { return },
                () = tx.closed() => return,
                _ = bookmark.tick(), if request.bookmarks => {
                    let object = json!({
                        "kind": request.resource.kind,
                        "apiVersion": request.resource.api_version(),
                        "metadata": {"resourceVersion": last_revision.to_string()},
                    });
                    if tx.send(line("BOOKMARK", object)).await.is_err() { return; }
                }
                received = changes.recv() => match received {
                    Ok(change) => {
                        if change.resource != crate::resources::storage_of(request.resource) { continue; }
                        last_revision = change.revision;
                        let Some(kind) = seen_as(&request, &change) else { continue };
                        if tx.send(event(&request, &store, &change, kind)).await.is_err() { return; }
                    }
                    // A watcher too slow to keep up is closed; it resumes from
                    // its last version, or relists after a 410.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), rx))
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response()
}

/// How a watch with a selector sees a change, as a real server reports it:
/// an object entering the selection is ADDED, one leaving it is DELETED, and
/// changes outside it are not seen at all.
fn seen_as(request: &WatchRequest, change: &Change) -> Option<EventType> {
    if change.resource != crate::resources::storage_of(request.resource) {
        return None;
    }
    let now = request.filter.matches_stored(&change.namespace, &change.object);
    let before =
        change.previous.as_ref().is_some_and(|p| request.filter.matches_stored(&change.namespace, p));
    match (change.kind, before, now) {
        (EventType::Deleted, _, true) => Some(EventType::Deleted),
        (EventType::Deleted, _, false) => None,
        (_, false, true) => Some(EventType::Added),
        (_, true, true) => Some(EventType::Modified),
        (_, true, false) => Some(EventType::Deleted),
        (_, false, false) => None,
    }
}

/// One watch event line. Plain watches splice the stored JSON text as it is.
fn event(request: &WatchRequest, store: &Store, change: &Change, kind: EventType) -> Bytes {
    if request.as_table {
        return line(kind.as_str(), shaped(request, store, change.object.value()));
    }
    Bytes::from(format!("{{\"type\":\"{}\",\"object\":{}}}\n", kind.as_str(), change.object.json()))
}
