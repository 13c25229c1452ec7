//! The authorisation matrix: every mutating route (from the router's own
//! table, `server::web::MUTATING_ROUTES`) and every server function (from the
//! registry Leptos keeps) × anonymous, viewer, responder and admin → allowed
//! or refused as the table says; refusals write nothing. A new route or server
//! function without an entry makes this test fail.

use app::domain::role::Role;
use server::web::MUTATING_ROUTES;
use tests::{Backend, TestApp, spawn_app};

/// Every server function: its name, the least role it needs (`None`: anyone) and arguments it accepts.
const SERVER_FUNCTIONS: &[(&str, Option<Role>, &str)] = &[
    ("load_page_context", None, ""),
    ("load_dashboard", Some(Role::Responder), ""),
    ("load_cluster_overview", Some(Role::Responder), ""),
    ("load_components", Some(Role::Admin), ""),
    ("preview_selector", Some(Role::Admin), "namespace=shop&selector="),
    ("load_incidents", Some(Role::Responder), ""),
    ("load_incident_room", Some(Role::Responder), "id=1"),
    ("load_component_choices", Some(Role::Responder), ""),
    ("load_api_tokens", Some(Role::Admin), ""),
    ("load_users", Some(Role::Admin), ""),
    ("load_templates", Some(Role::Admin), ""),
    ("load_webhooks", Some(Role::Admin), ""),
    ("load_briefing", Some(Role::Viewer), ""),
    ("load_alert_inbox", Some(Role::Responder), "include_kept=false&include_silenced=false"),
    ("load_alert_policy", Some(Role::Admin), ""),
    ("load_alert_declaration", Some(Role::Responder), "ids=1"),
    ("load_playbooks", Some(Role::Admin), ""),
    ("load_review", Some(Role::Viewer), "id=1"),
    ("load_my_follow_ups", Some(Role::Viewer), ""),
    ("load_insights", Some(Role::Viewer), "from=&to="),
    ("load_maintenance", Some(Role::Responder), ""),
    ("load_maintenance_window", Some(Role::Responder), "id=1"),
    ("load_maintenance_overview", Some(Role::Viewer), ""),
    ("load_subscribers", Some(Role::Admin), "search="),
];

/// API tokens act on `/api/` only; elsewhere their holder is anonymous.
fn caller_at(caller: Option<Role>, path: &str) -> Option<Role> {
    caller.filter(|role| *role != Role::Alerts || path.starts_with("/api/"))
}

fn expected_refusal(caller: Option<Role>, needs: Option<Role>) -> Option<u16> {
    match (caller, needs) {
        (_, None) => None,
        (None, Some(_)) => Some(401),
        (Some(held), Some(needed)) if !held.satisfies(needed) => Some(403),
        _ => None,
    }
}

/// Anonymous, an account of each role, and an API token with the `alerts` role (admin last).
async fn clients(app: &TestApp) -> Vec<(Option<Role>, reqwest::Client)> {
    let mut clients = vec![(None, app.client())];
    for role in Role::ALL {
        clients.push((Some(role), app.signed_in(&format!("{role}@example.com"), role).await));
    }
    let admin = clients.last().unwrap().1.clone();
    // Token 1 is what `/admin/tokens/{id}/revoke` aims at; the caller's token comes after it.
    app.api_token(&admin, "revocation-target", "viewer").await;
    let token = app.api_token(&admin, "monitor", "alerts").await;
    clients.insert(1, (Some(Role::Alerts), tests::bearer(&token)));
    clients
}

