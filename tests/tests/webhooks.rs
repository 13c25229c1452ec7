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

/// Each delivery's headers and raw body, as received.
type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// A receiver that records each delivery's headers and raw body, and a path that redirects.
async fn recording_receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/signed",
            post(|State(s): State<Seen>, headers: axum::http::HeaderMap, body: String| async move {
                s.lock().unwrap().push((headers, body));
                StatusCode::OK
            }),
        )
        .route("/moved", post(|| async { (StatusCode::TEMPORARY_REDIRECT, [("location", "/signed")]) }))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

async fn add_webhook(app: &tests::TestApp, admin: &reqwest::Client, url: &str) -> reqwest::Response {
    admin
        .post(app.url("/admin/webhooks"))
        .form(&[("audience", "public"), ("format", "generic"), ("url", url)])
        .send()
        .await
        .unwrap()
}

/// Declares an incident and publishes one public update; returns the incident id.
async fn publish(app: &tests::TestApp, text: &str) -> i64 {
    let ic = app
        .signed_in(
            &format!("ic-{}@example.com", server::accounts::generate_secret(6).to_lowercase()),
            Role::Responder,
        )
        .await;
    let id = app
        .declare(
            &ic,
            json!({"title": "Checkout errors", "severity": "SEV2", "category": "application_failure"}),
        )
        .await;
    let response = ic
        .post(app.url(&format!("/api/v1/incidents/{id}/updates")))
        .json(&json!({"audience": "public", "purpose": "investigating", "text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    id
}

async fn delivery_log(app: &tests::TestApp, admin: &reqwest::Client) -> String {
    app.get(admin, "/admin/webhooks").await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_carry_a_stable_id_and_never_follow_redirects() {
    let (base, seen) = recording_receiver().await;
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    assert_eq!(add_webhook(&app, &admin, &format!("{base}/signed")).await.status(), 303);
    assert_eq!(add_webhook(&app, &admin, &format!("{base}/moved")).await.status(), 303);
    assert_eq!(
        add_webhook(&app, &admin, "http://127.0.0.1:1/hooks/T000/B000/secret-path").await.status(),
        303
    );
    let page = delivery_log(&app, &admin).await;
    let at = page.find("whsec_").expect("the admin page shows the signing secret");
    let secret: String = page[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();

    publish(&app, "Payments fail for some customers.").await;
    let (headers, body) =
        tests::eventually("the signed delivery", 20, || async { seen.lock().unwrap().first().cloned() })
            .await;
    let delivery = headers["x-wheelhouse-delivery"].to_str().unwrap();
    assert!(delivery.starts_with("dlv_"), "{delivery}");
    let signature = headers["x-wheelhouse-signature"].to_str().unwrap();
    let (t, v1) = signature.split_once(',').unwrap();
    let timestamp = t.strip_prefix("t=").unwrap();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v1.strip_prefix("v1=").unwrap(), expected, "HMAC-SHA256 of the timestamp, a dot and the body");
    assert!(body.contains("Payments fail for some customers."));

    // The redirect was not followed, and no error names a URL (for Slack, the URL is the secret).
    let log = tests::eventually("the failed attempts in the log", 20, || async {
        let page = delivery_log(&app, &admin).await;
        (page.contains("HTTP 307") && page.contains("could not connect to the receiver")).then_some(page)
    })
    .await;
    assert!(log.contains("HTTP 307"));
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    let errors: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT error FROM webhook_deliveries").fetch_all(&db.pool).await.unwrap();
    for (error,) in errors.iter().filter(|(e,)| e.is_some()) {
        let error = error.as_deref().unwrap();
        assert!(
            !error.contains("secret-path") && !error.contains("127.0.0.1"),
            "an error names the URL: {error}"
        );
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "the redirect to /signed was not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_cannot_reach_into_wheelhouses_own_network() {
    let (base, seen) = recording_receiver().await;
    let app = tests::spawn_app_with(Backend::Sqlite, |settings| settings.webhook_allow = None).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6443/api",
        "http://[::1]:8080/",
        "http://10.0.0.1/",
    ] {
        let response = add_webhook(&app, &admin, url).await;
        assert_eq!(response.status(), 422, "{url}");
        assert!(response.text().await.unwrap().contains("--webhook-allow"));
    }
    // A name is checked when connecting: localhost resolves to loopback.
    let port = base.rsplit(':').next().unwrap();
    assert_eq!(add_webhook(&app, &admin, &format!("http://localhost:{port}/signed")).await.status(), 303);
    publish(&app, "Refused at connect time.").await;
    tests::eventually("the refusal in the delivery log", 30, || async {
        delivery_log(&app, &admin).await.contains("the destination is not allowed").then_some(())
    })
    .await;
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the loopback receiver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_webhook_stops_its_pending_deliveries() {
    let (base, received) = receiver().await;
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    assert_eq!(add_webhook(&app, &admin, &format!("{base}/down")).await.status(), 303);
    publish(&app, "Into a receiver that is down.").await;
    tests::eventually("a first failed attempt", 20, || async {
        (received.lock().unwrap().down_calls >= 1).then_some(())
    })
    .await;
    let page = delivery_log(&app, &admin).await;
    let at = page.find("/admin/webhooks/").unwrap() + "/admin/webhooks/".len();
    let id: String = page[at..].chars().take_while(char::is_ascii_digit).collect();
    let deleted =
        admin.post(app.url(&format!("/admin/webhooks/{id}/delete"))).form(&[("x", "")]).send().await.unwrap();
    assert_eq!(deleted.status(), 303);
    // Its queued deliveries went in the same transaction: nothing is left for the worker to
    // retry (at most an attempt already under way finishes).
    let calls = received.lock().unwrap().down_calls;
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    let (pending,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_outbox").fetch_one(&db.pool).await.unwrap();
    assert_eq!(pending, 0);
    assert!(received.lock().unwrap().down_calls <= calls + 1, "no retries after the webhook is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_published_just_before_a_crash_is_delivered_after_the_restart_once() {
    let (base, seen) = recording_receiver().await;
    let mut app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    assert_eq!(add_webhook(&app, &admin, &format!("{base}/signed")).await.status(), 303);
    let id = publish(&app, "Delivered as usual.").await;
    tests::eventually("the first delivery", 20, || async { (seen.lock().unwrap().len() == 1).then_some(()) })
        .await;
    app.stop().await;

    // The process stopped after this update committed with the timeline and
    // before its deliveries were queued (kill -9 between the two transactions).
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    let payload = json!({"kind": "update_posted", "audience": "public", "purpose": "identified",
        "text": "Published just before the crash."});
    let (event,): (i64,) = sqlx::query_as(
        "INSERT INTO incident_events (incident_id, at, actor, kind, payload) \
         VALUES ($1, $2, 'ic@example.com', 'update_posted', $3) RETURNING id",
    )
    .bind(id)
    .bind(server::db::now_millis())
    .bind(payload.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();

    // Starting again on the same database queues it: delivered once, under the public title.
    let (_, _, _, restarted) = tests::start_server(&app.database_url).await;
    let body = tests::eventually("the missed update delivered", 30, || async {
        let seen = seen.lock().unwrap();
        seen.iter()
            .find(|(_, body)| body.contains("Published just before the crash."))
            .map(|(_, b)| b.clone())
    })
    .await;
    assert!(!body.contains("Checkout errors"), "a public receiver never sees the internal title: {body}");
    let (marked,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_fanout WHERE event_id = $1")
        .bind(event)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(marked, 1);
    let delivered = tests::eventually("the delivery in the log", 20, || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE event_id = $1 AND outcome = 'delivered'",
        )
        .bind(event)
        .fetch_one(&db.pool)
        .await
        .ok()?;
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(delivered, 1, "one delivery for the one webhook, not one per process");
    let texts: Vec<String> = seen.lock().unwrap().iter().map(|(_, body)| body.clone()).collect();
    assert_eq!(
        texts.iter().filter(|b| b.contains("Delivered as usual.")).count(),
        1,
        "the first update was not sent again"
    );
    assert_eq!(texts.iter().filter(|b| b.contains("just before the crash")).count(), 1);
    restarted.abort();
    db.pool.close().await;
}
