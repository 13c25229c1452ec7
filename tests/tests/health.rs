//! Live cluster health against the drill cluster over HTTPS: faults change
//! component statuses with reasons, clearing them restores them, an API
//! outage marks the data stale and recovers, and Server-Sent Events resume
//! after a reconnect without losing a change.

use app::domain::role::Role;
use serde_json::Value;
use server::drill::fault_injection::{FaultKind, FaultRequest};
use tests::{Backend, TestApp, TestDrill, eventually, spawn_app_on};

async fn components(app: &TestApp, client: &reqwest::Client) -> Value {
    let response = app.get(client, "/api/v1/components").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn component(app: &TestApp, client: &reqwest::Client, name: &str) -> Option<Value> {
    let all = components(app, client).await;
    all["components"].as_array()?.iter().find(|c| c["name"] == name).cloned()
}

/// Waits until the component named `name` has one of `statuses`; returns it.
async fn wait_for_status(app: &TestApp, client: &reqwest::Client, name: &str, statuses: &[&str]) -> Value {
    eventually(&format!("{name} to reach {statuses:?}"), 20, || async {
        component(app, client, name).await.filter(|c| statuses.iter().any(|s| c["status"] == *s))
    })
    .await
}

fn fault(kind: FaultKind, target: &str) -> FaultRequest {
    FaultRequest { kind, target: target.into(), seconds: None }
}

async fn checkout_app(drill: &TestDrill, backend: Backend) -> (TestApp, reqwest::Client) {
    let app = spawn_app_on(backend, drill).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    app.add_checkout(&admin).await;
    wait_for_status(&app, &admin, "Checkout", &["operational"]).await;
    (app, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_deployment_takes_its_component_down_with_the_pod_named_and_clearing_restores_it() {
    let drill = TestDrill::start().await;
    let (app, client) = checkout_app(&drill, Backend::Sqlite).await;

    drill.cluster.inject(&fault(FaultKind::Crashloop, "shop/checkout")).unwrap();
    let down = wait_for_status(&app, &client, "Checkout", &["partial_outage", "major_outage"]).await;
    let reasons = down["reasons"].as_array().unwrap();
    assert!(
        reasons.iter().any(|r| r["subject"].as_str().unwrap().starts_with("pod shop/checkout-")
            && r["detail"].as_str().unwrap().contains("CrashLoopBackOff")),
        "a reason names the crashing pod: {reasons:?}"
    );

    drill.cluster.clear(&fault(FaultKind::Crashloop, "shop/checkout")).unwrap();
    wait_for_status(&app, &client, "Checkout", &["operational"]).await;

    let history: Value =
        app.get(&client, "/api/v1/components/service/1/uptime?days=3").await.json().await.unwrap();
    let today = history["days"].as_array().unwrap().last().unwrap().clone();
    assert!(today["millis"]["operational"].as_i64().unwrap() > 0, "{today}");
    assert!(
        today["millis"]["partial_outage"].as_i64().unwrap()
            + today["millis"]["major_outage"].as_i64().unwrap()
            > 0,
        "the outage is in today's history: {today}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_going_not_ready_takes_down_its_component_and_degrades_the_services_on_it() {
    let drill = TestDrill::start().await;
    let (app, client) = checkout_app(&drill, Backend::Sqlite).await;
    let pod = drill
        .cluster
        .store
        .list(server::drill::resources::PODS, &Default::default(), None, None)
        .unwrap()
        .items
        .into_iter()
        .find(|p| p["metadata"]["name"].as_str().unwrap().starts_with("checkout-"))
        .unwrap();
    let node = pod["spec"]["nodeName"].as_str().unwrap().to_owned();

    drill.cluster.inject(&fault(FaultKind::NodeNotready, &node)).unwrap();
    let down = wait_for_status(&app, &client, &node, &["major_outage"]).await;
    assert!(down["reasons"][0]["detail"].as_str().unwrap().contains("NotReady"), "{down}");
    let checkout = wait_for_status(
        &app,
        &client,
        "Checkout",
        &["degraded_performance", "partial_outage", "major_outage"],
    )
    .await;
    assert!(checkout["reasons"].to_string().contains(&node), "the reasons name the node: {checkout}");

    drill.cluster.clear(&fault(FaultKind::NodeNotready, &node)).unwrap();
    wait_for_status(&app, &client, &node, &["operational"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_marks_the_data_stale_within_seconds_and_recovers_by_itself() {
    let drill = TestDrill::start().await;
    let (app, client) = checkout_app(&drill, Backend::Sqlite).await;

    let outage = tokio::time::Instant::now();
    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::ApiDown, target: String::new(), seconds: Some(60) })
        .unwrap();
    let stale = eventually("the data to be marked stale", 10, || async {
        let all = components(&app, &client).await;
        (all["cluster"]["stale"] == true && all["cluster"]["link"] == "unreachable").then_some(all)
    })
    .await;
    assert!(outage.elapsed().as_secs() < 5, "stale within 5 s, took {:?}", outage.elapsed());
    assert!(stale["cluster"]["last_contact"].is_i64(), "the age of the data is known: {stale}");
    let page = app.get(&client, "/").await.text().await.unwrap();
    assert!(page.contains("Cluster unreachable since"), "the dashboard says so");
    assert!(page.contains("What is shown is stale"), "and shows the age");

    drill
        .cluster
        .clear(&FaultRequest { kind: FaultKind::ApiDown, target: String::new(), seconds: None })
        .unwrap();
    eventually("the connection to recover", 20, || async {
        let all = components(&app, &client).await;
        (all["cluster"]["link"] == "connected").then_some(())
    })
    .await;
    let page = app.get(&client, "/").await.text().await.unwrap();
    assert!(page.contains("Connected to the cluster"));
}

/// Reads SSE events until `until` says stop; returns (id, kind, data) of each.
async fn read_events(
    response: reqwest::Response,
    mut until: impl FnMut(&[(Option<i64>, String, String)]) -> bool,
) -> Vec<(Option<i64>, String, String)> {
    let mut response = response;
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !until(&events) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("events arrive in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    kind = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            if !block.starts_with(':') {
                events.push((id, kind, data));
            }
        }
    }
    events
}

async fn sse_resumes_with_last_event_id(backend: Backend) {
    let drill = TestDrill::start().await;
    let (app, client) = checkout_app(&drill, backend).await;
    let anonymous = app.client().get(app.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // First connection: sees the crash loop take Checkout down.
    let first = client.get(app.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    drill.cluster.inject(&fault(FaultKind::Crashloop, "shop/checkout")).unwrap();
    let seen = read_events(first, |events| {
        events.iter().any(|(_, kind, data)| kind == "component" && data.contains("\"name\":\"Checkout\""))
    })
    .await;
    let last_id = seen.iter().rev().find_map(|(id, _, _)| *id).expect("stored events carry ids");

    // Disconnected (the stream was dropped): the fault is cleared meanwhile.
    drill.cluster.clear(&fault(FaultKind::Crashloop, "shop/checkout")).unwrap();
    wait_for_status(&app, &client, "Checkout", &["operational"]).await;

    // Reconnect with Last-Event-ID: the missed recovery comes first, nothing repeated.
    let second = client
        .get(app.url("/api/v1/events"))
        .header("Last-Event-ID", last_id.to_string())
        .send()
        .await
        .unwrap();
    let replayed = read_events(second, |events| {
        events.iter().any(|(_, kind, data)| {
            kind == "component"
                && data.contains("\"name\":\"Checkout\"")
                && data.contains("\"status\":\"operational\"")
        })
    })
    .await;
    let ids: Vec<i64> = replayed.iter().filter_map(|(id, _, _)| *id).collect();
    assert!(ids.iter().all(|id| *id > last_id), "nothing at or before {last_id} again: {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_resumes_with_last_event_id_on_sqlite() {
    sse_resumes_with_last_event_id(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_resumes_with_last_event_id_on_postgres() {
    sse_resumes_with_last_event_id(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_event_id_that_cannot_be_continued_gets_a_reset() {
    let app = tests::spawn_app(Backend::Sqlite).await;
    let client = app.signed_in("oncall@example.com", Role::Responder).await;
    for last in ["99999999999999999999999", "-5", "not a number", "9223372036854775807"] {
        let stream =
            client.get(app.url("/api/v1/events")).header("Last-Event-ID", last).send().await.unwrap();
        assert_eq!(stream.status(), 200, "{last}");
        let events = read_events(stream, |events| !events.is_empty()).await;
        assert_eq!(events[0].1, "reset", "Last-Event-ID {last:?}: {events:?}");
    }
}
