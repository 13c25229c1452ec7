//! Wheelhouse against a cluster at Kubernetes' documented limits: 5,000 nodes
//! and 150,000 pods. The drill cluster runs in a child process (this same
//! binary, started again), so the figures are Wheelhouse's alone: the time
//! from start to every watcher's first full list, the time until the health
//! engine has evaluated every node, and the process's peak RSS.
//!
//! Run: `cargo bench -p tests --bench scale` (or `-- NODES PODS` for another size).

use app::domain::component::ComponentKind;
use server::drill::scenario::Scenario;
use server::drill::serve::DrillServer;
use server::drill::{DrillCluster, store::Store};
use server::startup::Application;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::{Backend, TestDatabase, settings_on_kubeconfig};

/// Set in the child process, which serves the drill cluster and prints its kubeconfig's path.
const CHILD: &str = "WHEELHOUSE_SCALE_BENCH_DRILL";

fn kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()))
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (nodes, pods) = (args.first().copied().unwrap_or(5_000), args.get(1).copied().unwrap_or(150_000));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if std::env::var_os(CHILD).is_some() {
        return runtime.block_on(serve_drill(nodes, pods));
    }
    runtime.block_on(measure(nodes, pods))
}

/// The child: loads the generated cluster, serves it, prints the kubeconfig path, runs until killed.
async fn serve_drill(nodes: usize, pods: usize) -> anyhow::Result<()> {
    let cluster = DrillCluster::with_store(server::accounts::generate_secret(16), Store::new());
    let scenario = Scenario::generated(nodes, pods);
    scenario.load(&cluster.store)?;
    scenario.load_running_pods(&cluster.store)?;
    let server = DrillServer::bind_loaded("127.0.0.1:0".parse()?, cluster).await?;
    let path = std::env::temp_dir().join(format!("wheelhouse-scale-{}.kubeconfig", std::process::id()));
    server::drill::serve::write_kubeconfig(&path, &server.kubeconfig())?;
    println!("{}", path.display());
    server.run_api_only().await?;
    Ok(())
}

async fn measure(nodes: usize, pods: usize) -> anyhow::Result<()> {
    println!("scale benchmark: Wheelhouse watching a drill cluster of {nodes} nodes and {pods} pods");
    let loading = Instant::now();
    let mut child = tests::KillOnDrop(
        Command::new(std::env::current_exe()?)
            .args([nodes.to_string(), pods.to_string()])
            .env(CHILD, "1")
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().expect("piped stdout")).read_line(&mut line)?;
    let kubeconfig = std::path::PathBuf::from(line.trim());
    anyhow::ensure!(kubeconfig.exists(), "the drill child did not start: {line:?}");
    println!("  drill cluster ready (child process): {:.1} s", loading.elapsed().as_secs_f64());
    println!("  RSS before start:   {}", mib(kib("VmRSS:")));

    let (_database, database_url) = TestDatabase::create(Backend::Sqlite).await;
    let started = Instant::now();
    let app = Application::build(settings_on_kubeconfig(&database_url, &kubeconfig)).await?;
    let synced = loop {
        let (kinds, nodes_seen, pods_seen) = {
            let state = app.live.read();
            (state.synced.len(), state.nodes.len(), state.pod_count())
        };
        if kinds == server::cluster::state::Kind::ALL.len() {
            break (started.elapsed(), nodes_seen, pods_seen);
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "no sync after 10 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "  initial sync:       {:.2} s ({} nodes, {} pods in memory; target 60 s)",
        synced.0.as_secs_f64(),
        synced.1,
        synced.2
    );
    println!("  RSS after sync:     {}", mib(kib("VmRSS:")));

    let server = tokio::spawn(app_until_evaluated(app, nodes, started));
    let evaluated = server.await??;
    println!("  every node evaluated and recorded: {:.2} s", evaluated.as_secs_f64());
    // Steady state: a few engine ticks over the whole cluster.
    tokio::time::sleep(Duration::from_secs(15)).await;
    println!("  RSS after 15 s:     {}", mib(kib("VmRSS:")));
    println!("  peak RSS:           {} (target 1 GiB)", mib(kib("VmHWM:")));
    drop(child);
    Ok(())
}

/// Serves the application and waits until the health history holds a status for every node.
async fn app_until_evaluated(app: Application, nodes: usize, started: Instant) -> anyhow::Result<Duration> {
    let history = server::history::History::new(app.db.clone());
    tokio::spawn(app.run_until_stopped());
    loop {
        let latest = history.latest().await?;
        let recorded = latest.iter().filter(|(key, _, _)| key.kind() == ComponentKind::Node).count();
        if recorded >= nodes {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "nodes not evaluated after 10 minutes");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
