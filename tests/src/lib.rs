//! Helpers for the integration tests: start the real server on a free
//! 127.0.0.1 port against a fresh SQLite file or a fresh PostgreSQL database,
//! and talk to it over HTTP like a browser would.

use app::domain::account::{Email, NewPassword};
use app::domain::role::Role;
use server::accounts::Accounts;
use server::config::{RawSettings, Settings};
use server::startup::Application;
use sqlx::Connection;
use std::path::PathBuf;

/// Where the test PostgreSQL server is; each test makes its own database there.
pub fn postgres_admin_url() -> String {
    std::env::var("WHEELHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database made for one test and removed when the test ends.
pub enum TestDatabase {
    Sqlite { dir: PathBuf },
    Postgres { name: String },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> (TestDatabase, String) {
        let suffix = server::accounts::generate_secret(6);
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("wheelhouse-test-{suffix}"));
                std::fs::create_dir_all(&dir).expect("create a temporary directory");
                let url = format!("sqlite://{}", dir.join("wheelhouse.db").display());
                (TestDatabase::Sqlite { dir }, url)
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("wheelhouse_test_{suffix}");
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL must be running at {admin}: {e}"));
                sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                (TestDatabase::Postgres { name: name.clone() }, format!("{base}/{name}"))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDatabase::Postgres { name } => {
                // Drop runs inside the test's runtime, which cannot be blocked on;
                // a thread with its own runtime removes the database.
                let name = name.clone();
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
    }
}

/// A running Wheelhouse and its database.
pub struct TestApp {
    pub base_url: String,
    pub database_url: String,
    pub setup_link: Option<String>,
    pub accounts: Accounts,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    // Declared last: dropped after the server task is aborted.
    _database: TestDatabase,
}

pub fn settings_for(database_url: &str) -> Settings {
    Settings::resolve(raw_for(database_url)).expect("test settings are valid")
}

fn raw_for(database_url: &str) -> RawSettings {
    RawSettings {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(database_url.into()),
        cluster: Some("sim".into()),
        // The tests' webhook receivers listen on loopback.
        webhook_allow: Some("127.0.0.0/8".into()),
        ..RawSettings::default()
    }
}

/// Starts a server on `database_url`; returns its base URL, setup link and task.
pub async fn start_server(
    database_url: &str,
) -> (String, Option<String>, Accounts, tokio::task::JoinHandle<std::io::Result<()>>) {
    start_server_with(settings_for(database_url)).await
}

/// Starts a server with `settings`; returns its base URL, setup link and task.
pub async fn start_server_with(
    settings: Settings,
) -> (String, Option<String>, Accounts, tokio::task::JoinHandle<std::io::Result<()>>) {
    let app = Application::build(settings).await.expect("the application starts");
    let base_url = format!("http://{}", app.address());
    let setup_link = app.setup_link().map(str::to_owned);
    let accounts = app.accounts.clone();
    let task = tokio::spawn(app.run_until_stopped());
    (base_url, setup_link, accounts, task)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts a server on the in-process drill with `adjust` applied to the test settings first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut RawSettings)) -> TestApp {
    let (database, database_url) = TestDatabase::create(backend).await;
    let mut raw = raw_for(&database_url);
    adjust(&mut raw);
    let settings = Settings::resolve(raw).expect("test settings are valid");
    let (base_url, setup_link, accounts, server) = start_server_with(settings).await;
    TestApp { base_url, database_url, setup_link, accounts, server, _database: database }
}

/// Settings that watch `drill` over HTTPS through its kubeconfig, as a real cluster would be watched.
pub fn settings_on_drill(database_url: &str, drill: &TestDrill) -> Settings {
    settings_on_kubeconfig(database_url, &drill.kubeconfig)
}

/// Settings that watch the cluster `kubeconfig` points at.
pub fn settings_on_kubeconfig(database_url: &str, kubeconfig: &std::path::Path) -> Settings {
    Settings::resolve(raw_on_kubeconfig(database_url, kubeconfig)).expect("test settings are valid")
}

fn raw_on_kubeconfig(database_url: &str, kubeconfig: &std::path::Path) -> RawSettings {
    RawSettings {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(database_url.into()),
        cluster: Some("kubeconfig".into()),
        kubeconfig: Some(kubeconfig.display().to_string()),
        webhook_allow: Some("127.0.0.0/8".into()),
        ..RawSettings::default()
    }
}

/// Starts Wheelhouse watching `drill`.
pub async fn spawn_app_on(backend: Backend, drill: &TestDrill) -> TestApp {
    spawn_app_on_with(backend, drill, |_| {}).await
}

/// Starts Wheelhouse watching `drill`, with `adjust` applied to its settings first.
pub async fn spawn_app_on_with(
    backend: Backend,
    drill: &TestDrill,
    adjust: impl FnOnce(&mut RawSettings),
) -> TestApp {
    let (database, database_url) = TestDatabase::create(backend).await;
    let mut raw = raw_on_kubeconfig(&database_url, &drill.kubeconfig);
    adjust(&mut raw);
    let settings = Settings::resolve(raw).expect("test settings are valid");
    let (base_url, setup_link, accounts, server) = start_server_with(settings).await;
    TestApp { base_url, database_url, setup_link, accounts, server, _database: database }
}

/// Waits for `check` to return `Some`, polling every 50 ms, failing after `seconds` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, seconds: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Stops the server (as a process ending would), so that another may
    /// start on the same database: SQLite allows one server per file.
    pub async fn stop(&mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A client that keeps cookies and does not follow redirects, so that
    /// tests see the redirect itself. It sends `Origin` as a browser on
    /// Wheelhouse's own pages does.
    pub fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.base_url.parse().unwrap());
        self.client_with(headers)
    }

    /// Like [`TestApp::client`], sending `headers` instead of `Origin` (none: an old browser or a script).
    pub fn client_with(&self, headers: reqwest::header::HeaderMap) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            // A request that hangs fails the test with its URL instead of stalling CI.
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap()
    }

    pub async fn create_user(&self, email: &str, role: Role) -> String {
        let email = Email::parse(email).unwrap();
        self.accounts.create_user(&email, &NewPassword::parse(PASSWORD).unwrap(), role).await.unwrap();
        email.to_string()
    }

    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap()
    }

    /// A client signed in as a new account with `role`.
    pub async fn signed_in(&self, email: &str, role: Role) -> reqwest::Client {
        self.signed_in_as(self.client(), email, role).await
    }

    /// `client`, signed in as a new account with `role`.
    pub async fn signed_in_as(&self, client: reqwest::Client, email: &str, role: Role) -> reqwest::Client {
        self.create_user(email, role).await;
        let response = self.post_login(&client, email, PASSWORD).await;
        assert_eq!(response.status(), 303, "signing in as {email} redirects");
        client
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// Adds the public service component Checkout (`app=checkout` in `shop`) as `admin`,
    /// as the drill scenario suggests it, for apps watching a drill over HTTPS.
    pub async fn add_checkout(&self, admin: &reqwest::Client) {
        self.add_component(admin, "Checkout", "shop", "app=checkout").await;
    }

    /// Adds a public service component through the admin form, as `admin`.
    pub async fn add_component(&self, admin: &reqwest::Client, name: &str, namespace: &str, selector: &str) {
        let created = admin
            .post(self.url("/admin/components"))
            .form(&[
                ("name", name),
                ("namespace", namespace),
                ("selector", selector),
                ("visibility", "public"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 303);
    }

    /// Declares an incident through the JSON API as `client`; its id.
    pub async fn declare(&self, client: &reqwest::Client, body: serde_json::Value) -> i64 {
        let response = client.post(self.url("/api/v1/incidents")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201, "declared {body}");
        response.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Waits until the board was first evaluated (so that labels and components map).
    pub async fn evaluated(&self, client: &reqwest::Client) {
        eventually("the first evaluation", 30, || async {
            let all: serde_json::Value = self.get(client, "/api/v1/components").await.json().await.ok()?;
            (all["evaluated"] == true).then_some(())
        })
        .await;
    }

    /// An API token made by an admin on `/admin/tokens`, read from the page that shows it once.
    pub async fn api_token(&self, admin: &reqwest::Client, name: &str, role: &str) -> String {
        let response = admin
            .post(self.url("/admin/tokens"))
            .form(&[("name", name), ("role", role)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let page = response.text().await.unwrap();
        let start = page.find("whk_").expect("the new token is on the page");
        page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
    }
}

/// A client that sends `token` as its bearer token (as automation does).
pub fn bearer(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> &str {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Declares each test twice: once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($( async fn $name:ident($app:ident) $body:block )*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    #[allow(unused_mut)]
                    let mut $app = $crate::spawn_app($crate::Backend::Sqlite).await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    #[allow(unused_mut)]
                    let mut $app = $crate::spawn_app($crate::Backend::Postgres).await;
                    $body
                }
            )*
        }
    };
}

/// A drill cluster served over HTTPS on a free port, with its controllers
/// running, and a kubeconfig for kubectl and kube-rs.
pub struct TestDrill {
    pub cluster: std::sync::Arc<server::drill::DrillCluster>,
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`, and the CA that signed its certificate (PEM).
    pub url: String,
    pub ca_pem: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: PathBuf,
}

impl TestDrill {
    pub async fn start() -> TestDrill {
        TestDrill::start_with_history(server::drill::store::HISTORY_LEN).await
    }

    pub async fn start_with_history(history_len: usize) -> TestDrill {
        let scenario = server::drill::scenario::Scenario::default_scenario();
        TestDrill::start_with_scenario(&scenario, history_len, 30).await
    }

    /// A drill cluster running `scenario`, once at least `pods` pods are
    /// Running and all of them Ready.
    pub async fn start_with_scenario(
        scenario: &server::drill::scenario::Scenario,
        history_len: usize,
        pods: usize,
    ) -> TestDrill {
        use server::drill::{DrillCluster, serve::DrillServer, store::Store};
        let cluster =
            DrillCluster::with_store(server::accounts::generate_secret(16), Store::with_history(history_len));
        let drill = DrillServer::bind_cluster("127.0.0.1:0".parse().unwrap(), scenario, cluster)
            .await
            .expect("the drill cluster starts");
        let dir =
            std::env::temp_dir().join(format!("wheelhouse-drill-{}", server::accounts::generate_secret(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        server::drill::serve::write_kubeconfig(&kubeconfig, &drill.kubeconfig()).unwrap();
        let cluster = drill.cluster.clone();
        let (url, ca_pem) = (drill.url(), drill.ca_pem.clone());
        let server = tokio::spawn(drill.run());
        let test = TestDrill { cluster, kubeconfig, url, ca_pem, server, dir };
        test.wait_until("the scenario's pods to be Running and Ready", || {
            let all = test
                .cluster
                .store
                .list(server::drill::resources::PODS, &Default::default(), None, None)
                .unwrap()
                .items;
            all.len() >= pods && all.iter().all(server::drill::disruption::is_healthy)
        })
        .await;
        test
    }

    /// Waits for `condition`, polling, failing after 20 seconds with `what`.
    pub async fn wait_until(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while !condition() {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Runs real kubectl against this cluster; returns (success, stdout, stderr).
    pub async fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        let kubeconfig = self.kubeconfig.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let output = std::process::Command::new("kubectl")
                .args(&args)
                .env("KUBECONFIG", kubeconfig)
                .env_remove("HTTPS_PROXY")
                .output()
                .expect("kubectl is installed at /usr/bin/kubectl");
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        })
        .await
        .unwrap()
    }

    /// Like [`TestDrill::kubectl`], asserting success; returns stdout.
    pub async fn kubectl_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args).await;
        assert!(ok, "kubectl {} failed:\n{err}\n{out}", args.join(" "));
        out
    }

    pub fn get(
        &self,
        resource: server::drill::resources::Resource,
        namespace: &str,
        name: &str,
    ) -> serde_json::Value {
        self.cluster.store.get(resource, namespace, name).unwrap()
    }
}

impl Drop for TestDrill {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child process killed (and reaped) when this is dropped, however the
/// benchmark or test that started it ends.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A program the tests start (Alertmanager, Prometheus), stopped when dropped.
pub struct Daemon {
    pub name: &'static str,
    child: std::process::Child,
    pub dir: PathBuf,
}

impl Daemon {
    /// Starts `program` with `args` in a fresh directory (given to `args` as
    /// `{dir}`), after writing `files` (name, contents) there.
    pub fn start(name: &'static str, program: &str, files: &[(&str, &str)], args: &[String]) -> Daemon {
        let dir =
            std::env::temp_dir().join(format!("wheelhouse-{name}-{}", server::accounts::generate_secret(6)));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, contents) in files {
            std::fs::write(dir.join(file), contents).unwrap();
        }
        let args: Vec<String> = args.iter().map(|a| a.replace("{dir}", &dir.display().to_string())).collect();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let child = std::process::Command::new(program)
            .args(&args)
            .current_dir(&dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{program} must be installed (scripts/test.sh installs it): {e}"));
        Daemon { name, child, dir }
    }

    /// What it logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// This process's peak resident memory so far (VmHWM), in KiB, for benchmarks.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A port no one listens on now, for a program that takes its port as a flag.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What a [`json_receiver`] was sent, oldest first.
pub type Heard = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// A webhook receiver on 127.0.0.1 (an OS-chosen port, until the test's
/// runtime ends) that keeps each JSON body posted to `/hook` and answers 204:
/// the URL to give Wheelhouse, and what it heard.
pub async fn json_receiver() -> (String, Heard) {
    use axum::extract::State;
    let heard: Heard = Default::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(heard): State<Heard>, axum::Json(body): axum::Json<serde_json::Value>| async move {
                    heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(body);
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(heard.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a receiver port");
    let url = format!("http://{}/hook", listener.local_addr().expect("the receiver's address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, heard)
}
