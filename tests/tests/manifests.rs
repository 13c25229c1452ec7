//! `deploy/kubernetes`: both overlays render with kubectl's own Kustomize,
//! carry the hardening the Deployment needs, use the one RBAC file, and apply
//! to the drill cluster (server-side dry run first, then for real) until the
//! Deployment is available.

use serde_json::Value;
use std::path::PathBuf;
use tests::TestDrill;

fn overlay(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes/overlays").join(name)
}

/// `kubectl kustomize` of an overlay: the YAML, and its documents as JSON.
fn render(name: &str) -> (String, Vec<Value>) {
    let output = std::process::Command::new("kubectl")
        .args(["kustomize", &overlay(name).display().to_string()])
        .output()
        .expect("kubectl is installed at /usr/bin/kubectl");
    assert!(output.status.success(), "kubectl kustomize {name}: {}", String::from_utf8_lossy(&output.stderr));
    let yaml = String::from_utf8(output.stdout).unwrap();
    let documents = documents(&yaml);
    (yaml, documents)
}

/// The documents of a multi-document YAML stream, as JSON.
fn documents(yaml: &str) -> Vec<Value> {
    yaml.split("\n---\n").map(|document| serde_yaml_ng::from_str::<Value>(document).unwrap()).collect()
}

fn find<'a>(documents: &'a [Value], kind: &str) -> &'a Value {
    documents.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind} rendered"))
}

