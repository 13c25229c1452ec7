//! Alerts in, through the real server on SQLite and PostgreSQL: Alertmanager
//! deliveries (payload version 4) and generic alerts with an `alerts` token;
//! repeats that never duplicate, resolutions and flaps; the routing policy
//! (auto-declared incidents with nobody in command until a responder takes
//! it, the inbox, attaching to an incident under way, the storm guard); the
//! inbox page's acknowledge, silence, declare and attach; and bad input that
//! stores nothing.

use app::domain::role::Role;
use serde_json::{Value, json};
use tests::{TestApp, bearer, on_both_backends};

fn am_alert(fingerprint: &str, status: &str, labels: Value) -> Value {
    json!({
        "status": status,
        "labels": labels,
        "annotations": {"summary": format!("{fingerprint} is unwell"), "runbook_url": "https://runbooks.example.com/x"},
        "startsAt": "2026-11-30T10:00:00Z",
        "endsAt": if status == "resolved" { "2026-11-30T10:05:00Z" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=up",
        "fingerprint": fingerprint,
    })
}

fn payload(group: &str, alerts: Vec<Value>) -> Value {
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{group}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "wheelhouse",
        "groupLabels": {"alertname": group},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com",
        "alerts": alerts,
    })
}

fn checkout_crashing(status: &str) -> Value {
    am_alert(
        "cafe0001",
        status,
        json!({"alertname": "KubePodCrashLooping", "severity": "critical", "namespace": "shop", "deployment": "checkout"}),
    )
}

