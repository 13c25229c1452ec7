//! Evidence, playbooks and suggested mitigations against the drill cluster
//! over HTTPS: for each shipped playbook, the fault, the evidence captured at
//! declaration, the match, the suggestion's parameters, and the suggested
//! action run and undone; capturing by hand, downloads whose SHA-256 matches
//! the timeline, and editing playbooks.

use app::domain::role::Role;
use serde_json::{Value, json};
use server::drill::fault_injection::{FaultKind, FaultRequest};
use server::drill::resources::{ENDPOINTS, PODS};
use server::drill::store::Filter;
use tests::{Backend, TestApp, TestDrill, eventually, spawn_app_on};

struct Drilled {
    drill: TestDrill,
    app: TestApp,
    admin: reqwest::Client,
    /// Declares and commands.
    ic: reqwest::Client,
}

async fn drilled(backend: Backend) -> Drilled {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(backend, &drill).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let ic = app.signed_in("ic@example.com", Role::Responder).await;
    app.evaluated(&admin).await;
    Drilled { drill, app, admin, ic }
}

impl Drilled {
    async fn json(&self, client: &reqwest::Client, path: &str) -> Value {
        let response = self.app.get(client, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    async fn post(&self, client: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
        let response = client.post(self.app.url(path)).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Adds a service component; its key once the board knows it.
    async fn component(&self, name: &str, namespace: &str, selector: &str) -> String {
        self.app.add_component(&self.admin, name, namespace, selector).await;
        self.key_of(name).await
    }

    async fn key_of(&self, name: &str) -> String {
        eventually(&format!("component {name}"), 30, || async {
            let all = self.json(&self.admin, "/api/v1/components").await;
            let found = all["components"].as_array()?.iter().find(|c| c["name"] == name)?.clone();
            found["key"].as_str().map(str::to_owned)
        })
        .await
    }

    async fn status_of(&self, key: &str) -> String {
        let all = self.json(&self.admin, "/api/v1/components").await;
        all["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .map_or_else(|| "unknown".to_owned(), |c| c["status"].as_str().unwrap_or_default().to_owned())
    }

    async fn wait_for_trouble(&self, key: &str) {
        eventually(&format!("{key} to leave operational"), 60, || async {
            (self.status_of(key).await != "operational").then_some(())
        })
        .await;
    }

    async fn declare(&self, key: &str) -> i64 {
        self.app
            .declare(
                &self.ic,
                json!({"title": "Trouble", "severity": "SEV2", "category": "application_failure", "components": [key]}),
            )
            .await
    }

    /// The captures made at declaration, once there are `count` of them.
    async fn evidence(&self, incident: i64, count: usize) -> Vec<Value> {
        eventually("the evidence captured at declaration", 30, || async {
            let list = self.json(&self.ic, &format!("/api/v1/incidents/{incident}/evidence")).await;
            let list = list.as_array().cloned().unwrap_or_default();
            (list.len() >= count).then_some(list)
        })
        .await
    }

    async fn guidance(&self, incident: i64) -> Vec<Value> {
        self.json(&self.ic, &format!("/api/v1/incidents/{incident}/guidance"))
            .await
            .as_array()
            .unwrap()
            .clone()
    }

    async fn document(&self, href: &str) -> Value {
        self.json(&self.ic, href).await
    }

    /// Plans a suggestion as its button does (plan, then preview), and confirms it.
    async fn run(&self, incident: i64, form: &Value) -> Value {
        let mut body = form.clone();
        let replicas = form["replicas"].as_str().unwrap_or_default();
        body["replicas"] =
            if replicas.is_empty() { Value::Null } else { json!(replicas.parse::<u32>().unwrap()) };
        let base = format!("/api/v1/incidents/{incident}/actions");
        let (status, planned) = self.post(&self.ic, &base, body).await;
        assert_eq!(status, 201, "{planned}");
        let (status, previewed) =
            self.post(&self.ic, &format!("{base}/{}/preview", planned["id"]), json!({})).await;
        assert_eq!(status, 200, "{previewed}");
        let key = format!("confirm-{}", planned["id"]);
        let (status, done) = self
            .post(&self.ic, &format!("{base}/{}/confirm", planned["id"]), json!({"idempotency_key": key}))
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["status"], "succeeded", "{done}");
        done
    }

    async fn undo(&self, incident: i64, action: &Value) -> Value {
        let path = format!("/api/v1/incidents/{incident}/actions/{}/undo", action["id"]);
        let (status, undone) =
            self.post(&self.ic, &path, json!({"idempotency_key": format!("undo-{}", action["id"])})).await;
        assert_eq!(status, 200, "{undone}");
        assert_eq!(undone["status"], "undone", "{undone}");
        undone
    }

    fn inject(&self, kind: FaultKind, target: &str) {
        self.drill.cluster.inject(&FaultRequest { kind, target: target.into(), seconds: None }).unwrap();
    }

    fn deployment_image(&self, namespace: &str, name: &str) -> String {
        let deployment =
            self.drill.cluster.store.get(server::drill::resources::DEPLOYMENTS, namespace, name).unwrap();
        deployment
            .pointer("/spec/template/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    }

    async fn timeline_kinds(&self, incident: i64) -> Vec<String> {
        let timeline = self.json(&self.ic, &format!("/api/v1/incidents/{incident}/timeline")).await;
        timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    }
}

fn titles(guidance: &Value) -> Vec<String> {
    guidance["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_is_declared_in_one_click_captured_matched_and_rolled_back() {
    let d = drilled(Backend::Sqlite).await;
    let key = d.component("Checkout", "shop", "app=checkout").await;
    let good = d.deployment_image("shop", "checkout");
    d.inject(FaultKind::Crashloop, "shop/checkout");
    let bad = d.deployment_image("shop", "checkout");
    d.wait_for_trouble(&key).await;

    // One click from the tile: the declaration is prefilled from the component.
    let declared =
        d.ic.post(d.app.url("/incidents/declare-now"))
            .form(&[("component", key.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(declared.status(), 303);
    let room = tests::location(&declared).to_owned();
    let incident: i64 = room.trim_start_matches("/incidents/").parse().unwrap();
    let view = d.json(&d.ic, &format!("/api/v1/incidents/{incident}")).await;
    assert!(view["title"].as_str().unwrap().starts_with("Checkout: "), "{view}");
    assert_eq!(view["components"][0]["key"], key.as_str());

    let evidence = d.evidence(incident, 1).await;
    assert_eq!(evidence[0]["subject"], "deployment/shop/checkout");
    assert!(d.timeline_kinds(incident).await.contains(&"evidence_captured".to_owned()));
    let document = d.document(evidence[0]["href"].as_str().unwrap()).await;
    let revisions = document["workload"]["revisions"].as_array().unwrap();
    assert_eq!(document["workload"]["current_revision"], 2);
    assert_eq!(revisions[0]["containers"][0]["image"], bad.as_str());
    assert_eq!(revisions[1]["containers"][0]["image"], good.as_str());
    assert!(revisions[0]["change_cause"].as_str().unwrap().contains("set image"), "{document}");
    let crashed = document["logs"].as_array().unwrap();
    assert!(!crashed.is_empty(), "the failing containers' logs: {document}");
    assert_eq!(crashed[0]["previous"], true, "a crash loop's last crash is the previous run");
    assert!(
        crashed[0]["lines"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("DATABASE_URL"))
    );
    assert!(!document["events"].as_array().unwrap().is_empty());

    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "crash-loop", "{guidance:?}");
    let top = &guidance[0]["suggestions"][0];
    assert_eq!(top["title"], format!("Roll back shop/checkout from revision 2 to 1 (image {bad} → {good})"));
    assert_eq!(top["form"]["action"], "rollback");
    assert_eq!(top["form"]["workload"], "deployment/shop/checkout");

    let done = d.run(incident, &top["form"]).await;
    assert!(done["preview"]["pods"].as_u64().unwrap() >= 3, "a rollback replaces every pod: {done}");
    assert_eq!(d.deployment_image("shop", "checkout"), good);
    eventually("Checkout back to operational", 60, || async {
        (d.status_of(&key).await == "operational").then_some(())
    })
    .await;
    d.undo(incident, &done).await;
    assert_eq!(d.deployment_image("shop", "checkout"), bad, "the undo rolls forward again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_cannot_be_pulled_is_matched_and_rolled_back() {
    let d = drilled(Backend::Postgres).await;
    let key = d.component("Cart", "shop", "app=cart").await;
    let good = d.deployment_image("shop", "cart");
    d.inject(FaultKind::ImagePull, "shop/cart");
    let bad = d.deployment_image("shop", "cart");
    d.drill
        .wait_until("a pod waiting on its image", || {
            pods(&d.drill, "shop", "cart").iter().any(|p| {
                let reason =
                    p.pointer("/status/containerStatuses/0/state/waiting/reason").and_then(Value::as_str);
                matches!(reason, Some("ErrImagePull" | "ImagePullBackOff"))
            })
        })
        .await;
    let incident = d.declare(&key).await;
    d.evidence(incident, 1).await;
    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "image-pull", "{guidance:?}");
    assert_eq!(
        titles(&guidance[0]),
        [format!("Roll back shop/cart from revision 2 to 1 (image {bad} → {good})")]
    );
    let done = d.run(incident, &guidance[0]["suggestions"][0]["form"]).await;
    assert_eq!(d.deployment_image("shop", "cart"), good);
    d.undo(incident, &done).await;
    assert_eq!(d.deployment_image("shop", "cart"), bad);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_memory_names_the_limit_and_scaling_up_is_run_and_undone() {
    let d = drilled(Backend::Sqlite).await;
    let key = d.component("Payments", "payments", "app=payments-api").await;
    d.inject(FaultKind::Oom, "payments/payments-api");
    d.drill
        .wait_until("a container killed for memory", || {
            pods(&d.drill, "payments", "payments-api").iter().any(|p| {
                p.pointer("/status/containerStatuses/0/lastState/terminated/reason").and_then(Value::as_str)
                    == Some("OOMKilled")
            })
        })
        .await;
    let incident = d.declare(&key).await;
    d.evidence(incident, 1).await;
    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "oom-killed", "{guidance:?}");
    assert!(
        guidance[0]["matched_by"][0]
            .as_str()
            .unwrap()
            .contains("exceeding its memory limit (512Mi; exit code 137)"),
        "{guidance:?}"
    );
    assert_eq!(
        titles(&guidance[0]),
        [
            "Scale deployment payments/payments-api from 3 to 4",
            "Restart deployment payments/payments-api (replaces its 3 pod(s))"
        ]
    );
    let done = d.run(incident, &guidance[0]["suggestions"][0]["form"]).await;
    assert_eq!(done["preview"]["pods"], 1, "{done}");
    let replicas = |d: &Drilled| {
        d.drill.cluster.store.get(server::drill::resources::DEPLOYMENTS, "payments", "payments-api").unwrap()
            ["spec"]["replicas"]
            .as_i64()
    };
    assert_eq!(replicas(&d), Some(4));
    d.undo(incident, &done).await;
    assert_eq!(replicas(&d), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_that_cannot_be_scheduled_show_the_schedulers_reason_and_the_release_is_rolled_back() {
    let d = drilled(Backend::Sqlite).await;
    let key = d.component("Cart", "shop", "app=cart").await;
    d.inject(FaultKind::InsufficientResources, "shop/cart");
    d.drill
        .wait_until("a pending pod", || {
            pods(&d.drill, "shop", "cart")
                .iter()
                .any(|p| p.pointer("/status/conditions/0/reason") == Some(&json!("Unschedulable")))
        })
        .await;
    let incident = d.declare(&key).await;
    d.evidence(incident, 1).await;
    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "failed-scheduling", "{guidance:?}");
    let why = guidance[0]["matched_by"].to_string();
    assert!(why.contains("Insufficient cpu"), "{why}");
    assert_eq!(titles(&guidance[0]), ["Roll back shop/cart from revision 2 to 1 (CPU request 64 → 100m)"]);
    let done = d.run(incident, &guidance[0]["suggestions"][0]["form"]).await;
    d.drill
        .wait_until("no pod pending", || {
            pods(&d.drill, "shop", "cart").iter().all(|p| p["status"]["phase"] != "Pending")
        })
        .await;
    d.undo(incident, &done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_not_ready_suggests_cordon_then_drain_and_the_cordon_is_run_and_undone() {
    let d = drilled(Backend::Sqlite).await;
    d.inject(FaultKind::NodeNotready, "worker-2");
    let key = "node/worker-2";
    d.wait_for_trouble(key).await;
    let incident = d.declare(key).await;
    let evidence = d.evidence(incident, 1).await;
    let document = d.document(evidence[0]["href"].as_str().unwrap()).await;
    assert_eq!(document["node"]["name"], "worker-2");
    assert!(!document["node"]["pods"].as_array().unwrap().is_empty(), "the pods on it: {document}");
    assert!(document["node"]["allocatable"]["cpu_millis"].as_u64().unwrap() > 0);
    assert!(document["node"]["taints"].to_string().contains("node.kubernetes.io/unreachable"), "{document}");
    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "node-not-ready", "{guidance:?}");
    let titles = titles(&guidance[0]);
    assert_eq!(titles[0], "Cordon worker-2 (no new pods land on it)");
    assert!(titles[1].starts_with("Drain worker-2 (moves its "), "{titles:?}");
    let done = d.run(incident, &guidance[0]["suggestions"][0]["form"]).await;
    assert_eq!(done["undo"], "uncordon node worker-2");
    d.undo(incident, &done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_pressure_is_matched_and_its_cordon_run_and_undone() {
    let d = drilled(Backend::Sqlite).await;
    d.inject(FaultKind::NodePressure, "worker-3:disk");
    let key = "node/worker-3";
    d.wait_for_trouble(key).await;
    let incident = d.declare(key).await;
    d.evidence(incident, 1).await;
    let guidance = d.guidance(incident).await;
    let pressure =
        guidance.iter().find(|g| g["playbook"]["id"] == "node-pressure").expect("node-pressure matches");
    assert!(pressure["matched_by"].to_string().contains("DiskPressure is True"), "{pressure}");
    assert_eq!(titles(pressure)[0], "Cordon worker-3 (no new pods land on it)");
    let done = d.run(incident, &pressure["suggestions"][0]["form"]).await;
    d.undo(incident, &done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_control_plane_check_is_matched_and_its_steps_are_ticked_on_the_timeline() {
    let d = drilled(Backend::Sqlite).await;
    d.inject(FaultKind::ControlPlane, "etcd");
    d.wait_for_trouble("platform/etcd").await;
    let incident = d.declare("platform/etcd").await;
    let evidence = d.evidence(incident, 1).await;
    assert_eq!(evidence[0]["subject"], "control-plane");
    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "control-plane", "{guidance:?}");
    assert!(guidance[0]["matched_by"].to_string().contains("check etcd"), "{guidance:?}");
    assert!(titles(&guidance[0]).is_empty(), "no containment action fixes etcd");

    let tick = json!({"playbook": "control-plane", "step": 1, "done": true});
    let ticked =
        d.ic.post(d.app.url(&format!("/api/v1/incidents/{incident}/playbook-steps")))
            .json(&tick)
            .send()
            .await
            .unwrap();
    assert_eq!(ticked.status(), 204);
    let timeline = d.json(&d.ic, &format!("/api/v1/incidents/{incident}/timeline")).await;
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "playbook_step_ticked", "{last}");
    assert!(last["text"].as_str().unwrap().starts_with("Playbook control-plane, step 2: done — "), "{last}");
    let (status, error) = d
        .post(
            &d.ic,
            &format!("/api/v1/incidents/{incident}/playbook-steps"),
            json!({"playbook": "control-plane", "step": 99, "done": true}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "step");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_storm_is_matched_from_the_events_captured() {
    let d = drilled(Backend::Sqlite).await;
    let key = d.component("Storefront", "shop", "app=storefront").await;
    d.drill
        .cluster
        .inject(&FaultRequest {
            kind: FaultKind::EventStorm,
            target: "shop/storefront".into(),
            seconds: Some(150),
        })
        .unwrap();
    let incident = d.declare(&key).await;
    d.evidence(incident, 1).await;
    let guidance = d.guidance(incident).await;
    let storm = guidance.iter().find(|g| g["playbook"]["id"] == "event-storm").expect("event-storm matches");
    assert!(storm["matched_by"].to_string().contains("most of them FailedMount"), "{storm}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_no_endpoints_sets_its_selector_beside_the_pod_labels() {
    let d = drilled(Backend::Sqlite).await;
    let key = d.component("Storefront", "shop", "app=storefront").await;
    d.inject(FaultKind::NoEndpoints, "shop/storefront");
    d.drill
        .wait_until("the endpoints to empty", || {
            d.drill.cluster.store.get(ENDPOINTS, "shop", "storefront").is_ok_and(|e| {
                e.pointer("/subsets/0/addresses").and_then(Value::as_array).is_none_or(Vec::is_empty)
            })
        })
        .await;
    let incident = d.declare(&key).await;
    let evidence = d.evidence(incident, 1).await;
    let document = d.document(evidence[0]["href"].as_str().unwrap()).await;
    assert_eq!(document["services"][0]["selector"]["app"], "storefront-v2", "{document}");
    assert_eq!(document["services"][0]["pod_labels"]["app"], "storefront");
    let guidance = d.guidance(incident).await;
    assert_eq!(guidance[0]["playbook"]["id"], "no-endpoints", "{guidance:?}");
    assert!(
        guidance[0]["matched_by"].to_string().contains("selector app=storefront-v2 against pod labels"),
        "{guidance:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_captured_by_hand_downloads_with_the_digest_on_the_timeline_and_bad_subjects_are_refused() {
    let d = drilled(Backend::Sqlite).await;
    let incident =
        d.app.declare(&d.ic, json!({"title": "t", "severity": "SEV3", "category": "networking"})).await;
    let path = format!("/api/v1/incidents/{incident}/evidence");
    let (status, captured) = d.post(&d.ic, &path, json!({"subject": "node/worker-1"})).await;
    assert_eq!(status, 201, "{captured}");

    let download = d.app.get(&d.ic, captured["href"].as_str().unwrap()).await;
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let header = download.headers()["x-evidence-sha256"].to_str().unwrap().to_owned();
    let bytes = download.bytes().await.unwrap();
    let digest = server::evidence::digest(&bytes);
    assert_eq!(digest, header);
    assert_eq!(digest, captured["sha256"].as_str().unwrap());
    assert_eq!(bytes.len() as u64, captured["bytes"].as_u64().unwrap());
    let timeline = d.json(&d.ic, &format!("/api/v1/incidents/{incident}/timeline")).await;
    let entry =
        timeline.as_array().unwrap().iter().find(|e| e["kind"] == "evidence_captured").unwrap().clone();
    assert_eq!(entry["evidence"]["sha256"], digest.as_str());
    assert_eq!(entry["evidence"]["id"], captured["id"]);
    assert_eq!(entry["actor"], "ic@example.com");

    let report = d.app.get(&d.ic, &format!("/incidents/{incident}/evidence/{}", captured["id"])).await;
    assert_eq!(report.status(), 200);
    let text = report.text().await.unwrap();
    assert!(text.contains("node worker-1: requested cpu"), "{text}");

    for (subject, status, field) in
        [("cronjob/shop/x", 422, true), ("node/no-such-node", 404, false), ("", 422, true)]
    {
        let (got, error) = d.post(&d.ic, &path, json!({"subject": subject})).await;
        assert_eq!(got, status, "{subject}: {error}");
        assert_eq!(error["error"]["field"] == "subject", field, "{error}");
    }
    let viewer = d.app.signed_in("viewer@example.com", Role::Viewer).await;
    assert_eq!(d.app.get(&viewer, captured["href"].as_str().unwrap()).await.status(), 403);
    let (status, _) = d.post(&viewer, &path, json!({"subject": "node/worker-1"})).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_edit_and_add_playbooks_and_a_bad_one_is_refused_at_its_line() {
    let d = drilled(Backend::Sqlite).await;
    let bad = "id: disk-full\ntitle: Disk full\nwhen:\n  signals: [disk_full]\nsteps: [Look.]\n";
    let (status, error) = d.post(&d.admin, "/api/v1/playbooks", json!({"source": bad})).await;
    assert_eq!(status, 422, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().starts_with("line 4, column"), "{error}");

    // A refused form keeps what was typed.
    let page = d.admin.post(d.app.url("/admin/playbooks")).form(&[("source", bad)]).send().await.unwrap();
    assert_eq!(page.status(), 422);
    let html = page.text().await.unwrap();
    assert!(html.contains("line 4, column") && html.contains("disk_full"), "the message and the text typed");

    let good = "id: disk-full\ntitle: Disk full\nwhen:\n  alertnames: [NodeFilesystemAlmostOutOfSpace]\nsteps: [Find what writes.]\nsuggest: [cordon]\n";
    let (status, saved) = d.post(&d.admin, "/api/v1/playbooks", json!({"source": good})).await;
    assert_eq!(status, 200, "{saved}");
    let all = d.json(&d.admin, "/api/v1/playbooks").await;
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 10, "the nine shipped and the added one: {ids:?}");
    assert!(ids.contains(&"disk-full"));
    let (status, _) = d.post(&d.ic, "/api/v1/playbooks", json!({"source": good})).await;
    assert_eq!(status, 403, "only admins edit playbooks");

    let reset = d.admin.post(d.app.url("/admin/playbooks/disk-full/reset")).send().await.unwrap();
    assert_eq!(reset.status(), 303);
    assert_eq!(d.json(&d.admin, "/api/v1/playbooks").await.as_array().unwrap().len(), 9);
}

fn pods(drill: &TestDrill, namespace: &str, app: &str) -> Vec<Value> {
    let filter = Filter {
        namespace: Some(namespace.into()),
        labels: app::domain::label_selector::LabelSelector::parse(&format!("app={app}")).unwrap(),
        ..Filter::default()
    };
    drill.cluster.store.list(PODS, &filter, None, None).unwrap().items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_alert_declares_in_one_click_with_the_alert_attached_and_evidence_captured() {
    let d = drilled(Backend::Sqlite).await;
    d.component("Checkout", "shop", "app=checkout").await;
    let monitor = tests::bearer(&d.app.api_token(&d.admin, "monitor", "alerts").await);
    let alert = json!({"title": "Checkout p99 latency high", "severity": "warning",
        "labels": {"namespace": "shop", "deployment": "checkout"}});
    let posted = monitor.post(d.app.url("/api/v1/alerts")).json(&alert).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    let inbox = d.json(&d.ic, "/api/v1/alerts").await;
    let id = inbox.as_array().unwrap()[0]["id"].as_i64().unwrap();

    let declared =
        d.ic.post(d.app.url("/incidents/declare-now"))
            .form(&[("alerts", id.to_string())])
            .send()
            .await
            .unwrap();
    assert_eq!(declared.status(), 303);
    let incident: i64 = tests::location(&declared).trim_start_matches("/incidents/").parse().unwrap();
    let view = d.json(&d.ic, &format!("/api/v1/incidents/{incident}")).await;
    assert_eq!(view["title"], "Checkout: Checkout p99 latency high");
    assert_eq!(d.json(&d.ic, &format!("/api/v1/alerts/{id}")).await["incident_id"], incident);
    let evidence = d.evidence(incident, 1).await;
    assert_eq!(evidence[0]["subject"], "deployment/shop/checkout");

    // Nothing to declare from: refused with the field, nothing declared.
    let refused =
        d.ic.post(d.app.url("/incidents/declare-now")).form(&[("component", "")]).send().await.unwrap();
    assert_eq!(refused.status(), 422);
}
