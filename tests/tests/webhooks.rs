//! Webhook delivery against a local HTTP receiver started by the test: a
//! Slack-shaped delivery that succeeds, a retry after a 500, giving up after
//! the bound, and publishing that never waits for a receiver.

use app::domain::role::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tests::{Backend, spawn_app};

#[derive(Default)]
struct Received {
    ok: Vec<Value>,
    flaky_calls: u32,
    down_calls: u32,
}

type Shared = Arc<Mutex<Received>>;

async fn receiver() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route(
            "/ok",
            post(|State(s): State<Shared>, Json(body): Json<Value>| async move {
                s.lock().unwrap().ok.push(body);
                StatusCode::OK
            }),
        )
        .route(
            "/flaky",
            post(|State(s): State<Shared>| async move {
                let mut s = s.lock().unwrap();
                s.flaky_calls += 1;
                if s.flaky_calls == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }),
        )
        .route(
            "/down",
            post(|State(s): State<Shared>| async move {
                s.lock().unwrap().down_calls += 1;
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::OK
            }),
        )
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, shared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_delivered_retried_and_given_up_without_holding_up_publishing() {
    let (base, received) = receiver().await;
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    for (format, path) in
        [("slack", "/ok"), ("generic", "/flaky"), ("generic", "/down"), ("generic", "/slow")]
    {
        let url = format!("{base}{path}");
        let response = admin
            .post(app.url("/admin/webhooks"))
            .form(&[("audience", "public"), ("format", format), ("url", url.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{path}");
    }
    let refused = admin
        .post(app.url("/admin/webhooks"))
        .form(&[("audience", "public"), ("format", "slack"), ("url", "ftp://nowhere")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);

    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let incident: Value = ic
        .post(app.url("/api/v1/incidents"))
        .json(&json!({"title": "Checkout errors", "severity": "SEV2", "category": "application_failure"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = incident["id"].as_i64().unwrap();
    let started = Instant::now();
    let response = ic
        .post(app.url(&format!("/api/v1/incidents/{id}/updates")))
        .json(&json!({"audience": "public", "purpose": "investigating", "text": "Some payments fail; we are on it."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(started.elapsed() < Duration::from_secs(5), "publishing did not wait for the receivers");
    // An internal update goes to no public webhook.
    ic.post(app.url(&format!("/api/v1/incidents/{id}/updates")))
        .json(&json!({"audience": "internal", "purpose": "investigating", "text": "internal only"}))
        .send()
        .await
        .unwrap();

    tests::eventually("the Slack delivery", 10, || async {
        let r = received.lock().unwrap();
        r.ok.first()
            .map(|body| body["text"].as_str().unwrap_or_default().contains("Some payments fail"))
            .filter(|ok| *ok)
    })
    .await;
    let updates_path = format!("/api/v1/incidents/{id}/updates");
    let updates: Value = tests::eventually("the give-up after the bound", 30, || async {
        let updates: Value = app.get(&ic, &updates_path).await.json().await.ok()?;
        let public = updates.as_array()?.iter().find(|u| u["audience"] == "public")?.clone();
        let gave_up = public["deliveries"].as_array()?.iter().any(|d| d["outcome"] == "gave_up");
        gave_up.then_some(public)
    })
    .await;
    let deliveries = updates["deliveries"].as_array().unwrap();
    let flaky: Vec<&Value> =
        deliveries.iter().filter(|d| d["status_code"] == 500 && d["outcome"] == "retrying").collect();
    assert!(!flaky.is_empty(), "a 500 was retried: {deliveries:?}");
    assert!(
        deliveries.iter().filter(|d| d["outcome"] == "delivered").count() >= 2,
        "the Slack one and the flaky one on its retry"
    );
    let r = received.lock().unwrap();
    assert_eq!(r.flaky_calls, 2, "retried once after the 500");
    assert_eq!(r.down_calls, server::webhooks::ATTEMPTS, "gave up after the bound");
    assert_eq!(r.ok.len(), 1, "the internal update went to no public webhook");
}
