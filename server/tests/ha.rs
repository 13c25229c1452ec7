//! Several replicas: three `wheelhouse` processes on one PostgreSQL database,
//! watching one drill cluster over HTTPS, with leader election on (Leases of
//! three seconds).
//! - A note posted on one replica reaches a live-event stream open on another.
//! - Only the leader stores status changes: one row per change, not three.
//! - SIGKILL of the leader: another replica takes the Lease, not before it
//!   expired and soon after; the singleton work resumes (a status change after
//!   the kill is stored once; webhook deliveries pending at the kill are
//!   delivered under their ids); an action the killed replica was running is
//!   marked failed only once that replica's own Lease has expired.
//! - Every Lease request is allowed by the Role in deploy/kubernetes/base/rbac.yaml.
//! - A rolling restart (one replica at a time, SIGTERM) under a request load
//!   spread over the replicas loses no request.
//!
//! (Here rather than in `tests/` so that cargo builds the binary it runs.)

mod common;

use common::{
    Drill, PgDatabase, Process, add_account, eventually, replica, signed_in, wait_for, webhook_receiver,
};
use serde_json::{Value, json};
use server::drill::access::Access;
use server::drill::fault_injection::{FaultKind, FaultRequest};
use server::drill::resources::{LEASES, PODS};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const LEASE_SECONDS: i64 = 3;
const LEADER_LEASE: &str = "wheelhouse-leader";

/// A lease's time field in milliseconds since the epoch.
fn millis(lease: &Value, field: &str) -> i64 {
    let text = lease["spec"][field].as_str().unwrap_or_else(|| panic!("{field} in {lease}"));
    text.parse::<k8s_openapi::jiff::Timestamp>().unwrap().as_millisecond()
}

fn leader_lease(drill: &Drill) -> Value {
    drill.get(LEASES, "default", LEADER_LEASE)
}

fn holder(drill: &Drill) -> Option<String> {
    leader_lease(drill)["spec"]["holderIdentity"].as_str().filter(|h| !h.is_empty()).map(str::to_owned)
}

fn replica_lease(drill: &Drill, id: &str) -> Value {
    drill.get(LEASES, "default", &format!("{LEADER_LEASE}-replica-{id}"))
}

