//! Containment actions against the drill cluster over HTTPS: plan → preview
//! (a dry run that changes nothing) → confirm → the cluster changed (read back
//! with the drill's store and real kubectl) → undo; idempotency keys; a drain
//! held by a disruption budget and then completing; failures recorded.

use app::domain::role::Role;
use serde_json::{Value, json};
use server::drill::resources::{DEPLOYMENTS, NETWORK_POLICIES, NODES, PODS};
use tests::{Backend, TestApp, TestDrill, spawn_app_on};

struct Room {
    app: TestApp,
    drill: TestDrill,
    ic: reqwest::Client,
    /// The operations lead: the second person for the actions that need one.
    ops: reqwest::Client,
    incident: i64,
}

async fn room(backend: Backend) -> Room {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(backend, &drill).await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    let response = ic
        .post(app.url("/api/v1/incidents"))
        .json(&json!({"title": "Checkout errors", "severity": "SEV1", "category": "application_failure"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let incident = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ops = app.signed_in("ops@example.com", Role::Responder).await;
    let assigned = ic
        .post(app.url(&format!("/api/v1/incidents/{incident}/roles")))
        .json(&json!({"email": "ops@example.com", "role": "operations_lead"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assigned.status(), 200);
    Room { app, drill, ic, ops, incident }
}

impl Room {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_as(&self.ic, path, body).await
    }

    async fn post_as(&self, client: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
        let response = client
            .post(self.app.url(&format!("/api/v1/incidents/{}{path}", self.incident)))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn plan_and_preview(&self, body: Value) -> Value {
        let (status, action) = self.post("/actions", body.clone()).await;
        assert_eq!(status, 201, "planned {body}: {action}");
        let (status, action) = self.post(&format!("/actions/{}/preview", action["id"]), json!({})).await;
        assert_eq!(status, 200, "previewed {body}: {action}");
        assert_eq!(action["status"], "previewed");
        action
    }

    /// Confirms as the commander, or as the operations lead when the action needs a second person.
    async fn confirm(&self, action: &Value, key: &str) -> Value {
        let confirmer = if action["needs_second_person"] == true { &self.ops } else { &self.ic };
        let (status, done) = self
            .post_as(
                confirmer,
                &format!("/actions/{}/confirm", action["id"]),
                json!({"idempotency_key": key}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        done
    }

    async fn run(&self, body: Value) -> Value {
        let action = self.plan_and_preview(body).await;
        let done = self.confirm(&action, &format!("key-{}", action["id"])).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        done
    }

    async fn undo(&self, action: &Value) -> Value {
        let (status, undone) = self
            .post(
                &format!("/actions/{}/undo", action["id"]),
                json!({"idempotency_key": format!("undo-{}", action["id"])}),
            )
            .await;
        assert_eq!(status, 200, "{undone}");
        assert_eq!(undone["status"], "undone", "{undone}");
        undone
    }

    async fn timeline_kinds(&self) -> Vec<String> {
        let timeline: Value = self
            .app
            .get(&self.ic, &format!("/api/v1/incidents/{}/timeline", self.incident))
            .await
            .json()
            .await
            .unwrap();
        timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    }

    /// The room as `client`'s person sees it.
    async fn page_as(&self, client: &reqwest::Client) -> String {
        self.app.get(client, &format!("/incidents/{}", self.incident)).await.text().await.unwrap()
    }

    fn unschedulable(&self, node: &str) -> bool {
        self.drill.get(NODES, "", node)["spec"]["unschedulable"] == true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_is_previewed_without_change_then_run_read_back_by_kubectl_and_undone() {
    let room = room(Backend::Sqlite).await;
    let action = room.plan_and_preview(json!({"action": "cordon", "node": "worker-2"})).await;
    assert!(!room.unschedulable("worker-2"), "the dry run changed nothing");
    assert!(action["preview"]["changes"][0].as_str().unwrap().contains("would be cordoned"));

    let done = room.confirm(&action, "cordon-1").await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(
        room.drill.kubectl_ok(&["get", "node", "worker-2", "-o", "jsonpath={.spec.unschedulable}"]).await,
        "true"
    );
    assert_eq!(done["undo"], "uncordon node worker-2");

    room.undo(&done).await;
    assert!(!room.unschedulable("worker-2"));
    let kinds = room.timeline_kinds().await;
    assert_eq!(&kinds[kinds.len() - 3..], ["action_planned", "action_executed", "action_undone"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_records_the_old_count_and_undo_scales_back() {
    let room = room(Backend::Sqlite).await;
    let done =
        room.run(json!({"action": "scale", "workload": "deployment/shop/checkout", "replicas": 5})).await;
    assert_eq!(room.drill.get(DEPLOYMENTS, "shop", "checkout")["spec"]["replicas"], 5);
    assert!(done["result"].as_str().unwrap().contains("from 3 to 5"));
    assert_eq!(
        room.drill
            .kubectl_ok(&["get", "deploy", "checkout", "-n", "shop", "-o", "jsonpath={.spec.replicas}"])
            .await,
        "5"
    );
    room.undo(&done).await;
    assert_eq!(room.drill.get(DEPLOYMENTS, "shop", "checkout")["spec"]["replicas"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_runs_an_action_once_however_often_it_is_sent() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let room = room(backend).await;
        let action = room
            .plan_and_preview(json!({"action": "scale", "workload": "deployment/shop/cart", "replicas": 4}))
            .await;
        let (a, b) = tokio::join!(room.confirm(&action, "same-key"), room.confirm(&action, "same-key"));
        assert_eq!((a["status"].as_str(), b["status"].as_str()), (Some("succeeded"), Some("succeeded")));
        let again = room.confirm(&action, "same-key").await;
        assert_eq!(again["confirmed_at"], a["confirmed_at"]);
        let executed = room.timeline_kinds().await.iter().filter(|k| *k == "action_executed").count();
        assert_eq!(executed, 1, "{backend:?}: executed once");
        let (status, refused) = room
            .post(&format!("/actions/{}/confirm", action["id"]), json!({"idempotency_key": "another-tab"}))
            .await;
        assert_eq!(status, 409, "a second tab's key finds it done: {refused}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_commander_the_operations_lead_or_an_admin_confirms() {
    let room = room(Backend::Sqlite).await;
    let sre = room.app.signed_in("sre@example.com", Role::Responder).await;
    let action = room.plan_and_preview(json!({"action": "cordon", "node": "worker-3"})).await;
    let response = sre
        .post(room.app.url(&format!("/api/v1/incidents/{}/actions/{}/confirm", room.incident, action["id"])))
        .json(&json!({"idempotency_key": "k"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(!room.unschedulable("worker-3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_held_by_a_disruption_budget_completes_once_the_budget_allows() {
    let room = room(Backend::Sqlite).await;
    let pods = room.drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
    let node = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["app"] == "checkout")
        .and_then(|p| p["spec"]["nodeName"].as_str())
        .unwrap()
        .to_owned();
    room.drill
        .kubectl_ok(&[
            "patch",
            "pdb",
            "checkout",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"minAvailable":3}}"#,
        ])
        .await;
    let action = room.plan_and_preview(json!({"action": "drain", "node": node})).await;
    assert!(action["preview"]["pods"].as_u64().unwrap() >= 1);
    assert!(!room.unschedulable(&node), "the dry run did not cordon");

    let started = room.confirm(&action, "drain-1").await;
    assert_eq!(started["status"], "executing", "held by the budget: {started}");
    assert!(
        started["progress"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("disruption budget checkout")),
        "{started}"
    );
    assert!(room.unschedulable(&node));

    room.drill
        .kubectl_ok(&[
            "patch",
            "pdb",
            "checkout",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"minAvailable":2}}"#,
        ])
        .await;
    let path = format!("/api/v1/incidents/{}/actions/{}", room.incident, action["id"]);
    let done = tests::eventually("the drain to finish", 60, || async {
        let action: Value = room.app.get(&room.ic, &path).await.json().await.ok()?;
        (action["status"] != "executing").then_some(action)
    })
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["result"].as_str().unwrap().contains("0 blocked"), "{done}");
    let left: Vec<Value> =
        room.drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
    assert!(
        left.iter().all(|p| p["spec"]["nodeName"] != node.as_str()
            || p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
            || p["metadata"]["deletionTimestamp"].is_string()),
        "only DaemonSet pods stay on {node}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolating_a_pod_fences_and_keeps_it_and_undo_releases_it() {
    let room = room(Backend::Sqlite).await;
    let pods = room.drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
    let pod = pods.iter().find(|p| p["metadata"]["labels"]["app"] == "cart").unwrap();
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    let done = room.run(json!({"action": "isolate_pod", "pod": format!("shop/{name}")})).await;
    let isolated = room.drill.get(PODS, "shop", &name);
    assert_eq!(isolated["metadata"]["labels"]["wheelhouse.io/isolated"], name.as_str());
    assert!(isolated["metadata"]["labels"]["app"].is_null(), "out of its ReplicaSet and Service");
    let policy = room.drill.get(NETWORK_POLICIES, "shop", &format!("wheelhouse-isolate-{name}"));
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    room.undo(&done).await;
    assert_eq!(room.drill.get(PODS, "shop", &name)["metadata"]["labels"]["app"], "cart");
    let (ok, _, _) = room
        .drill
        .kubectl(&["get", "networkpolicy", &format!("wheelhouse-isolate-{name}"), "-n", "shop"])
        .await;
    assert!(!ok, "the fence is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolating_a_namespace_applies_a_deny_all_policy_that_undo_removes() {
    let room = room(Backend::Sqlite).await;
    let done = room.run(json!({"action": "isolate_namespace", "namespace": "search"})).await;
    let out = room.drill.kubectl_ok(&["get", "networkpolicy", "-n", "search", "-o", "name"]).await;
    assert!(out.contains("wheelhouse-isolate-namespace"), "{out}");
    room.undo(&done).await;
    let out = room.drill.kubectl_ok(&["get", "networkpolicy", "-n", "search", "-o", "name"]).await;
    assert!(!out.contains("wheelhouse-isolate-namespace"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_restart_and_delete_pod_change_what_they_say() {
    let room = room(Backend::Sqlite).await;
    let paused = room.run(json!({"action": "pause", "workload": "deployment/search/suggest"})).await;
    assert_eq!(room.drill.get(DEPLOYMENTS, "search", "suggest")["spec"]["paused"], true);
    room.undo(&paused).await;
    assert_eq!(room.drill.get(DEPLOYMENTS, "search", "suggest")["spec"]["paused"], false);

    room.run(json!({"action": "restart", "workload": "deployment/shop/cart"})).await;
    let cart = room.drill.get(DEPLOYMENTS, "shop", "cart");
    assert!(
        cart["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string()
    );

    let pods = room.drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
    let victim =
        pods.iter().find(|p| p["metadata"]["labels"]["app"] == "storefront").unwrap()["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
    let deleted = room.run(json!({"action": "delete_pod", "pod": format!("shop/{victim}")})).await;
    assert_eq!(deleted["undo"], Value::Null, "a deleted pod cannot be undone");
    room.drill
        .wait_until("the pod to be gone", || room.drill.cluster.store.get(PODS, "shop", &victim).is_err())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_returns_to_the_previous_revision_and_undo_rolls_forward() {
    let room = room(Backend::Sqlite).await;
    room.drill
        .kubectl_ok(&[
            "set",
            "image",
            "deployment/suggest",
            "-n",
            "search",
            "suggest=registry.example.com/search/suggest:9.9.9",
        ])
        .await;
    let image = || {
        room.drill.get(DEPLOYMENTS, "search", "suggest")["spec"]["template"]["spec"]["containers"][0]["image"]
            .clone()
    };
    room.drill.wait_until("revision 2", || room.drill.get(DEPLOYMENTS, "search", "suggest")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2").await;
    let done = room.run(json!({"action": "rollback", "workload": "deployment/search/suggest"})).await;
    assert_ne!(image(), "registry.example.com/search/suggest:9.9.9", "back to the old image");
    room.drill
        .wait_until("the rollback to become revision 3", || {
            room.drill.get(DEPLOYMENTS, "search", "suggest")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        })
        .await;
    let history = room.drill.kubectl_ok(&["rollout", "history", "deployment/suggest", "-n", "search"]).await;
    let revisions: Vec<&str> = history.lines().skip(2).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(
        revisions,
        ["2", "3"],
        "revision 1 came back as 3, as kubectl rollout undo leaves it: {history}"
    );
    room.undo(&done).await;
    assert_eq!(image(), "registry.example.com/search/suggest:9.9.9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_recorded_in_plain_words() {
    let room = room(Backend::Sqlite).await;
    // The object is gone between preview and confirm: 404.
    let action = room
        .plan_and_preview(json!({"action": "scale", "workload": "deployment/shop/cart", "replicas": 1}))
        .await;
    room.drill.kubectl_ok(&["delete", "deployment", "cart", "-n", "shop"]).await;
    let failed = room.confirm(&action, "gone").await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["failure"].as_str().unwrap().contains("no longer exists"), "{failed}");
    assert!(!failed["failure"].as_str().unwrap().contains("not found"), "no API server text: {failed}");

    // The API is down: unreachable, nothing changed.
    let action = room.plan_and_preview(json!({"action": "cordon", "node": "worker-4"})).await;
    room.drill
        .cluster
        .inject(&server::drill::fault_injection::FaultRequest {
            kind: server::drill::fault_injection::FaultKind::ApiDown,
            target: String::new(),
            seconds: Some(30),
        })
        .unwrap();
    let failed = room.confirm(&action, "down").await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["failure"].as_str().unwrap().contains("could not be reached"), "{failed}");
    room.drill
        .cluster
        .clear(&server::drill::fault_injection::FaultRequest {
            kind: server::drill::fault_injection::FaultKind::ApiDown,
            target: String::new(),
            seconds: None,
        })
        .unwrap();

    // A conflicting write: two tabs isolate the same namespace; the second finds the policy there.
    let first = room.plan_and_preview(json!({"action": "isolate_namespace", "namespace": "payments"})).await;
    let second = room.plan_and_preview(json!({"action": "isolate_namespace", "namespace": "payments"})).await;
    assert_eq!(room.confirm(&first, "tab-1").await["status"], "succeeded");
    let failed = room.confirm(&second, "tab-2").await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["failure"].as_str().unwrap().contains("conflicts"), "{failed}");

    let kinds = room.timeline_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "action_failed").count(), 3);
    let timeline = room
        .app
        .get(&room.ic, &format!("/api/v1/incidents/{}/timeline", room.incident))
        .await
        .text()
        .await
        .unwrap();
    assert!(!timeline.contains("not found"), "no API server text on the timeline: {timeline}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_actions_need_a_second_person_unless_an_admin_breaks_the_glass() {
    let room = room(Backend::Sqlite).await;
    let drain = room.plan_and_preview(json!({"action": "drain", "node": "worker-4"})).await;
    assert_eq!(drain["needs_second_person"], true);
    let (status, refused) =
        room.post(&format!("/actions/{}/confirm", drain["id"]), json!({"idempotency_key": "alone"})).await;
    assert_eq!(status, 403, "the planner may not confirm alone: {refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("needs a second person"), "{refused}");
    assert!(!room.unschedulable("worker-4"), "nothing ran");

    // The room shows each person only the buttons they may use.
    let as_planner = room.page_as(&room.ic).await;
    assert!(as_planner.contains("Needs a second person: someone other than ic@example.com confirms."));
    assert!(!as_planner.contains("Confirm and run"), "the planner sees no confirm button");
    assert!(room.page_as(&room.ops).await.contains("Confirm and run"), "the operations lead does");

    let done = room.confirm(&drain, "second-person").await;
    assert_eq!(done["confirmed_by"], "ops@example.com");

    // Break-glass: an admin waives the rule for this incident, with a reason on the timeline.
    let admin = room.app.signed_in("admin@example.com", Role::Admin).await;
    let (status, _) = room.post("/break-glass", json!({"reason": "alone"})).await;
    assert_eq!(status, 403, "only an admin breaks the glass");
    let (status, change) = room
        .post_as(&admin, "/break-glass", json!({"reason": "Alone on call; cannot wait for a second person"}))
        .await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["incident"]["two_person_rule_waived"], true);
    assert!(room.timeline_kinds().await.contains(&"two_person_rule_waived".to_owned()));
    let victim = room
        .drill
        .cluster
        .store
        .list(
            PODS,
            &server::drill::store::Filter { namespace: Some("shop".into()), ..Default::default() },
            None,
            None,
        )
        .unwrap()
        .items[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete =
        room.plan_and_preview(json!({"action": "delete_pod", "pod": format!("shop/{victim}")})).await;
    let (status, done) =
        room.post(&format!("/actions/{}/confirm", delete["id"]), json!({"idempotency_key": "glass"})).await;
    assert_eq!(status, 200, "after break-glass the commander confirms alone: {done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_in_kube_system_need_an_admin() {
    let room = room(Backend::Sqlite).await;
    let restart = room
        .plan_and_preview(json!({"action": "restart", "workload": "deployment/kube-system/coredns"}))
        .await;
    let (status, refused) = room
        .post_as(&room.ops, &format!("/actions/{}/confirm", restart["id"]), json!({"idempotency_key": "ops"}))
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("protected"), "{refused}");
    let admin = room.app.signed_in("admin@example.com", Role::Admin).await;
    let (status, done) = room
        .post_as(&admin, &format!("/actions/{}/confirm", restart["id"]), json!({"idempotency_key": "admin"}))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "succeeded");
}
