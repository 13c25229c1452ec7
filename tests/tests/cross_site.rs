//! Cross-site requests through the real server: a form or API call made with
//! a session from another site is refused (by `Origin`, else by
//! `Sec-Fetch-Site`, else for want of the session's anti-forgery token) and
//! changes nothing, while Wheelhouse's own pages, old browsers that send the
//! token, and API tokens keep working; the public URL makes the cookie
//! `__Host-` and Secure and is the base of absolute links; and `next=` after
//! sign-in stays on Wheelhouse.

use app::domain::role::Role;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tests::{Backend, TestApp, bearer, spawn_app};

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (reqwest::header::HeaderName::from_static(k), HeaderValue::from_str(v).unwrap()))
        .collect()
}

async fn incident_count(app: &TestApp, client: &reqwest::Client) -> usize {
    app.get(client, "/api/v1/incidents").await.json::<Value>().await.unwrap().as_array().unwrap().len()
}

const DECLARATION: [(&str, &str); 3] = [("title", "Forged"), ("severity", "SEV1"), ("category", "security")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_from_another_site_with_the_session_is_refused_and_changes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let own = app.signed_in("oncall@example.com", Role::Responder).await;
    // A session whose requests then come from evil.example's page (signing in sent no Origin).
    let victim =
        app.signed_in_as(app.client_with(HeaderMap::new()), "victim@example.com", Role::Responder).await;
    let from_evil = headers(&[("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")]);

    let response = victim
        .post(app.url("/incidents"))
        .headers(from_evil.clone())
        .form(&DECLARATION)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("came from another site"), "the page says why");

    let api = victim
        .post(app.url("/api/v1/incidents"))
        .headers(from_evil)
        .json(&json!({"title": "Forged", "severity": "SEV1", "category": "security"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403);
    let body: Value = api.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("another site"), "{body}");

    // A cross-site "simple request" carrying JSON as text/plain never gets as far as the JSON.
    let plain = own
        .post(app.url("/api/v1/incidents"))
        .header("content-type", "text/plain")
        .body(r#"{"title":"t","severity":"SEV1","category":"security"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);

    // Only Sec-Fetch-Site (no Origin): still refused.
    let fetch_only = victim
        .post(app.url("/incidents"))
        .header("sec-fetch-site", "cross-site")
        .form(&DECLARATION)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_only.status(), 403);

    assert_eq!(incident_count(&app, &own).await, 0, "nothing was declared");
    let response = own.post(app.url("/incidents")).form(&DECLARATION).send().await.unwrap();
    assert_eq!(response.status(), 303, "Wheelhouse's own page still declares");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_neither_header_needs_the_forms_anti_forgery_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let old_browser =
        app.signed_in_as(app.client_with(HeaderMap::new()), "oncall@example.com", Role::Responder).await;
    let refused = old_browser.post(app.url("/incidents")).form(&DECLARATION).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("anti-forgery token"));
    let wrong: Vec<(&str, &str)> = DECLARATION.iter().copied().chain([("csrf", "guessed")]).collect();
    assert_eq!(old_browser.post(app.url("/incidents")).form(&wrong).send().await.unwrap().status(), 403);

    let page = app.get(&old_browser, "/incidents/new").await.text().await.unwrap();
    let at = page.find("name=\"csrf\" value=\"").expect("the form carries the token")
        + "name=\"csrf\" value=\"".len();
    let token: String = page[at..].chars().take_while(|c| *c != '"').collect();
    let with_token: Vec<(&str, &str)> =
        DECLARATION.iter().copied().chain([("csrf", token.as_str())]).collect();
    let declared = old_browser.post(app.url("/incidents")).form(&with_token).send().await.unwrap();
    assert_eq!(declared.status(), 303, "the form's token lets it through");
    let by_header = old_browser
        .post(app.url("/api/v1/incidents"))
        .header("x-csrf-token", &token)
        .json(&json!({"title": "Scripted", "severity": "SEV4", "category": "networking"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 201, "a script may send it as X-CSRF-Token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_are_not_checked_for_origin() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    app.create_user("oncall@example.com", Role::Responder).await;
    let token = app.api_token(&admin, "ci", "responder").await;
    let bot = bearer(&token);
    let response = bot
        .post(app.url("/api/v1/incidents"))
        .header("origin", "http://elsewhere.example")
        .json(&json!({"title": "From CI", "severity": "SEV4", "category": "networking", "commander": "oncall@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "a browser never attaches a bearer token by itself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_url_sets_a_host_prefixed_secure_cookie_and_the_links() {
    let (database, url) = tests::TestDatabase::create(Backend::Sqlite).await;
    let settings = server::config::Settings::resolve(server::config::RawSettings {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(url),
        cluster: Some("sim".into()),
        public_url: Some("https://wheelhouse.example.com".into()),
        ..server::config::RawSettings::default()
    })
    .unwrap();
    let (base_url, _setup, accounts, server) = tests::start_server_with(settings).await;
    let email = app::domain::account::Email::parse("oncall@example.com").unwrap();
    accounts
        .create_user(
            &email,
            &app::domain::account::NewPassword::parse(tests::PASSWORD).unwrap(),
            Role::Responder,
        )
        .await
        .unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{base_url}/login"))
        .header("origin", "https://wheelhouse.example.com")
        .form(&[("email", "oncall@example.com"), ("password", tests::PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-wheelhouse.sid="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");

    let from_bind_address = client
        .post(format!("{base_url}/login"))
        .header("origin", &base_url)
        .form(&[("email", "oncall@example.com"), ("password", tests::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(from_bind_address.status(), 403, "only the public origin is accepted once it is set");

    let feed = client.get(format!("{base_url}/status/feed.atom")).send().await.unwrap().text().await.unwrap();
    assert!(feed.contains("https://wheelhouse.example.com/status"), "{feed}");
    assert!(!feed.contains(base_url.trim_start_matches("http://")), "no link carries the bind address");
    let summary: Value =
        client.get(format!("{base_url}/api/v2/summary.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(summary["page"]["url"], "https://wheelhouse.example.com/status");
    server.abort();
    drop(database);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_after_sign_in_stays_on_wheelhouse() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("oncall@example.com", Role::Responder).await;
    for next in
        ["/\t/evil.example", "//evil.example", "https://evil.example", "/\\evil.example", "/\n/evil.example"]
    {
        let client = app.client();
        let response = client
            .post(app.url("/login"))
            .form(&[("email", "oncall@example.com"), ("password", tests::PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(tests::location(&response), "/", "next={next:?}");
    }
    let client = app.client();
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("email", "oncall@example.com"),
            ("password", tests::PASSWORD),
            ("next", "/incidents?severity=SEV1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(tests::location(&response), "/incidents?severity=SEV1");
}
