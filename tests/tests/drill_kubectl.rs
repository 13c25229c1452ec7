//! Real kubectl (v1.32, /usr/bin/kubectl) against the drill cluster over
//! HTTPS, used as an operator would, asserting the state each command leaves.

use server::drill::resources::{DEPLOYMENTS, NETWORK_POLICIES, NODES, PDBS, PODS, REPLICASETS};
use server::drill::store::{Filter, name_of};
use tests::TestDrill;

fn pods_of(drill: &TestDrill, namespace: &str, app: &str) -> Vec<serde_json::Value> {
    let filter = Filter {
        namespace: Some(namespace.into()),
        labels: app::domain::label_selector::LabelSelector::parse(&format!("app={app}")).unwrap(),
        ..Filter::default()
    };
    drill.cluster.store.list(PODS, &filter, None, None).unwrap().items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_nodes_and_pods_print_like_a_real_cluster() {
    let drill = TestDrill::start().await;
    let nodes = drill.kubectl_ok(&["get", "nodes"]).await;
    let header = nodes.lines().next().unwrap();
    assert!(header.split_whitespace().eq(["NAME", "STATUS", "ROLES", "AGE", "VERSION"]), "{nodes}");
    assert_eq!(nodes.lines().count(), 7, "{nodes}");
    assert!(
        nodes.lines().any(|l| l.starts_with("cp-1") && l.contains("Ready") && l.contains("control-plane"))
    );

    let pods = drill.kubectl_ok(&["get", "pods", "-A", "-o", "wide"]).await;
    assert!(pods.lines().next().unwrap().contains("NAMESPACE") && pods.contains("NODE"), "{pods}");
    let checkout: Vec<&str> =
        pods.lines().filter(|l| l.starts_with("shop") && l.contains("checkout-")).collect();
    assert_eq!(checkout.len(), 3, "{pods}");
    assert!(
        checkout.iter().all(|l| l.contains("1/1") && l.contains("Running") && l.contains("worker-")),
        "{pods}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_pod_logs_and_events_show_the_pods_history() {
    let drill = TestDrill::start().await;
    let pod = pods_of(&drill, "shop", "cart").remove(0);
    let name = name_of(&pod).to_owned();
    let described = drill.kubectl_ok(&["describe", "pod", "-n", "shop", &name]).await;
    assert!(
        described.contains("Status:             Running") || described.contains("Status:       Running"),
        "{described}"
    );
    assert!(described.contains("Successfully assigned shop/"), "{described}");
    assert!(described.contains("Started container cart"), "{described}");

    let logs = drill.kubectl_ok(&["logs", "-n", "shop", &name]).await;
    assert!(logs.contains("listening on 0.0.0.0:8080"), "{logs}");

    let endpoints = drill
        .kubectl_ok(&[
            "get",
            "endpoints",
            "cart",
            "-n",
            "shop",
            "-o",
            "jsonpath={.subsets[0].addresses[*].ip}",
        ])
        .await;
    assert_eq!(
        endpoints.split_whitespace().count(),
        2,
        "the cart Service lists its two ready pods: {endpoints}"
    );
    assert!(endpoints.contains(pod["status"]["podIP"].as_str().unwrap()), "{endpoints}");

    let events = drill.kubectl_ok(&["get", "events", "-n", "shop"]).await;
    assert!(
        events
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .eq(["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"])
    );
    assert!(events.contains(&format!("pod/{name}")) && events.contains("Scheduled"), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_and_uncordon_flip_unschedulable() {
    let drill = TestDrill::start().await;
    drill.kubectl_ok(&["cordon", "worker-2"]).await;
    assert_eq!(
        drill.kubectl_ok(&["get", "node", "worker-2", "-o", "jsonpath={.spec.unschedulable}"]).await,
        "true"
    );
    assert!(drill.kubectl_ok(&["get", "node", "worker-2"]).await.contains("Ready,SchedulingDisabled"));
    drill.kubectl_ok(&["uncordon", "worker-2"]).await;
    // uncordon removes the field, as on a real cluster.
    assert_ne!(
        drill.get(NODES, "", "worker-2")["spec"].get("unschedulable").and_then(|v| v.as_bool()),
        Some(true)
    );
    assert!(!drill.kubectl_ok(&["get", "node", "worker-2"]).await.contains("SchedulingDisabled"));
}

/// `kubectl rollout history` and the revision numbers it lists.
async fn rollout_revisions(drill: &TestDrill, namespace: &str, workload: &str) -> (String, Vec<String>) {
    let history = drill.kubectl_ok(&["rollout", "history", "-n", namespace, workload]).await;
    let revisions = history
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.parse::<u32>().is_ok())
        .map(str::to_owned)
        .collect();
    (history, revisions)
}

async fn set_min_available(drill: &TestDrill, count: u32) {
    let patch = format!(r#"{{"spec":{{"minAvailable":{count}}}}}"#);
    drill.kubectl_ok(&["patch", "pdb", "checkout", "-n", "shop", "--type=merge", "-p", &patch]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_is_blocked_by_a_budget_and_completes_once_it_allows() {
    let drill = TestDrill::start().await;
    // checkout has 3 replicas; a budget needing all 3 blocks any eviction.
    set_min_available(&drill, 3).await;
    let node = pods_of(&drill, "shop", "checkout")[0]["spec"]["nodeName"].as_str().unwrap().to_owned();
    let (ok, out, err) = drill
        .kubectl(&["drain", &node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=3s"])
        .await;
    assert!(!ok, "the drain must not finish while the budget blocks it:\n{out}");
    assert!(err.contains("Cannot evict pod as it would violate the pod's disruption budget"), "{err}");
    assert_eq!(drill.get(NODES, "", &node)["spec"]["unschedulable"], true, "drain cordons first");
    assert!(pods_of(&drill, "shop", "checkout").iter().any(|p| p["spec"]["nodeName"] == node.as_str()));

    set_min_available(&drill, 2).await;
    let out = drill
        .kubectl_ok(&["drain", &node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s"])
        .await;
    assert!(out.contains(&format!("node/{node} drained")), "{out}");
    let left: Vec<String> = drill
        .cluster
        .store
        .list(PODS, &Filter::default(), None, None)
        .unwrap()
        .items
        .iter()
        .filter(|p| p["spec"]["nodeName"] == node.as_str())
        .map(|p| name_of(p).to_owned())
        .collect();
    assert!(left.iter().all(|p| p.starts_with("kube-proxy-")), "only DaemonSet pods stay: {left:?}");
    drill
        .wait_until("checkout to be whole again elsewhere", || {
            let pods = pods_of(&drill, "shop", "checkout");
            pods.len() == 3 && pods.iter().all(|p| p["spec"]["nodeName"] != node.as_str())
        })
        .await;
    assert_eq!(drill.get(PDBS, "shop", "checkout")["spec"]["minAvailable"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_changes_the_pod_count() {
    let drill = TestDrill::start().await;
    drill.kubectl_ok(&["scale", "-n", "shop", "deployment/cart", "--replicas=5"]).await;
    drill
        .wait_until("cart to have 5 ready pods", || {
            pods_of(&drill, "shop", "cart")
                .iter()
                .filter(|p| server::drill::disruption::is_healthy(p))
                .count()
                == 5
        })
        .await;
    let ready = drill
        .kubectl_ok(&["get", "deployment", "cart", "-n", "shop", "-o", "jsonpath={.status.readyReplicas}"])
        .await;
    assert_eq!(ready, "5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_status_history_and_undo_behave_like_a_real_rollout() {
    let drill = TestDrill::start().await;
    let before: Vec<String> =
        pods_of(&drill, "shop", "storefront").iter().map(|p| name_of(p).to_owned()).collect();
    drill.kubectl_ok(&["rollout", "restart", "-n", "shop", "deployment/storefront"]).await;
    let status = drill
        .kubectl_ok(&["rollout", "status", "-n", "shop", "deployment/storefront", "--timeout=60s"])
        .await;
    assert!(status.contains("successfully rolled out"), "{status}");
    let after: Vec<String> =
        pods_of(&drill, "shop", "storefront").iter().map(|p| name_of(p).to_owned()).collect();
    assert!(after.iter().all(|p| !before.contains(p)), "every pod was replaced: {before:?} -> {after:?}");
    let restarted =
        &drill.get(DEPLOYMENTS, "shop", "storefront")["spec"]["template"]["metadata"]["annotations"];
    assert!(restarted.get("kubectl.kubernetes.io/restartedAt").is_some());

    let (history, revisions) = rollout_revisions(&drill, "shop", "deployment/storefront").await;
    assert_eq!(revisions, ["1", "2"], "{history}");

    drill.kubectl_ok(&["rollout", "undo", "-n", "shop", "deployment/storefront"]).await;
    let status = drill
        .kubectl_ok(&["rollout", "status", "-n", "shop", "deployment/storefront", "--timeout=60s"])
        .await;
    assert!(status.contains("successfully rolled out"), "{status}");
    let (history, revisions) = rollout_revisions(&drill, "shop", "deployment/storefront").await;
    assert_eq!(revisions, ["2", "3"], "undo reuses revision 1's ReplicaSet as revision 3:\n{history}");
    let template = &drill.get(DEPLOYMENTS, "shop", "storefront")["spec"]["template"]["metadata"];
    assert!(template.get("annotations").and_then(|a| a.get("kubectl.kubernetes.io/restartedAt")).is_none());
    let sets = drill
        .cluster
        .store
        .list(REPLICASETS, &Filter { namespace: Some("shop".into()), ..Filter::default() }, None, None)
        .unwrap()
        .items;
    assert_eq!(sets.iter().filter(|rs| name_of(rs).starts_with("storefront-")).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_the_registry_does_not_hold_fails_to_pull_and_one_it_holds_rolls_out() {
    let drill = TestDrill::start().await;
    drill.kubectl_ok(&["set", "image", "-n", "shop", "deploy/cart", "cart=registry.invalid/nope:404"]).await;
    let waiting = |reason: &str| {
        pods_of(&drill, "shop", "cart").iter().any(|pod| {
            pod.pointer("/spec/containers/0/image").and_then(|i| i.as_str())
                == Some("registry.invalid/nope:404")
                && pod.pointer("/status/containerStatuses/0/state/waiting/reason").and_then(|r| r.as_str())
                    == Some(reason)
        })
    };
    drill.wait_until("ErrImagePull", || waiting("ErrImagePull") || waiting("ImagePullBackOff")).await;
    drill.wait_until("ImagePullBackOff", || waiting("ImagePullBackOff")).await;
    let events =
        drill.kubectl_ok(&["get", "events", "-n", "shop", "--field-selector", "reason=Failed"]).await;
    assert!(events.contains("Failed to pull image \"registry.invalid/nope:404\""), "{events}");

    // A release the scenario's registry lists pulls and runs.
    drill
        .kubectl_ok(&[
            "set",
            "image",
            "-n",
            "shop",
            "deploy/checkout",
            "checkout=registry.example.com/shop/checkout:1.15.0",
        ])
        .await;
    drill
        .wait_until("checkout 1.15.0 to run", || {
            let pods = pods_of(&drill, "shop", "checkout");
            pods.iter().any(|p| {
                p.pointer("/spec/containers/0/image").and_then(|i| i.as_str())
                    == Some("registry.example.com/shop/checkout:1.15.0")
            }) && pods.iter().all(server::drill::disruption::is_healthy)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_pod_is_replaced() {
    let drill = TestDrill::start().await;
    let victim = name_of(&pods_of(&drill, "search", "search-api")[0]).to_owned();
    drill.kubectl_ok(&["delete", "pod", "-n", "search", &victim]).await;
    drill
        .wait_until("a replacement pod", || {
            let pods = pods_of(&drill, "search", "search-api");
            pods.len() == 2
                && pods.iter().all(|p| name_of(p) != victim && server::drill::disruption::is_healthy(p))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_then_updates_a_network_policy() {
    let drill = TestDrill::start().await;
    let dir = drill.kubeconfig.parent().unwrap().to_owned();
    let manifest = dir.join("deny-all.yaml");
    let write = |types: &str| {
        std::fs::write(
            &manifest,
            format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\n  namespace: shop\nspec:\n  podSelector: {{}}\n  policyTypes: [{types}]\n"),
        )
        .unwrap();
    };
    write("Ingress, Egress");
    let out = drill.kubectl_ok(&["apply", "-f", manifest.to_str().unwrap()]).await;
    assert!(out.contains("networkpolicy.networking.k8s.io/deny-all created"), "{out}");
    assert_eq!(
        drill.get(NETWORK_POLICIES, "shop", "deny-all")["spec"]["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    write("Ingress");
    let out = drill.kubectl_ok(&["apply", "-f", manifest.to_str().unwrap()]).await;
    assert!(out.contains("configured"), "{out}");
    assert_eq!(
        drill.get(NETWORK_POLICIES, "shop", "deny-all")["spec"]["policyTypes"],
        serde_json::json!(["Ingress"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_verbose_lists_checks_and_fails_with_etcd() {
    let drill = TestDrill::start().await;
    let ready = drill.kubectl_ok(&["get", "--raw", "/readyz?verbose"]).await;
    assert!(ready.contains("[+]etcd ok") && ready.contains("readyz check passed"), "{ready}");
    drill
        .cluster
        .inject(&server::drill::fault_injection::FaultRequest {
            kind: server::drill::fault_injection::FaultKind::ControlPlane,
            target: "etcd".into(),
            seconds: None,
        })
        .unwrap();
    let (ok, out, err) = drill.kubectl(&["get", "--raw", "/readyz?verbose"]).await;
    assert!(!ok, "{out}");
    assert!(err.contains("[-]etcd failed") || out.contains("[-]etcd failed"), "{err}{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_api_is_down_kubectl_gets_service_unavailable() {
    let drill = TestDrill::start().await;
    let fault =
        |kind, seconds| server::drill::fault_injection::FaultRequest { kind, target: String::new(), seconds };
    drill.cluster.inject(&fault(server::drill::fault_injection::FaultKind::ApiDown, Some(60))).unwrap();
    let (ok, _, err) = drill.kubectl(&["get", "nodes", "--request-timeout=5s"]).await;
    assert!(!ok);
    assert!(err.contains("ServiceUnavailable") || err.contains("unable to handle the request"), "{err}");
    drill.cluster.clear(&fault(server::drill::fault_injection::FaultKind::ApiDown, None)).unwrap();
    assert_eq!(drill.kubectl_ok(&["get", "nodes", "-o", "name"]).await.lines().count(), 6);
}
