//! The post-incident review on both databases: resolving opens it, the
//! responders write it (a stale save is refused and loses nothing), star
//! entries, set the impact start, add follow-ups that show on their owner's
//! dashboard and the briefing, publish it (which closes the incident), export
//! it as Markdown; and the insights' SQL aggregation on scripted rows.

use app::domain::role::Role;
use serde_json::{Value, json};
use server::config::DatabaseUrl;
use server::db::Database;
use server::insights::InsightsStore;
use tests::{Backend, TestApp, TestDatabase, spawn_app};

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    let response = client.post(app.url(path)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn review(app: &TestApp, client: &reqwest::Client, id: i64) -> Value {
    let response = app.get(client, &format!("/api/v1/incidents/{id}/review")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

async fn review_flow(backend: Backend) {
    let app = spawn_app(backend).await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let owner = app.signed_in("owner@example.com", Role::Responder).await;
    let exec = app.signed_in("exec@example.com", Role::Viewer).await;
    let id = app
        .declare(
            &ic,
            json!({"title": "Checkout fails", "severity": "SEV2", "category": "application_failure"}),
        )
        .await;
    let base = format!("/api/v1/incidents/{id}");

    // Before resolution there is no review to write.
    assert_eq!(review(&app, &ic, id).await["state"], Value::Null);
    let (status, body) =
        post(&app, &ic, &format!("{base}/review/sections"), json!({"revision": 0, "summary": "x"})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("resolved"), "{body}");

    assert_eq!(post(&app, &ic, &format!("{base}/transitions"), json!({"acknowledge": true})).await.0, 200);
    assert_eq!(post(&app, &ic, &format!("{base}/transitions"), json!({"status": "resolved"})).await.0, 200);
    let opened = review(&app, &ic, id).await;
    assert_eq!(opened["state"], "draft");
    assert!(opened["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == "review_state_changed"));
    assert_eq!(opened["times"]["impact_source"], "declaration");
    assert!(opened["durations"]["to_acknowledge"].as_i64().unwrap() >= 0);
    assert!(opened["durations"]["to_resolve"].as_i64().is_some());
    assert_eq!(opened["durations"]["to_mitigate"], Value::Null, "nothing was contained");

    // The commander writes; a save based on an old revision is refused and names who saved.
    let sections = json!({
        "revision": 0,
        "summary": "Checkout answered 500 after release 1.4.",
        "trigger": "Release 1.4",
        "factors": [{"kind": "change", "text": "No canary"}, {"kind": "detection", "text": "No rollout alert"}],
    });
    let (status, saved) = post(&app, &ic, &format!("{base}/review/sections"), sections.clone()).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["revision"], 1);
    assert_eq!(saved["sections"]["factors"][1]["kind"], "detection");
    let (status, stale) = post(&app, &ic, &format!("{base}/review/sections"), sections).await;
    assert_eq!(status, 409);
    assert!(stale["error"]["message"].as_str().unwrap().contains("ic@example.com"), "{stale}");

    // A refused form comes back with what was typed.
    let refused = ic
        .post(app.url(&format!("/incidents/{id}/review")))
        .form(&[
            ("revision", "1"),
            ("summary", "Typed at 3 a.m., not to be lost"),
            ("factor_kind", "blame"),
            ("factor_text", "Bob"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Typed at 3 a.m., not to be lost"), "the typed text is kept");
    assert!(html.contains("contributing factor type"), "the refusal says why");

    // Someone without a role on the incident may not write it.
    let (status, _) =
        post(&app, &owner, &format!("{base}/review/sections"), json!({"revision": 1, "summary": "mine"}))
            .await;
    assert_eq!(status, 403);

    // Impact start by hand, before the declaration, with a reason.
    let declared_at = opened["times"]["declared"].as_i64().unwrap();
    let earlier = app::domain::calendar::date_time_input(declared_at - 3_600_000);
    let (status, body) = post(
        &app,
        &ic,
        &format!("{base}/review/impact-start"),
        json!({"at": earlier, "reason": "Customers reported errors an hour before"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["times"]["impact_source"], "edited");
    assert!(body["durations"]["to_detect"].as_i64().unwrap() >= 3_540_000);
    let (status, _) =
        post(&app, &ic, &format!("{base}/review/impact-start"), json!({"at": "soon", "reason": "x"})).await;
    assert_eq!(status, 422);

    // Stars: the declaration is starred by default; unstarring keeps it out of the export.
    let declared_entry =
        body["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "declared").unwrap().clone();
    assert_eq!(declared_entry["starred"], true);
    let entry = declared_entry["id"].as_i64().unwrap();
    assert_eq!(
        post(&app, &ic, &format!("{base}/review/stars"), json!({"event": entry, "starred": false})).await.0,
        204
    );
    assert_eq!(
        post(&app, &ic, &format!("{base}/review/stars"), json!({"event": 999_999, "starred": true})).await.0,
        404
    );

    // A follow-up through the form, owned by someone else, already overdue.
    let added = ic
        .post(app.url(&format!("/incidents/{id}/follow-ups")))
        .form(&[
            ("title", "Alert when a rollout stalls"),
            ("owner", "owner@example.com"),
            ("due", "2020-01-31"),
            ("link", "https://tracker.example/OPS-12"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let (status, body) = post(
        &app,
        &ic,
        &format!("{base}/follow-ups"),
        json!({"title": "Nobody", "owner": "ghost@example.com"}),
    )
    .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("owner")));
    let with_follow_up = review(&app, &ic, id).await;
    let follow_up = &with_follow_up["follow_ups"][0];
    assert_eq!(follow_up["owner"], "owner@example.com");
    assert_eq!(follow_up["overdue"], true);
    let follow_up_id = follow_up["id"].as_i64().unwrap();

    let dashboard = page(&app, &owner, "/").await;
    assert!(
        dashboard.contains("Your follow-ups") && dashboard.contains("Alert when a rollout stalls"),
        "owner's dashboard"
    );
    let briefing = page(&app, &exec, "/briefing").await;
    assert!(briefing.contains("Alert when a rollout stalls") && briefing.contains("Overdue"), "the briefing");

    // Publishing: the commander sends it for review, then publishes; the incident is closed.
    let (status, _) = post(&app, &ic, &format!("{base}/review/state"), json!({"state": "published"})).await;
    assert_eq!(status, 409, "a draft is reviewed before it is published");
    assert_eq!(post(&app, &ic, &format!("{base}/review/state"), json!({"state": "in_review"})).await.0, 200);
    assert_eq!(
        post(&app, &owner, &format!("{base}/review/state"), json!({"state": "published"})).await.0,
        403
    );
    let (status, published) =
        post(&app, &ic, &format!("{base}/review/state"), json!({"state": "published"})).await;
    assert_eq!(status, 200);
    assert_eq!(published["state"], "published");
    assert!(published["closed_at"].as_i64().is_some());
    let kinds: Vec<&str> =
        published["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.ends_with(&["review_state_changed", "phase_changed", "closed"]), "{kinds:?}");
    let room = page(&app, &ic, &format!("/incidents/{id}")).await;
    assert!(room.contains("data-field=\"closed\""), "the room shows the incident closed");

    // The written review is frozen; follow-ups go on: the owner marks theirs done.
    let (status, _) =
        post(&app, &ic, &format!("{base}/review/sections"), json!({"revision": 3, "summary": "late"})).await;
    assert_eq!(status, 409);
    let (status, body) = post(
        &app,
        &owner,
        &format!("{base}/follow-ups/{follow_up_id}"),
        json!({"title": "Alert when a rollout stalls", "owner": "owner@example.com", "due": "2020-01-31", "status": "done"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["follow_ups"][0]["status"], "done");
    assert_eq!(body["follow_ups"][0]["overdue"], false);
    let revisions = body["revisions"].as_array().unwrap();
    assert!(revisions.len() >= 4, "{revisions:?}");
    assert!(revisions.iter().any(|r| r["author"] == "owner@example.com"));

    // Markdown for the wiki, readable by an executive.
    let markdown = app.get(&exec, &format!("/incidents/{id}/review.md")).await;
    assert_eq!(markdown.status(), 200);
    assert!(markdown.headers()["content-type"].to_str().unwrap().starts_with("text/markdown"));
    let markdown = markdown.text().await.unwrap();
    assert!(markdown.starts_with(&format!("# Incident #{id}: Checkout fails\n")), "{markdown}");
    assert!(markdown.contains("Review: published"));
    assert!(markdown.contains("- **change**: No canary"));
    assert!(
        markdown.contains("| Alert when a rollout stalls | owner@example.com | 2020-01-31 | Done |"),
        "{markdown}"
    );
    assert!(markdown.contains("Impact start set by hand: Customers reported errors an hour before"));
    assert!(!markdown.contains("Declared SEV2"), "the unstarred declaration is left out");
    let review_page = page(&app, &exec, &format!("/incidents/{id}/review")).await;
    assert!(review_page.contains("Checkout answered 500 after release 1.4."));

    // The commander may reopen a closed incident; the review goes back to draft.
    assert_eq!(post(&app, &ic, &format!("{base}/transitions"), json!({"reopen": true})).await.0, 200);
    let reopened = review(&app, &ic, id).await;
    assert_eq!(reopened["state"], "draft");
    assert_eq!(reopened["closed_at"], Value::Null);
}

#[tokio::test]
async fn the_review_flow_on_sqlite() {
    review_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_review_flow_on_postgres() {
    review_flow(Backend::Postgres).await;
}

const DAY: i64 = 86_400_000;
const MIN: i64 = 60_000;

/// Scripted rows with known times, aggregated by the same SQL on both databases.
async fn insights_figures(backend: Backend) {
    let (_guard, url) = TestDatabase::create(backend).await;
    let db = Database::connect(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    db.migrate().await.unwrap();
    // 2026-06-01 00:00 UTC.
    let june = app::domain::calendar::days_from_civil(2026, 6, 1) * DAY;
    // (severity, declared at, minutes to acknowledge, minutes to resolve, rolled back)
    let incidents = [
        ("SEV1", june + DAY, Some(2), Some(30), true),
        ("SEV1", june + 2 * DAY, Some(4), Some(90), false),
        ("SEV1", june + 3 * DAY, Some(10), Some(60), true),
        ("SEV2", june + 40 * DAY, None, None, false),
        ("SEV3", june - 10 * DAY, Some(1), Some(5), false),
    ];
    for (n, (severity, at, ack, resolve, rolled_back)) in incidents.iter().enumerate() {
        let id = n as i64 + 1;
        sqlx::query(
            "INSERT INTO incidents (id, title, severity, category, summary, status, phase, declared_at, declared_by, \
             acknowledged_at, resolved_at, last_update_at) VALUES ($1, $2, $3, $4, '', $5, 'identification', $6, 'x', $7, $8, $6)",
        )
        .bind(id)
        .bind(format!("Incident {id}"))
        .bind(*severity)
        .bind(if n == 0 { "networking" } else { "application_failure" })
        .bind(if resolve.is_some() { "resolved" } else { "investigating" })
        .bind(*at)
        .bind(ack.map(|m| at + m * MIN))
        .bind(resolve.map(|m| at + m * MIN))
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO incident_components (incident_id, component_key) VALUES ($1, 'service/1')")
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
        if *rolled_back {
            sqlx::query(
                "INSERT INTO incident_actions (incident_id, spec, name, status, planned_by, planned_at) \
                 VALUES ($1, '{}', 'rollback', 'succeeded', 'x', $2)",
            )
            .bind(id)
            .bind(*at)
            .execute(&db.pool)
            .await
            .unwrap();
        }
    }
    // service/1: major outage for 20 min, partial for 40 min (counts 20), then fine.
    for (status, at) in [
        ("operational", june - DAY),
        ("major_outage", june + DAY),
        ("partial_outage", june + DAY + 20 * MIN),
        ("operational", june + DAY + 60 * MIN),
    ] {
        sqlx::query(
            "INSERT INTO component_status_changes (component_key, status, reasons, changed_at) VALUES ('service/1', $1, '[]', $2)",
        )
        .bind(status)
        .bind(at)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let period = app::domain::insights::Period::parse("2026-06-01", "2026-07-31", june + 100 * DAY).unwrap();
    let figures = InsightsStore::new(db.clone()).figures(period, 10, june + 100 * DAY).await.unwrap();
    assert_eq!(figures.by_month, [("2026-06".to_owned(), 3), ("2026-07".to_owned(), 1)]);
    let sev1 = figures.by_severity.iter().find(|(s, _)| s.as_str() == "SEV1").unwrap().1;
    assert_eq!(sev1, 3);
    assert_eq!(figures.by_severity.len(), 2, "the SEV3 before the period is left out");
    assert_eq!(figures.by_category.len(), 2);
    let (_, ack) = figures.acknowledge.iter().find(|(s, _)| s.as_str() == "SEV1").unwrap();
    assert_eq!((ack.count, ack.p50, ack.p90), (3, Some(4 * MIN), Some(10 * MIN)));
    let (_, resolve) = figures.resolve.iter().find(|(s, _)| s.as_str() == "SEV1").unwrap();
    assert_eq!((resolve.p50, resolve.p90), (Some(60 * MIN), Some(90 * MIN)));
    assert!(figures.acknowledge.iter().all(|(s, _)| s.as_str() != "SEV2"), "never acknowledged");
    assert_eq!(figures.components_by_incidents, [("service/1".to_owned(), 4)]);
    assert_eq!(figures.components_by_downtime, [("service/1".to_owned(), 40 * MIN)]);
    assert_eq!(
        (figures.recovery.count, figures.recovery.p50, figures.recovery.p90),
        (2, Some(30 * MIN), Some(60 * MIN))
    );
    db.pool.close().await;
}

#[tokio::test]
async fn insights_aggregate_in_sql_on_sqlite() {
    insights_figures(Backend::Sqlite).await;
}

#[tokio::test]
async fn insights_aggregate_in_sql_on_postgres() {
    insights_figures(Backend::Postgres).await;
}

#[tokio::test]
async fn insights_page_csv_and_api_agree() {
    let app = spawn_app(Backend::Sqlite).await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let exec = app.signed_in("exec@example.com", Role::Viewer).await;
    for severity in ["SEV1", "SEV2", "SEV2"] {
        let id = app
            .declare(&ic, json!({"title": "Trouble", "severity": severity, "category": "networking"}))
            .await;
        post(&app, &ic, &format!("/api/v1/incidents/{id}/transitions"), json!({"acknowledge": true})).await;
    }
    let api: Value = app.get(&exec, "/api/v1/insights").await.json().await.unwrap();
    let sev2 = api["by_severity"].as_array().unwrap().iter().find(|p| p[0] == "SEV2").unwrap().clone();
    assert_eq!(sev2[1], 2);
    let times = api["times"].as_array().unwrap().iter().find(|t| t["severity"] == "SEV2").unwrap().clone();
    assert_eq!(times["acknowledge"]["count"], 2);
    let csv = app.get(&exec, "/insights.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("incidents_by_severity,SEV2,incidents,2\n"), "{csv}");
    assert!(csv.contains("time_to_acknowledge,SEV2,count,2\n"), "{csv}");
    let html = page(&app, &exec, "/insights").await;
    assert!(html.contains("<svg") && html.contains("Incidents by severity"), "charts drawn on the server");
    let bad = app.get(&exec, "/api/v1/insights?from=2026-13-01").await;
    assert_eq!(bad.status(), 422);
}
