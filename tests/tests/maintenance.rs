//! Scheduled maintenance against the drill cluster over HTTPS: a window
//! drains a node at its start and uncordons it at its end (the drain
//! confirmed by a second person), its components show `under_maintenance`
//! meanwhile and uptime counts that time as maintenance; the Statuspage
//! JSON, the Atom feed and the iCalendar feed show it. Refusals: a planned
//! action whose dry run fails stores nothing; a planner cannot confirm their
//! own drain; an action never confirmed is not run, the log says so and
//! the internal webhooks are told.

use app::domain::role::Role;
use serde_json::{Value, json};
use server::drill::resources::{NODES, PODS};
use tests::{Backend, TestApp, TestDrill, eventually, spawn_app_on};

/// `YYYY-MM-DDTHH:MM:SS` (UTC), as an API client sends an instant.
fn at(millis: i64) -> String {
    let seconds = millis.div_euclid(1000).rem_euclid(60);
    format!("{}:{seconds:02}", app::domain::calendar::date_time_input(millis))
}

/// The component with `key` anywhere in the components answer.
fn component(all: &Value, key: &str) -> Option<Value> {
    match all {
        Value::Object(map) if map.get("key").and_then(Value::as_str) == Some(key) => Some(all.clone()),
        Value::Object(map) => map.values().find_map(|v| component(v, key)),
        Value::Array(items) => items.iter().find_map(|v| component(v, key)),
        _ => None,
    }
}

async fn window(app: &TestApp, client: &reqwest::Client, id: i64) -> Value {
    app.get(client, &format!("/api/v1/maintenance/{id}")).await.json().await.unwrap()
}

