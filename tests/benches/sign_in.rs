//! Sign-in under a burst: 200 concurrent wrong passwords (for 200 different
//! accounts, from one address) while a signed-in responder loads the dashboard
//! in a loop. Prints how many attempts reached the password check, the p50/p99
//! of the dashboard requests during the burst, and the growth of the process's
//! peak RSS (the server runs in this process; the clients are small).
//! Run: `cargo bench -p tests --bench sign_in`.

use app::domain::role::Role;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tests::{Backend, peak_rss_kib, spawn_app};

const BURST: usize = 200;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    for i in 0..BURST {
        app.create_user(&format!("user{i}@example.com"), Role::Responder).await;
    }
    let responder = app.signed_in("oncall@example.com", Role::Responder).await;
    // Warm up: the dashboard once, and one password check, before measuring.
    for _ in 0..5 {
        app.get(&responder, "/").await.text().await.unwrap();
    }
    let _ = app.post_login(&app.client(), "oncall@example.com", tests::PASSWORD).await;
    let before = peak_rss_kib();

    let burst_on = Arc::new(AtomicBool::new(true));
    let dashboard = {
        let (app, client, on) = (app.clone(), responder.clone(), burst_on.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while on.load(Ordering::Relaxed) {
                let started = Instant::now();
                let response = app.get(&client, "/").await;
                assert_eq!(response.status(), 200);
                response.text().await.unwrap();
                samples.push(started.elapsed());
            }
            samples
        })
    };
    let started = Instant::now();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..BURST {
        let (client, url) = (app.client(), app.url("/login"));
        attempts.spawn(async move {
            let email = format!("user{i}@example.com");
            client
                .post(url)
                .form(&[("email", email.as_str()), ("password", "wrong wrong wrong")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    let burst = started.elapsed();
    burst_on.store(false, Ordering::Relaxed);
    let mut samples = dashboard.await.unwrap();
    samples.sort();
    let after = peak_rss_kib();
    let pct = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)].as_secs_f64() * 1000.0;
    println!("{BURST} concurrent wrong passwords from one address, in {:.2} s:", burst.as_secs_f64());
    println!(
        "  reached the password check: {} (401); throttled: {} (429)",
        statuses.iter().filter(|s| **s == 401).count(),
        statuses.iter().filter(|s| **s == 429).count()
    );
    println!(
        "  dashboard during the burst: {} requests, p50 {:.1} ms, p99 {:.1} ms",
        samples.len(),
        pct(50),
        pct(99)
    );
    println!(
        "  peak RSS: {:.1} MiB before, {:.1} MiB after (+{:.1} MiB)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after - before) as f64 / 1024.0
    );
}
