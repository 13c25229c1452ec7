//! Live events: written to the `live_events` table in the same transaction as
//! the change they describe, then relayed in id order to one in-process
//! broadcast that Server-Sent Events streams subscribe to. Because every event
//! is stored first, a client reconnecting with `Last-Event-ID` gets exactly what
//! it missed. With PostgreSQL, each commit also sends a NOTIFY so that every
//! replica relays events written by the others.
//!
//! Each event is written as a Server-Sent Events frame once, when it is
//! relayed, and shared by every subscriber (an `Arc`, not a copy each); the
//! heartbeat is one frame on one timer for all of them.
//!
//! Notices (not stored) go out through the relay too, after the stored events
//! its next pass finds: a change and the notice that the state moved reach
//! subscribers in one burst, which each stream writes in one go, rather than
//! in two waves across every connection, the second waiting on the first.

use crate::db::{Backend, Database, DbError, now_millis};
use axum::body::Bytes;
use serde::Serialize;
use sqlx::{Any, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// The PostgreSQL channel that announces new events.
const CHANNEL: &str = "wheelhouse_events";
/// Events kept for replay; a client away longer is told to reload instead.
pub const RETENTION_MS: i64 = 24 * 3600 * 1000;
/// How many events a slow subscriber may fall behind before it is told to reload.
const BROADCAST_CAPACITY: usize = 4096;
/// Comment lines sent to every subscriber while nothing happens, so proxies
/// keep streams open and clients notice a dead connection.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// One event as SSE clients receive it. Stored events have an id; passing
/// notices (e.g. "the cluster state moved") have none and are not replayed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveEvent {
    pub id: Option<i64>,
    pub kind: String,
    /// JSON text.
    pub data: String,
    /// The event as a Server-Sent Events frame, written once for every subscriber.
    #[serde(skip)]
    pub frame: Bytes,
}

impl LiveEvent {
    pub fn new(id: Option<i64>, kind: String, data: String) -> LiveEvent {
        let mut frame = format!("event: {kind}\n");
        // `data` is one line of JSON; a line break would start a new field, so each line gets its own.
        for line in data.split('\n') {
            frame.push_str("data: ");
            frame.push_str(line.trim_end_matches('\r'));
            frame.push('\n');
        }
        if let Some(id) = id {
            frame.push_str(&format!("id: {id}\n"));
        }
        frame.push('\n');
        LiveEvent { id, kind, data, frame: Bytes::from(frame) }
    }

    fn heartbeat() -> LiveEvent {
        LiveEvent {
            id: None,
            // The kind of the heartbeat, which carries no event.
            kind: "heartbeat".to_owned(),
            data: String::new(),
            frame: Bytes::from_static(b":heartbeat\n\n"),
        }
    }
}

/// The fan-out point for live events.
#[derive(Debug)]
pub struct EventHub {
    db: Database,
    sender: broadcast::Sender<Arc<LiveEvent>>,
    wake: Notify,
    /// Notices waiting for the relay's next pass.
    notices: std::sync::Mutex<Vec<Arc<LiveEvent>>>,
}

impl EventHub {
    /// Starts relaying from the newest stored event on; with PostgreSQL also
    /// listens for other replicas' events on `listen_url`.
    pub async fn start(db: Database, listen_url: Option<String>) -> Result<Arc<EventHub>, DbError> {
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(id) FROM live_events").fetch_one(&db.pool).await?;
        let (sender, _) = broadcast::channel(BROADCAST_CAPACITY);
        let hub = Arc::new(EventHub { db, sender, wake: Notify::new(), notices: Default::default() });
        tokio::spawn(relay(Arc::downgrade(&hub), last.unwrap_or(0)));
        tokio::spawn(heartbeat(Arc::downgrade(&hub)));
        if let (Backend::Postgres, Some(url)) = (hub.db.backend, listen_url) {
            tokio::spawn(listen(Arc::downgrade(&hub), url));
        }
        Ok(hub)
    }

    /// Stores an event inside the caller's transaction; call [`EventHub::committed`] after the commit.
    pub async fn append(
        &self,
        tx: &mut Transaction<'static, Any>,
        kind: &str,
        data: &serde_json::Value,
    ) -> Result<(), DbError> {
        if self.db.backend == Backend::Postgres {
            // Ids must become visible in order, or the relay could skip one:
            // writers of events take turns until they commit.
            sqlx::query("SELECT pg_advisory_xact_lock(7412001)").execute(&mut **tx).await?;
            sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&mut **tx).await?;
        }
        sqlx::query("INSERT INTO live_events (kind, payload, created_at) VALUES ($1, $2, $3)")
            .bind(kind)
            .bind(data.to_string())
            .bind(now_millis())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Tells the relay that stored events are waiting.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// Sends a notice that is not stored (and so not replayed), with the
    /// relay's next pass, after the stored events that pass finds.
    pub fn notice(&self, kind: &str, data: &serde_json::Value) {
        let notice = Arc::new(LiveEvent::new(None, kind.to_owned(), data.to_string()));
        self.notices.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(notice);
        self.wake.notify_one();
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }

