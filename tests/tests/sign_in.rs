//! Sign-in under attack, through the real server: concurrent wrong passwords
//! are counted before any password is checked, so no more than the allowed
//! few reach the check; a few typos from one address lock nobody else out;
//! an over-long e-mail address is refused before anything is counted.

use app::domain::role::Role;
use tests::{Backend, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_concurrent_wrong_passwords_let_five_reach_the_check() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("target@example.com", Role::Admin).await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..40 {
        let client = app.client();
        let url = app.url("/login");
        attempts.spawn(async move {
            let password = format!("guess number {i}");
            client
                .post(url)
                .form(&[("email", "target@example.com"), ("password", &password)])
                .send()
                .await
                .unwrap()
        });
    }
    let responses = attempts.join_all().await;
    let wrong = responses.iter().filter(|r| r.status() == 401).count();
    let throttled: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 429).collect();
    assert_eq!((wrong, throttled.len()), (5, 35), "only the first five were checked");
    assert!(throttled.iter().all(|r| r.headers().contains_key("retry-after")));

    // Then the right password is throttled too, and the page says until when.
    let response = app
        .client()
        .post(app.url("/login"))
        .form(&[("email", "target@example.com"), ("password", tests::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let page = response.text().await.unwrap();
    assert!(page.contains("UTC), then try again"), "the page says when");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_typos_from_one_address_do_not_lock_out_other_accounts_from_it() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("colleague@example.com", Role::Responder).await;
    for i in 0..7 {
        let response = app
            .client()
            .post(app.url("/login"))
            .form(&[("email", format!("typo{i}@example.com").as_str()), ("password", "nope nope nope")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let response = app.post_login(&app.client(), "colleague@example.com", tests::PASSWORD).await;
    assert_eq!(response.status(), 303, "a colleague behind the same address signs in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_email_is_refused_before_it_is_counted() {
    let app = spawn_app(Backend::Sqlite).await;
    let long = format!("{}@example.com", "a".repeat(300));
    let response = app
        .client()
        .post(app.url("/login"))
        .form(&[("email", long.as_str()), ("password", "whatever it is")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("at most 254 characters"));
}
