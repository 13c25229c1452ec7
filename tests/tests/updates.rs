//! Stakeholder updates through the real server: render a template with the
//! incident's live data, edit, publish (the timer resets, a public update may
//! move the public status), who may publish, and templates refused on save
//! with line, column and reason.

use app::domain::role::Role;
use serde_json::{Value, json};
use tests::{TestApp, on_both_backends};

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    let response = client.post(app.url(path)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An incident whose commander is ic@ and communications lead comms@.
async fn incident(app: &TestApp) -> (i64, reqwest::Client, reqwest::Client) {
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let comms = app.signed_in("comms@example.com", Role::Responder).await;
    let (status, incident) = post(
        app,
        &ic,
        "/api/v1/incidents",
        json!({"title": "Card payments fail", "severity": "SEV1", "category": "application_failure", "summary": "checkout-7d9f OOM"}),
    )
    .await;
    assert_eq!(status, 201);
    let id = incident["id"].as_i64().unwrap();
    let (status, _) = post(
        app,
        &ic,
        &format!("/api/v1/incidents/{id}/roles"),
        json!({"email": "comms@example.com", "role": "communications_lead"}),
    )
    .await;
    assert_eq!(status, 200);
    (id, ic, comms)
}

on_both_backends! {
    async fn the_communications_lead_renders_edits_and_publishes_a_public_update(app) {
        let (id, ic, comms) = incident(&app).await;
        let before: Value = app.get(&ic, &format!("/api/v1/incidents/{id}")).await.json().await.unwrap();
        let (status, rendered) = post(&app, &comms, &format!("/api/v1/incidents/{id}/updates/render"),
            json!({"audience": "public", "purpose": "identified", "impact": "Some card payments fail.", "workaround": "Pay by invoice."})).await;
        assert_eq!(status, 200, "{rendered}");
        let text = rendered["text"].as_str().unwrap();
        assert!(text.contains("Service disruption") && text.contains("Some card payments fail.") && text.contains("Pay by invoice."), "{text}");
        assert!(!text.contains("Card payments fail"), "a public template shows the public title, not the internal one: {text}");
        assert!(!text.contains("ic@example.com") && !text.contains("checkout-7d9f"), "nothing internal: {text}");

        let edited = format!("{text} We apologise.");
        let (status, update) = post(&app, &comms, &format!("/api/v1/incidents/{id}/updates"),
            json!({"audience": "public", "purpose": "identified", "text": edited, "move_status": true})).await;
        assert_eq!(status, 201, "{update}");
        assert_eq!(update["author"], "comms@example.com");
        let after: Value = app.get(&ic, &format!("/api/v1/incidents/{id}")).await.json().await.unwrap();
        assert_eq!(after["status"], "identified", "the public update moved the status");
        assert!(after["next_update_due"].as_i64() > before["next_update_due"].as_i64(), "the timer was reset");
        let updates: Value = app.get(&ic, &format!("/api/v1/incidents/{id}/updates")).await.json().await.unwrap();
        assert!(updates[0]["text"].as_str().unwrap().ends_with("We apologise."));
        let timeline: Value = app.get(&ic, &format!("/api/v1/incidents/{id}/timeline")).await.json().await.unwrap();
        let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(&kinds[kinds.len() - 2..], ["update_posted", "status_changed"]);
    }

    async fn only_the_commander_or_communications_lead_publishes_and_bad_input_writes_nothing(app) {
        let (id, ic, _) = incident(&app).await;
        let sre = app.signed_in("sre@example.com", Role::Responder).await;
        let path = format!("/api/v1/incidents/{id}/updates");
        let (status, _) = post(&app, &sre, &path, json!({"audience": "internal", "purpose": "investigating", "text": "hi"})).await;
        assert_eq!(status, 403);
        for (body, field) in [
            (json!({"audience": "press", "purpose": "investigating", "text": "hi"}), "audience"),
            (json!({"audience": "internal", "purpose": "panic", "text": "hi"}), "purpose"),
            (json!({"audience": "internal", "purpose": "investigating", "text": "  "}), "text"),
        ] {
            let (status, error) = post(&app, &ic, &path, body).await;
            assert_eq!((status, error["error"]["field"].as_str()), (422, Some(field)), "{error}");
        }
        let updates: Value = app.get(&ic, &path).await.json().await.unwrap();
        assert_eq!(updates.as_array().unwrap().len(), 0);
    }

    async fn a_template_that_does_not_check_is_refused_with_line_column_and_reason(app) {
        let admin = app.signed_in("admin@example.com", Role::Admin).await;
        let path = "/api/v1/templates/public/investigating";
        let (status, error) = post(&app, &admin, path, json!({"body": "We are on it.\n{{ title }"})).await;
        assert_eq!(status, 422);
        assert!(error["error"]["message"].as_str().unwrap().starts_with("line 2, column"), "{error}");
        let (status, error) = post(&app, &admin, path, json!({"body": "{{ titel }}"})).await;
        assert_eq!(status, 422);
        assert!(error["error"]["message"].as_str().unwrap().contains("unknown variable 'titel'"), "{error}");
        let (status, error) = post(&app, &admin, path, json!({"body": "Our engineer {{ commander }} is on it."})).await;
        assert_eq!(status, 422);
        assert!(error["error"]["message"].as_str().unwrap().contains("internal"), "{error}");

        let (status, saved) = post(&app, &admin, path, json!({"body": "Looking into {{ title }}."})).await;
        assert_eq!((status, saved["customised"].as_bool()), (200, Some(true)), "{saved}");
        let (id, _, comms) = incident(&app).await;
        let (_, rendered) = post(&app, &comms, &format!("/api/v1/incidents/{id}/updates/render"),
            json!({"audience": "public", "purpose": "investigating"})).await;
        assert_eq!(rendered["text"], "Looking into Service disruption.", "the neutral public title, never the internal one");
        let (status, _) = post(&app, &comms, &format!("/api/v1/incidents/{id}/updates"),
            json!({"audience": "public", "purpose": "investigating", "text": "Looking into it.", "public_title": "Payment problems"})).await;
        assert_eq!(status, 201);
        let (_, rendered) = post(&app, &comms, &format!("/api/v1/incidents/{id}/updates/render"),
            json!({"audience": "public", "purpose": "investigating"})).await;
        assert_eq!(rendered["text"], "Looking into Payment problems.", "the public title, once chosen");
        let responder = app.signed_in("r@example.com", Role::Responder).await;
        let (status, _) = post(&app, &responder, path, json!({"body": "x"})).await;
        assert_eq!(status, 403, "only admins change templates");
    }

    async fn the_room_renders_and_publishes_without_javascript(app) {
        let (id, _, comms) = incident(&app).await;
        let form = [("audience", "internal"), ("purpose", "investigating"), ("impact", "Checkout down for 20%"), ("workaround", "")];
        let page = comms.post(app.url(&format!("/incidents/{id}/updates/render"))).form(&form).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Impact: Checkout down for 20%"), "the rendered draft is in the editor");
        assert!(html.contains("commander: ic@example.com"), "internal updates name the commander");
        let response = comms
            .post(app.url(&format!("/incidents/{id}/updates")))
            .form(&[("audience", "internal"), ("purpose", "investigating"), ("text", "Edited by hand.")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let room = app.get(&comms, &format!("/incidents/{id}")).await.text().await.unwrap();
        assert!(room.contains("Internal update (Investigating) published: Edited by hand."));
    }
}

#[tokio::test]
async fn the_admin_page_shows_a_refused_template_with_its_position() {
    let app = tests::spawn_app(tests::Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let response = admin
        .post(app.url("/admin/templates/executive/resolved"))
        .form(&[("body", "{% if %}")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("line 1, column"), "the position is shown");
    assert!(html.contains("decisions"), "the variables are listed beside the editor");
}
