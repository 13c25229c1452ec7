//! The bundle the container image holds (`deploy/Containerfile`): the binary
//! with the site beside it, copied to a directory of its own, started from
//! there as an unprivileged user whose only writable directory is its data
//! directory (and /tmp, an emptyDir in the Deployment). It serves its pages
//! and assets and keeps its database in the data directory.
//! (Here rather than in `tests/` so that cargo builds the binary it runs.)

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The unprivileged user the image runs as (`nobody` here; uid 10001 in the image).
const UID: &str = "65534";

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?}");
}

fn files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            found.extend(files(&entry.path()));
        } else {
            found.push((entry.path(), meta.len()));
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn the_bundle_runs_from_its_own_directory_as_an_unprivileged_user_with_only_its_data_writable() {
    let site = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    assert!(
        site.join("pkg").is_dir(),
        "the site bundle is built first (`cargo leptos build`, as scripts/test.sh does)"
    );
    let root = std::env::temp_dir().join(format!("wheelhouse-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (app, data) = (root.join("app"), root.join("data"));
    std::fs::create_dir_all(&app).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_wheelhouse"), app.join("wheelhouse")).unwrap();
    run("cp", &["-r", &site.display().to_string(), &app.join("site").display().to_string()]);
    run("chmod", &["-R", "go-w,a+rX", &root.display().to_string()]);
    let as_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if as_root {
        run("chown", &["-R", "0:0", &app.display().to_string()]);
        run("chown", &[&format!("{UID}:{UID}"), &data.display().to_string()]);
    }
    let before = files(&app);

    let binary = app.join("wheelhouse").display().to_string();
    let mut command = if as_root {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={UID}"),
            &format!("--regid={UID}"),
            "--clear-groups",
            "--no-new-privs",
            &binary,
        ]);
        c
    } else {
        Command::new(&binary)
    };
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "serve"])
        .current_dir(&data)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &data)
        .env("WHEELHOUSE_SITE_ROOT", app.join("site"))
        .env("WHEELHOUSE_LOG_FORMAT", "json")
        .env("DATABASE_URL", format!("sqlite://{}", data.join("wheelhouse.db").display()))
        .env("WHEELHOUSE_CLUSTER", "sim")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // It logs the address it listens on once it serves.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if let Some(address) = entry["http.address"].as_str().or(entry["fields"]["http.address"].as_str())
            {
                let _ = sender.send(address.to_owned());
            }
        }
    });
    let address =
        address.recv_timeout(Duration::from_secs(60)).expect("the bundle starts and logs its address");
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/pkg/wheelhouse"), "the page names its assets");
    for asset in ["/pkg/wheelhouse.css", "/pkg/wheelhouse.js"] {
        let response = client.get(format!("{base}{asset}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset} is served from the site beside the binary");
    }
    if as_root {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert!(uid.split_whitespace().skip(1).all(|id| id == UID), "runs unprivileged: {uid}");
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(data.join("wheelhouse.db").is_file(), "the database is in the data directory");
    assert_eq!(files(&app), before, "nothing was written beside the binary");
    let _ = std::fs::remove_dir_all(&root);
}