async fn post(client: &reqwest::Client, app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = client.post(app.url(path)).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_json(client: &reqwest::Client, app: &TestApp, path: &str) -> Value {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn alerts(client: &reqwest::Client, app: &TestApp) -> Vec<Value> {
    get_json(client, app, "/api/v1/alerts?include_kept=true&include_silenced=true")
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// The kinds on an incident's timeline, leaving out evidence captures (they
/// arrive on their own time after a declaration; `evidence.rs` tests them).
async fn kinds(client: &reqwest::Client, app: &TestApp, incident: i64) -> Vec<String> {
    get_json(client, app, &format!("/api/v1/incidents/{incident}/timeline"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .filter(|kind| kind != "evidence_captured")
        .collect()
}

/// An admin, a responder, and a client holding an `alerts` token.
async fn people(app: &TestApp) -> (reqwest::Client, reqwest::Client, reqwest::Client) {
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let responder = app.signed_in("oncall@example.com", Role::Responder).await;
    let token = app.api_token(&admin, "alertmanager", "alerts").await;
    app.evaluated(&responder).await;
    (admin, responder, bearer(&token))
}

on_both_backends! {
    async fn a_critical_alert_on_a_public_component_declares_an_incident_nobody_commands_until_taken(app) {
        let (_admin, responder, monitor) = people(&app).await;
        let (status, report) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &payload("KubePodCrashLooping", vec![checkout_crashing("firing")])).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!((report["received"].as_u64(), report["new"].as_u64()), (Some(1), Some(1)));
        let incident = report["declared"][0].as_i64().expect("an incident was declared");

        let view = get_json(&responder, &app, &format!("/api/v1/incidents/{incident}")).await;
        assert_eq!(view["severity"], "SEV2");
        assert_eq!(view["commander"], Value::Null, "nobody commands an incident declared from an alert");
        assert_eq!(view["components"][0]["name"], "Checkout");
        assert_eq!(view["declared_by"], "token:alertmanager");
        assert_eq!(kinds(&responder, &app, incident).await, ["declared", "alert_received"]);
        let dashboard = app.get(&responder, "/").await.text().await.unwrap();
        assert!(dashboard.contains("nobody commands it yet"), "the dashboard says so");

        // The same delivery again (Alertmanager repeats): one alert, no second incident.
        let (_, again) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &payload("KubePodCrashLooping", vec![checkout_crashing("firing")])).await;
        assert_eq!((again["new"].as_u64(), again["declared"].as_array().map(Vec::len)), (Some(0), Some(0)));
        let stored = alerts(&responder, &app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["incident_id"], incident);
        assert_eq!(stored[0]["route"], "declared");
        assert_eq!(stored[0]["component"], "service/2", "shop/checkout maps to Checkout: {}", stored[0]);

        // A responder takes command from the room; then the resolution arrives.
        let taken = responder
            .post(app.url(&format!("/incidents/{incident}/transitions")))
            .form(&[("take_command", "true")])
            .send()
            .await
            .unwrap();
        assert_eq!(taken.status(), 303);
        let view = get_json(&responder, &app, &format!("/api/v1/incidents/{incident}")).await;
        assert_eq!(view["commander"], "oncall@example.com");
        let (status, _) = post(&responder, &app, &format!("/api/v1/incidents/{incident}/transitions"), &json!({"take_command": true})).await;
        assert_eq!(status, 409, "command is taken once; then it is handed over");

        let (_, resolved) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &payload("KubePodCrashLooping", vec![checkout_crashing("resolved")])).await;
        assert_eq!(resolved["resolved"].as_u64(), Some(1));
        assert_eq!(
            kinds(&responder, &app, incident).await,
            ["declared", "alert_received", "command_handed_over", "alert_resolved"]
        );
        assert_eq!(alerts(&responder, &app).await[0]["status"], "resolved");
    }

    async fn warnings_and_unmapped_alerts_wait_in_the_inbox_and_info_is_kept_out_of_sight(app) {
        let (_admin, responder, monitor) = people(&app).await;
        let delivery = payload("mixed", vec![
            am_alert("w1", "firing", json!({"alertname": "KubeDeploymentReplicasMismatch", "severity": "warning", "namespace": "shop", "deployment": "checkout"})),
            am_alert("c1", "firing", json!({"alertname": "DiskFull", "severity": "critical", "mountpoint": "/data", "team": "storage"})),
            am_alert("i1", "firing", json!({"alertname": "Watchdog", "severity": "none"})),
        ]);
        let mut delivery = delivery;
        delivery["truncatedAlerts"] = json!(7);
        let (status, report) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &delivery).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["declared"], json!([]), "nothing public and critical: {report}");
        let inbox: Vec<Value> = get_json(&responder, &app, "/api/v1/alerts").await.as_array().unwrap().clone();
        let names: Vec<&str> = inbox.iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 2, "info is kept but not shown by default: {names:?}");
        let disk = inbox.iter().find(|a| a["name"] == "DiskFull").unwrap();
        assert_eq!(disk["component"], Value::Null, "unmapped");
        assert_eq!(disk["labels"]["team"], "storage", "unknown labels are kept as they are");
        assert_eq!(alerts(&responder, &app).await.len(), 3);

        let page = app.get(&responder, "/alerts").await.text().await.unwrap();
        assert!(page.contains("KubeDeploymentReplicasMismatch") && page.contains("unmapped"), "the inbox page lists them");
        assert!(page.contains("mountpoint=/data"), "with their labels");
        assert!(page.contains("https://runbooks.example.com/x"), "and the runbook link");
        assert!(page.contains("Alertmanager left 7 alerts of this group out of its last delivery"), "truncation is shown");
        assert!(!page.contains("Watchdog"), "info stays out of the default view");
        assert!(app.get(&responder, "/alerts?include_kept=1").await.text().await.unwrap().contains("Watchdog"));
    }

    async fn the_inbox_acknowledges_silences_declares_prefilled_and_attaches(app) {
        let (_admin, responder, monitor) = people(&app).await;
        let delivery = payload("DiskFull", vec![
            am_alert("d1", "firing", json!({"alertname": "DiskFull", "severity": "warning", "node": "worker-2"})),
            am_alert("d2", "firing", json!({"alertname": "DiskFull", "severity": "warning", "namespace": "payments", "deployment": "api"})),
        ]);
        post(&monitor, &app, "/api/v1/alerts/alertmanager", &delivery).await;
        let stored = alerts(&responder, &app).await;
        let id_of = |fingerprint: &str| stored.iter().find(|a| a["fingerprint"] == fingerprint).unwrap()["id"].as_i64().unwrap();
        let (d1, d2) = (id_of("d1"), id_of("d2"));
        assert_eq!(stored.iter().find(|a| a["id"] == d1).unwrap()["component"], "node/worker-2");

        let acknowledged = responder.post(app.url(&format!("/alerts/{d1}/acknowledge"))).form(&[("x", "")]).send().await.unwrap();
        assert_eq!(acknowledged.status(), 303);
        let alert = get_json(&responder, &app, &format!("/api/v1/alerts/{d1}")).await;
        assert_eq!(alert["acknowledged_by"], "oncall@example.com");

        let refused = responder.post(app.url(&format!("/alerts/{d2}/silence"))).form(&[("minutes", "60"), ("reason", "")]).send().await.unwrap();
        assert_eq!(refused.status(), 422, "a silence says why");
        let silenced = responder.post(app.url(&format!("/alerts/{d2}/silence"))).form(&[("minutes", "60"), ("reason", "payments maintenance")]).send().await.unwrap();
        assert_eq!(silenced.status(), 303);
        let inbox: Vec<Value> = get_json(&responder, &app, "/api/v1/alerts").await.as_array().unwrap().clone();
        assert!(inbox.iter().all(|a| a["id"] != d2), "silenced alerts leave the default view");

        // Declaring from the alert: the form comes prefilled, and the alert is attached.
        let form = app.get(&responder, &format!("/incidents/new?alerts={d1}")).await.text().await.unwrap();
        assert!(form.contains("worker-2: d1 is unwell"), "the title is prefilled");
        assert!(form.contains(&format!("value=\"{d1}\"")), "the alert rides along");
        let declared = responder
            .post(app.url("/incidents"))
            .form(&[("title", "Disk full on worker-2"), ("severity", "SEV3"), ("category", "resource_exhaustion"), ("components", "node/worker-2"), ("alerts", &d1.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(declared.status(), 303);
        let incident: i64 = tests::location(&declared).trim_start_matches("/incidents/").parse().unwrap();
        assert_eq!(kinds(&responder, &app, incident).await, ["declared", "alert_received"]);
        let view = get_json(&responder, &app, &format!("/api/v1/incidents/{incident}")).await;
        assert_eq!(view["commander"], "oncall@example.com", "declared by hand: the declarer commands");

        // Attach the other alert to it.
        let attached = responder.post(app.url(&format!("/alerts/{d2}/attach"))).form(&[("incident", incident.to_string())]).send().await.unwrap();
        assert_eq!(attached.status(), 303);
        assert_eq!(get_json(&responder, &app, &format!("/api/v1/alerts/{d2}")).await["incident_id"], incident);
        assert_eq!(kinds(&responder, &app, incident).await, ["declared", "alert_received", "alert_received"]);

        // A new alert for the incident's component attaches by itself.
        let (_, report) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &payload("KubeNodeNotReady", vec![
            am_alert("n1", "firing", json!({"alertname": "KubeNodeNotReady", "severity": "critical", "node": "worker-2"})),
        ])).await;
        assert_eq!(report["attached"], json!([incident]), "{report}");
    }

    async fn a_flapping_alert_is_one_alert_with_a_flap_count_and_one_incident(app) {
        let (_admin, responder, monitor) = people(&app).await;
        let mut declared = Vec::new();
        for round in 0..10 {
            let status = if round % 2 == 0 { "firing" } else { "resolved" };
            let (code, report) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &payload("KubePodCrashLooping", vec![checkout_crashing(status)])).await;
            assert_eq!(code, 200);
            declared.extend(report["declared"].as_array().unwrap().iter().filter_map(Value::as_i64));
        }
        assert_eq!(declared.len(), 1, "one incident: {declared:?}");
        let stored = alerts(&responder, &app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["flap_count"], 4);
        let timeline = kinds(&responder, &app, declared[0]).await;
        assert!(timeline.len() <= 4, "flaps are counted, not written on the timeline each time: {timeline:?}");
    }

    async fn in_a_storm_alerts_attach_to_one_incident_instead_of_opening_many(app) {
        let (admin, responder, monitor) = people(&app).await;
        let rule = admin
            .post(app.url("/admin/alert-routing"))
            .form(&[("severity", "critical"), ("outcome", "declare"), ("declare_severity", "SEV1"), ("position", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(rule.status(), 303);
        let page = app.get(&admin, "/admin/alert-routing").await.text().await.unwrap();
        assert!(page.contains("severity is critical: declare a SEV1 incident"), "the rule is listed first");

        let storm: Vec<Value> = (0..30)
            .map(|i| am_alert(&format!("s{i}"), "firing", json!({"alertname": "TargetDown", "severity": "critical", "instance": format!("10.0.0.{i}:9100")})))
            .collect();
        let (status, report) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &payload("TargetDown", storm)).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["new"], 30);
        let declared = report["declared"].as_array().unwrap();
        assert_eq!(declared.len(), 1, "the storm opened one incident: {report}");
        assert_eq!(report["attached"], json!([declared[0]]));
        let incidents = get_json(&responder, &app, "/api/v1/incidents?active=true").await;
        assert_eq!(incidents.as_array().unwrap().len(), 1);
        assert_eq!(incidents[0]["severity"], "SEV1");

        let reset = admin.post(app.url("/admin/alert-routing/reset")).form(&[("x", "")]).send().await.unwrap();
        assert_eq!(reset.status(), 303);
        let page = app.get(&admin, "/admin/alert-routing").await.text().await.unwrap();
        assert!(page.contains("These are the shipped defaults."));
    }

    async fn generic_alerts_dedup_on_their_key_and_resolve(app) {
        let (_admin, responder, monitor) = people(&app).await;
        let alert = json!({"title": "Queue depth high", "severity": "warning", "dedup_key": "sqs-orders", "labels": {"namespace": "shop", "deployment": "cart"}, "description": "orders queue over 10k", "source_url": "https://console.aws.example.com/sqs"});
        for _ in 0..3 {
            let (status, report) = post(&monitor, &app, "/api/v1/alerts", &alert).await;
            assert_eq!(status, 200, "{report}");
        }
        let stored = alerts(&responder, &app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["source"], "generic");
        assert_eq!(stored[0]["component"], "service/2", "shop/cart maps to Checkout: {}", stored[0]);
        let mut resolved = alert.clone();
        resolved["status"] = json!("resolved");
        post(&monitor, &app, "/api/v1/alerts", &resolved).await;
        assert_eq!(alerts(&responder, &app).await[0]["status"], "resolved");
    }

    async fn bad_deliveries_are_refused_clearly_and_store_nothing(app) {
        let (_admin, responder, monitor) = people(&app).await;
        let good = payload("X", vec![checkout_crashing("firing")]);

        let response = monitor.post(app.url("/api/v1/alerts/alertmanager")).header("content-type", "application/json").body("{\"version\": ").send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("not the JSON expected"), "{body}");

        let mut v3 = good.clone();
        v3["version"] = json!("3");
        let (status, body) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &v3).await;
        assert_eq!(status, 422);
        assert!(body["error"]["message"].as_str().unwrap().contains("version '3'"), "{body}");

        let huge = payload("X", (0..2000).map(|i| am_alert(&format!("h{i}"), "firing", json!({"alertname": "X", "padding": "y".repeat(200)}))).collect());
        let (status, _) = post(&monitor, &app, "/api/v1/alerts/alertmanager", &huge).await;
        assert_eq!(status, 413);

        let (status, _) = post(&bearer("whk_not-a-token"), &app, "/api/v1/alerts/alertmanager", &good).await;
        assert_eq!(status, 401);
        let (status, _) = post(&reqwest::Client::new(), &app, "/api/v1/alerts/alertmanager", &good).await;
        assert_eq!(status, 401);
        let plain = monitor.post(app.url("/api/v1/alerts/alertmanager")).header("content-type", "text/plain").body(good.to_string()).send().await.unwrap();
        assert_eq!(plain.status(), 415);
        let viewer = app.signed_in("exec@example.com", Role::Viewer).await;
        let (status, _) = post(&viewer, &app, "/api/v1/alerts/alertmanager", &good).await;
        assert_eq!(status, 403, "viewers change nothing, alerts included");

        // The alerts token may post alerts and nothing else.
        assert_eq!(app.get(&monitor, "/api/v1/alerts").await.status(), 403);
        assert_eq!(app.get(&monitor, "/api/v1/incidents").await.status(), 403);
        let (status, _) = post(&monitor, &app, "/api/v1/incidents", &json!({"title": "t", "severity": "SEV3", "category": "networking", "commander": "oncall@example.com"})).await;
        assert_eq!(status, 403);

        assert!(alerts(&responder, &app).await.is_empty(), "nothing was stored");
        assert!(get_json(&responder, &app, "/api/v1/incidents").await.as_array().unwrap().is_empty());
    }
}

