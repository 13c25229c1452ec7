//! Evidence capture at declaration: the time from the declaration's answer
//! to its evidence being on the incident's timeline, for an incident on a
//! crash-looping workload of 50 pods (spec, history, pods, events, Services,
//! logs of failing containers) and for a node with 110 pods, 20 runs each,
//! p50 and p99, with the size of what was captured.
//! Run: `cargo bench -p tests --bench evidence` (SQLite, the drill over HTTPS).

use app::domain::role::Role;
use serde_json::{Value, json};
use server::drill::fault_injection::{FaultKind, FaultRequest};
use server::drill::scenario::Scenario;
use std::time::{Duration, Instant};
use tests::{Backend, TestApp, TestDrill};

const RUNS: usize = 20;

/// One worker: a workload of 50 pods and 60 more, so that the node holds 110.
const SCENARIO: &str = r#"
name: evidence-bench
nodes:
  - name: cp-1
    roles: [control-plane]
  - name: worker-1
    cpu: "64"
    memory: 512Gi
    maxPods: 250
namespaces: [bench]
workloads:
  - namespace: bench
    name: api
    replicas: 50
    image: registry.example.com/bench/api:1.0.0
    port: 8080
  - namespace: bench
    name: filler
    replicas: 60
    image: registry.example.com/bench/filler:1.0.0
"#;

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Declares for `component`; the time until its evidence is listed, and its size.
async fn declare_and_wait(app: &TestApp, client: &reqwest::Client, component: &str) -> (Duration, u64) {
    let body = json!({"title": "bench", "severity": "SEV3", "category": "application_failure", "components": [component]});
    let response = client.post(app.url("/api/v1/incidents")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let started = Instant::now();
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    loop {
        let list: Value =
            app.get(client, &format!("/api/v1/incidents/{id}/evidence")).await.json().await.unwrap();
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            return (started.elapsed(), first["bytes"].as_u64().unwrap());
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no evidence after 30 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let scenario = Scenario::parse(SCENARIO).expect("the bench scenario reads");
    let drill = TestDrill::start_with_scenario(&scenario, server::drill::store::HISTORY_LEN, 110).await;
    let app = tests::spawn_app_on(Backend::Sqlite, &drill).await;
    let admin = app.signed_in("bench@example.com", Role::Admin).await;
    app.add_component(&admin, "API", "bench", "app=api").await;
    app.evaluated(&admin).await;
    let component = tests::eventually("the API component", 30, || async {
        let all: Value = app.get(&admin, "/api/v1/components").await.json().await.ok()?;
        all["components"].as_array()?.iter().find(|c| c["name"] == "API")?["key"].as_str().map(str::to_owned)
    })
    .await;
    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::Crashloop, target: "bench/api".into(), seconds: None })
        .unwrap();
    tests::eventually("the API in trouble", 60, || async {
        let all: Value = app.get(&admin, "/api/v1/components").await.json().await.ok()?;
        let api = all["components"].as_array()?.iter().find(|c| c["name"] == "API")?.clone();
        (api["status"] != "operational").then_some(())
    })
    .await;

    println!("evidence at declaration, {RUNS} runs each (SQLite, drill over HTTPS):");
    for (what, key) in
        [("workload, 50 pods (crash loop)", component.as_str()), ("node, 110 pods", "node/worker-1")]
    {
        let mut times = Vec::with_capacity(RUNS);
        let mut size = 0;
        for _ in 0..RUNS {
            let (took, bytes) = declare_and_wait(&app, &admin, key).await;
            times.push(took);
            size = bytes;
        }
        times.sort();
        println!(
            "  {what}: p50 {:.1} ms, p99 {:.1} ms, captured {:.1} KiB",
            percentile(&times, 50),
            percentile(&times, 99),
            size as f64 / 1024.0
        );
    }
}
