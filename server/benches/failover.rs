//! Failover: three `wheelhouse` processes on one PostgreSQL database watch the
//! drill cluster with leader election on. Ten times: a node's status is made
//! to change and the leader is killed with SIGKILL at once; measured from the
//! kill to (a) another replica holding the leader Lease (its `acquireTime`)
//! and (b) the first singleton write by the new leader (the history row for
//! that change, stored only by a leader). The killed replica is started again
//! before the next round. Prints p50/p99/max and the Lease settings.
//! Run: `cargo bench -p server --bench failover` (FAILOVER_KILLS, FAILOVER_LEASE_SECONDS).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Drill, PgDatabase, Process, add_account, eventually, replica};
use server::drill::fault_injection::{FaultKind, FaultRequest};
use server::drill::resources::LEASES;

fn setting(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn lease(drill: &Drill) -> serde_json::Value {
    drill.get(LEASES, "default", "wheelhouse-leader")
}

fn holder(drill: &Drill) -> Option<String> {
    lease(drill)["spec"]["holderIdentity"].as_str().filter(|h| !h.is_empty()).map(str::to_owned)
}

fn acquired_at(drill: &Drill) -> i64 {
    let text = lease(drill)["spec"]["acquireTime"].as_str().unwrap().to_owned();
    text.parse::<k8s_openapi::jiff::Timestamp>().unwrap().as_millisecond()
}

async fn newest_change(db: &PgDatabase, key: &str) -> Option<(i64, i64)> {
    let mut conn = db.connect().await;
    sqlx::query_as(
        "SELECT id, changed_at FROM component_status_changes WHERE component_key = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut conn)
    .await
    .unwrap()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let kills = setting("FAILOVER_KILLS", 10);
    let lease_seconds = setting("FAILOVER_LEASE_SECONDS", 3);
    let db = PgDatabase::create("bench_failover").await;
    let drill = Drill::start().await;
    add_account(&db.url, "admin@example.com", "admin");
    let ids = ["r1", "r2", "r3"];
    let mut replicas: Vec<Process> = ids.iter().map(|id| replica(&db, &drill, id, lease_seconds)).collect();
    let key = "node/worker-1";
    let fault = FaultRequest { kind: FaultKind::NodeNotready, target: "worker-1".into(), seconds: None };
    eventually("a first leader", 120, || async { holder(&drill) }).await;
    eventually("the first status stored", 120, || newest_change(&db, key)).await;

    let (mut to_lease, mut to_write) = (Vec::new(), Vec::new());
    for round in 0..kills {
        let leader = holder(&drill).unwrap();
        let (before, _) = newest_change(&db, key).await.unwrap();
        if round % 2 == 0 {
            drill.cluster.inject(&fault).unwrap();
        } else {
            drill.cluster.clear(&fault).unwrap();
        }
        let index = ids.iter().position(|id| *id == leader).unwrap();
        replicas[index].kill();
        let killed = server::db::now_millis();
        eventually("another leader", 120, || async { holder(&drill).filter(|h| *h != leader) }).await;
        let lease_ms = acquired_at(&drill) - killed;
        let (_, written) = eventually("the change stored by the new leader", 120, || async {
            newest_change(&db, key).await.filter(|(id, _)| *id > before)
        })
        .await;
        to_lease.push(lease_ms);
        to_write.push(written - killed);
        println!(
            "round {round}: {leader} killed; Lease taken after {lease_ms} ms, first write after {} ms",
            written - killed
        );
        replicas[index] = replica(&db, &drill, &leader, lease_seconds);
    }
    to_lease.sort_unstable();
    to_write.sort_unstable();
    println!();
    println!(
        "failover over {kills} SIGKILLs of the leader; Lease {lease_seconds} s, tried and renewed every {} ms, \
         a leader gives up after {} ms without renewal",
        lease_seconds * 200,
        lease_seconds * 2000 / 3
    );
    println!("| from the kill to | p50 | p99 | max |");
    println!("| --- | --- | --- | --- |");
    for (what, figures) in [
        ("another replica holds the Lease", &to_lease),
        ("the new leader's first singleton write", &to_write),
    ] {
        println!(
            "| {what} | {} ms | {} ms | {} ms |",
            percentile(figures, 50.0),
            percentile(figures, 99.0),
            figures.last().unwrap()
        );
    }
}