/// Each component's stored statuses, oldest first.
async fn history(db: &PgDatabase) -> Vec<(String, String)> {
    let mut conn = db.connect().await;
    sqlx::query_as("SELECT component_key, status FROM component_status_changes ORDER BY component_key, id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

async fn stored_status(db: &PgDatabase, key: &str) -> Option<String> {
    let mut conn = db.connect().await;
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT status FROM component_status_changes WHERE component_key = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut conn)
    .await
    .unwrap();
    row.map(|(status,)| status)
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let response = client.post(&url).header("idempotency-key", &url).json(&body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// The Lease rules of the Role in deploy/kubernetes/base/rbac.yaml: (verbs).
fn lease_verbs_in_rbac_yaml() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes/base/rbac.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let role = text
        .split("\n---\n")
        .map(|document| serde_yaml_ng::from_str::<Value>(document).unwrap())
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "wheelhouse-leases")
        .expect("a Role for the Leases");
    let rule = &role["rules"][0];
    assert_eq!(rule["apiGroups"], json!(["coordination.k8s.io"]));
    assert_eq!(rule["resources"], json!(["leases"]));
    rule["verbs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_is_replaced_after_its_lease_and_its_work_resumes_without_duplicates_or_losses() {
    let db = PgDatabase::create("ha_failover").await;
    let drill = Drill::start().await;
    drill.cluster.access.record();
    add_account(&db.url, "admin@example.com", "admin");
    let (hook, receiver) = webhook_receiver().await;

    let mut replicas: Vec<(String, Process)> = ["r1", "r2", "r3"]
        .iter()
        .map(|id| (id.to_string(), replica(&db, &drill, id, LEASE_SECONDS)))
        .collect();
    let leader = wait_for("a replica to take the leader Lease", 30, || holder(&drill)).await;
    let at = |replicas: &[(String, Process)], id: &str| replicas.iter().position(|(r, _)| r == id).unwrap();
    let followers: Vec<String> = replicas.iter().map(|(r, _)| r.clone()).filter(|r| *r != leader).collect();
    let (a, b) = (
        replicas[at(&replicas, &followers[0])].1.base.clone(),
        replicas[at(&replicas, &followers[1])].1.base.clone(),
    );
    let on_a = signed_in(&a, "admin@example.com").await;
    let on_b = signed_in(&b, "admin@example.com").await;
    let leader_base = replicas[at(&replicas, &leader)].1.base.clone();
    let on_leader = signed_in(&leader_base, "admin@example.com").await;

    // Live events cross replicas: a note posted on A reaches a stream open on B.
    let incident = post(
        &on_a,
        format!("{a}/api/v1/incidents"),
        json!({"title": "Checkout errors", "severity": "SEV2", "category": "application_failure"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut stream = on_b.get(format!("{b}/api/v1/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let posted = Instant::now();
    post(&on_a, format!("{a}/api/v1/incidents/{incident}/notes"), json!({"text": "Seen from replica A"}))
        .await;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !text.contains("Seen from replica A") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("the note reaches the other replica's stream")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    println!("a note posted on one replica reached a stream on another in {:?}", posted.elapsed());
    drop(stream);

    // A status change before the kill: three replicas see it, one row is stored.
    let pods = drill.cluster.store.list(PODS, &Default::default(), None, None).unwrap().items;
    let drained = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["app"] == "checkout")
        .and_then(|p| p["spec"]["nodeName"].as_str())
        .unwrap()
        .to_owned();
    let others: Vec<String> = ["worker-1", "worker-2", "worker-3", "worker-4", "worker-5"]
        .iter()
        .map(|n| n.to_string())
        .filter(|n| *n != drained)
        .collect();
    let fault =
        |node: &str| FaultRequest { kind: FaultKind::NodeNotready, target: node.to_owned(), seconds: None };
    drill.cluster.inject(&fault(&others[0])).unwrap();
    let first_key = format!("node/{}", others[0]);
    let first_status = wait_for_status(&db, &first_key).await;

    // An action the leader runs at the kill: a drain held by a disruption budget.
    drill.kubectl(&[
        "patch",
        "pdb",
        "checkout",
        "-n",
        "shop",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minAvailable":3}}"#,
    ]);
    post(
        &on_leader,
        format!("{leader_base}/api/v1/incidents/{incident}/break-glass"),
        json!({"reason": "HA drill: one person runs the drain"}),
    )
    .await;
    let actions = format!("{leader_base}/api/v1/incidents/{incident}/actions");
    let action = post(&on_leader, actions.clone(), json!({"action": "drain", "node": drained})).await;
    let action_id = action["id"].as_i64().unwrap();
    post(&on_leader, format!("{actions}/{action_id}/preview"), json!({})).await;
    let started = post(&on_leader, format!("{actions}/{action_id}/confirm"), json!({})).await;
    assert_eq!(started["status"], "executing", "held by the budget: {started}");
    let (runner, epoch): (Option<String>, Option<i64>) = {
        let mut conn = db.connect().await;
        sqlx::query_as("SELECT runner, runner_epoch FROM incident_actions WHERE id = $1")
            .bind(action_id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(runner.as_deref(), Some(leader.as_str()), "the action records the replica that runs it");
    assert_eq!(epoch, replica_lease(&drill, &leader)["spec"]["leaseTransitions"].as_i64());

    // Webhook deliveries queued while the receiver is down, pending at the kill (the
    // leader's outbox tries them, then the new leader's once their claims run out).
    let added = on_a
        .post(format!("{a}/admin/webhooks"))
        .form(&[("audience", "public"), ("format", "generic"), ("url", hook.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    for text in ["First update.", "Second update.", "Third update."] {
        post(
            &on_a,
            format!("{a}/api/v1/incidents/{incident}/updates"),
            json!({"audience": "public", "purpose": "investigating", "text": text}),
        )
        .await;
    }
    let pending = wait_for("a failed attempt at each delivery", 30, || {
        let ids = receiver.ids(false);
        (ids.len() == 3).then_some(ids)
    })
    .await;

    // SIGKILL of the leader.
    let last_renewal = millis(&leader_lease(&drill), "renewTime");
    let killed = at(&replicas, &leader);
    replicas[killed].1.kill();
    let killed_at = server::db::now_millis();
    let own_lease_expiry = millis(&replica_lease(&drill, &leader), "renewTime") + LEASE_SECONDS * 1000;
    receiver.up.store(true, Ordering::SeqCst);

    let new_leader =
        wait_for("another replica to take the Lease", 30, || holder(&drill).filter(|h| *h != leader)).await;
    let lease = leader_lease(&drill);
    let acquired = millis(&lease, "acquireTime");
    println!(
        "leader {leader} killed; {new_leader} holds the Lease {} ms after the kill ({} ms after its last renewal)",
        acquired - killed_at,
        acquired - last_renewal
    );
    assert!(
        acquired >= last_renewal + LEASE_SECONDS * 1000,
        "nobody takes a Lease before it expires: renewed {last_renewal}, taken {acquired}"
    );
    assert!(
        acquired <= last_renewal + 3 * LEASE_SECONDS * 1000,
        "taken soon after it expired: renewed {last_renewal}, taken {acquired}"
    );
    assert!(lease["spec"]["leaseTransitions"].as_i64().unwrap() >= 2, "{lease}");

    // The interrupted action: failed, and only after the killed replica's own Lease expired.
    let url = format!("{a}/api/v1/incidents/{incident}/actions/{action_id}");
    let failed = eventually("the killed replica's action to settle", 60, || async {
        let action: Value = on_a.get(&url).send().await.ok()?.json().await.ok()?;
        (action["status"] != "executing").then_some(action)
    })
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let finished = failed["finished_at"].as_i64().unwrap();
    assert!(
        finished >= own_lease_expiry,
        "marked failed at {finished}, before its runner's Lease expired at {own_lease_expiry}"
    );

    // The outbox resumed on the new leader: every pending delivery arrives, under its id.
    let delivered = wait_for("every pending delivery after the failover", 60, || {
        let ids = receiver.ids(true);
        (ids.len() >= 3).then_some(ids)
    })
    .await;
    assert_eq!(delivered, pending, "the same delivery ids, none lost");

    // Status changes after the kill are stored by the new leader, once.
    drill.cluster.inject(&fault(&others[1])).unwrap();
    let second_key = format!("node/{}", others[1]);
    let second_status = wait_for_status(&db, &second_key).await;
    assert_eq!(first_status, second_status);
    let rows = history(&db).await;
    for pair in rows.windows(2) {
        assert!(pair[0] != pair[1], "a status stored twice in a row: {pair:?} in {rows:?}");
    }
    let changes = |key: &str| rows.iter().filter(|(k, s)| k == key && *s == first_status).count();
    assert_eq!((changes(&first_key), changes(&second_key)), (1, 1), "{rows:?}");

    // Every Lease request any replica made is allowed by the Role.
    let verbs = lease_verbs_in_rbac_yaml();
    let lease_requests: Vec<Access> = drill
        .cluster
        .access
        .recorded()
        .into_iter()
        .filter(|a| matches!(a, Access::Resource { group, .. } if group == "coordination.k8s.io"))
        .collect();
    assert!(!lease_requests.is_empty());
    for request in &lease_requests {
        let Access::Resource { verb, resource, namespace, .. } = request else { unreachable!() };
        assert!(verbs.contains(verb) && resource == "leases", "not allowed by the Role: {request:?}");
        assert_eq!(namespace.as_deref(), Some("default"), "only in the Leases' namespace: {request:?}");
    }
    drop(replicas);
}

/// Waits until a non-operational status is stored for `key`; returns it.
async fn wait_for_status(db: &PgDatabase, key: &str) -> String {
    eventually(&format!("a status change stored for {key}"), 60, || async {
        stored_status(db, key).await.filter(|s| s != "operational")
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_no_request() {
    let db = PgDatabase::create("ha_rolling").await;
    let drill = Drill::start().await;
    add_account(&db.url, "oncall@example.com", "responder");
    let ids = ["r1", "r2", "r3"];
    let mut replicas: Vec<Process> = ids.iter().map(|id| replica(&db, &drill, id, LEASE_SECONDS)).collect();
    // The load balancer's view: which replicas take new requests (a Service's ready endpoints).
    let ready: Arc<std::sync::RwLock<Vec<(String, reqwest::Client)>>> = Arc::default();
    for process in &replicas {
        let client = signed_in(&process.base, "oncall@example.com").await;
        ready.write().unwrap().push((process.base.clone(), client));
    }
    let first = ready.read().unwrap()[0].1.clone();
    let incident = post(
        &first,
        format!("{}/api/v1/incidents", replicas[0].base),
        json!({"title": "Rolling restart drill", "severity": "SEV3", "category": "application_failure"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    // Four clients, each sending requests one after another to the next ready replica.
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let in_flight: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
    let load: Vec<_> = (0..4)
        .map(|worker| {
            let (ready, running, in_flight) = (ready.clone(), running.clone(), in_flight.clone());
            tokio::spawn(async move {
                let (mut sent, mut failed) = (0u64, Vec::new());
                let mut turn = worker;
                while running.load(Ordering::SeqCst) {
                    let (base, client) = {
                        let ready = ready.read().unwrap();
                        turn += 1;
                        let pick = ready[turn % ready.len()].clone();
                        *in_flight.lock().unwrap().entry(pick.0.clone()).or_default() += 1;
                        pick
                    };
                    let path = if sent % 2 == 0 {
                        format!("{base}/api/v1/incidents/{incident}")
                    } else {
                        format!("{base}/api/v1/incidents?limit=5")
                    };
                    match client.get(&path).send().await {
                        Ok(response) if response.status().is_success() => {}
                        Ok(response) => failed.push(format!("{path}: {}", response.status())),
                        Err(error) => failed.push(format!("{path}: {error}")),
                    }
                    *in_flight.lock().unwrap().entry(base).or_default() -= 1;
                    sent += 1;
                }
                (sent, failed)
            })
        })
        .collect();

    for (i, id) in ids.iter().enumerate() {
        // Taken out of the endpoints first and given a moment for requests already
        // sent to it (a Service with a preStop pause does this), then stopped gracefully.
        let base = replicas[i].base.clone();
        ready.write().unwrap().retain(|(b, _)| *b != base);
        wait_for("the requests already sent to it", 10, || {
            in_flight.lock().unwrap().get(&base).is_none_or(|n| *n == 0).then_some(())
        })
        .await;
        assert!(replicas[i].terminate(), "replica {id} stops cleanly on SIGTERM");
        replicas[i] = replica(&db, &drill, id, LEASE_SECONDS);
        let base = replicas[i].base.clone();
        let client = signed_in(&base, "oncall@example.com").await;
        let probe = reqwest::Client::new();
        let ready_url = format!("{base}/readyz");
        eventually(&format!("replica {id} to be ready"), 60, || async {
            probe.get(&ready_url).send().await.ok().filter(|r| r.status().is_success()).map(|_| ())
        })
        .await;
        ready.write().unwrap().push((base, client));
    }
    running.store(false, Ordering::SeqCst);
    let mut total = 0;
    for worker in load {
        let (sent, failed) = worker.await.unwrap();
        assert!(failed.is_empty(), "requests lost during the rolling restart: {failed:?}");
        total += sent;
    }
    println!("rolling restart of 3 replicas under load: {total} requests, none lost");
    assert!(total > 100, "the load ran throughout ({total} requests)");
    // A leader again, among the new processes.
    let holder = wait_for("a leader after the restart", 30, || holder(&drill)).await;
    assert!(ids.contains(&holder.as_str()));
}
