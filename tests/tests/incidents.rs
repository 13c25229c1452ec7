//! Incident command through the real server, on SQLite and PostgreSQL:
//! declaring from the form and the API, the lifecycle with its refusals,
//! roles and handovers, notes and decisions, API tokens, bad input that
//! writes nothing, and a timeline the database itself keeps append-only.

use app::domain::role::Role;
use serde_json::{Value, json};
use tests::{TestApp, bearer, location, on_both_backends};

/// A component key the board knows, once the first evaluation is done.
async fn some_component(app: &TestApp, client: &reqwest::Client) -> String {
    tests::eventually("the first evaluation", 30, || async {
        let all: Value = app.get(client, "/api/v1/components").await.json().await.ok()?;
        let key = all["components"].as_array()?.iter().find(|c| c["kind"] == "service")?["key"]
            .as_str()?
            .to_owned();
        (all["evaluated"] == true).then_some(key)
    })
    .await
}

async fn post_json(client: &reqwest::Client, app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let response = client.post(app.url(path)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_json(client: &reqwest::Client, app: &TestApp, path: &str) -> Value {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn declare(client: &reqwest::Client, app: &TestApp, body: Value) -> Value {
    let (status, incident) = post_json(client, app, "/api/v1/incidents", body).await;
    assert_eq!(status, 201, "declared: {incident}");
    incident
}

fn sev2(title: &str) -> Value {
    json!({"title": title, "severity": "SEV2", "category": "application_failure", "summary": "Payments fail"})
}

async fn timeline(client: &reqwest::Client, app: &TestApp, id: i64) -> Vec<Value> {
    get_json(client, app, &format!("/api/v1/incidents/{id}/timeline")).await.as_array().unwrap().clone()
}

async fn api_token(app: &TestApp, admin: &reqwest::Client, name: &str, role: &str) -> String {
    app.api_token(admin, name, role).await
}

on_both_backends! {
    async fn declaring_from_the_form_opens_the_room_with_the_declarer_in_command(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        let component = some_component(&app, &client).await;
        let response = client
            .post(app.url("/incidents"))
            .form(&[
                ("title", "Checkout errors"),
                ("severity", "SEV1"),
                ("category", "application_failure"),
                ("components", component.as_str()),
                ("summary", "Card payments fail"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let room = location(&response).to_owned();
        assert!(room.starts_with("/incidents/"), "{room}");
        let page = app.get(&client, &room).await.text().await.unwrap();
        assert!(page.contains("Checkout errors"));
        assert!(page.contains("ic@example.com"));
        let id = room.trim_start_matches("/incidents/");
        let incident = get_json(&client, &app, &format!("/api/v1/incidents/{id}")).await;
        assert_eq!(incident["commander"], "ic@example.com");
        assert_eq!(incident["status"], "investigating");
        assert_eq!(incident["phase"], "identification");
        assert_eq!(incident["components"][0]["key"], component.as_str());
        assert!(incident["components"][0]["status"].is_string(), "with its live status");
        assert!(incident["next_update_due"].as_i64().unwrap() > incident["declared_at"].as_i64().unwrap());
    }

    async fn a_refused_declaration_comes_back_with_the_reason_and_what_was_typed(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        let response = client
            .post(app.url("/incidents"))
            .form(&[("title", "Search is slow"), ("severity", "SEV9"), ("category", "networking")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let page = response.text().await.unwrap();
        assert!(page.contains("unknown severity"), "the reason is shown");
        assert!(page.contains("Search is slow"), "the title typed is kept");
    }

    async fn the_lifecycle_runs_and_stamps_its_times_with_a_refusal_explained(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        let incident = declare(&client, &app, sev2("Checkout errors")).await;
        let id = incident["id"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/transitions");
        let (status, changed) = post_json(&client, &app, &path, json!({"acknowledge": true})).await;
        assert_eq!(status, 200, "{changed}");
        assert!(changed["incident"]["acknowledged_at"].is_i64());
        for (body, field, value) in [
            (json!({"status": "identified"}), "status", "identified"),
            (json!({"phase": "containment"}), "phase", "containment"),
            (json!({"phase": "recovery"}), "phase", "recovery"),
            (json!({"severity": "SEV1"}), "severity", "SEV1"),
            (json!({"status": "resolved"}), "status", "resolved"),
        ] {
            let (status, changed) = post_json(&client, &app, &path, body.clone()).await;
            assert_eq!(status, 200, "{body}: {changed}");
            assert_eq!(changed["incident"][field], value);
        }
        let incident = get_json(&client, &app, &format!("/api/v1/incidents/{id}")).await;
        assert!(incident["contained_at"].is_i64(), "leaving containment stamps contained_at");
        assert!(incident["resolved_at"].is_i64());
        assert_eq!(incident["next_update_due"], Value::Null, "a resolved incident owes no update");

        let before = timeline(&client, &app, id).await.len();
        let (status, refused) = post_json(&client, &app, &path, json!({"status": "investigating"})).await;
        assert_eq!(status, 409);
        assert!(refused["error"]["message"].as_str().unwrap().contains("reopen"), "{refused}");
        assert_eq!(timeline(&client, &app, id).await.len(), before, "a refusal writes nothing");

        let (status, _) = post_json(&client, &app, &path, json!({"reopen": true})).await;
        assert_eq!(status, 200);
        let kinds: Vec<String> =
            timeline(&client, &app, id).await.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
        assert_eq!(
            kinds,
            ["declared", "acknowledged", "status_changed", "phase_changed", "phase_changed", "severity_changed",
             "status_changed", "review_state_changed", "reopened"],
            "resolving opens the post-incident review"
        );
    }

    async fn only_the_commander_assigns_roles_and_handover_leaves_one_commander(app) {
        let ic = app.signed_in("ic@example.com", Role::Responder).await;
        let other = app.signed_in("ops@example.com", Role::Responder).await;
        app.create_user("exec@example.com", Role::Viewer).await;
        let id = declare(&ic, &app, sev2("Checkout errors")).await["id"].as_i64().unwrap();
        let roles = format!("/api/v1/incidents/{id}/roles");

        let (status, refused) =
            post_json(&other, &app, &roles, json!({"email": "ops@example.com", "role": "scribe"})).await;
        assert_eq!(status, 403, "{refused}");
        let (status, refused) =
            post_json(&ic, &app, &roles, json!({"email": "exec@example.com", "role": "scribe"})).await;
        assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("email")), "{refused}");

        for role in ["operations_lead", "scribe"] {
            let (status, _) = post_json(&ic, &app, &roles, json!({"email": "ops@example.com", "role": role})).await;
            assert_eq!(status, 200);
        }
        let (status, changed) =
            post_json(&ic, &app, &roles, json!({"email": "ops@example.com", "role": "incident_commander"})).await;
        assert_eq!(status, 200, "{changed}");
        let holders = changed["incident"]["roles"].as_array().unwrap();
        let commanders: Vec<&Value> = holders.iter().filter(|h| h["role"] == "incident_commander").collect();
        assert_eq!(commanders.len(), 1);
        assert_eq!(commanders[0]["email"], "ops@example.com");
        assert_eq!(holders.iter().filter(|h| h["email"] == "ops@example.com").count(), 3, "several roles at once");
        assert_eq!(changed["events"][0]["kind"], "command_handed_over");
        assert!(changed["events"][0]["text"].as_str().unwrap().contains("from ic@example.com to ops@example.com"));

        let page = app.get(&ic, &format!("/incidents/{id}")).await.text().await.unwrap();
        assert!(page.contains("Operations lead") && page.contains("ops@example.com"), "the room shows who holds what");
    }

    async fn two_admins_taking_command_at_once_leave_exactly_one_commander(app) {
        let ic = app.signed_in("ic@example.com", Role::Responder).await;
        let first = app.signed_in("first@example.com", Role::Admin).await;
        let second = app.signed_in("second@example.com", Role::Admin).await;
        let id = declare(&ic, &app, sev2("Checkout errors")).await["id"].as_i64().unwrap();
        let roles = format!("/api/v1/incidents/{id}/roles");
        let take = |client: reqwest::Client, email: &'static str| {
            let url = app.url(&roles);
            async move {
                client.post(url).json(&json!({"email": email, "role": "incident_commander"})).send().await.unwrap().status()
            }
        };
        let (a, b) = tokio::join!(take(first, "first@example.com"), take(second, "second@example.com"));
        assert_eq!((a.as_u16(), b.as_u16()), (200, 200));
        let incident = get_json(&ic, &app, &format!("/api/v1/incidents/{id}")).await;
        let commanders: Vec<&Value> =
            incident["roles"].as_array().unwrap().iter().filter(|h| h["role"] == "incident_commander").collect();
        assert_eq!(commanders.len(), 1);
        let handovers: Vec<Value> =
            timeline(&ic, &app, id).await.into_iter().filter(|e| e["kind"] == "command_handed_over").collect();
        assert_eq!(handovers.len(), 2, "both handovers are on the timeline");
        let last = handovers[1]["text"].as_str().unwrap();
        let first_to = if handovers[0]["text"].as_str().unwrap().ends_with("first@example.com") { "first" } else { "second" };
        assert!(last.contains(&format!("from {first_to}@example.com")), "in order: {handovers:?}");
        assert!(last.ends_with(commanders[0]["email"].as_str().unwrap()), "the last handover names the commander");
    }

    async fn notes_and_decisions_reach_the_timeline_newest_first_in_the_room(app) {
        let ic = app.signed_in("ic@example.com", Role::Responder).await;
        let bystander = app.signed_in("sre@example.com", Role::Responder).await;
        let id = declare(&ic, &app, sev2("Checkout errors")).await["id"].as_i64().unwrap();
        let notes = format!("/api/v1/incidents/{id}/notes");
        let (status, _) = post_json(&bystander, &app, &notes, json!({"text": "Error rate 40%"})).await;
        assert_eq!(status, 200);
        let (status, _) = post_json(&bystander, &app, &notes, json!({"text": "Roll back", "decision": true})).await;
        assert_eq!(status, 403, "a decision comes from someone with a role");
        let response = ic
            .post(app.url(&format!("/incidents/{id}/notes")))
            .form(&[("text", "Roll back checkout to v41"), ("decision", "true")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let page = app.get(&ic, &format!("/incidents/{id}")).await.text().await.unwrap();
        let decision = page.find("Roll back checkout to v41").unwrap();
        let note = page.find("Error rate 40%").unwrap();
        assert!(decision < note, "newest first");
        assert!(page.contains("Decision"));
    }

    async fn bad_input_gets_a_clear_4xx_and_writes_nothing(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        let huge = "x".repeat(10 * 1024 * 1024);
        let cases = [
            (json!({"title": "", "severity": "SEV2", "category": "networking"}), 422, Some("title")),
            (json!({"title": huge, "severity": "SEV2", "category": "networking"}), 413, None),
            (json!({"title": "t", "severity": "SEV7", "category": "networking"}), 422, Some("severity")),
            (json!({"title": "t", "severity": "SEV2", "category": "gremlins"}), 422, Some("category")),
            (json!({"title": "t", "severity": "SEV2", "category": "networking", "components": ["service/99999"]}), 422, Some("components")),
            (json!({"title": "t", "severity": "SEV2", "category": "networking", "commander": "nobody@example.com"}), 422, Some("commander")),
            (json!({"title": 5}), 400, None),
        ];
        for (body, expected, field) in cases {
            let (status, error) = post_json(&client, &app, "/api/v1/incidents", body).await;
            assert_eq!(status, expected, "{error}");
            assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {error}");
            assert_eq!(error["error"]["field"].as_str(), field, "{error}");
        }
        // A cross-site "simple" request cannot carry JSON: the body must be declared as JSON.
        let plain = client
            .post(app.url("/api/v1/incidents"))
            .header("content-type", "text/plain")
            .body(json!({"title": "t", "severity": "SEV2", "category": "networking"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 415);
        let error: serde_json::Value = plain.json().await.unwrap();
        assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("application/json")), "{error}");
        let all = get_json(&client, &app, "/api/v1/incidents").await;
        assert_eq!(all.as_array().unwrap().len(), 0, "nothing was declared");

        let id = declare(&client, &app, sev2("Real one")).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/transitions");
        for body in [json!({}), json!({"status": "fixed"}), json!({"status": "identified", "phase": "containment"})] {
            let (status, error) = post_json(&client, &app, &path, body).await;
            assert_eq!(status, 422, "{error}");
        }
        let (status, _) = post_json(&client, &app, "/api/v1/incidents/99999/transitions", json!({"status": "identified"})).await;
        assert_eq!(status, 404);
        let (status, _) = post_json(&client, &app, &format!("/api/v1/incidents/{id}/notes"), json!({"text": "  "})).await;
        assert_eq!(status, 422);
        assert_eq!(timeline(&client, &app, id).await.len(), 1, "only the declaration");
    }

    async fn an_api_token_drives_incidents_and_stops_working_once_revoked(app) {
        let admin = app.signed_in("admin@example.com", Role::Admin).await;
        app.create_user("oncall@example.com", Role::Responder).await;
        let token = api_token(&app, &admin, "alert-router", "responder").await;
        let bot = bearer(&token);

        let (status, refused) = post_json(&bot, &app, "/api/v1/incidents", sev2("From an alert")).await;
        assert_eq!((status, refused["error"]["field"].as_str()), (422, Some("commander")), "{refused}");
        let mut body = sev2("From an alert");
        body["commander"] = json!("oncall@example.com");
        let incident = declare(&bot, &app, body).await;
        let id = incident["id"].as_i64().unwrap();
        assert_eq!(incident["commander"], "oncall@example.com");
        assert_eq!(incident["declared_by"], "token:alert-router");
        let (status, _) = post_json(&bot, &app, &format!("/api/v1/incidents/{id}/notes"), json!({"text": "Alert fired again"})).await;
        assert_eq!(status, 200);
        let (status, _) = post_json(&bot, &app, &format!("/api/v1/incidents/{id}/transitions"), json!({"status": "resolved"})).await;
        assert_eq!(status, 403, "a responder token holds no incident role");
        let events = timeline(&bot, &app, id).await;
        assert_eq!(events[1]["actor"], "token:alert-router");

        let page = app.get(&admin, "/admin/tokens").await.text().await.unwrap();
        assert!(page.contains("alert-router") && !page.contains(&token), "listed, the secret never shown again");
        let token_id: i64 = page.split("/admin/tokens/").nth(1).unwrap().split('/').next().unwrap().parse().unwrap();
        let response = admin.post(app.url(&format!("/admin/tokens/{token_id}/revoke"))).send().await.unwrap();
        assert_eq!(response.status(), 303);
        let response = bot.get(app.url("/api/v1/incidents")).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }

    async fn the_database_refuses_to_edit_or_delete_a_timeline_event(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        declare(&client, &app, sev2("Checkout errors")).await;
        let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
        let db = server::db::Database::connect(&url).await.unwrap();
        let update = sqlx::query("UPDATE incident_events SET actor = 'someone else'").execute(&db.pool).await;
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = sqlx::query("DELETE FROM incident_events").execute(&db.pool).await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    async fn the_incident_list_filters_and_puts_the_worst_first(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        for (title, severity) in [("Minor", "SEV3"), ("Major", "SEV1"), ("Middle", "SEV2")] {
            let mut body = sev2(title);
            body["severity"] = json!(severity);
            declare(&client, &app, body).await;
        }
        let all = get_json(&client, &app, "/api/v1/incidents").await;
        let titles: Vec<&str> = all.as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Major", "Middle", "Minor"]);
        let page = app.get(&client, "/incidents?severity=SEV2").await.text().await.unwrap();
        assert!(page.contains("Middle") && !page.contains("Minor"));
        let sev1 = get_json(&client, &app, "/api/v1/incidents?severity=SEV1").await;
        assert_eq!(sev1.as_array().unwrap().len(), 1);
    }

    async fn the_incidents_page_lists_resolved_incidents_a_page_at_a_time_without_javascript(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        let page_size = server::incident_pages::RESOLVED_PAGE;
        for n in 0..page_size + 2 {
            let id = declare(&client, &app, sev2(&format!("Old trouble {n:02}"))).await["id"].as_i64().unwrap();
            let path = format!("/api/v1/incidents/{id}/transitions");
            assert_eq!(post_json(&client, &app, &path, json!({"status": "resolved"})).await.0, 200);
        }
        declare(&client, &app, sev2("Still burning")).await;

        let first = app.get(&client, "/incidents").await.text().await.unwrap();
        assert!(first.contains("Still burning"), "the active incident is listed");
        let listed = |html: &str| (0..page_size + 2).filter(|n| html.contains(&format!("Old trouble {n:02}"))).collect::<Vec<_>>();
        assert_eq!(listed(&first).len(), page_size, "one page of resolved incidents");
        assert!(first.contains("Old trouble 26") && !first.contains("Old trouble 00"), "latest resolved first");
        let start = first.find("id=\"older-resolved\"").expect("a link to older ones");
        let href_at = first[..start].rfind("href=\"").unwrap() + 6;
        let href = first[href_at..].split('"').next().unwrap().replace("&amp;", "&");

        let second = app.get(&client, &href).await.text().await.unwrap();
        assert_eq!(listed(&second), vec![0, 1], "the rest, and no more");
        assert!(!second.contains("older-resolved"), "no further page");
        let filtered = app.get(&client, &format!("{href}&status=investigating")).await.text().await.unwrap();
        assert!(listed(&filtered).is_empty() && filtered.contains("Still burning"), "filters still apply");
    }

    async fn the_incident_list_and_a_timeline_come_a_page_at_a_time(app) {
        let client = app.signed_in("ic@example.com", Role::Responder).await;
        for (title, severity) in [("C", "SEV3"), ("A", "SEV1"), ("B1", "SEV2"), ("B2", "SEV2")] {
            let mut body = sev2(title);
            body["severity"] = json!(severity);
            declare(&client, &app, body).await;
        }
        // Follow the Link headers: every incident once, in the list's order.
        let (mut seen, mut next, mut pages) = (Vec::new(), Some("/api/v1/incidents?limit=3".to_owned()), 0);
        while let Some(path) = next.take() {
            let response = app.get(&client, &path).await;
            assert_eq!(response.status(), 200, "GET {path}");
            next = response.headers().get("link").map(|link| {
                let link = link.to_str().unwrap();
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                link[1..link.find('>').unwrap()].to_owned()
            });
            let page: Value = response.json().await.unwrap();
            seen.extend(page.as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()));
            pages += 1;
        }
        assert_eq!((seen, pages), (vec!["A".to_owned(), "B1".into(), "B2".into(), "C".into()], 2));

        // A timeline page after the declaration.
        let id = get_json(&client, &app, "/api/v1/incidents?severity=SEV1").await[0]["id"].as_i64().unwrap();
        for text in ["one", "two"] {
            let (status, _) = post_json(&client, &app, &format!("/api/v1/incidents/{id}/notes"), json!({"text": text})).await;
            assert_eq!(status, 200);
        }
        let first = app.get(&client, &format!("/api/v1/incidents/{id}/timeline?limit=2")).await;
        let link = first.headers()["link"].to_str().unwrap().to_owned();
        assert_eq!(first.json::<Value>().await.unwrap().as_array().unwrap().len(), 2);
        let rest = get_json(&client, &app, &link[1..link.find('>').unwrap()]).await;
        assert_eq!(rest.as_array().unwrap().len(), 1, "the second note: {rest}");

        // Bad paging input is refused by field, in the API's error shape.
        for (path, field) in [("/api/v1/incidents?limit=0", "limit"), ("/api/v1/incidents?cursor=x", "cursor")] {
            let response = app.get(&client, path).await;
            assert_eq!(response.status(), 422, "{path}");
            assert_eq!(response.json::<Value>().await.unwrap()["error"]["field"], field, "{path}");
        }
        let response = app.get(&client, "/api/v1/incidents?limit=many").await;
        assert_eq!(response.status(), 400);
        assert!(response.json::<Value>().await.unwrap()["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_incident_route() {
    let app = tests::spawn_app(tests::Backend::Sqlite).await;
    let document: Value =
        app.client().get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/incidents",
        "/api/v1/incidents/{id}",
        "/api/v1/incidents/{id}/transitions",
        "/api/v1/incidents/{id}/roles",
        "/api/v1/incidents/{id}/notes",
        "/api/v1/incidents/{id}/timeline",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is described");
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    // Every mutating API route in the router's table is in the document.
    for route in server::web::MUTATING_ROUTES.iter().filter(|r| r.path.starts_with("/api/")) {
        assert!(document["paths"][route.path]["post"].is_object(), "{} is described", route.path);
    }
}
