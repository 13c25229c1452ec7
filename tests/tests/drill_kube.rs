//! kube-rs against the drill cluster over HTTPS: list, paging, watch with
//! resume and 410 relist, create / patch / delete, dry run, and the drill's
//! faults as a responder would see them through the API.

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::{
    Api, DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use server::drill::fault_injection::{FaultKind, FaultRequest};
use tests::TestDrill;

async fn client(drill: &TestDrill) -> kube::Client {
    kube::Client::try_from(config(drill).await).unwrap()
}

async fn config(drill: &TestDrill) -> kube::Config {
    let kubeconfig = kube::config::Kubeconfig::read_from(&drill.kubeconfig).unwrap();
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap()
}

/// A client that reports 429 and 503 at once instead of retrying them.
async fn client_without_retries(drill: &TestDrill) -> kube::Client {
    let mut config = config(drill).await;
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_by_labels_and_fields_and_page() {
    let drill = TestDrill::start().await;
    let client = client(&drill).await;
    let pods: Api<Pod> = Api::all(client.clone());
    let checkout = pods.list(&ListParams::default().labels("app=checkout")).await.unwrap();
    assert_eq!(checkout.items.len(), 3);
    let on_cp = pods.list(&ListParams::default().fields("spec.nodeName=cp-1")).await.unwrap();
    assert!(on_cp.items.iter().any(|p| p.metadata.name.as_deref() == Some("etcd-cp-1")));
    let sets = pods.list(&ListParams::default().labels("app in (cart, indexer)")).await.unwrap();
    assert_eq!(sets.items.len(), 3);

    let all = pods.list(&ListParams::default()).await.unwrap().items.len();
    let mut seen = 0;
    let mut params = ListParams::default().limit(7);
    loop {
        let page = pods.list(&params).await.unwrap();
        assert!(page.items.len() <= 7);
        seen += page.items.len();
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(seen, all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_patch_delete_and_dry_run() {
    let drill = TestDrill::start().await;
    let client = client(&drill).await;
    let services: Api<Service> = Api::namespaced(client.clone(), "shop");
    let service: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "reviews"},
        "spec": {"selector": {"app": "reviews"}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap();

    let dry = services.create(&PostParams { dry_run: true, ..Default::default() }, &service).await.unwrap();
    assert_eq!(dry.metadata.name.as_deref(), Some("reviews"));
    assert!(services.get_opt("reviews").await.unwrap().is_none(), "a dry run stores nothing");

    let created = services.create(&PostParams::default(), &service).await.unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());
    let again = services.create(&PostParams::default(), &service).await.unwrap_err();
    assert!(
        matches!(again, kube::Error::Api(ref e) if e.code == 409 && e.reason == "AlreadyExists"),
        "{again:?}"
    );

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "shop");
    let before = drill.cluster.store.revision();
    deployments
        .patch(
            "cart",
            &PatchParams { dry_run: true, ..Default::default() },
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(
        deployments.get("cart").await.unwrap().spec.unwrap().replicas,
        Some(2),
        "a dry-run patch changes nothing"
    );
    assert!(drill.cluster.store.revision() >= before);
    let patched = deployments
        .patch(
            "cart",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"tier": "web"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.unwrap().get("tier").map(String::as_str), Some("web"));

    let mut stale = created.clone();
    stale.metadata.labels = Some([("x".to_owned(), "y".to_owned())].into());
    services.replace("reviews", &PostParams::default(), &stale).await.unwrap();
    let conflict = services.replace("reviews", &PostParams::default(), &stale).await.unwrap_err();
    assert!(
        matches!(conflict, kube::Error::Api(ref e) if e.code == 409),
        "a stale resourceVersion conflicts: {conflict:?}"
    );

    let huge = serde_json::json!({"metadata": {"name": "huge", "annotations": {"blob": "x".repeat(4 * 1024 * 1024)}}});
    let too_large: Service = serde_json::from_value(huge).unwrap();
    let refused = services.create(&PostParams::default(), &too_large).await.unwrap_err();
    assert!(
        matches!(refused, kube::Error::Api(ref e) if e.code == 413 && e.reason == "RequestEntityTooLarge"),
        "{refused:?}"
    );

    services.delete("reviews", &DeleteParams::default()).await.unwrap();
    let gone = services.get("reviews").await.unwrap_err();
    assert!(matches!(gone, kube::Error::Api(ref e) if e.code == 404), "{gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_resumes_from_a_resource_version() {
    let drill = TestDrill::start().await;
    let client = client(&drill).await;
    let nodes: Api<Node> = Api::all(client);
    let version = nodes.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    // Change something, then watch from before it: the change is delivered.
    drill
        .cluster
        .inject(&FaultRequest {
            kind: FaultKind::NodePressure,
            target: "worker-3:memory".into(),
            seconds: None,
        })
        .unwrap();
    let mut stream = nodes.watch(&WatchParams::default().timeout(5), &version).await.unwrap().boxed();
    let mut saw_pressure = false;
    while let Some(event) = stream.try_next().await.unwrap() {
        if let WatchEvent::Modified(node) = event {
            let conditions = node.status.unwrap().conditions.unwrap_or_default();
            if conditions.iter().any(|c| c.type_ == "MemoryPressure" && c.status == "True") {
                saw_pressure = true;
                break;
            }
        }
    }
    assert!(saw_pressure, "the watch from an older version delivered the change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_old_version_is_answered_410_and_the_watcher_relists() {
    let drill = TestDrill::start_with_history(50).await;
    let client = client(&drill).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let version = pods.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    // More changes than the history keeps.
    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::EventStorm, target: "shop/cart".into(), seconds: Some(120) })
        .unwrap();
    let mut stream = pods.watch(&WatchParams::default().timeout(5), &version).await.unwrap().boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => assert_eq!(e.code, 410, "{e:?}"),
        other => panic!("expected a 410 error event, got {other:?}"),
    }

    // kube-runtime's watcher lists again and carries on.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "shop");
    let events = watcher(pods.clone(), watcher::Config::default().labels("app=cart"));
    let mut events = Box::pin(events);
    deployments
        .patch("cart", &PatchParams::default(), &Patch::Merge(serde_json::json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut names = std::collections::HashSet::new();
    while names.len() < 3 {
        let event = tokio::time::timeout_at(deadline, events.try_next())
            .await
            .expect("watcher events in time")
            .unwrap()
            .unwrap();
        if let watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) = event {
            names.insert(pod.metadata.name.unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rollout_crash_loops_and_takes_serving_pods_down_with_it() {
    let drill = TestDrill::start().await;
    let client = client(&drill).await;
    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None })
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let list = pods.list(&ListParams::default().labels("app=checkout")).await.unwrap().items;
        let crashing = list.iter().find(|p| {
            p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.restart_count >= 1
                        && c.state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref())
                            == Some("CrashLoopBackOff")
                })
            })
        });
        let ready = list.iter().filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        });
        // maxUnavailable 1, and no readiness probe: a new pod is Ready for a
        // moment after each start, so the rollout goes on replacing old pods.
        if crashing.is_some() && ready.count() < 3 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no crash loop with fewer than 3 serving pods: {list:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let deployments: Api<Deployment> = Api::namespaced(client, "shop");
    let status = deployments.get("checkout").await.unwrap().status.unwrap();
    assert!(status.available_replicas.unwrap_or(0) < 3, "the deployment is short of pods: {status:?}");

    drill
        .cluster
        .clear(&FaultRequest { kind: FaultKind::Crashloop, target: "shop/checkout".into(), seconds: None })
        .unwrap();
    drill
        .wait_until("checkout to settle on the good image", || {
            let d = drill.get(server::drill::resources::DEPLOYMENTS, "shop", "checkout");
            d["status"]["updatedReplicas"] == 3
                && d["status"]["availableReplicas"] == 3
                && d["status"]["replicas"] == 3
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_api_is_down_nothing_is_served_and_clients_recover_after() {
    let drill = TestDrill::start().await;
    let client = client(&drill).await;
    let nodes: Api<Node> = Api::all(client);
    drill
        .cluster
        .inject(&FaultRequest { kind: FaultKind::ApiDown, target: String::new(), seconds: Some(60) })
        .unwrap();
    // kube retries 503 with back-off, so a request made now cannot succeed while the API is down.
    let during =
        tokio::time::timeout(std::time::Duration::from_secs(2), nodes.list(&ListParams::default())).await;
    assert!(!matches!(during, Ok(Ok(_))), "nothing is served while the API is down");
    let retrying = tokio::spawn({
        let nodes = nodes.clone();
        async move { nodes.list(&ListParams::default()).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drill
        .cluster
        .clear(&FaultRequest { kind: FaultKind::ApiDown, target: String::new(), seconds: None })
        .unwrap();
    let recovered =
        tokio::time::timeout(std::time::Duration::from_secs(20), retrying).await.unwrap().unwrap().unwrap();
    assert_eq!(recovered.items.len(), 6, "the retried request succeeds once the API is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eviction_past_a_budget_is_refused_with_429_and_then_allowed() {
    let drill = TestDrill::start().await;
    let client = client_without_retries(&drill).await;
    let budgets: Api<k8s_openapi::api::policy::v1::PodDisruptionBudget> =
        Api::namespaced(client.clone(), "payments");
    budgets
        .patch(
            "payments-api",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"minAvailable": 3}})),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "payments");
    let victim = pods.list(&ListParams::default().labels("app=payments-api")).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let refused = pods.evict(&victim, &EvictParams::default()).await.unwrap_err();
    match refused {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 429);
            assert!(e.message.contains("disruption budget"), "{}", e.message);
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert!(pods.get_opt(&victim).await.unwrap().is_some(), "the pod stays");

    budgets
        .patch(
            "payments-api",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"minAvailable": 2}})),
        )
        .await
        .unwrap();
    drill
        .wait_until("the budget to allow one disruption", || {
            drill.get(server::drill::resources::PDBS, "payments", "payments-api")["status"]["disruptionsAllowed"] == 1
        })
        .await;
    pods.evict(&victim, &EvictParams::default()).await.unwrap();
    let terminating = pods.get_opt(&victim).await.unwrap();
    assert!(
        terminating.is_none_or(|p| p.metadata.deletion_timestamp.is_some()),
        "an evicted pod is terminating or gone"
    );
    drill
        .wait_until("the evicted pod to be gone and replaced", || {
            let list = drill
                .cluster
                .store
                .list(
                    server::drill::resources::PODS,
                    &server::drill::store::Filter {
                        namespace: Some("payments".into()),
                        ..Default::default()
                    },
                    None,
                    None,
                )
                .unwrap()
                .items;
            let api: Vec<_> = list
                .iter()
                .filter(|p| server::drill::store::name_of(p).starts_with("payments-api-"))
                .collect();
            api.len() == 3
                && api.iter().all(|p| {
                    server::drill::store::name_of(p) != victim && server::drill::disruption::is_healthy(p)
                })
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_relabelled_out_of_a_selector_is_deleted_for_its_watchers() {
    let drill = TestDrill::start().await;
    let client = client(&drill).await;
    let pods: Api<Pod> = Api::namespaced(client, "shop");
    let mut events = Box::pin(watcher(pods.clone(), watcher::Config::default().labels("app=cart")));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !matches!(
        tokio::time::timeout_at(deadline, events.try_next())
            .await
            .expect("watcher events in time")
            .unwrap()
            .unwrap(),
        watcher::Event::InitDone
    ) {}

    let victim = pods.list(&ListParams::default().labels("app=cart")).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    pods.patch(
        &victim,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"metadata": {"labels": {"app": "cart-isolated"}}})),
    )
    .await
    .unwrap();
    let mut deleted = false;
    let mut replacement_added = false;
    while !(deleted && replacement_added) {
        match tokio::time::timeout_at(deadline, events.try_next())
            .await
            .expect("watcher events in time")
            .unwrap()
            .unwrap()
        {
            watcher::Event::Delete(pod) if pod.metadata.name.as_deref() == Some(victim.as_str()) => {
                deleted = true
            }
            watcher::Event::Apply(pod) if pod.metadata.name.as_deref() != Some(victim.as_str()) => {
                replacement_added = true
            }
            _ => {}
        }
    }
    let kept = pods.get(&victim).await.unwrap();
    assert!(
        kept.metadata.owner_references.unwrap_or_default().is_empty(),
        "the relabelled pod is released, and kept"
    );
}
