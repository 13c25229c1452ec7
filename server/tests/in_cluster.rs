//! Inside a pod, with no flags: the binary started the way the `ha` overlay's
//! Deployment starts it (`serve`, the ConfigMap's `wheelhouse.toml`, the
//! database URL and leader election from the environment, the pod's name as
//! `HOSTNAME`, `KUBERNETES_SERVICE_HOST`/`PORT`), with a service-account
//! token, CA and namespace mounted where a kubelet mounts them. The mount is
//! made in a mount namespace of the process's own (`unshare`), so the machine
//! is left as it was. It finds the API server, authenticates with the token,
//! watches the cluster, and keeps its Lease in its own namespace under its
//! pod's name.
//! (Here rather than in `tests/` so that cargo builds the binary it runs.)

mod common;

use common::{Drill, PgDatabase, Process, add_account, eventually, signed_in, wait_for};
use serde_json::Value;
use server::drill::resources::LEASES;
use std::path::PathBuf;
use std::process::Command;

const MOUNT: &str = "/run/secrets/kubernetes.io/serviceaccount";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_pod_it_needs_no_flags_to_find_the_cluster_and_its_namespace() {
    let db = PgDatabase::create("in_cluster").await;
    let drill = Drill::start().await;
    add_account(&db.url, "admin@example.com", "admin");
    let dir = std::env::temp_dir().join(format!("wheelhouse-sa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let namespace = dir.join("namespace.json");
    std::fs::write(&namespace, r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"wheelhouse"}}"#)
        .unwrap();
    drill.kubectl(&["apply", "-f", namespace.to_str().unwrap()]);
    let account = dir.join("serviceaccount");
    std::fs::create_dir_all(&account).unwrap();
    std::fs::write(account.join("token"), &drill.cluster.token).unwrap();
    std::fs::write(account.join("ca.crt"), &drill.ca_pem).unwrap();
    std::fs::write(account.join("namespace"), "wheelhouse").unwrap();
    let port = drill.url.rsplit(':').next().unwrap().to_owned();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes/base/wheelhouse.toml");

    // A mount namespace of its own (as a user namespace when not root), with the
    // service account where a kubelet puts it; then the binary, as the Deployment runs it.
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut command = Command::new("unshare");
    command.args(if root { vec!["--mount"] } else { vec!["--map-root-user", "--mount"] });
    command
        .args([
            "sh",
            "-c",
            &format!("mount -t tmpfs tmpfs /run && mkdir -p {MOUNT} && cp \"$SA\"/* {MOUNT}/ && exec \"$@\""),
            "sh",
            env!("CARGO_BIN_EXE_wheelhouse"),
            // The Deployment's args.
            "serve",
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SA", &account)
        .env("HOSTNAME", "wheelhouse-5f7d8c9b4-x2x7k")
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", &port)
        .env("WHEELHOUSE_CONFIG", &config)
        // The one difference from the pod: a free loopback port instead of 0.0.0.0:3000.
        .env("WHEELHOUSE_LISTEN", "127.0.0.1:0")
        .env("WHEELHOUSE_SITE_ROOT", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site"))
        .env("DATABASE_URL", &db.url)
        .env("WHEELHOUSE_LEADER_ELECTION", "true")
        .env("WHEELHOUSE_LEASE_DURATION", "3");
    let process = Process::start(command);

    let ready = reqwest::get(format!("{}/readyz", process.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    // Its Lease, in its own namespace (read from the mounted file), held under its pod's name.
    let lease = wait_for("the leader Lease in the pod's namespace", 30, || {
        let lease = drill.get(LEASES, "wheelhouse", "wheelhouse-leader");
        (!lease.is_null()).then_some(lease)
    })
    .await;
    assert_eq!(lease["spec"]["holderIdentity"], "wheelhouse-5f7d8c9b4-x2x7k", "{lease}");
    // It watches the cluster through the in-cluster configuration: the drill's nodes are components.
    let admin = signed_in(&process.base, "admin@example.com").await;
    let components = wait_for_components(&admin, &process.base).await;
    assert!(components.contains("node/worker-1"), "{components}");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn wait_for_components(client: &reqwest::Client, base: &str) -> String {
    eventually("components from the cluster", 30, || async {
        let body: Value =
            client.get(format!("{base}/api/v1/components")).send().await.ok()?.json().await.ok()?;
        let text = body.to_string();
        text.contains("node/").then_some(text)
    })
    .await
}
