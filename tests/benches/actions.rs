//! Action latency: from sending a confirmation to the change being visible
//! in Wheelhouse's own watch of the drill cluster, for cordon/uncordon and
//! for scale, 100 runs each. Prints median, p99 and max.
//! Run: `cargo bench -p tests --bench actions`.

use app::domain::account::{Email, NewPassword};
use app::domain::role::Role;
use serde_json::{Value, json};
use server::cluster::watch::Live;
use server::startup::Application;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::{Backend, PASSWORD, TestDatabase, TestDrill, settings_on_drill};

const RUNS: usize = 100;

struct Bench {
    client: reqwest::Client,
    base: String,
    live: Arc<Live>,
}

impl Bench {
    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self.client.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// Plans and previews, then times confirm → `visible` true in the live state.
    async fn time(&self, incident: i64, body: Value, visible: impl Fn(&Live) -> bool) -> Duration {
        let actions = format!("/api/v1/incidents/{incident}/actions");
        let action = self.post(&actions, body).await;
        let id = action["id"].as_i64().unwrap();
        self.post(&format!("{actions}/{id}/preview"), json!({})).await;
        let started = Instant::now();
        let confirm = {
            let client = self.client.clone();
            let url = format!("{}{actions}/{id}/confirm", self.base);
            tokio::spawn(async move {
                client.post(url).json(&json!({"idempotency_key": format!("bench-{id}")})).send().await
            })
        };
        while !visible(&self.live) {
            if started.elapsed() > Duration::from_secs(30) {
                let answer = confirm.await.unwrap().unwrap().text().await.unwrap();
                panic!("the change never became visible; the confirmation answered {answer}");
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let elapsed = started.elapsed();
        let response = confirm.await.unwrap().unwrap();
        assert!(response.status().is_success());
        elapsed
    }
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    println!(
        "  {name:<8} median {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} runs)",
        ms(samples[samples.len() / 2]),
        ms(p99),
        ms(*samples.last().unwrap()),
        samples.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let drill = TestDrill::start().await;
    let (_database, database_url) = TestDatabase::create(Backend::Sqlite).await;
    let app = Application::build(settings_on_drill(&database_url, &drill)).await.unwrap();
    let live = app.live.clone();
    let base = format!("http://{}", app.address());
    app.accounts
        .create_user(
            &Email::parse("ic@example.com").unwrap(),
            &NewPassword::parse(PASSWORD).unwrap(),
            Role::Responder,
        )
        .await
        .unwrap();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    client
        .post(format!("{base}/login"))
        .form(&[("email", "ic@example.com"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    let bench = Bench { client, base, live };
    let incident = bench
        .post(
            "/api/v1/incidents",
            json!({"title": "bench", "severity": "SEV4", "category": "infrastructure_node"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    println!("action latency: confirmation → visible in Wheelhouse's watch ({RUNS} runs each)");

    let mut cordon = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let on = i % 2 == 0;
        let body = json!({"action": if on { "cordon" } else { "uncordon" }, "node": "worker-4"});
        cordon.push(
            bench
                .time(incident, body, |live| {
                    live.read().nodes.get("worker-4").is_some_and(|n| n.unschedulable == on)
                })
                .await,
        );
    }
    report("cordon", cordon);

    let mut scale = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let replicas: u32 = if i % 2 == 0 { 4 } else { 3 };
        let body = json!({"action": "scale", "workload": "deployment/shop/cart", "replicas": replicas});
        scale.push(
            bench
                .time(incident, body, |live| {
                    live.read()
                        .workloads
                        .values()
                        .any(|w| w.namespace == "shop" && w.name == "cart" && w.desired == replicas)
                })
                .await,
        );
    }
    report("scale", scale);
}
