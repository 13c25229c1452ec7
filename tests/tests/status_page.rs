//! The public status page and its feeds: public data only (leak tests on
//! every route and format), refreshed when something changes, with ETags and
//! Cache-Control, and past incidents on the history page.

use app::domain::role::Role;
use serde_json::{Value, json};
use tests::{TestApp, on_both_backends};

const PUBLIC_ROUTES: [&str; 11] = [
    "/status",
    "/status/history",
    "/status/feed.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/status/maintenance.ics",
];

/// What must never appear publicly.
const SECRETS: [&str; 9] = [
    // A maintenance window's planned actions (here, a cordon of worker-2) are internal.
    "worker-2",
    // The internal title: the public sees the public title only.
    "Checkout payments failing",
    "ic@example.com",
    "comms@example.com",
    "NOTE-SECRET",
    "INTERNAL-SECRET",
    "EXEC-SECRET",
    "SUMMARY-SECRET",
    "Secret backend",
];

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, body: Value) -> Value {
    let response = client.post(app.url(path)).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.unwrap_or(Value::Null)
}

async fn public_text(app: &TestApp, path: &str) -> (u16, String) {
    let response = reqwest::get(app.url(path)).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// An incident on Checkout and an internal component, with every kind of private text around one public update.
async fn incident_with_secrets(app: &TestApp) -> (i64, reqwest::Client) {
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let response = admin
        .post(app.url("/admin/components"))
        .form(&[
            ("name", "Secret backend"),
            ("namespace", "payments"),
            ("selector", "app=fraud-check"),
            ("visibility", "internal"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    app.create_user("comms@example.com", Role::Responder).await;
    let components = tests::eventually("Checkout and Secret backend on the board", 30, || async {
        let all: Value = app.get(&ic, "/api/v1/components").await.json().await.ok()?;
        let key = |name: &str| {
            all["components"].as_array()?.iter().find(|c| c["name"] == name).map(|c| c["key"].clone())
        };
        Some(vec![key("Checkout")?, key("Secret backend")?])
    })
    .await;
    let incident = post(
        app,
        &ic,
        "/api/v1/incidents",
        json!({
            "title": "Checkout payments failing", "severity": "SEV2", "category": "application_failure",
            "components": components, "summary": "SUMMARY-SECRET: checkout-7d9f OOM",
        }),
    )
    .await;
    let id = incident["id"].as_i64().unwrap();
    post(
        app,
        &ic,
        &format!("/api/v1/incidents/{id}/roles"),
        json!({"email": "comms@example.com", "role": "communications_lead"}),
    )
    .await;
    post(
        app,
        &ic,
        &format!("/api/v1/incidents/{id}/notes"),
        json!({"text": "NOTE-SECRET ssh into node", "decision": true}),
    )
    .await;
    for (audience, text) in [("internal", "INTERNAL-SECRET update"), ("executive", "EXEC-SECRET briefing")] {
        post(
            app,
            &ic,
            &format!("/api/v1/incidents/{id}/updates"),
            json!({"audience": audience, "purpose": "investigating", "text": text}),
        )
        .await;
    }
    post(
        app,
        &ic,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({
            "audience": "public", "purpose": "identified", "move_status": true,
            "text": "Some card payments fail at checkout. We have found the cause.",
        }),
    )
    .await;
    // Maintenance on Checkout and the internal component, planned by ic@example.com with a
    // cordon: the public sees its title, description, times and Checkout, nothing else.
    let now = server::db::now_millis();
    let hours = |h: i64| app::domain::calendar::date_time_input(now + h * 3_600_000);
    post(
        app,
        &ic,
        "/api/v1/maintenance",
        json!({
            "title": "Database upgrade", "description": "Payments may be slow for a few minutes.",
            "starts_at": hours(1), "ends_at": hours(2), "components": components,
            "actions": [{"phase": "start", "action": "cordon", "node": "worker-2"}],
        }),
    )
    .await;
    tests::eventually("the maintenance on /status", 20, || async {
        let (_, html) = public_text(app, "/status").await;
        html.contains("Database upgrade").then_some(())
    })
    .await;
    (id, ic)
}

on_both_backends! {
    async fn the_public_update_reaches_every_public_format_and_nothing_private_does(app) {
        let (id, _) = incident_with_secrets(&app).await;
        tests::eventually("the public update on /status", 20, || async {
            let (_, html) = public_text(&app, "/status").await;
            html.contains("Some card payments fail at checkout.").then_some(())
        })
        .await;
        for path in PUBLIC_ROUTES {
            let (status, text) = public_text(&app, path).await;
            assert_eq!(status, 200, "{path}");
            for secret in SECRETS {
                assert!(!text.contains(secret), "{path} leaks {secret}");
            }
        }
        let (_, html) = public_text(&app, "/status").await;
        assert!(html.contains("Checkout") && html.contains("identified"));
        assert!(html.contains("Service disruption: Checkout"), "the neutral public title, not the internal one");
        assert!(html.contains("id=\"overall\""), "the overall banner");
        assert!(!html.contains("<script"), "no JavaScript needed");

        let summary: Value = reqwest::get(app.url("/api/v2/summary.json")).await.unwrap().json().await.unwrap();
        let incident = &summary["incidents"][0];
        assert_eq!(incident["id"], id.to_string());
        assert_eq!(incident["status"], "identified");
        assert_eq!(incident["impact"], "major");
        assert!(incident["incident_updates"][0]["body"].as_str().unwrap().starts_with("Some card payments fail"));
        assert_eq!(incident["components"].as_array().unwrap().len(), 1, "only the public component");
        let names: Vec<&str> = summary["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"Checkout") && !names.contains(&"Search indexer"), "public components only: {names:?}");
        assert!(["none", "minor", "major", "critical"].contains(&summary["status"]["indicator"].as_str().unwrap()));
        let feed = public_text(&app, "/status/feed.atom").await.1;
        assert!(feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">") && feed.contains("Some card payments fail"));
    }

    async fn a_resolved_incident_moves_to_the_history_page(app) {
        let (id, ic) = incident_with_secrets(&app).await;
        post(&app, &ic, &format!("/api/v1/incidents/{id}/updates"), json!({
            "audience": "public", "purpose": "resolved", "move_status": true, "text": "All fixed now.",
            "public_title": "Card payments failed at checkout",
        }))
        .await;
        let html = tests::eventually("the incident on the history page", 20, || async {
            let (_, html) = public_text(&app, "/status/history").await;
            html.contains("All fixed now.").then_some(html)
        })
        .await;
        assert!(html.contains("Card payments failed at checkout"), "the public title chosen at an update");
        let timeline: Value = app.get(&ic, &format!("/api/v1/incidents/{id}/timeline")).await.json().await.unwrap();
        let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "public_title_set").count(), 2, "set at the first public update, then changed: {kinds:?}");
        let summary: Value = reqwest::get(app.url("/api/v2/summary.json")).await.unwrap().json().await.unwrap();
        assert_eq!(summary["incidents"].as_array().unwrap().len(), 0, "no active incident");
    }
}

#[tokio::test]
async fn answers_carry_an_etag_and_cache_control_and_revalidate_with_304() {
    let app = tests::spawn_app(tests::Backend::Sqlite).await;
    let client = reqwest::Client::new();
    for path in PUBLIC_ROUTES {
        let first = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
        assert!(first.headers()["cache-control"].to_str().unwrap().contains("max-age"), "{path}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again = client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert!(again.status() == 304 || again.headers()["etag"] != etag.as_str(), "{path}: revalidates");
    }
}

#[tokio::test]
async fn clients_that_take_gzip_get_the_same_document_compressed_with_its_own_etag() {
    use std::io::Read;
    let app = tests::spawn_app(tests::Backend::Sqlite).await;
    let client = reqwest::Client::new();
    for path in PUBLIC_ROUTES {
        let plain = client.get(app.url(path)).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "{path}: identity unless asked");
        assert_eq!(plain.headers()["x-content-type-options"], "nosniff", "{path}");
        let plain_etag = plain.headers()["etag"].to_str().unwrap().to_owned();
        let plain_body = plain.bytes().await.unwrap();
        let zipped = client.get(app.url(path)).header("accept-encoding", "br, gzip").send().await.unwrap();
        assert_eq!(zipped.status(), 200, "{path}");
        assert_eq!(zipped.headers()["content-encoding"], "gzip", "{path}");
        assert_eq!(zipped.headers()["vary"], "accept-encoding", "{path}");
        let etag = zipped.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(etag, plain_etag, "{path}: each representation has its own validator");
        let mut body = Vec::new();
        flate2::read::GzDecoder::new(&zipped.bytes().await.unwrap()[..]).read_to_end(&mut body).unwrap();
        if etag.trim_end_matches("-gzip\"") == plain_etag.trim_end_matches('"') {
            assert_eq!(body, plain_body, "{path}: the same snapshot, compressed");
        }
        let again = client
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert!(again.status() == 304 || again.headers()["etag"] != etag.as_str(), "{path}: revalidates");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_stays_up_while_the_cluster_api_is_down() {
    let drill = tests::TestDrill::start().await;
    let app = tests::spawn_app_on(tests::Backend::Sqlite, &drill).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let response = admin
        .post(app.url("/admin/components"))
        .form(&[
            ("name", "Checkout"),
            ("namespace", "shop"),
            ("selector", "app=checkout"),
            ("visibility", "public"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    tests::eventually("Checkout on the status page", 20, || async {
        public_text(&app, "/status").await.1.contains("Checkout").then_some(())
    })
    .await;
    drill
        .cluster
        .inject(&server::drill::fault_injection::FaultRequest {
            kind: server::drill::fault_injection::FaultKind::ApiDown,
            target: String::new(),
            seconds: Some(60),
        })
        .unwrap();
    // Long enough for Wheelhouse to mark the cluster unreachable.
    tests::eventually("the cluster to be seen as unreachable", 20, || async {
        let all: Value = app.get(&admin, "/api/v1/components").await.json().await.ok()?;
        (all["cluster"]["stale"] == true).then_some(())
    })
    .await;
    for path in PUBLIC_ROUTES {
        let (status, text) = public_text(&app, path).await;
        assert_eq!(status, 200, "{path} while the cluster API is down");
        if path == "/status" {
            assert!(text.contains("Checkout"), "the last known state is still shown");
        }
    }
}
