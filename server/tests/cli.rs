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
