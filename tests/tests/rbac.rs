//! `deploy/kubernetes/base/rbac.yaml` grants exactly what Wheelhouse uses: the drill cluster
//! records every request Wheelhouse makes while it watches the cluster and
//! runs every containment action and its undo, and each request must be
//! allowed by the ClusterRole. Also: a request the role would not allow is
//! refused by the cluster (403) and recorded as a failed action in plain words.

use app::domain::role::Role;
use serde_json::{Value, json};
use server::drill::access::Access;
use server::drill::resources::PODS;
use tests::{Backend, TestDrill, spawn_app_on};

/// The rules of the ClusterRole in deploy/kubernetes/base/rbac.yaml.
fn cluster_role_rules() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes/base/rbac.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    text.split("\n---\n")
        .map(|document| serde_yaml_ng::from_str::<Value>(document).unwrap())
        .find(|d| d["kind"] == "ClusterRole")
        .expect("a ClusterRole")["rules"]
        .as_array()
        .unwrap()
        .clone()
}

fn listed(rule: &Value, key: &str, value: &str) -> bool {
    rule[key].as_array().is_some_and(|items| items.iter().any(|i| i == value || i == "*"))
}

fn allowed(rules: &[Value], access: &Access) -> bool {
    rules.iter().any(|rule| match access {
        Access::Resource { verb, group, resource, .. } => {
            listed(rule, "verbs", verb)
                && listed(rule, "apiGroups", group)
                && listed(rule, "resources", resource)
        }
        Access::NonResource { verb, path } => {
            listed(rule, "verbs", verb) && listed(rule, "nonResourceURLs", path)
        }
    })
}

