//! Status-page subscribers with a real SMTP server (Python's aiosmtpd writing
//! to a Maildir): subscribe on /status, confirm through the link in the
//! message received, receive a public update and a scheduled maintenance,
//! unsubscribe with one click (RFC 8058, from the `List-Unsubscribe` header)
//! and receive nothing more; a confirmed address asking again gets nothing;
//! at most three confirmation mails an hour per address; the admin's CSV
//! lists subscribers and removing one works. A webhook subscriber, confirmed
//! through its contact address, receives each notice as JSON at its URL and
//! stops with one POST to the unsubscribe link; a URL inside Wheelhouse's own
//! network is refused as admin webhooks are. A public component whose
//! status changes on the drill cluster is mailed once its new status holds,
//! and again when it recovers.

use app::domain::role::Role;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tests::{Backend, Daemon, TestApp, eventually, free_port, spawn_app_with};

struct Smtp {
    daemon: Daemon,
    port: u16,
}

impl Smtp {
    fn start() -> Smtp {
        let port = free_port();
        let daemon = Daemon::start(
            "aiosmtpd",
            "python3",
            &[],
            &[
                "-m".into(),
                "aiosmtpd".into(),
                "-n".into(),
                "-l".into(),
                format!("127.0.0.1:{port}"),
                "-c".into(),
                "aiosmtpd.handlers.Mailbox".into(),
                "{dir}/maildir".into(),
            ],
        );
        Smtp { daemon, port }
    }

    fn maildir(&self) -> PathBuf {
        self.daemon.dir.join("maildir/new")
    }

    /// Every message received for `to`, oldest first, parsed by Python's email package.
    fn messages(&self, to: &str) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir())
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|path| parse(path))
            .filter(|m| m["to"].as_str().is_some_and(|t| t.contains(to)))
            .collect()
    }
}

fn parse(path: &Path) -> Value {
    let script = r#"
import email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(json.dumps({"to": m["To"], "from": m["From"], "subject": m["Subject"],
  "list_unsubscribe": m["List-Unsubscribe"], "list_unsubscribe_post": m["List-Unsubscribe-Post"],
  "body": m.get_body(('plain',)).get_content()}))
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", script, &path.display().to_string()])
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)))
}

/// The first link in `body` that starts with `prefix`.
fn link(body: &str, prefix: &str) -> String {
    let at = body.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in {body}"));
    body[at..].split_whitespace().next().unwrap().to_owned()
}

async fn wait_for_messages(smtp: &Smtp, to: &str, count: usize) -> Vec<Value> {
    eventually(&format!("{count} message(s) to {to}"), 30, || async {
        let messages = smtp.messages(to);
        (messages.len() >= count).then_some(messages)
    })
    .await
}

