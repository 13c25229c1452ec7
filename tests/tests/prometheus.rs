//! Alerts through the real programs teams run: Debian's Alertmanager with
//! Wheelhouse as its webhook receiver (bearer token, send_resolved), fed
//! through its own API, so grouping, repeats and resolution arrive as
//! Alertmanager sends them; and Debian's Prometheus scraping the drill
//! cluster's /metrics with the shipped rules (their `for:` and look-back
//! windows shortened here only), so a crash loop becomes an incident with
//! no human step, and clearing it resolves the alert.

use app::domain::role::Role;
use serde_json::{Value, json};
use server::drill::fault_injection::{FaultKind, FaultRequest};
use tests::{Backend, Daemon, TestApp, TestDrill, eventually, free_port};

/// Alertmanager with one route to Wheelhouse, grouping by alertname and namespace, quickly.
async fn alertmanager(app: &TestApp, token: &str) -> (Daemon, String) {
    let port = free_port();
    let config = format!(
        r#"route:
  receiver: wheelhouse
  group_by: [alertname, namespace]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: wheelhouse
    webhook_configs:
      - url: {url}
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"#,
        url = app.url("/api/v1/alerts/alertmanager")
    );
    let daemon = Daemon::start(
        "alertmanager",
        "prometheus-alertmanager",
        &[("alertmanager.yml", &config)],
        &[
            "--config.file={dir}/alertmanager.yml".into(),
            "--storage.path={dir}/data".into(),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".into(),
        ],
    );
    let url = format!("http://127.0.0.1:{port}");
    ready(&daemon, &format!("{url}/-/ready")).await;
    (daemon, url)
}

async fn ready(daemon: &Daemon, url: &str) {
    let client = reqwest::Client::new();
    eventually(&format!("{} to start (its log is in {})", daemon.name, daemon.dir.display()), 30, || async {
        client.get(url).send().await.ok().filter(|r| r.status().is_success()).map(|_| ())
    })
    .await;
}

/// Pushes alerts into Alertmanager through its own API, as Prometheus does.
async fn push(alertmanager: &str, alerts: &Value) {
    let response = reqwest::Client::new()
        .post(format!("{alertmanager}/api/v2/alerts"))
        .json(alerts)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "Alertmanager took the alerts: {}",
        response.text().await.unwrap()
    );
}

async fn stored(client: &reqwest::Client, app: &TestApp) -> Vec<Value> {
    let response = app.get(client, "/api/v1/alerts?include_kept=true&include_silenced=true").await;
    response.json::<Value>().await.unwrap().as_array().cloned().unwrap_or_default()
}