    /// Stored events after `id`, oldest first, or `None` when the client
    /// cannot be brought up to date from them (some were already pruned, or
    /// it names an event this server never had): it must reload.
    pub async fn since(&self, id: i64) -> Result<Option<Vec<LiveEvent>>, DbError> {
        let (oldest, newest): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT MIN(id), MAX(id) FROM live_events").fetch_one(&self.db.pool).await?;
        if id < 0
            || oldest.is_some_and(|oldest| oldest > id.saturating_add(1))
            || newest.is_some_and(|newest| id > newest)
        {
            return Ok(None);
        }
        Ok(Some(self.after(id, 10_000).await?))
    }

    async fn after(&self, id: i64, limit: i64) -> Result<Vec<LiveEvent>, DbError> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, kind, payload FROM live_events WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(id)
                .bind(limit)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, kind, data)| LiveEvent::new(Some(id), kind, data)).collect())
    }

    /// Deletes events older than [`RETENTION_MS`].
    pub async fn prune(&self) -> Result<u64, DbError> {
        let cutoff = now_millis() - RETENTION_MS;
        let done = sqlx::query("DELETE FROM live_events WHERE created_at < $1")
            .bind(cutoff)
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Relays stored events to the broadcast in id order, then the notices
/// queued by the end of that read, when woken and every few seconds in case a wake-up
/// was missed.
async fn relay(hub: std::sync::Weak<EventHub>, mut last: i64) {
    const PAGE: usize = 1000;
    loop {
        let Some(strong) = hub.upgrade() else { return };
        let _ = tokio::time::timeout(Duration::from_secs(2), strong.wake.notified()).await;
        loop {
            let events = match strong.after(last, PAGE as i64).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        "could not read new live events"
                    );
                    break;
                }
            };
            let full = events.len() == PAGE;
            for event in events {
                last = event.id.unwrap_or(last);
                let _ = strong.sender.send(Arc::new(event));
            }
            if !full {
                break;
            }
        }
        // Taken after reading: a notice queued while the read ran goes with it.
        let notices =
            std::mem::take(&mut *strong.notices.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        for notice in notices {
            let _ = strong.sender.send(notice);
        }
    }
}

/// Sends the heartbeat to every subscriber each [`HEARTBEAT`], one frame for all.
async fn heartbeat(hub: std::sync::Weak<EventHub>) {
    let beat = Arc::new(LiveEvent::heartbeat());
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        let _ = hub.sender.send(beat.clone());
    }
}

/// Wakes the relay when another replica (or this one) commits events,
/// reconnecting after a pause when the LISTEN connection fails. Each
/// (re)connection wakes the relay too: notifications sent while the
/// connection was down are lost, but the relay reads from the database
/// whatever came after the last event it relayed, so nothing is missed.
async fn listen(hub: std::sync::Weak<EventHub>, url: String) {
    let wake = || match hub.upgrade() {
        Some(hub) => {
            hub.wake.notify_one();
            true
        }
        None => false,
    };
    loop {
        let error = match subscribe(&url).await {
            Ok(mut listener) => {
                if !wake() {
                    return;
                }
                loop {
                    // `Ok(None)`: the connection was lost and is made again on the next call.
                    match listener.try_recv().await {
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            tracing::warn!("the LISTEN connection for live events was lost; resynchronising")
                        }
                        Err(error) => break error,
                    }
                    if !wake() {
                        return;
                    }
                }
            }
            Err(error) => error,
        };
        tracing::warn!(
            error = &error as &dyn std::error::Error,
            "LISTEN for live events failed; reconnecting"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn subscribe(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn hub() -> (Arc<EventHub>, std::path::PathBuf) {
        let (db, path) = Database::scratch("events").await;
        (EventHub::start(db, None).await.unwrap(), path)
    }

    async fn next(receiver: &mut broadcast::Receiver<Arc<LiveEvent>>) -> Arc<LiveEvent> {
        tokio::time::timeout(Duration::from_secs(10), receiver.recv()).await.expect("relayed").unwrap()
    }

    #[tokio::test]
    async fn a_notice_goes_out_after_the_events_stored_before_it() {
        let (hub, path) = hub().await;
        let mut receiver = hub.subscribe();
        let mut tx = hub.db.pool.begin().await.unwrap();
        hub.append(&mut tx, "component", &serde_json::json!({"component": "node/a"})).await.unwrap();
        hub.append(&mut tx, "component", &serde_json::json!({"component": "node/b"})).await.unwrap();
        tx.commit().await.unwrap();
        hub.committed();
        hub.notice("cluster-state", &serde_json::json!({"at": 1}));
        let kinds = [next(&mut receiver).await, next(&mut receiver).await, next(&mut receiver).await];
        assert_eq!(
            kinds.iter().map(|e| (e.kind.as_str(), e.id.is_some())).collect::<Vec<_>>(),
            [("component", true), ("component", true), ("cluster-state", false)]
        );
        assert!(kinds[2].frame.starts_with(b"event: cluster-state\ndata: {\"at\":1}\n\n"));
        drop(hub);
        let _ = std::fs::remove_file(path);
    }
}
