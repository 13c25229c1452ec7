//! The executive briefing for a viewer: active incidents with the latest
//! executive update as the customer impact, who leads, the decisions taken,
//! and the last 30 days in numbers with a chart drawn on the server.

use app::domain::role::Role;
use serde_json::json;
use tests::on_both_backends;

on_both_backends! {
    async fn a_viewer_sees_impact_decisions_and_the_last_30_days_on_one_screen(app) {
        let ic = app.signed_in("ic@example.com", Role::Responder).await;
        let viewer = app.signed_in("exec@example.com", Role::Viewer).await;
        let incident: serde_json::Value = ic
            .post(app.url("/api/v1/incidents"))
            .json(&json!({"title": "Card payments failing", "severity": "SEV1", "category": "external_dependency"}))
            .send().await.unwrap().json().await.unwrap();
        let id = incident["id"].as_i64().unwrap();
        let base = format!("/api/v1/incidents/{id}");
        for (path, body) in [
            ("/transitions", json!({"acknowledge": true})),
            ("/notes", json!({"text": "Switch card traffic to the backup provider", "decision": true})),
            ("/notes", json!({"text": "NOT-A-DECISION scratch note"})),
            ("/updates", json!({"audience": "executive", "purpose": "investigating", "text": "About 30% of card payments fail."})),
        ] {
            let response = ic.post(app.url(&format!("{base}{path}"))).json(&body).send().await.unwrap();
            assert!(response.status().is_success(), "{path}");
        }
        for path in ["/briefing".to_owned(), format!("/incidents/{id}/briefing")] {
            let response = app.get(&viewer, &path).await;
            assert_eq!(response.status(), 200, "{path}");
            let html = response.text().await.unwrap();
            assert!(html.contains("Card payments failing"), "{path}");
            assert!(html.contains("About 30% of card payments fail."), "{path}: the impact in plain words");
            assert!(html.contains("Switch card traffic to the backup provider"), "{path}: the decision");
            assert!(!html.contains("NOT-A-DECISION"), "{path}: notes that are not decisions stay out");
            assert!(html.contains("ic@example.com"), "{path}: the commander");
            assert!(html.contains("Mean time to acknowledge") && html.contains("<svg"), "{path}: the numbers and chart");
        }
        assert_eq!(app.get(&viewer, &format!("/incidents/{id}")).await.status(), 403, "the room is for responders");
    }
}
