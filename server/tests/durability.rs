//! Durability: what the API acknowledged with 2xx survives `kill -9` of the
//! real `wheelhouse` process and a restart on the same SQLite file.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `wheelhouse serve`; killed with SIGKILL when dropped.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wheelhouse(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelhouse"));
    command
        .env("DATABASE_URL", database_url)
        .env("WHEELHOUSE_CLUSTER", "sim")
        .env_remove("WHEELHOUSE_LISTEN")
        .stdin(Stdio::null());
    command
}

fn run(database_url: &str, args: &[&str]) -> String {
    let output = wheelhouse(database_url).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn start(database_url: &str) -> Server {
    let port = free_port();
    let child = wheelhouse(database_url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, url: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let healthy =
            reqwest::get(format!("{}/healthz", server.url)).await.is_ok_and(|r| r.status().is_success());
        if healthy {
            return server;
        }
        assert!(Instant::now() < deadline, "wheelhouse did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_acknowledged_note_survives_kill_9_and_a_restart() {
    let dir = TempDir(
        std::env::temp_dir().join(format!("wheelhouse-kill-{}", server::accounts::generate_secret(6))),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let database_url = format!("sqlite://{}", dir.0.join("wheelhouse.db").display());
    run(&database_url, &["user", "add", "--email", "ic@example.com", "--role", "responder"]);
    let printed = run(&database_url, &["token", "create", "--name", "durability", "--role", "admin"]);
    let token =
        printed.split_whitespace().find(|w| w.starts_with("whk_")).expect("the token is printed").to_owned();
    let client = reqwest::Client::builder()
        .default_headers(
            [(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let mut server = start(&database_url).await;
    let response = client
        .post(format!("{}/api/v1/incidents", server.url))
        .json(&serde_json::json!({
            "title": "Checkout errors", "severity": "SEV1", "category": "application_failure",
            "commander": "ic@example.com"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    let response = client
        .post(format!("{}/api/v1/incidents/{id}/notes", server.url))
        .json(&serde_json::json!({"text": "Rolled back to v41 at 03:12", "decision": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // SIGKILL: no shutdown, no flush beyond what each commit already did.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);

    let server = start(&database_url).await;
    let timeline: serde_json::Value = client
        .get(format!("{}/api/v1/incidents/{id}/timeline", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&"Decision: Rolled back to v41 at 03:12"), "{texts:?}");
}