/// Rows in every table a mutating route writes to.
async fn row_counts(app: &TestApp) -> Vec<(String, i64)> {
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    let mut counts = Vec::new();
    for table in [
        "incidents",
        "incident_events",
        "incident_roles",
        "api_tokens",
        "components",
        "users",
        "alerts",
        "alert_rules",
        "evidence",
        "playbooks",
        "reviews",
        "review_revisions",
        "review_stars",
        "follow_ups",
    ] {
        let (n,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&db.pool).await.unwrap();
        counts.push((table.to_owned(), n));
    }
    counts
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str) -> u16 {
    let url = app.url(
        &path
            .replace("{id}", "1")
            .replace("{action}", "1")
            .replace("{follow_up}", "1")
            .replace("{audience}", "nobody")
            .replace("{purpose}", "x"),
    );
    let request = if path.starts_with("/api/") {
        client.post(url).json(&serde_json::json!({}))
    } else {
        client.post(url).header("content-type", "application/x-www-form-urlencoded").body("")
    };
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutating_route_lets_in_exactly_the_roles_its_table_entry_names() {
    let app = spawn_app(Backend::Sqlite).await;
    let clients = clients(&app).await;
    // An incident 1 to aim at.
    let admin = &clients.last().unwrap().1;
    let response = admin
        .post(app.url("/api/v1/incidents"))
        .json(&serde_json::json!({"title": "t", "severity": "SEV3", "category": "networking"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let before = row_counts(&app).await;
    let mut checked = 0;
    for route in MUTATING_ROUTES.iter().filter(|r| r.needs.is_some()) {
        for (caller, client) in &clients {
            if let Some(refusal) = expected_refusal(caller_at(*caller, route.path), route.needs) {
                let status = post(&app, client, route.path).await;
                assert_eq!(status, refusal, "POST {} as {caller:?}", route.path);
                checked += 1;
            }
        }
    }
    assert_eq!(row_counts(&app).await, before, "refused requests wrote nothing");
    assert!(checked >= 30, "{checked} refusals checked");

    for route in MUTATING_ROUTES.iter().filter(|r| r.needs.is_some()) {
        for (caller, client) in &clients {
            if expected_refusal(caller_at(*caller, route.path), route.needs).is_none() {
                // Empty input: allowed callers get past authorisation to validation (or a redirect).
                let status = post(&app, client, route.path).await;
                assert!(
                    ![401, 403].contains(&status),
                    "POST {} as {caller:?} was refused ({status})",
                    route.path
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_function_checks_the_role_its_table_entry_names() {
    let app = spawn_app(Backend::Sqlite).await;
    let clients = clients(&app).await;
    let response = clients
        .last()
        .unwrap()
        .1
        .post(app.url("/api/v1/incidents"))
        .json(&serde_json::json!({"title": "t", "severity": "SEV3", "category": "networking"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "incident 1 exists for load_incident_room");
    let hour = 3_600_000;
    let now = server::db::now_millis();
    let responder = &clients.iter().find(|(role, _)| *role == Some(Role::Responder)).unwrap().1;
    app.evaluated(responder).await;
    let response = clients
        .iter()
        .find(|(role, _)| *role == Some(Role::Responder))
        .unwrap()
        .1
        .post(app.url("/api/v1/maintenance"))
        .json(&serde_json::json!({"title": "t", "components": ["platform/etcd"],
            "starts_at": app::domain::calendar::date_time_input(now + hour),
            "ends_at": app::domain::calendar::date_time_input(now + 2 * hour)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "maintenance window 1 exists for load_maintenance_window");
    let registered = server::web::server_functions();
    assert!(!registered.is_empty());
    for (path, _method) in &registered {
        let name = path.trim_start_matches("/api/");
        let entry = SERVER_FUNCTIONS
            .iter()
            .filter(|(known, _, _)| name.starts_with(known))
            .max_by_key(|(known, _, _)| known.len())
            .unwrap_or_else(|| panic!("server function {path} has no entry in SERVER_FUNCTIONS"));
        let (_, needs, args) = *entry;
        for (caller, client) in &clients {
            let status = client
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(args)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            match expected_refusal(*caller, needs) {
                Some(refusal) => assert_eq!(status, refusal, "{path} as {caller:?}"),
                None => assert_eq!(status, 200, "{path} as {caller:?}"),
            }
        }
    }
}
