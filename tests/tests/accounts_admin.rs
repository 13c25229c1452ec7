//! Accounts administered through the real server: disabling an account or
//! changing its role ends its sessions at once, a reset password is shown once
//! and replaces the old one, and the last admin cannot be locked out.

use app::domain::role::Role;
use tests::{Backend, spawn_app};

async fn signed_in_still(app: &tests::TestApp, client: &reqwest::Client) -> bool {
    app.get(client, "/incidents").await.status() == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_ends_its_sessions_and_stops_it_signing_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let oncall = app.signed_in("oncall@example.com", Role::Responder).await;
    assert!(signed_in_still(&app, &oncall).await);

    let response = admin
        .post(app.url("/admin/users/disable"))
        .form(&[("email", "oncall@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("oncall@example.com is disabled"));
    assert!(!signed_in_still(&app, &oncall).await, "the open session ended at once");
    let again = app.post_login(&app.client(), "oncall@example.com", tests::PASSWORD).await;
    assert_eq!(again.status(), 401, "a disabled account cannot sign in");
    let page = app.get(&admin, "/admin/users").await.text().await.unwrap();
    assert!(page.contains("disabled since"));

    admin.post(app.url("/admin/users/enable")).form(&[("email", "oncall@example.com")]).send().await.unwrap();
    assert_eq!(app.post_login(&app.client(), "oncall@example.com", tests::PASSWORD).await.status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_role_ends_the_sessions_and_applies_at_the_next_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let oncall = app.signed_in("oncall@example.com", Role::Responder).await;
    let response = admin
        .post(app.url("/admin/users/role"))
        .form(&[("email", "oncall@example.com"), ("role", "viewer")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!signed_in_still(&app, &oncall).await);
    let viewer = app.client();
    assert_eq!(app.post_login(&viewer, "oncall@example.com", tests::PASSWORD).await.status(), 303);
    assert_eq!(app.get(&viewer, "/incidents").await.status(), 403, "now a viewer");
    let refused = admin
        .post(app.url("/admin/users/role"))
        .form(&[("email", "oncall@example.com"), ("role", "alerts")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422, "alerts is a token role, not an account role");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_password_is_shown_once_and_replaces_the_old_one() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let oncall = app.signed_in("oncall@example.com", Role::Responder).await;
    let page = admin
        .post(app.url("/admin/users/reset-password"))
        .form(&[("email", "oncall@example.com")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find("<pre id=\"new-password\">").expect("the new password is shown")
        + "<pre id=\"new-password\">".len();
    let password: String = page[at..].chars().take_while(|c| *c != '<').collect();
    assert!(!signed_in_still(&app, &oncall).await);
    assert_eq!(app.post_login(&app.client(), "oncall@example.com", tests::PASSWORD).await.status(), 401);
    assert_eq!(app.post_login(&app.client(), "oncall@example.com", &password).await.status(), 303);
    assert!(!app.get(&admin, "/admin/users").await.text().await.unwrap().contains(&password), "shown once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let demote = admin
        .post(app.url("/admin/users/role"))
        .form(&[("email", "admin@example.com"), ("role", "responder")])
        .send()
        .await
        .unwrap();
    assert_eq!(demote.status(), 409);
    assert!(demote.text().await.unwrap().contains("last active admin"));
    let disable = admin
        .post(app.url("/admin/users/disable"))
        .form(&[("email", "admin@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), 409, "not one's own account");
    assert!(signed_in_still(&app, &admin).await);
}
