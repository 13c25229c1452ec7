//! Health, readiness, metrics and response headers, on both backends.

use tests::{location, on_both_backends};

on_both_backends! {
    async fn healthz_says_the_process_is_up(app) {
        let response = app.get(&app.client(), "/healthz").await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }

    async fn readyz_reports_the_database_reachable(app) {
        let response = app.get(&app.client(), "/readyz").await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ready");
        assert_eq!(body["checks"]["database"], "ok");
    }

    async fn metrics_count_requests_and_time_them_by_route(app) {
        let client = app.client();
        for _ in 0..3 {
            app.get(&client, "/healthz").await;
        }
        let response = app.get(&client, "/metrics").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().contains("openmetrics-text"));
        let text = response.text().await.unwrap();
        let counter = text
            .lines()
            .find(|l| l.starts_with("wheelhouse_http_requests_total{") && l.contains("route=\"/healthz\""))
            .unwrap_or_else(|| panic!("no request counter for /healthz in:\n{text}"));
        assert!(counter.contains("status=\"200\""), "{counter}");
        assert!(counter.ends_with(" 3"), "{counter}");
        assert!(text.contains("wheelhouse_http_request_duration_seconds_bucket{"), "{text}");
    }

    async fn pages_carry_security_headers_and_a_nonce_policy(app) {
        let response = app.get(&app.client(), "/login").await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("'nonce-"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        let html = response.text().await.unwrap();
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
        assert!(html.contains("/pkg/wheelhouse.js"), "the page loads the bundle's script");
        assert!(html.contains("/pkg/wheelhouse.wasm"), "the page loads the wasm file cargo-leptos writes");
    }

    async fn json_endpoints_get_the_strict_policy(app) {
        let response = app.get(&app.client(), "/healthz").await;
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'");
    }

    async fn an_unknown_path_answers_404_with_a_page(app) {
        let response = app.get(&app.client(), "/no/such/page").await;
        assert_eq!(response.status(), 404);
        let html = response.text().await.unwrap();
        assert!(html.contains("Page not found"), "{html}");
    }

    async fn the_public_status_page_needs_no_sign_in_and_shows_the_drill_banner(app) {
        let response = app.get(&app.client(), "/status").await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains("Drill cluster"), "{html}");
        assert!(html.contains("System status"), "{html}");
        assert!(!html.contains(">Dashboard<"), "signed-out visitors see no responder navigation");
    }

    async fn a_request_body_over_the_limit_is_refused(app) {
        let big = "x".repeat(server::web::MAX_BODY_BYTES + 1);
        let response = app
            .client()
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("email={big}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
    }

    async fn responses_are_compressed_when_the_client_accepts_it(app) {
        let response = app
            .client()
            .get(app.url("/status"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
        assert_eq!(location(&response), "");
    }
}
