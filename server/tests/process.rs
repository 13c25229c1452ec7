//! The real `wheelhouse` binary as a process: the webhook outbox survives a
//! SIGKILL (deliveries pending at the kill are delivered after a restart,
//! under the ids they had), and SIGTERM shuts down promptly, ending open live
//! event streams instead of waiting for them.
//! (Here rather than in `tests/` so that cargo builds the binary it runs.)

mod common;

use common::{Process, add_account, signed_in, wait_for, webhook_receiver, wheelhouse};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// `wheelhouse serve` on the drill cluster; the process and its base URL.
fn serve(database_url: &str) -> (Process, String) {
    let mut command = wheelhouse(database_url);
    command.env("WHEELHOUSE_CLUSTER", "sim");
    let process = Process::serve(command);
    let base = process.base.clone();
    (process, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_pending_at_a_kill_are_delivered_after_the_restart_under_the_same_ids() {
    let dir = std::env::temp_dir().join(format!("wheelhouse-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("wheelhouse.db").display());
    let (hook, receiver) = webhook_receiver().await;

    add_account(&database_url, "admin@example.com", "admin");
    let (mut first, base) = serve(&database_url);
    let admin = signed_in(&base, "admin@example.com").await;
    let added = admin
        .post(format!("{base}/admin/webhooks"))
        .form(&[("audience", "public"), ("format", "generic"), ("url", hook.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let incident: Value = admin
        .post(format!("{base}/api/v1/incidents"))
        .json(&json!({"title": "Checkout errors", "severity": "SEV2", "category": "application_failure"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = incident["id"].as_i64().unwrap();
    for text in ["First update.", "Second update.", "Third update."] {
        let published = admin
            .post(format!("{base}/api/v1/incidents/{id}/updates"))
            .json(&json!({"audience": "public", "purpose": "investigating", "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(published.status(), 201);
    }
    let before: BTreeSet<String> = wait_for("a failed attempt at each delivery", 30, || {
        let ids = receiver.ids(false);
        (ids.len() == 3).then_some(ids)
    })
    .await;

    first.kill(); // SIGKILL: no shutdown, pending deliveries stay in the outbox.
    receiver.up.store(true, Ordering::SeqCst);

    let (mut second, _) = serve(&database_url);
    let delivered: BTreeSet<String> = wait_for("every delivery after the restart", 90, || {
        let ids = receiver.ids(true);
        (ids.len() >= 3).then_some(ids)
    })
    .await;
    second.kill();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(delivered, before, "the same delivery ids, so a receiver can drop duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_live_event_streams_and_stops_within_the_bound() {
    let dir = std::env::temp_dir().join(format!("wheelhouse-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("wheelhouse.db").display());
    add_account(&database_url, "oncall@example.com", "responder");
    let printed = wheelhouse(&database_url)
        .args(["token", "create", "--name", "stream", "--role", "responder"])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&printed.stdout).into_owned();
    let token =
        printed.split_whitespace().find(|w| w.starts_with("whk_")).expect("the token is printed").to_owned();
    let (mut child, base) = serve(&database_url);
    let client = signed_in(&base, "oncall@example.com").await;
    // One stream on the signed-in client's connection (served by hyper), one
    // opening a connection of its own (served by web::stream_connection).
    let mut stream = client.get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut own =
        reqwest::Client::new().get(format!("{base}/api/v1/events")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(own.status(), 200);

    let asked = Instant::now();
    let killed = Command::new("kill").args(["-TERM", &child.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // The open stream ends (it does not hold the shutdown up)...
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Ok(Some(_)) = stream.chunk().await {}
        while let Ok(Some(_)) = own.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live event streams ended when shutting down");
    // ...and the process exits well within the bound.
    let exited = wait_for("the process to exit", 25, || child.child.try_wait().ok().flatten()).await;
    assert!(exited.success(), "a clean exit: {exited:?}");
    assert!(asked.elapsed() < Duration::from_secs(10), "stopped in {:?}", asked.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_sqlite_file_refuses_to_start_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("wheelhouse-second-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("wheelhouse.db").display());
    let (mut first, base) = serve(&database_url);
    let mut second = wheelhouse(&database_url);
    let refused =
        second.env("WHEELHOUSE_CLUSTER", "sim").args(["--listen", "127.0.0.1:0", "serve"]).output().unwrap();
    assert!(!refused.status.success());
    let said =
        String::from_utf8_lossy(&refused.stderr).into_owned() + &String::from_utf8_lossy(&refused.stdout);
    assert!(said.contains("another Wheelhouse process is serving the SQLite database"), "{said}");
    assert!(said.contains("--leader-election"), "names the way to run several: {said}");
    // One-off commands still work beside the server, and the first one still serves.
    add_account(&database_url, "oncall@example.com", "responder");
    signed_in(&base, "oncall@example.com").await;
    first.kill();
    let (_again, _) = serve(&database_url);
    let _ = std::fs::remove_dir_all(&dir);
}
