//! Signing in and out, throttling, sessions and roles, on both backends.

use app::domain::role::Role;
use tests::{PASSWORD, location, on_both_backends, start_server};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("wheelhouse.sid="))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

on_both_backends! {
    async fn signing_in_redirects_and_shows_the_user_on_the_dashboard(app) {
        app.create_user("alice@example.com", Role::Responder).await;
        let client = app.client();
        let response = app.post_login(&client, "Alice@Example.com", PASSWORD).await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/");
        let cookie = session_cookie(&response).expect("a session cookie is set");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "not Secure unless configured for HTTPS: {cookie}");

        let dashboard = app.get(&client, "/").await;
        assert_eq!(dashboard.status(), 200);
        let html = dashboard.text().await.unwrap();
        assert!(html.contains("alice@example.com"), "{html}");
        assert!(html.contains(">Dashboard<"));
        assert!(!html.contains(">Admin<"), "a responder is not shown the admin link");
    }

    async fn a_wrong_password_is_refused_with_a_message_and_no_session(app) {
        app.create_user("bob@example.com", Role::Responder).await;
        let client = app.client();
        let response = app.post_login(&client, "bob@example.com", "not the password").await;
        assert_eq!(response.status(), 401);
        assert!(session_cookie(&response).is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("Wrong e-mail address or password."), "{html}");
        assert!(html.contains("value=\"bob@example.com\""), "the typed address is kept");
        let dashboard = app.get(&client, "/").await;
        assert_eq!(dashboard.status(), 303);
    }

    async fn an_unknown_account_gets_the_same_answer_as_a_wrong_password(app) {
        let response = app.post_login(&app.client(), "nobody@example.com", PASSWORD).await;
        assert_eq!(response.status(), 401);
        assert!(response.text().await.unwrap().contains("Wrong e-mail address or password."));
    }

    async fn the_sixth_attempt_within_a_minute_is_throttled_even_with_the_right_password(app) {
        app.create_user("carol@example.com", Role::Responder).await;
        let client = app.client();
        for attempt in 1..=5 {
            let response = app.post_login(&client, "carol@example.com", "wrong password!").await;
            assert_eq!(response.status(), 401, "attempt {attempt}");
        }
        let response = app.post_login(&client, "carol@example.com", PASSWORD).await;
        assert_eq!(response.status(), 429);
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Too many failed sign-in attempts"), "{html}");
    }

    async fn signing_out_ends_the_session(app) {
        let client = app.signed_in("dave@example.com", Role::Responder).await;
        assert_eq!(app.get(&client, "/").await.status(), 200);
        let response = client.post(app.url("/logout")).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/login");
        let after = app.get(&client, "/").await;
        assert_eq!(after.status(), 303);
        assert_eq!(location(&after), "/login?next=%2F");
    }

    async fn signing_in_again_issues_a_new_session_id_and_retires_the_old_one(app) {
        app.create_user("erin@example.com", Role::Responder).await;
        let client = app.client();
        let first = cookie_value(&session_cookie(&app.post_login(&client, "erin@example.com", PASSWORD).await).unwrap());
        let second = cookie_value(&session_cookie(&app.post_login(&client, "erin@example.com", PASSWORD).await).unwrap());
        assert_ne!(first, second);
        let stale = app.client().get(app.url("/")).header("cookie", &first).send().await.unwrap();
        assert_eq!(stale.status(), 303, "the old session id no longer signs anyone in");
        let fresh = app.client().get(app.url("/")).header("cookie", &second).send().await.unwrap();
        assert_eq!(fresh.status(), 200);
    }

    async fn a_signed_out_visitor_is_sent_to_sign_in_and_back(app) {
        let response = app.get(&app.client(), "/admin").await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/login?next=%2Fadmin");
        app.create_user("fay@example.com", Role::Admin).await;
        let client = app.client();
        let login = client
            .post(app.url("/login"))
            .form(&[("email", "fay@example.com"), ("password", PASSWORD), ("next", "/admin")])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&login), "/admin");
        let admin = app.get(&client, "/admin").await;
        assert_eq!(admin.status(), 200);
        assert!(admin.text().await.unwrap().contains("Administration"));
    }

    async fn sign_in_never_redirects_to_another_site(app) {
        app.create_user("gus@example.com", Role::Responder).await;
        let response = app
            .client()
            .post(app.url("/login"))
            .form(&[("email", "gus@example.com"), ("password", PASSWORD), ("next", "//evil.example/")])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/");
    }

    async fn a_responder_may_not_open_the_admin_page(app) {
        let client = app.signed_in("hal@example.com", Role::Responder).await;
        let response = app.get(&client, "/admin").await;
        assert_eq!(response.status(), 403);
        let html = response.text().await.unwrap();
        assert!(html.contains("You don't have access to this page"), "{html}");
        assert!(!html.contains("Administration"), "{html}");
    }

    async fn a_viewer_sees_the_briefing_but_not_the_dashboard(app) {
        let client = app.signed_in("ivy@example.com", Role::Viewer).await;
        assert_eq!(app.get(&client, "/briefing").await.status(), 200);
        assert_eq!(app.get(&client, "/").await.status(), 403);
        assert_eq!(app.get(&client, "/incidents").await.status(), 403);
        let html = app.get(&client, "/briefing").await.text().await.unwrap();
        assert!(html.contains(">Briefing<"));
        assert!(!html.contains(">Incidents<"), "a viewer is not shown responder navigation");
    }

    async fn an_admin_sees_every_area_in_the_navigation(app) {
        let client = app.signed_in("jo@example.com", Role::Admin).await;
        let html = app.get(&client, "/").await.text().await.unwrap();
        for label in ["Dashboard", "Incidents", "Cluster", "Status page", "Briefing", "Admin"] {
            assert!(html.contains(&format!(">{label}<")), "{label} missing");
        }
    }

    async fn a_session_survives_a_restart_of_the_server(app) {
        let client = app.signed_in("kim@example.com", Role::Responder).await;
        app.stop().await;
        let (restarted, _, _, task) = start_server(&app.database_url).await;
        let response = client.get(format!("{restarted}/")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("kim@example.com"));
        task.abort();
    }

    async fn a_session_ends_seven_days_after_signing_in_however_active(app) {
        let client = app.signed_in("max@example.com", Role::Responder).await;
        assert_eq!(app.get(&client, "/").await.status(), 200);
        let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
        let db = server::db::Database::connect(&url).await.unwrap();
        // Moves the session's sign-in time back by `days`, as if it had been used ever since.
        let signed_in_days_ago = |days: i64| {
            let db = db.clone();
            async move {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT id, data FROM sessions").fetch_all(&db.pool).await.unwrap();
                for (id, data) in rows {
                    let mut data: serde_json::Value = serde_json::from_str(&data).unwrap();
                    if data.get(server::web::context::SIGNED_IN_AT_KEY).is_some() {
                        data[server::web::context::SIGNED_IN_AT_KEY] =
                            serde_json::json!(server::db::now_millis() - days * 86_400_000);
                        sqlx::query("UPDATE sessions SET data = $1 WHERE id = $2")
                            .bind(data.to_string())
                            .bind(id)
                            .execute(&db.pool)
                            .await
                            .unwrap();
                    }
                }
            }
        };
        signed_in_days_ago(6).await;
        assert_eq!(app.get(&client, "/").await.status(), 200, "six days in, still signed in");
        signed_in_days_ago(8).await;
        let after = app.get(&client, "/").await;
        assert_eq!(after.status(), 303, "eight days in, the session is over");
        assert_eq!(location(&after), "/login?next=%2F");
        db.pool.close().await;
    }

    async fn an_account_cannot_be_added_twice(app) {
        app.create_user("lee@example.com", Role::Viewer).await;
        let email = app::domain::account::Email::parse("LEE@example.com").unwrap();
        let password = app::domain::account::NewPassword::parse(PASSWORD).unwrap();
        let err = app.accounts.create_user(&email, &password, Role::Admin).await.unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
    }
}
