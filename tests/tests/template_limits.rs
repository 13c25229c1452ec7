//! A template built to write a gigabyte, rendered through the real server, is
//! refused while rendering: the process's peak memory grows by much less than
//! what the template would write. (Its own test binary, so that no other test
//! moves the peak.)

use app::domain::role::Role;
use serde_json::json;
use tests::{Backend, spawn_app};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_built_to_write_a_gigabyte_is_refused_within_50_mb() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let saved = admin
        .post(app.url("/api/v1/templates/internal/investigating"))
        .json(&json!({"body": "{% for c in 'x' * 1000 %}{{ 'y' * 1000000 }}{% endfor %}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200, "it checks: how much it writes is only known when it renders");
    let id = app.declare(&admin, json!({"title": "t", "severity": "SEV3", "category": "networking"})).await;
    let render = format!("/api/v1/incidents/{id}/updates/render");
    // Warm up the render path (the default template), then measure.
    let warm = admin
        .post(app.url(&render))
        .json(&json!({"audience": "internal", "purpose": "identified"}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let before = peak_rss_mib();
    let response = admin
        .post(app.url(&render))
        .json(&json!({"audience": "internal", "purpose": "investigating"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("produced more than"), "{body}");
    let grown = peak_rss_mib() - before;
    assert!(grown < 50.0, "peak memory grew by {grown:.1} MiB");

    let too_big = admin
        .post(app.url("/api/v1/templates/internal/identified"))
        .json(&json!({"body": "x".repeat(20_001)}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 422, "the template source itself is capped");
}
