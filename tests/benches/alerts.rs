//! Alert intake: 10,000 alerts posted as 100 Alertmanager payloads of 100
//! alerts, where 1,000 distinct fingerprints repeat ten times (intake rate,
//! p50/p99 of one POST, and exactly 1,000 alerts stored); then the time from
//! the POST of a critical alert on a public component to its auto-declared
//! incident reaching an open Server-Sent Events client (what the dashboard
//! listens to), 50 times, p50 and p99.
//! Run: `cargo bench -p tests --bench alerts` (SQLite; `-- postgres` for PostgreSQL).

use app::domain::role::Role;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tests::{Backend, TestApp, bearer, spawn_app};

const PAYLOADS: usize = 100;
const PER_PAYLOAD: usize = 100;
const DISTINCT: usize = 1_000;
const DECLARATIONS: usize = 50;

fn alert(fingerprint: &str, labels: Value) -> Value {
    json!({
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": "bench", "description": "an alert posted by the benchmark"},
        "startsAt": "2026-11-30T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com/graph",
        "fingerprint": fingerprint,
    })
}

fn payload(group: usize, alerts: Vec<Value>) -> Value {
    json!({
        "version": "4", "groupKey": format!("{{}}:{{bench=\"{group}\"}}"), "truncatedAlerts": 0,
        "status": "firing", "receiver": "wheelhouse", "groupLabels": {"bench": group.to_string()},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager.example.com",
        "alerts": alerts,
    })
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend = if std::env::args().any(|a| a == "postgres") { Backend::Postgres } else { Backend::Sqlite };
    let app = spawn_app(backend).await;
    let admin = app.signed_in("bench@example.com", Role::Admin).await;
    let monitor = bearer(&app.api_token(&admin, "alertmanager", "alerts").await);
    app.evaluated(&admin).await;

    // Intake: payload i carries fingerprints (i % 10) * 100 .. + 100, so each of the 1,000 arrives ten times.
    let mut latencies = Vec::with_capacity(PAYLOADS);
    let started = Instant::now();
    for i in 0..PAYLOADS {
        let first = (i % (DISTINCT / PER_PAYLOAD)) * PER_PAYLOAD;
        let alerts = (first..first + PER_PAYLOAD)
            .map(|n| alert(&format!("bench{n:05}"), json!({"alertname": "BenchAlert", "severity": "warning", "instance": format!("10.1.{}.{}:9100", n / 256, n % 256), "job": "node"})))
            .collect();
        let body = payload(i % 10, alerts);
        let sent = Instant::now();
        let response = monitor.post(app.url("/api/v1/alerts/alertmanager")).json(&body).send().await.unwrap();
        latencies.push(sent.elapsed());
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let stored = count_alerts(&app, &admin).await;
    println!(
        "alert intake on {backend:?}: {} alerts in {PAYLOADS} payloads of {PER_PAYLOAD} ({DISTINCT} distinct, each ten times)",
        PAYLOADS * PER_PAYLOAD
    );
    println!(
        "  {:.0} alerts/s ({:.2} s in all)",
        (PAYLOADS * PER_PAYLOAD) as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  one POST: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 50),
        percentile(&latencies, 99)
    );
    println!("  alerts stored: {stored} (expected {DISTINCT})");
    assert_eq!(stored, DISTINCT, "repeats never duplicate");

    // Critical alert on Checkout (public) -> declared incident -> SSE event at an open client.
    let mut stream = reqwest::Client::new()
        .get(app.url("/api/v1/events"))
        .header("cookie", session_cookie(&app).await)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut samples = Vec::with_capacity(DECLARATIONS);
    let mut buffer = String::new();
    for i in 0..DECLARATIONS {
        let body = payload(
            1_000 + i,
            vec![alert(
                &format!("crit{i:04}"),
                json!({"alertname": "KubePodCrashLooping", "severity": "critical", "namespace": "shop", "deployment": "checkout"}),
            )],
        );
        let sent = Instant::now();
        let response = monitor.post(app.url("/api/v1/alerts/alertmanager")).json(&body).send().await.unwrap();
        let report: Value = response.json().await.unwrap();
        let incident = report["declared"][0].as_i64().unwrap_or_else(|| panic!("declared: {report}"));
        let needle = format!("\"incident\":{incident},");
        loop {
            if let Some(at) = buffer.find(&needle)
                && buffer[at..].split('\n').next().is_some_and(|line| line.contains("\"kind\":\"declared\""))
            {
                samples.push(sent.elapsed());
                buffer.clear();
                break;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await
                .expect("the event arrives within 10 s")
                .unwrap()
                .expect("the stream stays open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        // Resolved, so that the next alert on Checkout declares again rather than attaching.
        let resolved = admin
            .post(app.url(&format!("/api/v1/incidents/{incident}/transitions")))
            .json(&json!({"status": "resolved"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resolved.status(), 200);
    }
    samples.sort();
    println!(
        "POST of a critical alert -> auto-declared incident at an open SSE client, {DECLARATIONS} times:"
    );
    println!("  p50 {:.1} ms, p99 {:.1} ms", percentile(&samples, 50), percentile(&samples, 99));
}

async fn count_alerts(app: &TestApp, client: &reqwest::Client) -> usize {
    let mut count = 0;
    let mut next = Some("/api/v1/alerts?include_kept=true&include_silenced=true&limit=500".to_owned());
    while let Some(path) = next {
        let response = app.get(client, &path).await;
        next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split('<').nth(1))
            .and_then(|v| v.split('>').next())
            .map(str::to_owned);
        count += response.json::<Value>().await.unwrap().as_array().unwrap().len();
    }
    count
}

/// A session cookie for a bare client (the signed-in test client keeps its cookies to itself).
async fn session_cookie(app: &TestApp) -> String {
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = app.post_login(&bare, "bench@example.com", tests::PASSWORD).await;
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}
