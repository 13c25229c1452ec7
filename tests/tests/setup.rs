//! The first-start setup link, on both backends.

use tests::{PASSWORD, location, on_both_backends};

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

on_both_backends! {
    async fn a_fresh_install_offers_setup_that_works_once(app) {
        let link = app.setup_link.clone().expect("no account yet, so a setup link is issued");
        assert!(link.starts_with(&app.base_url));
        let token = token_of(&link);
        let client = app.client();

        let page = app.get(&client, &format!("/setup?token={token}")).await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Create administrator"));

        let form = [
            ("token", token.as_str()),
            ("email", "admin@example.com"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ];
        let created = client.post(app.url("/setup")).form(&form).send().await.unwrap();
        assert_eq!(created.status(), 303);
        assert_eq!(location(&created), "/");
        let dashboard = app.get(&client, "/admin").await;
        assert_eq!(dashboard.status(), 200, "the new administrator is signed in");
        assert!(dashboard.text().await.unwrap().contains("admin@example.com"));

        let again = app.client().post(app.url("/setup")).form(&form).send().await.unwrap();
        assert_eq!(again.status(), 410);
        assert!(again.text().await.unwrap().contains("Setup is complete"));
        let closed = app.get(&app.client(), &format!("/setup?token={token}")).await;
        assert!(!closed.text().await.unwrap().contains("Create administrator"));
    }

    async fn a_wrong_setup_token_is_refused_and_loses_nothing_typed(app) {
        let form = [
            ("token", "not-the-token"),
            ("email", "admin@example.com"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ];
        let response = app.client().post(app.url("/setup")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 403);
        let html = response.text().await.unwrap();
        assert!(html.contains("setup token is not valid"), "{html}");
        assert!(html.contains("value=\"admin@example.com\""), "{html}");
        assert!(!app.accounts.has_users().await.unwrap());
    }

    async fn setup_refuses_a_short_password_with_the_reason(app) {
        let token = token_of(app.setup_link.as_deref().unwrap());
        let form = [
            ("token", token.as_str()),
            ("email", "admin@example.com"),
            ("password", "short"),
            ("password_again", "short"),
        ];
        let response = app.client().post(app.url("/setup")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 422);
        assert!(response.text().await.unwrap().contains("at least 12 characters"));
        assert!(!app.accounts.has_users().await.unwrap(), "nothing was created");
    }

    async fn no_setup_link_is_issued_once_an_account_exists(app) {
        app.create_user("first@example.com", app::domain::role::Role::Admin).await;
        app.stop().await;
        let (_, link, _, task) = tests::start_server(&app.database_url).await;
        assert_eq!(link, None);
        task.abort();
    }
}