/// Wheelhouse's own detection, on the drill over HTTPS: a component in major
/// outage longer than the setting raises a critical `wheelhouse` alert, which
/// the default policy turns into an incident on it; recovery resolves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_in_outage_longer_than_the_setting_raises_wheelhouses_own_alert() {
    use server::drill::fault_injection::{FaultKind, FaultRequest};
    let drill = tests::TestDrill::start().await;
    let app = tests::spawn_app_on_with(tests::Backend::Sqlite, &drill, |settings| {
        settings.alert_detection_after = Some("1".into());
    })
    .await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    app.add_checkout(&admin).await;
    app.evaluated(&admin).await;

    let fault = FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None };
    drill.cluster.inject(&fault).unwrap();
    let own = tests::eventually("Wheelhouse's own alert", 60, || async {
        alerts(&admin, &app)
            .await
            .into_iter()
            .find(|a| a["source"] == "wheelhouse" && a["status"] == "firing")
    })
    .await;
    assert_eq!(own["component"], "service/1");
    assert!(own["annotations"]["summary"].as_str().unwrap().starts_with("Checkout has been in"), "{own}");
    if own["severity"] == "critical" {
        assert_eq!(own["route"], "declared", "a major outage of a public component declares: {own}");
        let incident = own["incident_id"].as_i64().unwrap();
        assert_eq!(kinds(&admin, &app, incident).await, ["declared", "alert_received"]);
    } else {
        assert_eq!(own["route"], "inbox", "a partial outage waits in the inbox: {own}");
    }

    drill.cluster.clear(&fault).unwrap();
    tests::eventually("the own alert to resolve", 60, || async {
        let all = alerts(&admin, &app).await;
        all.iter().filter(|a| a["source"] == "wheelhouse").all(|a| a["status"] == "resolved").then_some(())
    })
    .await;
}
