//! One public update to 10,000 confirmed e-mail subscribers, through a real
//! SMTP server (aiosmtpd with its Sink handler, which takes every message and
//! keeps none). Prints the publishing request's latency, the time until every
//! message is handed to the SMTP server, messages per second, and the growth
//! of the process's peak RSS (the server runs in this process).
//! Run: `cargo bench -p tests --bench subscribers` (SUBSCRIBERS=N to change the count).

use app::domain::role::Role;
use serde_json::json;
use std::time::Instant;
use tests::{Backend, Daemon, eventually, free_port, peak_rss_kib, spawn_app_with};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: i64 = std::env::var("SUBSCRIBERS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let port = free_port();
    let _smtp = Daemon::start(
        "aiosmtpd",
        "python3",
        &[],
        &["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Sink"]
            .map(str::to_owned),
    );
    let app = spawn_app_with(Backend::Sqlite, |raw| {
        raw.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        raw.mail_from = Some("status@example.com".into());
    })
    .await;
    let url = server::config::DatabaseUrl::parse(&app.database_url).unwrap();
    let db = server::db::Database::connect(&url).await.unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    for i in 0..count {
        sqlx::query(
            "INSERT INTO subscribers (email, components, state, unsubscribe_token, created_at, confirmed_at) \
             VALUES ($1, '[]', 'confirmed', $2, 0, 0)",
        )
        .bind(format!("reader{i}@example.com"))
        .bind(format!("token-{i:08}-{}", server::accounts::generate_secret(8)))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let incident =
        app.declare(&ic, json!({"title": "Bench", "severity": "SEV3", "category": "networking"})).await;
    let before = peak_rss_kib();

    let started = Instant::now();
    let response = ic
        .post(app.url(&format!("/api/v1/incidents/{incident}/updates")))
        .json(&json!({"audience": "public", "purpose": "investigating", "text": "Checkout is slow; we are on it."}))
        .send()
        .await
        .unwrap();
    let publish = started.elapsed();
    assert_eq!(response.status(), 201);
    eventually(&format!("{count} messages handed to the SMTP server"), 1800, || async {
        let (delivered,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mail_log WHERE outcome = 'delivered' AND kind = 'notice'")
                .fetch_one(&db.pool)
                .await
                .ok()?;
        (delivered >= count).then_some(())
    })
    .await;
    let all = started.elapsed();
    let (failed,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mail_log WHERE outcome <> 'delivered'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    println!("one public update to {count} confirmed subscribers (SQLite, aiosmtpd Sink on loopback):");
    println!("  publishing request: {} ms", publish.as_millis());
    println!("  every message handed to the SMTP server after {:.1} s", all.as_secs_f64());
    println!("  {:.0} messages/s", count as f64 / all.as_secs_f64());
    println!("  failed attempts: {failed}");
    println!(
        "  peak RSS grew by {} MiB (from {} MiB)",
        peak_rss_kib().saturating_sub(before) / 1024,
        before / 1024
    );
}