async fn public(app: &TestApp, path: &str) -> String {
    reqwest::get(app.url(path)).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_drains_a_node_at_its_start_and_uncordons_it_at_its_end() {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(Backend::Sqlite, &drill).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    app.add_checkout(&admin).await;
    let planner = app.signed_in("planner@example.com", Role::Responder).await;
    let second = app.signed_in("second@example.com", Role::Responder).await;
    app.evaluated(&planner).await;
    let checkout = eventually("the checkout component", 30, || async {
        let all: Value = app.get(&planner, "/api/v1/components").await.json().await.ok()?;
        let text = all.to_string();
        let at = text.find("\"service/")?;
        Some(text[at + 1..].split('"').next()?.to_owned())
    })
    .await;

    let now = server::db::now_millis();
    let (starts, ends) = (now + 8_000, now + 16_000);
    let body = json!({
        "title": "Kernel upgrade on worker-3",
        "description": "worker-3 restarts; checkout runs on fewer nodes meanwhile.",
        "starts_at": at(starts),
        "ends_at": at(ends),
        "components": ["node/worker-3", checkout],
        "actions": [
            {"phase": "start", "action": "drain", "node": "worker-3"},
            {"phase": "end", "action": "uncordon", "node": "worker-3"},
        ],
    });
    let created = planner.post(app.url("/api/v1/maintenance")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["state"], "scheduled");
    let drain =
        &created["actions"].as_array().unwrap().iter().find(|a| a["phase"] == "start").unwrap().clone();
    let uncordon =
        &created["actions"].as_array().unwrap().iter().find(|a| a["phase"] == "end").unwrap().clone();
    assert_eq!(drain["status"], "planned");
    assert!(drain["pods"].as_u64().unwrap() >= 1, "the dry run counted the pods it moves: {drain}");
    assert!(
        !drill.get(NODES, "", "worker-3")["spec"]["unschedulable"].as_bool().unwrap_or(false),
        "a dry run only"
    );

    // The planner may not confirm their own drain; someone else does. An uncordon needs no second person.
    let confirm = |client: &reqwest::Client, action: &Value| {
        let url = app.url(&format!("/api/v1/maintenance/{id}/actions/{}/confirm", action["id"]));
        let client = client.clone();
        async move { client.post(url).send().await.unwrap() }
    };
    let own = confirm(&planner, drain).await;
    assert_eq!(own.status(), 403);
    assert!(own.text().await.unwrap().contains("second person"));
    assert_eq!(confirm(&second, drain).await.status(), 200);
    assert_eq!(confirm(&planner, uncordon).await.status(), 200);

    // Public before it starts: upcoming in the Statuspage JSON, in the calendar and on the page.
    let upcoming = eventually("the window on the public JSON", 20, || async {
        let upcoming: Value =
            serde_json::from_str(&public(&app, "/api/v2/scheduled-maintenances/upcoming.json").await).ok()?;
        (upcoming["scheduled_maintenances"][0]["name"] != Value::Null).then_some(upcoming)
    })
    .await;
    let listed = &upcoming["scheduled_maintenances"][0];
    assert_eq!(listed["name"], "Kernel upgrade on worker-3");
    assert_eq!(listed["status"], "scheduled");
    assert_eq!(listed["impact"], "maintenance");
    assert_eq!(listed["components"][0]["name"], "Checkout", "public components only, by name: {listed}");
    let calendar = public(&app, "/status/maintenance.ics").await;
    assert!(calendar.starts_with("BEGIN:VCALENDAR\r\n"), "{calendar}");
    assert!(calendar.contains("SUMMARY:Maintenance: Kernel upgrade on worker-3\r\n"), "{calendar}");
    assert!(calendar.contains(&format!("UID:maintenance-{id}@")), "{calendar}");
    assert!(public(&app, "/status").await.contains("Kernel upgrade on worker-3"));

    // Its start: in progress, the node drained, its components under maintenance.
    eventually("the window to start", 30, || async {
        (window(&app, &planner, id).await["state"] == "in_progress").then_some(())
    })
    .await;
    drill
        .wait_until("worker-3 cordoned and emptied", || {
            let node = drill.get(NODES, "", "worker-3");
            let pods = drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
            node["spec"]["unschedulable"] == true
                && !pods.iter().any(|p| {
                    p["spec"]["nodeName"] == "worker-3"
                        && p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet"
                        && p["metadata"]["deletionTimestamp"].is_null()
                })
        })
        .await;
    let status = eventually("checkout under maintenance", 30, || async {
        let all: Value = app.get(&planner, "/api/v1/components").await.json().await.ok()?;
        let checkout = component(&all, &checkout)?;
        (checkout["status"] == "under_maintenance").then_some(checkout)
    })
    .await;
    assert!(status.to_string().contains("Kernel upgrade on worker-3"), "the window is the reason: {status}");
    eventually("the window active on the public JSON", 20, || async {
        let active: Value =
            serde_json::from_str(&public(&app, "/api/v2/scheduled-maintenances/active.json").await).ok()?;
        (active["scheduled_maintenances"][0]["status"] == "in_progress").then_some(())
    })
    .await;
    let summary: Value = serde_json::from_str(&public(&app, "/api/v2/summary.json").await).unwrap();
    assert_eq!(summary["scheduled_maintenances"][0]["name"], "Kernel upgrade on worker-3");

    // Its end: the node uncordoned, the window completed, the log telling what ran.
    let done = eventually("the window to complete", 40, || async {
        let w = window(&app, &planner, id).await;
        (w["state"] == "completed").then_some(w)
    })
    .await;
    assert!(
        !drill.get(NODES, "", "worker-3")["spec"]["unschedulable"].as_bool().unwrap_or(false),
        "uncordoned"
    );
    let statuses: Vec<&str> =
        done["actions"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "succeeded"], "{done}");
    let log = done["log"].to_string();
    for line in
        ["Scheduled", "Confirmed", "Started at its start", "Done: drain", "Done: uncordon", "Completed"]
    {
        assert!(log.contains(line), "{line} missing from the log: {log}");
    }
    eventually("the window completed on the public JSON", 20, || async {
        let all: Value =
            serde_json::from_str(&public(&app, "/api/v2/scheduled-maintenances.json").await).ok()?;
        (all["scheduled_maintenances"][0]["status"] == "completed").then_some(())
    })
    .await;
    assert!(public(&app, "/status/feed.atom").await.contains("Maintenance: Kernel upgrade on worker-3"));

    // Uptime counts the window as maintenance, not downtime.
    let (kind, name) = checkout.split_once('/').unwrap();
    let uptime: Value = app
        .get(&planner, &format!("/api/v1/components/{kind}/{name}/uptime?days=1"))
        .await
        .json()
        .await
        .unwrap();
    let text = uptime.to_string();
    assert!(text.contains("under_maintenance"), "{text}");
    let maintenance_ms: i64 = uptime["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["millis"]["under_maintenance"].as_i64().unwrap_or(0))
        .sum();
    assert!(maintenance_ms > 0, "{uptime}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_store_nothing_and_an_unconfirmed_action_is_not_run() {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(Backend::Sqlite, &drill).await;
    let planner = app.signed_in("planner@example.com", Role::Responder).await;
    app.evaluated(&planner).await;
    let now = server::db::now_millis();
    let window = |actions: Value| {
        json!({"title": "Node work", "starts_at": at(now + 3_600_000), "ends_at": at(now + 7_200_000),
            "components": ["node/worker-2"], "actions": actions})
    };
    // A dry run that fails refuses the whole window, with the field and the reason.
    let refused = planner
        .post(app.url("/api/v1/maintenance"))
        .json(&window(json!([{"phase": "start", "action": "drain", "node": "worker-99"}])))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.unwrap();
    assert!(text.contains("dry run") && text.contains("\"field\":\"action\""), "{text}");
    let listed: Value = app.get(&planner, "/api/v1/maintenance").await.json().await.unwrap();
    assert_eq!(listed, json!([]), "nothing stored");
    // Bad times and unknown components name their field.
    for (body, field) in [
        (
            json!({"title": "x", "starts_at": at(now + 7_200_000), "ends_at": at(now + 3_600_000), "components": ["node/worker-2"]}),
            "ends_at",
        ),
        (
            json!({"title": "x", "starts_at": at(now + 60_000), "ends_at": at(now + 120_000), "components": ["node/nowhere"]}),
            "components",
        ),
    ] {
        let response = planner.post(app.url("/api/v1/maintenance")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 422);
        assert!(response.text().await.unwrap().contains(&format!("\"field\":\"{field}\"")));
    }

    // Responders' internal webhook, to hear of actions that do not run as planned.
    let (hook, heard) = tests::json_receiver().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let added = admin
        .post(app.url("/admin/webhooks"))
        .form(&[("audience", "internal"), ("format", "generic"), ("url", hook.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);

    // Started by hand with its cordon never confirmed: the cordon is not run, the log and the list say so.
    let created: Value = planner
        .post(app.url("/api/v1/maintenance"))
        .json(&window(json!([{"phase": "start", "action": "cordon", "node": "worker-2"}])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let step = |step: &str| {
        let (client, url) = (planner.clone(), app.url(&format!("/api/v1/maintenance/{id}/steps")));
        let body = json!({"step": step});
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    assert_eq!(step("complete").await.status(), 409, "only after verifying");
    let started: Value = step("start").await.json().await.unwrap();
    assert_eq!(started["state"], "in_progress");
    assert_eq!(started["actions"][0]["status"], "skipped");
    assert!(started["log"].to_string().contains("never confirmed"), "{started}");
    assert!(!drill.get(NODES, "", "worker-2")["spec"]["unschedulable"].as_bool().unwrap_or(false), "not run");
    let told =
        eventually("the internal webhook told", 20, || async { heard.lock().unwrap().first().cloned() })
            .await;
    assert_eq!(told["event"], "maintenance_action_failed");
    assert_eq!(told["maintenance"]["id"], id);
    assert_eq!(told["maintenance"]["title"], "Node work");
    assert!(told["action"]["text"].as_str().unwrap().contains("never confirmed"), "{told}");
    // Ended by hand: with no end actions it completes at once.
    let ended: Value = step("end").await.json().await.unwrap();
    assert_eq!(ended["state"], "completed", "no end actions: completed at once: {ended}");
    assert_eq!(step("cancel").await.status(), 409, "a completed window cannot be cancelled");

    // A scheduled window cancelled leaves the public lists.
    let other: Value = planner
        .post(app.url("/api/v1/maintenance"))
        .json(&window(json!([])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cancelled: Value = planner
        .post(app.url(&format!("/api/v1/maintenance/{}/steps", other["id"])))
        .json(&json!({"step": "cancel"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["state"], "cancelled");
    // The snapshot follows the cancellation: the other window is listed (then not) only after a rebuild.
    let listed = |id: &Value| format!("\"maintenance-{id}\"");
    eventually("the completed window on the public JSON", 20, || async {
        let text = public(&app, "/api/v2/scheduled-maintenances.json").await;
        text.contains(&listed(&created["id"])).then_some(())
    })
    .await;
    let text = public(&app, "/api/v2/scheduled-maintenances.json").await;
    assert!(!text.contains(&listed(&other["id"])), "a cancelled window is not public: {text}");
}
