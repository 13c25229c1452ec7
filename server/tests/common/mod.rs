//! Helpers for tests and benchmarks that run the real `wheelhouse` binary as
//! processes: start one and read its address from its log, add accounts with
//! the CLI, sign in, make and drop a PostgreSQL database, serve a drill
//! cluster over HTTPS with a kubeconfig on disk.
#![allow(dead_code)]

use serde_json::Value;
use sqlx::Connection;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery staple";

/// `wheelhouse` with the settings every test process shares: the database,
/// webhooks to loopback allowed, JSON logs (the address is read from them).
pub fn wheelhouse(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelhouse"));
    command
        .args(["--database-url", database_url, "--webhook-allow", "127.0.0.0/8"])
        .env("WHEELHOUSE_LOG_FORMAT", "json")
        .env_remove("WHEELHOUSE_PUBLIC_URL")
        .env_remove("WHEELHOUSE_LEADER_ELECTION");
    command
}

/// `wheelhouse serve` as one of several replicas on `db`, watching `drill`
/// through its kubeconfig, with leader election on and Leases of `lease_seconds`.
pub fn replica(db: &PgDatabase, drill: &Drill, id: &str, lease_seconds: i64) -> Process {
    let mut command = wheelhouse(&db.url);
    command.args([
        "--cluster",
        "kubeconfig",
        "--cluster-kubeconfig",
        drill.kubeconfig.to_str().unwrap(),
        "--leader-election",
        "true",
        "--lease-duration",
        &lease_seconds.to_string(),
        "--replica-id",
        id,
    ]);
    Process::serve(command)
}

/// A running `wheelhouse serve` and everything it logged.
pub struct Process {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `command` (a [`wheelhouse`] with its settings) serving on a free
    /// loopback port; returns once it logs the address it listens on.
    pub fn serve(mut command: Command) -> Process {
        command.args(["--listen", "127.0.0.1:0", "serve"]);
        Process::start(command)
    }

    /// Starts `command` as given (it must serve on a free port); returns once
    /// it logs the address it listens on.
    pub fn start(mut command: Command) -> Process {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the wheelhouse binary starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (sender, address) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in stdout.lines().map_while(Result::ok) {
                if !sent
                    && let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && let Some(address) =
                        entry["http.address"].as_str().or(entry["fields"]["http.address"].as_str())
                {
                    let _ = sender.send(address.to_owned());
                    sent = true;
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = address.recv_timeout(Duration::from_secs(60)).expect("wheelhouse logs its address");
        Process { child, base: format!("http://{address}"), log }
    }

    /// Whether a logged line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|line| line.contains(text))
    }

    /// SIGKILL: no shutdown at all.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the process to exit; whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().is_ok_and(|status| status.success())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Adds an account with the CLI, as an operator would.
pub fn add_account(database_url: &str, email: &str, role: &str) {
    let mut add = wheelhouse(database_url)
        .args(["user", "add", "--email", email, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(add.wait().unwrap().success());
}

/// A client for `base` that keeps cookies and sends the `Origin` forms need.
pub fn client(base: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A client signed in at `base` as `email`.
pub async fn signed_in(base: &str, email: &str) -> reqwest::Client {
    let client = client(base);
    let response = client
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signing in as {email} at {base}");
    client
}

/// Waits for `check` to answer, asking again every 50 ms, failing after `seconds` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, seconds: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// [`eventually`] for a check that needs no waiting itself.
pub async fn wait_for<T>(what: &str, seconds: u64, mut check: impl FnMut() -> Option<T>) -> T {
    eventually(what, seconds, || std::future::ready(check())).await
}

/// Where the test PostgreSQL server is; each test makes its own database there.
pub fn postgres_admin_url() -> String {
    std::env::var("WHEELHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A PostgreSQL database made for one test, dropped with it.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(label: &str) -> PgDatabase {
        let admin = postgres_admin_url();
        let name = format!("wheelhouse_{label}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must be running at {admin}: {e}"));
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        PgDatabase { url: format!("{base}/{name}"), name }
    }

    /// A connection for checking what the processes stored.
    pub async fn connect(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url).await.unwrap()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// The drill cluster served over HTTPS from this test process, with its kubeconfig on disk.
pub struct Drill {
    pub cluster: Arc<server::drill::DrillCluster>,
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`, and the CA that signed its certificate (PEM).
    pub url: String,
    pub ca_pem: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drill {
    pub async fn start() -> Drill {
        let scenario = server::drill::scenario::Scenario::default_scenario();
        let token = server::accounts::generate_secret(16);
        let served =
            server::drill::serve::DrillServer::bind("127.0.0.1:0".parse().unwrap(), &scenario, token)
                .await
                .expect("the drill cluster starts");
        let kubeconfig = std::env::temp_dir().join(format!(
            "wheelhouse-drill-{}-{}.kubeconfig",
            std::process::id(),
            server::accounts::generate_secret(4)
        ));
        server::drill::serve::write_kubeconfig(&kubeconfig, &served.kubeconfig()).unwrap();
        let (cluster, url, ca_pem) = (served.cluster.clone(), served.url(), served.ca_pem.clone());
        Drill { cluster, kubeconfig, url, ca_pem, task: tokio::spawn(served.run()) }
    }

    /// The object, or `Value::Null` when there is none.
    pub fn get(&self, resource: server::drill::resources::Resource, namespace: &str, name: &str) -> Value {
        self.cluster.store.get(resource, namespace, name).unwrap_or(Value::Null)
    }

    /// Runs real kubectl against this cluster, asserting success; returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let output = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("HTTPS_PROXY")
            .output()
            .expect("kubectl is installed at /usr/bin/kubectl");
        assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Drill {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

/// A webhook receiver on loopback: answers 503 until `up` is set, and
/// records each delivery id it was sent with whether it answered 200.
#[derive(Default)]
pub struct Receiver {
    pub up: std::sync::atomic::AtomicBool,
    pub seen: Mutex<Vec<(String, bool)>>,
}

impl Receiver {
    /// The distinct delivery ids seen; only those answered 200 when `delivered`.
    pub fn ids(&self, delivered: bool) -> std::collections::BTreeSet<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, ok)| *ok || !delivered)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Starts a [`Receiver`]; returns its URL.
pub async fn webhook_receiver() -> (String, Arc<Receiver>) {
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::atomic::Ordering;
    let state = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|State(r): State<Arc<Receiver>>, headers: HeaderMap| async move {
                let id = headers
                    .get("x-wheelhouse-delivery")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let up = r.up.load(Ordering::SeqCst);
                r.seen.lock().unwrap().push((id, up));
                if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
            }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}