async fn people(app: &TestApp) -> (reqwest::Client, String) {
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let token = app.api_token(&admin, "alertmanager", "alerts").await;
    (admin, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_delivers_groups_repeats_and_resolutions_to_wheelhouse() {
    let app = tests::spawn_app(Backend::Sqlite).await;
    let (admin, token) = people(&app).await;
    let (am, am_url) = alertmanager(&app, &token).await;
    let now = time::OffsetDateTime::now_utc();
    let stamp = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let alerts = json!([
        {"labels": {"alertname": "KubeDeploymentReplicasMismatch", "severity": "warning", "namespace": "shop", "deployment": "checkout"},
         "annotations": {"summary": "checkout short of replicas"}, "startsAt": stamp(now), "generatorURL": "http://prometheus.example.com/graph"},
        {"labels": {"alertname": "KubeDeploymentReplicasMismatch", "severity": "warning", "namespace": "shop", "deployment": "storefront"},
         "annotations": {"summary": "storefront short of replicas"}, "startsAt": stamp(now), "generatorURL": "http://prometheus.example.com/graph"},
        {"labels": {"alertname": "KubeNodeNotReady", "severity": "warning", "node": "worker-3"},
         "annotations": {"summary": "worker-3 not ready"}, "startsAt": stamp(now)},
    ]);
    push(&am_url, &alerts).await;
    let arrived = eventually("Alertmanager's deliveries", 30, || async {
        let all = stored(&admin, &app).await;
        (all.len() == 3).then_some(all)
    })
    .await;
    let group_of =
        |name: &str| arrived.iter().find(|a| a["labels"]["deployment"] == name).unwrap()["group_key"].clone();
    assert_eq!(
        group_of("checkout"),
        group_of("storefront"),
        "grouped by alertname and namespace, as Alertmanager grouped them"
    );
    let node = arrived.iter().find(|a| a["name"] == "KubeNodeNotReady").unwrap();
    assert_ne!(node["group_key"], group_of("checkout"));
    assert_eq!(node["component"], "node/worker-3");
    assert!(
        arrived.iter().all(|a| a["fingerprint"].as_str().is_some_and(|f| f.len() == 16)),
        "Alertmanager's fingerprints"
    );

    // Resolution: Prometheus sends the alerts with an end time; Alertmanager sends them
    // resolved, and with checkout's, the whole shop group again: storefront is a repeat.
    let storefront_seen =
        arrived.iter().find(|a| a["labels"]["deployment"] == "storefront").unwrap()["last_seen"].clone();
    let ended = json!(stamp(time::OffsetDateTime::now_utc()));
    let (mut checkout, mut node) = (alerts[0].clone(), alerts[2].clone());
    checkout["endsAt"] = ended.clone();
    node["endsAt"] = ended;
    push(&am_url, &json!([checkout, node])).await;
    let after = eventually("the resolutions and the repeat", 30, || async {
        let all = stored(&admin, &app).await;
        let status = |f: &dyn Fn(&Value) -> bool| all.iter().find(|a| f(a)).map(|a| a["status"].clone());
        let repeated = all.iter().any(|a| {
            a["labels"]["deployment"] == "storefront" && a["last_seen"].as_i64() > storefront_seen.as_i64()
        });
        let done = status(&|a| a["name"] == "KubeNodeNotReady") == Some(json!("resolved"))
            && status(&|a| a["labels"]["deployment"] == "checkout") == Some(json!("resolved"))
            && repeated;
        done.then_some(all)
    })
    .await;
    assert_eq!(after.len(), 3, "repeats never duplicate");
    let page = app.get(&admin, "/alerts").await.text().await.unwrap();
    assert!(
        page.contains("alertname=KubeDeploymentReplicasMismatch, namespace=shop"),
        "the inbox shows the group"
    );
    drop(am);
}

/// Prometheus scraping the drill over HTTPS with its bearer token, with the shipped rules (timings shortened).
async fn prometheus(drill: &TestDrill, alertmanager: &str) -> Daemon {
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/prometheus/wheelhouse-rules.yaml"
    ))
    .unwrap();
    // Test timings only: `for:` of a few seconds and short look-back windows.
    let mut quick = String::new();
    for line in rules.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("for:") {
            quick.push_str(&line.replace(trimmed, "for: 3s"));
        } else {
            quick.push_str(&line.replace("[5m]", "[10s]").replace("[10m]", "[10s]"));
        }
        quick.push('\n');
    }
    let port = free_port();
    let address = drill.url.trim_start_matches("https://");
    let config = format!(
        r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yaml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{alertmanager}"]
scrape_configs:
  - job_name: kube-state-metrics
    scheme: https
    tls_config:
      ca_file: drill-ca.pem
    authorization:
      credentials: {token}
    static_configs:
      - targets: ["{address}"]
"#,
        alertmanager = alertmanager.trim_start_matches("http://"),
        token = drill.cluster.token,
    );
    let daemon = Daemon::start(
        "prometheus",
        "prometheus",
        &[("prometheus.yml", &config), ("rules.yaml", &quick), ("drill-ca.pem", &drill.ca_pem)],
        &[
            "--config.file={dir}/prometheus.yml".into(),
            "--storage.tsdb.path={dir}/data".into(),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ],
    );
    ready(&daemon, &format!("http://127.0.0.1:{port}/-/ready")).await;
    daemon
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_seen_by_prometheus_becomes_an_incident_on_checkout_with_no_human_step() {
    let drill = TestDrill::start().await;
    let app = tests::spawn_app_on(Backend::Sqlite, &drill).await;
    let (admin, token) = people(&app).await;
    app.add_checkout(&admin).await;
    let (_am, am_url) = alertmanager(&app, &token).await;
    let prometheus = prometheus(&drill, &am_url).await;

    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None })
        .unwrap();
    let incident = eventually("an incident declared from KubePodCrashLooping", 90, || async {
        let incidents: Value = app.get(&admin, "/api/v1/incidents?active=true").await.json().await.ok()?;
        incidents.as_array()?.first().cloned()
    })
    .await;
    assert_eq!(incident["components"][0]["name"], "Checkout", "{incident}");
    assert_eq!(incident["commander"], Value::Null, "declared by the pipeline, nobody in command yet");
    assert_eq!(incident["declared_by"], "token:alertmanager");
    let crash = stored(&admin, &app)
        .await
        .into_iter()
        .find(|a| a["name"] == "KubePodCrashLooping")
        .expect("the alert is kept");
    assert_eq!(crash["labels"]["reason"], "CrashLoopBackOff");
    assert!(crash["annotations"]["runbook_url"].as_str().unwrap().contains("kubepodcrashlooping"));
    assert!(crash["source_url"].as_str().unwrap().contains("/graph"), "Prometheus's generator URL: {crash}");

    drill
        .cluster
        .clear(&FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None })
        .unwrap();
    eventually("the crash-loop alert to resolve", 90, || async {
        let all = stored(&admin, &app).await;
        all.iter()
            .filter(|a| a["name"] == "KubePodCrashLooping")
            .all(|a| a["status"] == "resolved")
            .then_some(())
    })
    .await;
    let id = incident["id"].as_i64().unwrap();
    let timeline: Value =
        app.get(&admin, &format!("/api/v1/incidents/{id}/timeline")).await.json().await.unwrap();
    let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"alert_resolved"),
        "{kinds:?}\n{}",
        prometheus.log().lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
}
