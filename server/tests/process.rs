//! The real `wheelhouse` binary as a process: the webhook outbox survives a
//! SIGKILL (deliveries pending at the kill are delivered after a restart,
//! under the ids they had), and SIGTERM shuts down promptly, ending open live
//! event streams instead of waiting for them.
//! (Here rather than in `tests/` so that cargo builds the binary it runs.)

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

#[derive(Default)]
struct Receiver {
    up: AtomicBool,
    /// (delivery id, answered 200)
    seen: Mutex<Vec<(String, bool)>>,
}

async fn receiver() -> (String, Arc<Receiver>) {
    let state = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route(
            "/hook",
            post(|State(r): State<Arc<Receiver>>, headers: HeaderMap| async move {
                let id = headers
                    .get("x-wheelhouse-delivery")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let up = r.up.load(Ordering::SeqCst);
                r.seen.lock().unwrap().push((id, up));
                if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
            }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

fn wheelhouse(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelhouse"));
    command
        .args(["--database-url", database_url, "--webhook-allow", "127.0.0.0/8"])
        .env("WHEELHOUSE_CLUSTER", "sim")
        .env("WHEELHOUSE_LOG_FORMAT", "json")
        .env_remove("WHEELHOUSE_PUBLIC_URL");
    command
}

/// Starts `wheelhouse serve`; returns the child and its base URL.
fn serve(database_url: &str) -> (Child, String) {
    let mut child = wheelhouse(database_url)
        .args(["--listen", "127.0.0.1:0", "serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the wheelhouse binary starts");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in stdout.lines().map_while(Result::ok) {
            if !sent
                && let Ok(entry) = serde_json::from_str::<Value>(&line)
                && let Some(address) =
                    entry["http.address"].as_str().or(entry["fields"]["http.address"].as_str())
            {
                let _ = sender.send(address.to_owned());
                sent = true;
            }
        }
    });
    let address = address.recv_timeout(Duration::from_secs(60)).expect("wheelhouse logs its address");
    (child, format!("http://{address}"))
}

fn client(base: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Adds an account with the CLI, as an operator would.
fn add_account(database_url: &str, email: &str, role: &str) {
    let mut add = wheelhouse(database_url)
        .args(["user", "add", "--email", email, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(add.wait().unwrap().success());
}

/// A client signed in at `base` as `email`.
async fn signed_in(base: &str, email: &str) -> reqwest::Client {
    let client = client(base);
    let response = client
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    client
}

async fn wait_for<T>(what: &str, seconds: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_pending_at_a_kill_are_delivered_after_the_restart_under_the_same_ids() {
    let dir = std::env::temp_dir().join(format!("wheelhouse-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("wheelhouse.db").display());
    let (hook, receiver) = receiver().await;

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
        let ids: BTreeSet<String> = receiver.seen.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        (ids.len() == 3).then_some(ids)
    })
    .await;

    first.kill().unwrap(); // SIGKILL: no shutdown, pending deliveries stay in the outbox.
    first.wait().unwrap();
    receiver.up.store(true, Ordering::SeqCst);

    let (mut second, _) = serve(&database_url);
    let delivered: BTreeSet<String> = wait_for("every delivery after the restart", 90, || {
        let ids: BTreeSet<String> =
            receiver.seen.lock().unwrap().iter().filter(|(_, ok)| *ok).map(|(id, _)| id.clone()).collect();
        (ids.len() >= 3).then_some(ids)
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(delivered, before, "the same delivery ids, so a receiver can drop duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_live_event_streams_and_stops_within_the_bound() {
    let dir = std::env::temp_dir().join(format!("wheelhouse-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("wheelhouse.db").display());
    add_account(&database_url, "oncall@example.com", "responder");
    let (mut child, base) = serve(&database_url);
    let client = signed_in(&base, "oncall@example.com").await;
    let mut stream = client.get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);

    let asked = Instant::now();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // The open stream ends (it does not hold the shutdown up)...
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live event stream ended when shutting down");
    // ...and the process exits well within the bound.
    let exited = wait_for("the process to exit", 25, || child.try_wait().ok().flatten()).await;
    assert!(exited.success(), "a clean exit: {exited:?}");
    assert!(asked.elapsed() < Duration::from_secs(10), "stopped in {:?}", asked.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}