#[test]
fn both_overlays_render_a_hardened_deployment_with_the_one_rbac_file() {
    let rbac_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes/base/rbac.yaml");
    let rbac_text = std::fs::read_to_string(rbac_path).unwrap();
    let rbac = documents(&rbac_text);
    let role_in_file = rbac.iter().find(|d| d["kind"] == "ClusterRole").unwrap();
    for (name, replicas) in [("single", 1), ("ha", 3)] {
        let (_, documents) = render(name);
        let kinds: Vec<&str> = documents.iter().filter_map(|d| d["kind"].as_str()).collect();
        for kind in [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Secret",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ] {
            assert!(kinds.contains(&kind), "{name} renders a {kind}: {kinds:?}");
        }
        assert_eq!(
            find(&documents, "ClusterRole")["rules"],
            role_in_file["rules"],
            "{name}: the RBAC file is the source"
        );
        let deployment = find(&documents, "Deployment");
        assert_eq!(deployment["spec"]["replicas"], replicas, "{name}");
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
        assert_eq!(pod["serviceAccountName"], "wheelhouse");
        let container = &pod["containers"][0];
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(container["securityContext"]["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert!(container["resources"]["requests"]["memory"].is_string());
        let database = &container["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "DATABASE_URL")
            .unwrap()["valueFrom"];
        assert!(
            database["secretKeyRef"]["name"].as_str().unwrap().starts_with("wheelhouse-database"),
            "{name}: the database URL comes from a Secret"
        );
        let config = find(&documents, "ConfigMap");
        assert!(config["data"]["wheelhouse.toml"].as_str().unwrap().contains("listen = \"0.0.0.0:3000\""));
    }
    let (_, single) = render("single");
    assert_eq!(find(&single, "PersistentVolumeClaim")["metadata"]["namespace"], "wheelhouse");
    assert_eq!(
        find(&single, "Deployment")["spec"]["strategy"]["type"],
        "Recreate",
        "one SQLite writer at a time"
    );
    let (_, ha) = render("ha");
    assert!(ha.iter().any(|d| d["kind"] == "Ingress"), "the ha overlay includes the Ingress");
    assert!(!ha.iter().any(|d| d["kind"] == "PersistentVolumeClaim"));
}

/// `kubectl apply` of one object written as JSON (kubectl's `create` generators
/// send protobuf, which the drill does not speak).
async fn apply_json(drill: &TestDrill, json: &str) -> String {
    let file = std::env::temp_dir().join(format!("wheelhouse-object-{}.json", tests::free_port()));
    std::fs::write(&file, json).unwrap();
    let out = drill.kubectl_ok(&["apply", "-f", &file.display().to_string()]).await;
    let _ = std::fs::remove_file(&file);
    out
}

async fn applies_and_becomes_available(name: &str, replicas: i64) {
    let drill = TestDrill::start().await;
    let (yaml, documents) = render(name);
    // The image is built and pushed to the cluster's registry first (deploy/Containerfile).
    let image = find(&documents, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    drill.cluster.faults.push_image(&image);
    let file = std::env::temp_dir().join(format!("wheelhouse-{name}-{}.yaml", std::process::id()));
    std::fs::write(&file, yaml).unwrap();
    let file = file.display().to_string();

    // The server-side dry run checks everything and stores nothing (the namespace must exist for it).
    apply_json(&drill, r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "wheelhouse"}}"#)
        .await;
    let dry = drill.kubectl_ok(&["apply", "--dry-run=server", "-f", &file]).await;
    assert!(dry.contains("deployment.apps/wheelhouse created (server dry run)"), "{dry}");
    let (found, _, _) = drill.kubectl(&["get", "deployment", "wheelhouse", "-n", "wheelhouse"]).await;
    assert!(!found, "a dry run creates nothing");

    let applied = drill.kubectl_ok(&["apply", "-f", &file]).await;
    assert!(applied.contains("clusterrole.rbac.authorization.k8s.io/wheelhouse created"), "{applied}");
    drill
        .kubectl_ok(&["rollout", "status", "deployment/wheelhouse", "-n", "wheelhouse", "--timeout=60s"])
        .await;
    let available = drill
        .kubectl_ok(&[
            "get",
            "deployment",
            "wheelhouse",
            "-n",
            "wheelhouse",
            "-o",
            "jsonpath={.status.availableReplicas}",
        ])
        .await;
    assert_eq!(available.trim(), replicas.to_string(), "{name}");
    // Applying again changes nothing.
    let again = drill.kubectl_ok(&["apply", "-f", &file]).await;
    assert!(again.contains("deployment.apps/wheelhouse unchanged"), "{again}");
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_overlay_applies_to_the_drill_and_its_claim_is_bound() {
    applies_and_becomes_available("single", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ha_overlay_applies_to_the_drill_with_three_replicas() {
    applies_and_becomes_available("ha", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_waits_for_the_config_map_and_secret_it_names() {
    let drill = TestDrill::start().await;
    let pod = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "needs-config", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1",
            "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "app-secret", "key": "token"}}}]}],
            "volumes": [{"name": "config", "configMap": {"name": "app-config"}}]}}"#;
    drill.cluster.faults.push_image("registry.example.com/app:1");
    let file = std::env::temp_dir().join(format!("wheelhouse-pod-{}.json", std::process::id()));
    std::fs::write(&file, pod).unwrap();
    drill.kubectl_ok(&["apply", "-f", &file.display().to_string()]).await;
    let waiting = |drill: &TestDrill| {
        let pod = drill.get(server::drill::resources::PODS, "default", "needs-config");
        pod.pointer("/status/containerStatuses/0/state/waiting/reason")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    drill
        .wait_until("the pod to wait for its volume", || {
            waiting(&drill).as_deref() == Some("ContainerCreating")
        })
        .await;
    let events = drill
        .kubectl_ok(&[
            "get",
            "events",
            "-n",
            "default",
            "--field-selector",
            "involvedObject.name=needs-config",
        ])
        .await;
    assert!(
        events.contains("FailedMount") && events.contains("configmap \"app-config\" not found"),
        "{events}"
    );

    apply_json(&drill, r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "default"}, "data": {"a": "b"}}"#).await;
    drill
        .wait_until("the pod to wait for its secret", || {
            waiting(&drill).as_deref() == Some("CreateContainerConfigError")
        })
        .await;
    // A Secret written as stringData is stored base64-encoded, as the API server does.
    apply_json(&drill, r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-secret", "namespace": "default"}, "stringData": {"token": "s3cret"}}"#).await;
    let stored = drill.kubectl_ok(&["get", "secret", "app-secret", "-o", "jsonpath={.data.token}"]).await;
    assert_eq!(stored.trim(), "czNjcmV0");
    drill
        .wait_until("the pod to run", || {
            let pod = drill.get(server::drill::resources::PODS, "default", "needs-config");
            pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
        })
        .await;
    let bad = r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad", "namespace": "default"}, "data": {"k": "not base64!"}}"#;
    std::fs::write(&file, bad).unwrap();
    let (ok, _, err) = drill.kubectl(&["apply", "-f", &file.display().to_string()]).await;
    assert!(!ok && err.contains("illegal base64 data"), "{err}");
    let _ = std::fs::remove_file(&file);
}