async fn declare(app: &tests::TestApp, ic: &reqwest::Client) -> i64 {
    let response = ic
        .post(app.url("/api/v1/incidents"))
        .json(&json!({"title": "RBAC drill", "severity": "SEV2", "category": "security"}))
        .send()
        .await
        .unwrap();
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// POSTs to `url` with an idempotency key; the action it answers.
async fn with_key(client: &reqwest::Client, url: &str, key: &str) -> Value {
    client.post(url).header("idempotency-key", key).send().await.unwrap().json().await.unwrap()
}

async fn act(app: &tests::TestApp, ic: &reqwest::Client, incident: i64, body: Value, undo: bool) -> Value {
    let base = app.url(&format!("/api/v1/incidents/{incident}/actions"));
    let action: Value = ic.post(&base).json(&body).send().await.unwrap().json().await.unwrap();
    let id = action["id"].as_i64().unwrap_or_else(|| panic!("planned: {action}"));
    let preview = ic.post(format!("{base}/{id}/preview")).send().await.unwrap();
    assert_eq!(preview.status(), 200, "{body}");
    let done = with_key(ic, &format!("{base}/{id}/confirm"), &format!("k{id}")).await;
    // A drain held by a disruption budget goes on in the background: wait for it,
    // so that later actions do not pick a pod it is about to evict.
    let path = format!("/api/v1/incidents/{incident}/actions/{id}");
    // A confirmation or undo answers "executing" when it takes longer than the
    // answer waits (a drain, or a slow machine): wait for it to settle.
    let settled = |answer: Value| async {
        if answer["status"] != "executing" {
            return answer;
        }
        tests::eventually("the action to finish", 120, || async {
            let action: Value = app.get(ic, &path).await.json().await.ok()?;
            (action["status"] != "executing").then_some(action)
        })
        .await
    };
    let done = settled(done).await;
    if undo && done["status"] == "succeeded" {
        let undone = settled(with_key(ic, &format!("{base}/{id}/undo"), &format!("u{id}")).await).await;
        assert_eq!(undone["status"], "undone", "{undone}");
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_wheelhouse_makes_is_allowed_by_deploy_rbac_yaml() {
    let drill = TestDrill::start().await;
    // A second revision to roll back from, made before recording starts (kubectl is not Wheelhouse).
    drill
        .kubectl_ok(&[
            "set",
            "image",
            "deployment/suggest",
            "-n",
            "search",
            "suggest=registry.example.com/search/suggest:9.9.9",
        ])
        .await;
    drill.cluster.access.record();
    let app = spawn_app_on(Backend::Sqlite, &drill).await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let incident = declare(&app, &ic).await;
    // One person runs every action here: an admin waives the two-person rule for the drill.
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let waived = admin
        .post(app.url(&format!("/api/v1/incidents/{incident}/break-glass")))
        .json(&json!({"reason": "RBAC drill: one person exercises every action"}))
        .send()
        .await
        .unwrap();
    assert_eq!(waived.status(), 200);
    // A live pod of the app, looked up when it is needed (earlier actions replace pods).
    let pod_of = |app_label: &str| {
        let pods = drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
        let pod = pods
            .iter()
            .find(|p| {
                p["metadata"]["labels"]["app"] == app_label && p["metadata"]["deletionTimestamp"].is_null()
            })
            .unwrap();
        format!(
            "{}/{}",
            pod["metadata"]["namespace"].as_str().unwrap(),
            pod["metadata"]["name"].as_str().unwrap()
        )
    };
    for (body, undo) in [
        (json!({"action": "cordon", "node": "worker-1"}), true),
        (json!({"action": "drain", "node": "worker-5"}), true),
        (json!({"action": "scale", "workload": "deployment/shop/cart", "replicas": 3}), true),
        (json!({"action": "restart", "workload": "deployment/shop/storefront"}), false),
        (json!({"action": "pause", "workload": "deployment/search/indexer"}), true),
        // Pods of workloads no earlier action scales or restarts, so no controller removes them meanwhile.
        (json!({"action": "isolate_pod", "pod": "fraud-check"}), true),
        (json!({"action": "isolate_namespace", "namespace": "payments"}), true),
        (json!({"action": "delete_pod", "pod": "payments-api"}), false),
    ] {
        let mut body = body;
        if let Some(app_label) = body["pod"].as_str().map(str::to_owned) {
            body["pod"] = json!(pod_of(&app_label));
        }
        let done = act(&app, &ic, incident, body.clone(), undo).await;
        assert!(
            ["succeeded", "undone", "executing"].contains(&done["status"].as_str().unwrap()),
            "{body}: {done}"
        );
    }
    drill
        .wait_until("revision 2 of suggest", || {
            drill.get(server::drill::resources::DEPLOYMENTS, "search", "suggest")["metadata"]["annotations"]
                ["deployment.kubernetes.io/revision"]
                == "2"
        })
        .await;
    let done = act(
        &app,
        &ic,
        incident,
        json!({"action": "rollback", "workload": "deployment/search/suggest"}),
        true,
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");

    // Evidence capture reads: a workload (history, pods, events, Services,
    // endpoints, logs of a crash loop's previous run), a pod, a node, the control plane.
    use server::drill::fault_injection::{FaultKind, FaultRequest};
    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None })
        .unwrap();
    drill
        .wait_until("a crashed checkout container", || {
            let pods = drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
            pods.iter().any(|p| {
                p["metadata"]["labels"]["app"] == "checkout"
                    && p.pointer("/status/containerStatuses/0/lastState/terminated").is_some()
            })
        })
        .await;
    for subject in ["deployment/shop/checkout", "statefulset/shop/none", "node/worker-3", "control-plane"] {
        let captured = ic
            .post(app.url(&format!("/api/v1/incidents/{incident}/evidence")))
            .json(&json!({"subject": subject}))
            .send()
            .await
            .unwrap();
        let expected = if subject.contains("none") { 404 } else { 201 };
        assert_eq!(captured.status(), expected, "{subject}");
    }
    let pod = pod_of("storefront");
    let captured = ic
        .post(app.url(&format!("/api/v1/incidents/{incident}/evidence")))
        .json(&json!({"subject": format!("pod/{pod}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(captured.status(), 201);

    let rules = cluster_role_rules();
    let recorded = drill.cluster.access.recorded();
    let mut distinct: Vec<Access> = recorded.into_iter().collect();
    distinct.sort();
    distinct.dedup();
    let writes = distinct.iter().filter(|a| matches!(a, Access::Resource { verb, .. } if !["get", "list", "watch"].contains(&verb.as_str()))).count();
    assert!(writes >= 8, "the suite made the writes it should: {distinct:?}");
    for read in ["pods/log", "services", "endpoints"] {
        assert!(
            distinct.iter().any(|a| matches!(a, Access::Resource { resource, .. } if resource == read)),
            "evidence capture read {read}: {distinct:?}"
        );
    }
    let refused: Vec<&Access> = distinct.iter().filter(|a| !allowed(&rules, a)).collect();
    assert!(refused.is_empty(), "deploy/kubernetes/base/rbac.yaml does not allow: {refused:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_is_a_failed_action_said_plainly() {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(Backend::Sqlite, &drill).await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let incident = declare(&app, &ic).await;
    let base = app.url(&format!("/api/v1/incidents/{incident}/actions"));
    let action: Value = ic
        .post(&base)
        .json(&json!({"action": "cordon", "node": "worker-2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = action["id"].as_i64().unwrap();
    assert_eq!(ic.post(format!("{base}/{id}/preview")).send().await.unwrap().status(), 200);
    drill.cluster.access.deny("patch", "nodes");
    let done = with_key(&ic, &format!("{base}/{id}/confirm"), "k").await;
    assert_eq!(done["status"], "failed");
    assert!(done["failure"].as_str().unwrap().contains("not allowed"), "{done}");
    assert!(done["failure"].as_str().unwrap().contains("rbac.yaml"), "{done}");
    assert!(!done["failure"].as_str().unwrap().contains("is forbidden: User"), "no API server text: {done}");
    assert!(drill.get(server::drill::resources::NODES, "", "worker-2")["spec"]["unschedulable"] != true);
}
