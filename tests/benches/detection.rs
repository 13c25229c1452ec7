//! Detection latency: from a fault injected into the drill cluster to the
//! component event reaching a connected Server-Sent Events client, over 100
//! faults (a node going NotReady, then recovering, alternately).
//! Run: `cargo bench -p tests --bench detection`. Prints median, p99 and max.

use app::domain::role::Role;
use server::drill::fault_injection::{FaultKind, FaultRequest};
use std::time::{Duration, Instant};
use tests::{Backend, TestDrill, spawn_app_on};

const FAULTS: usize = 100;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(Backend::Sqlite, &drill).await;
    let client = app.signed_in("bench@example.com", Role::Responder).await;
    app.evaluated(&client).await;
    // The signed-in client has no overall timeout for the stream.
    let mut stream = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
        .get(app.url("/api/v1/events"))
        .header("cookie", session_cookie(&app, &client).await)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut buffer = String::new();
    let mut samples = Vec::with_capacity(FAULTS);
    for i in 0..FAULTS {
        let request =
            FaultRequest { kind: FaultKind::NodeNotready, target: "worker-3".into(), seconds: None };
        let (injected, expected) = (Instant::now(), if i % 2 == 0 { "major_outage" } else { "operational" });
        if i % 2 == 0 { drill.cluster.inject(&request) } else { drill.cluster.clear(&request) }.unwrap();
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await
                .expect("the event arrives within 10 s")
                .unwrap()
                .expect("the stream stays open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            let needle = "\"component\":\"node/worker-3\",\"from\"";
            if let Some(at) = buffer.rfind(&needle) {
                let event = &buffer[at..];
                if event.contains(&format!("\"status\":\"{expected}\"")) {
                    samples.push(injected.elapsed());
                    buffer.clear();
                    break;
                }
            }
        }
    }
    samples.sort();
    drop(drill);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("detection latency over {FAULTS} faults (inject -> SSE event at the client):");
    println!("  median {:.1} ms", ms(samples[FAULTS / 2]));
    println!("  p99    {:.1} ms", ms(samples[FAULTS * 99 / 100 - 1]));
    println!("  max    {:.1} ms", ms(samples[FAULTS - 1]));
}

/// Signs in once more on a bare request to read the session cookie, since the
/// test client keeps its cookies to itself.
async fn session_cookie(app: &tests::TestApp, _client: &reqwest::Client) -> String {
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = app.post_login(&bare, "bench@example.com", tests::PASSWORD).await;
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}