async fn subscribe(app: &TestApp, email: &str) -> String {
    let response =
        app.client().post(app.url("/status/subscribe")).form(&[("email", email)]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Subscribes `email` and follows the confirmation link as a person would (the page, then its button).
async fn subscribe_and_confirm(app: &TestApp, smtp: &Smtp, email: &str) {
    let answer = subscribe(app, email).await;
    assert!(answer.contains("Check your inbox"), "{answer}");
    let message = wait_for_messages(smtp, email, 1).await.remove(0);
    assert_eq!(message["subject"], "Confirm your status subscription");
    confirm_through_link(app, message["body"].as_str().unwrap()).await;
}

/// Follows the confirmation link in a message's `body` as a person would: the page, then its button.
async fn confirm_through_link(app: &TestApp, body: &str) {
    let confirm = link(body, &app.url("/status/subscribe/confirm"));
    let page = app.client().get(&confirm).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Confirm your subscription"),
        "a page with a button, so a link scanner confirms nothing"
    );
    let token = confirm.split("token=").nth(1).unwrap();
    let confirmed = app
        .client()
        .post(app.url("/status/subscribe/confirm"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().await.unwrap().contains("Subscribed"));
}

async fn publish(app: &TestApp, ic: &reqwest::Client, incident: i64, text: &str) {
    let response = ic
        .post(app.url(&format!("/api/v1/incidents/{incident}/updates")))
        .json(&json!({"audience": "public", "purpose": "investigating", "text": text, "public_title": "Checkout is slow"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_confirm_receive_and_unsubscribe_with_one_click_through_a_real_smtp_server() {
    let smtp = Smtp::start();
    let app = spawn_app_with(Backend::Sqlite, |raw| {
        raw.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        raw.mail_from = Some("Status <status@example.com>".into());
    })
    .await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    app.evaluated(&ic).await;
    let status = eventually("the subscribe form on /status", 20, || async {
        let html = reqwest::get(app.url("/status")).await.ok()?.text().await.ok()?;
        html.contains("id=\"subscribe\"").then_some(html)
    })
    .await;
    assert!(status.contains("action=\"/status/subscribe\""));

    subscribe_and_confirm(&app, &smtp, "reader@example.com").await;
    subscribe_and_confirm(&app, &smtp, "other@example.com").await;
    // Asking again with a confirmed address: the same answer, and no mail.
    assert!(subscribe(&app, "reader@example.com").await.contains("Check your inbox"));

    // A public update reaches both, with the one-click unsubscribe headers.
    let incident = app
        .declare(
            &ic,
            json!({"title": "Checkout latency", "severity": "SEV3", "category": "application_failure"}),
        )
        .await;
    publish(&app, &ic, incident, "Checkout is slow for some people; we are looking into it.").await;
    let update = wait_for_messages(&smtp, "reader@example.com", 2).await.remove(1);
    assert_eq!(update["subject"], "[investigating] Checkout is slow");
    assert_eq!(update["from"], "Status <status@example.com>");
    let body = update["body"].as_str().unwrap();
    assert!(body.starts_with("Checkout is slow for some people"), "{body}");
    assert!(!body.contains("Checkout latency"), "never the internal title: {body}");
    assert_eq!(update["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let unsubscribe = update["list_unsubscribe"].as_str().unwrap().trim_matches(['<', '>']).to_owned();
    assert!(unsubscribe.starts_with(&app.url("/status/unsubscribe?token=")), "{unsubscribe}");
    assert_eq!(
        smtp.messages("reader@example.com").len(),
        2,
        "no second confirmation for a confirmed address"
    );

    // Scheduled maintenance is told too.
    let now = server::db::now_millis();
    let window = ic
        .post(app.url("/api/v1/maintenance"))
        .json(&json!({"title": "Database upgrade", "description": "Checkout may pause for a minute.",
            "starts_at": app::domain::calendar::date_time_input(now + 3_600_000),
            "ends_at": app::domain::calendar::date_time_input(now + 7_200_000),
            "components": ["platform/etcd"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(window.status(), 201);
    let told = wait_for_messages(&smtp, "reader@example.com", 3).await.remove(2);
    assert_eq!(told["subject"], "Scheduled maintenance: Database upgrade");

    // One click, as a mail client does it: a POST to the header's link, with no cookie and no form token.
    let clicked = reqwest::Client::new()
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 200);
    assert!(clicked.text().await.unwrap().contains("Unsubscribed"));
    publish(&app, &ic, incident, "We found the cause.").await;
    let other = wait_for_messages(&smtp, "other@example.com", 4).await;
    assert_eq!(other[3]["subject"], "[investigating] Checkout is slow");
    assert_eq!(smtp.messages("reader@example.com").len(), 3, "nothing more after unsubscribing");

    // The admin's view: the CSV, and removing a subscriber.
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let csv = app.get(&admin, "/admin/subscribers.csv").await.text().await.unwrap();
    assert!(csv.starts_with("id,email,webhook_url,state,"), "{csv}");
    assert!(
        csv.contains("\"reader@example.com\",\"\",unsubscribed")
            && csv.contains("\"other@example.com\",\"\",confirmed"),
        "{csv}"
    );
    assert_eq!(app.get(&ic, "/admin/subscribers.csv").await.status(), 403);
    let id =
        csv.lines().find(|l| l.contains("other@example.com")).unwrap().split(',').next().unwrap().to_owned();
    let removed = admin
        .post(app.url(&format!("/admin/subscribers/{id}/remove")))
        .form(&[("q", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    let csv = app.get(&admin, "/admin/subscribers.csv").await.text().await.unwrap();
    assert!(!csv.contains("other@example.com"), "{csv}");
    let page = app.get(&admin, "/admin/subscribers?q=reader").await.text().await.unwrap();
    assert!(page.contains("reader@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmation_mails_are_limited_and_never_reveal_a_subscription() {
    let smtp = Smtp::start();
    let app = spawn_app_with(Backend::Sqlite, |raw| {
        raw.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        raw.mail_from = Some("status@example.com".into());
    })
    .await;
    let answers: Vec<String> = {
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(subscribe(&app, "flood@example.com").await);
        }
        answers
    };
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "every answer is the same");
    let messages = wait_for_messages(&smtp, "flood@example.com", 3).await;
    // The outbox is empty once the three are sent: the other two requests sent nothing.
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    let pending = eventually("the outbox empty", 20, || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mail_outbox").fetch_one(&db.pool).await.ok()?;
        (n == 0).then_some(n)
    })
    .await;
    assert_eq!(pending, 0);
    let (logged,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mail_log WHERE outcome = 'delivered'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((messages.len(), logged), (3, 3), "three confirmation mails an hour, no more");
    // A bad address is refused with the reason; a subscription is not offered without SMTP.
    let bad = app
        .client()
        .post(app.url("/status/subscribe"))
        .form(&[("email", "not-an-address")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let plain = tests::spawn_app(Backend::Sqlite).await;
    let html = reqwest::get(plain.url("/status")).await.unwrap().text().await.unwrap();
    assert!(!html.contains("id=\"subscribe\""));
    let refused = plain
        .client()
        .post(plain.url("/status/subscribe"))
        .form(&[("email", "a@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_subscriber_is_confirmed_by_mail_receives_json_and_unsubscribes_with_one_post() {
    let smtp = Smtp::start();
    let (hook, seen) = tests::json_receiver().await;
    let app = spawn_app_with(Backend::Sqlite, |raw| {
        raw.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        raw.mail_from = Some("status@example.com".into());
    })
    .await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    app.evaluated(&ic).await;
    let answer = app
        .client()
        .post(app.url("/status/subscribe"))
        .form(&[("email", "ops@example.com"), ("url", hook.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let message = wait_for_messages(&smtp, "ops@example.com", 1).await.remove(0);
    let body = message["body"].as_str().unwrap();
    assert!(body.contains(&format!("by a JSON POST to {hook}")), "{body}");
    confirm_through_link(&app, body).await;
    // An e-mail subscriber beside it shows when a notice has gone out.
    subscribe_and_confirm(&app, &smtp, "witness@example.com").await;

    let incident = app
        .declare(
            &ic,
            json!({"title": "Checkout latency", "severity": "SEV3", "category": "application_failure"}),
        )
        .await;
    publish(&app, &ic, incident, "Checkout is slow for some people.").await;
    let notice =
        eventually("the notice at the webhook", 30, || async { seen.lock().unwrap().first().cloned() }).await;
    assert_eq!(notice["event"], "status_notice");
    assert_eq!(notice["subject"], "[investigating] Checkout is slow");
    assert_eq!(notice["text"], "Checkout is slow for some people.");
    assert_eq!(notice["status_url"], app.url("/status"));
    assert!(!notice.to_string().contains("Checkout latency"), "never the internal title: {notice}");
    assert_eq!(smtp.messages("ops@example.com").len(), 1, "notices go to the URL, not the contact");

    let unsubscribe = notice["unsubscribe_url"].as_str().unwrap();
    assert!(unsubscribe.starts_with(&app.url("/status/unsubscribe?token=")), "{unsubscribe}");
    let clicked = reqwest::Client::new().post(unsubscribe).send().await.unwrap();
    assert_eq!(clicked.status(), 200);
    publish(&app, &ic, incident, "We found the cause.").await;
    wait_for_messages(&smtp, "witness@example.com", 3).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing more after unsubscribing");

    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let csv = app.get(&admin, "/admin/subscribers.csv?q=hook").await.text().await.unwrap();
    assert!(csv.contains(&format!("\"ops@example.com\",\"{hook}\",unsubscribed")), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_subscriber_may_not_reach_into_wheelhouses_own_network() {
    let smtp = Smtp::start();
    let app = spawn_app_with(Backend::Sqlite, |raw| {
        raw.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        raw.mail_from = Some("status@example.com".into());
        raw.webhook_allow = None;
    })
    .await;
    for url in ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "gopher://x"] {
        let refused = app
            .client()
            .post(app.url("/status/subscribe"))
            .form(&[("email", "ops@example.com"), ("url", url)])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422, "{url}");
        let page = refused.text().await.unwrap();
        let why = page.contains("own network") || page.contains("The webhook URL must start with http:");
        assert!(page.contains("Not subscribed") && why, "{url}: {page}");
    }
    assert!(smtp.messages("ops@example.com").is_empty(), "no confirmation for a refused URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_component_change_is_mailed_once_it_holds_and_again_when_it_recovers() {
    use server::drill::fault_injection::{FaultKind, FaultRequest};
    let smtp = Smtp::start();
    let drill = tests::TestDrill::start().await;
    let app = tests::spawn_app_on_with(Backend::Sqlite, &drill, |raw| {
        raw.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        raw.mail_from = Some("status@example.com".into());
        raw.subscriber_hold = Some("2".into());
    })
    .await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    app.add_checkout(&admin).await;
    subscribe_and_confirm(&app, &smtp, "reader@example.com").await;
    // The first look records what subscribers are taken to know: Checkout operational.
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    eventually("Checkout's status recorded for subscribers", 30, || async {
        let told: Option<(String,)> = sqlx::query_as(
            "SELECT status FROM subscriber_component_status WHERE component_key = 'service/1'",
        )
        .fetch_optional(&db.pool)
        .await
        .ok()?;
        told.filter(|(status,)| status == "operational")
    })
    .await;

    let crashloop =
        FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None };
    drill.cluster.inject(&crashloop).unwrap();
    let down = wait_for_messages(&smtp, "reader@example.com", 2).await.remove(1);
    let subject = down["subject"].as_str().unwrap();
    assert!(subject == "Checkout: major outage" || subject == "Checkout: partial outage", "{subject}");
    assert!(down["body"].as_str().unwrap().starts_with("Checkout is now"), "{down}");
    assert!(down["list_unsubscribe"].as_str().is_some_and(|l| l.contains("/status/unsubscribe?token=")));

    drill.cluster.clear(&crashloop).unwrap();
    let told = eventually("the recovery mailed", 30, || async {
        let messages = smtp.messages("reader@example.com");
        messages.last().is_some_and(|m| m["subject"] == "Checkout: operational").then_some(messages)
    })
    .await;
    let subjects: Vec<&str> = told[1..].iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert!(subjects.windows(2).all(|pair| pair[0] != pair[1]), "never told the same twice: {subjects:?}");
    assert!(subjects.len() <= 3, "one message per status that held: {subjects:?}");
}
