//! The drill cluster at Kubernetes' documented per-cluster limits: 5,000 nodes
//! and 150,000 pods. The drill serves from a child process (this same binary,
//! started again), as an API server runs apart from its clients, so that its
//! memory is its own and the client's allocations do not share its heap. This
//! process is the kube-rs client. Prints the time to load the cluster, to
//! serve a full paged LIST of all pods (as text, then as typed `Pod`s), the
//! watch events per second delivered to one watcher, and each process's peak RSS.
//!
//! Run: `cargo bench -p drill --bench drill` (or `-- NODES PODS` for another size).

use drill::resources::PODS;
use drill::scenario::Scenario;
use drill::serve::DrillServer;
use drill::store::{Filter, name_of, namespace_of};
use drill::{DrillCluster, store::Store};
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child process, which loads and serves the drill cluster.
const CHILD: &str = "DRILL_BENCH_SERVER";

/// A list answer with only its metadata read (serde skips the items).
#[derive(serde::Deserialize)]
struct PageMetadata {
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
}

/// A `/proc/<pid>/status` field in MiB ("unknown" if unreadable).
fn memory(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or_else(|| "unknown".to_owned(), |kb| format!("{:.0} MiB", kb as f64 / 1024.0))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (nodes, pods) = (args.first().copied().unwrap_or(5_000), args.get(1).copied().unwrap_or(150_000));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if std::env::var_os(CHILD).is_some() {
        return runtime.block_on(serve(nodes, pods));
    }
    runtime.block_on(measure(nodes, pods))
}

/// The child: loads the cluster, serves it, prints `LOADED seconds rss` and
/// `KUBECONFIG path`; on a line `write N` on stdin changes N pods as a
/// controller would and prints `WROTE seconds`; ends when stdin closes.
async fn serve(nodes: usize, pods: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let cluster = DrillCluster::with_store("drill-bench-token".to_owned(), Store::new());
    let scenario = Scenario::generated(nodes, pods);
    scenario.load(&cluster.store)?;
    scenario.load_running_pods(&cluster.store)?;
    println!("LOADED {:.2} {}", started.elapsed().as_secs_f64(), memory(std::process::id(), "VmRSS:"));
    let server = DrillServer::bind_loaded("127.0.0.1:0".parse()?, cluster.clone()).await?;
    let path = std::env::temp_dir().join(format!("drill-bench-{}.kubeconfig", std::process::id()));
    drill::serve::write_kubeconfig(&path, &server.kubeconfig())?;
    tokio::spawn(server.run_api_only());
    println!("KUBECONFIG {}", path.display());
    let store = cluster.store.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for line in std::io::stdin().lines() {
            let Some(changes) = line?.strip_prefix("write ").and_then(|n| n.trim().parse::<usize>().ok())
            else {
                continue;
            };
            let targets = store.list(PODS, &Filter::default(), Some(changes), None)?.items;
            let started = Instant::now();
            for (i, pod) in targets.into_iter().enumerate() {
                let mut next = pod.clone();
                next["metadata"]["labels"]["bench"] = json!(i.to_string());
                store.update(PODS, namespace_of(&pod), name_of(&pod), next, false, false)?;
            }
            println!("WROTE {:.2}", started.elapsed().as_secs_f64());
        }
        Ok(())
    })
    .await??;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn measure(nodes: usize, pods: usize) -> anyhow::Result<()> {
    println!("drill cluster benchmark: {nodes} nodes, {pods} pods");
    let mut child = Command::new(std::env::current_exe()?)
        .args([nodes.to_string(), pods.to_string()])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut read_line = |prefix: &str| -> anyhow::Result<String> {
        let mut line = String::new();
        while !line.starts_with(prefix) {
            line.clear();
            anyhow::ensure!(stdout.read_line(&mut line)? > 0, "the drill child ended");
        }
        Ok(line[prefix.len()..].trim().to_owned())
    };
    let loaded = read_line("LOADED ")?;
    let (seconds, rss) = loaded.split_once(' ').unwrap_or((&loaded, "unknown"));
    println!("  load (drill process):     {seconds} s, RSS {rss}");
    let path = read_line("KUBECONFIG ")?;
    let kubeconfig = kube::config::Kubeconfig::read_from(&path)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    let client = kube::Client::try_from(config)?;
    let api: Api<Pod> = Api::all(client.clone());

    // The paged LIST read as text, with only the list's metadata parsed: the
    // drill's serving and the transport, without the typed client's work.
    let started = Instant::now();
    let (mut bytes, mut raw_pages) = (0usize, 0usize);
    let mut params = ListParams::default().limit(500);
    loop {
        let request = kube::core::Request::new("/api/v1/pods").list(&params)?;
        let text = client.request_text(request).await?;
        bytes += text.len();
        raw_pages += 1;
        let page: PageMetadata = serde_json::from_str(&text)?;
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    println!(
        "  paged LIST as text:       {raw_pages} pages, {:.0} MiB, {:.2} s (the drill's serving and the transport)",
        bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );

    // Full paged LIST into typed `Pod`s, 500 per page, as kubectl and reflectors page.
    let started = Instant::now();
    let (mut count, mut pages) = (0usize, 0usize);
    let mut params = ListParams::default().limit(500);
    let version = loop {
        let page = api.list(&params).await?;
        count += page.items.len();
        pages += 1;
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break page.metadata.resource_version.unwrap_or_default(),
        }
    };
    let list_seconds = started.elapsed().as_secs_f64();
    println!(
        "  full paged LIST:          {count} pods in {pages} pages, {list_seconds:.2} s (target < 10 s)"
    );
    anyhow::ensure!(count >= pods, "listed {count} pods, expected {pods}");

    // Watch throughput: one watcher, N changes made in the drill as a controller would.
    let changes = 20_000.min(pods);
    let mut stream = api.watch(&WatchParams::default().timeout(290), &version).await?.boxed();
    let counter = tokio::spawn(async move {
        let mut seen = 0usize;
        while let Some(event) = stream.next().await {
            if let Ok(WatchEvent::Modified(_)) = event {
                seen += 1;
                if seen == changes {
                    break;
                }
            }
        }
        seen
    });
    let started = Instant::now();
    writeln!(stdin, "write {changes}")?;
    stdin.flush()?;
    let write_seconds = read_line("WROTE ")?;
    let seen = tokio::time::timeout(Duration::from_secs(120), counter).await??;
    let total = started.elapsed().as_secs_f64();
    println!(
        "  watch:                    {seen} events delivered in {total:.2} s = {:.0} events/s (writes took {write_seconds} s)",
        seen as f64 / total
    );
    println!("  peak RSS: drill {}, client {}", memory(pid, "VmHWM:"), memory(std::process::id(), "VmHWM:"));
    // Closing stdin lets the child exit by itself: its stdout then ends. It is
    // killed if it has not within 30 s.
    drop(stdin);
    let drained = tokio::task::spawn_blocking(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let _ = tokio::time::timeout(Duration::from_secs(30), drained).await;
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}
