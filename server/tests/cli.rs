//! The `wheelhouse` binary as a person runs it: bad settings, `user add`,
//! `migrate`, `--help`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn wheelhouse(args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wheelhouse"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WHEELHOUSE_LISTEN")
        .env_remove("WHEELHOUSE_CLUSTER")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wheelhouse binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("wheelhouse-cli-{}", server::accounts::generate_secret(6)));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.0.join("wheelhouse.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_bad_listen_address_stops_start_up_with_one_line_and_exit_code_2() {
    let output = wheelhouse(&["--listen", "localhost"], "", &[]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--listen / WHEELHOUSE_LISTEN"), "{err}");
    assert!(err.contains("127.0.0.1:3000"), "{err}");
}

#[test]
fn a_bad_setting_from_the_environment_is_named_too() {
    let output = wheelhouse(&["migrate"], "", &[("WHEELHOUSE_CLUSTER", "minikube")]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("--cluster / WHEELHOUSE_CLUSTER"), "{err}");
    assert!(err.contains("auto, sim, kubeconfig"), "{err}");
}

#[test]
fn an_unsupported_database_url_is_refused() {
    let output = wheelhouse(&["migrate", "--database-url", "mysql://db/wh"], "", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--database-url / DATABASE_URL"));
}

#[test]
fn migrate_creates_the_sqlite_file() {
    let dir = TempDir::new();
    let output = wheelhouse(&["migrate", "--database-url", &dir.database_url()], "", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.0.join("wheelhouse.db").exists());
    assert!(stdout(&output).contains("up to date"));
}

#[test]
fn user_add_reads_the_password_from_standard_input() {
    let dir = TempDir::new();
    let url = dir.database_url();
    let args = ["user", "add", "--email", "Ops@Example.com", "--role", "responder", "--database-url", &url];
    let output = wheelhouse(&args, "correct horse battery staple\n", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("added ops@example.com with the role responder"));
    assert!(!stdout(&output).contains("password"), "a typed password is not echoed");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db =
            server::db::Database::connect(&server::config::DatabaseUrl::parse(&url).unwrap()).await.unwrap();
        let accounts = server::accounts::Accounts::new(db);
        let user = accounts.authenticate("ops@example.com", "correct horse battery staple").await.unwrap();
        assert_eq!(user.map(|u| u.role), Some(app::domain::role::Role::Responder));
    });

    let again = wheelhouse(&args, "another long password\n", &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
}

#[test]
fn user_add_generates_and_prints_a_password_when_none_is_given() {
    let dir = TempDir::new();
    let url = dir.database_url();
    let output = wheelhouse(
        &["user", "add", "--email", "exec@example.com", "--role", "viewer", "--database-url", &url],
        "",
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .unwrap_or_else(|| panic!("no generated password in {out}"))
        .to_owned();
    assert!(password.len() >= 12);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db =
            server::db::Database::connect(&server::config::DatabaseUrl::parse(&url).unwrap()).await.unwrap();
        let user =
            server::accounts::Accounts::new(db).authenticate("exec@example.com", &password).await.unwrap();
        assert!(user.is_some(), "the printed password signs in");
    });
}

#[test]
fn user_add_refuses_an_unknown_role_and_a_short_password() {
    let dir = TempDir::new();
    let url = dir.database_url();
    let bad_role = wheelhouse(
        &["user", "add", "--email", "a@example.com", "--role", "owner", "--database-url", &url],
        "",
        &[],
    );
    assert_eq!(bad_role.status.code(), Some(1));
    assert!(stderr(&bad_role).contains("admin, responder, viewer"));
    let short = wheelhouse(
        &["user", "add", "--email", "a@example.com", "--role", "admin", "--database-url", &url],
        "short\n",
        &[],
    );
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 12 characters"), "{}", stderr(&short));
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["serve", "--help"], &["migrate", "--help"], &["user", "add", "--help"]] {
        let output = wheelhouse(args, "", &[]);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage: wheelhouse"), "{args:?}");
    }
    let top = stdout(&wheelhouse(&["--help"], "", &[]));
    for flag in ["--listen", "--database-url", "--cluster", "--log-format", "--config"] {
        assert!(top.contains(flag), "{flag} missing from --help");
    }
}

/// Kills the child process when the test ends, passed or not.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn drill_serve_writes_a_kubeconfig_that_kubectl_uses_and_faults_reach_the_cluster() {
    let dir = TempDir::new();
    let kubeconfig = dir.0.join("kubeconfig");
    let _serve = Running(
        Command::new(env!("CARGO_BIN_EXE_wheelhouse"))
            .args(["drill", "serve", "--listen", "127.0.0.1:0", "--write-kubeconfig"])
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the kubeconfig", || kubeconfig.exists());
    let kubectl = |args: &[&str]| {
        let output = Command::new("kubectl").args(args).env("KUBECONFIG", &kubeconfig).output().unwrap();
        (output.status.success(), stdout(&output))
    };
    wait_for("checkout to run", || {
        let (_, out) = kubectl(&["get", "pods", "-n", "shop", "-l", "app=checkout", "--no-headers"]);
        out.lines().filter(|l| l.contains("Running")).count() == 3
    });

    let kc = kubeconfig.to_str().unwrap();
    let fault = wheelhouse(&["drill", "fault", "node-notready", "worker-1", "--kubeconfig", kc], "", &[]);
    assert!(fault.status.success(), "{}", stderr(&fault));
    assert!(stdout(&fault).contains("worker-1"), "{}", stdout(&fault));
    let (_, node) = kubectl(&["get", "node", "worker-1", "--no-headers"]);
    assert!(node.contains("NotReady"), "{node}");

    let clear = wheelhouse(&["drill", "clear", "node-notready", "worker-1", "--kubeconfig", kc], "", &[]);
    assert!(clear.status.success(), "{}", stderr(&clear));
    let (_, node) = kubectl(&["get", "node", "worker-1", "--no-headers"]);
    assert!(node.split_whitespace().nth(1) == Some("Ready"), "{node}");

    let unknown = wheelhouse(&["drill", "fault", "meteor", "x", "--kubeconfig", kc], "", &[]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("unknown fault 'meteor'"), "{}", stderr(&unknown));
    let missing = wheelhouse(&["drill", "fault", "crashloop", "shop/nothing", "--kubeconfig", kc], "", &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("not found"), "{}", stderr(&missing));
}
