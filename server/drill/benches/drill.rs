//! The drill cluster at Kubernetes' documented per-cluster limits: 5,000 nodes
//! and 150,000 pods. Prints the time to load it, to serve a full paged LIST of
//! all pods through the HTTPS API to a kube-rs client, the watch events per
//! second delivered to one watcher, and the process's peak RSS.
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
use std::time::Instant;

fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
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
    runtime.block_on(async move {
        println!("drill cluster benchmark: {nodes} nodes, {pods} pods");
        let started = Instant::now();
        let cluster = DrillCluster::with_store("drill-bench-token".to_owned(), Store::new());
        let scenario = Scenario::generated(nodes, pods);
        scenario.load(&cluster.store)?;
        scenario.load_running_pods(&cluster.store)?;
        println!("  load:                     {:.2} s, RSS {}", started.elapsed().as_secs_f64(), memory("VmRSS:"));

        let server = DrillServer::bind_loaded("127.0.0.1:0".parse()?, cluster.clone()).await?;
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig())?;
        tokio::spawn(server.run_api_only());
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
        let client = kube::Client::try_from(config)?;
        let api: Api<Pod> = Api::all(client);

        // Full paged LIST, 500 per page, as kubectl and reflectors page.
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
        println!("  full paged LIST:          {count} pods in {pages} pages, {list_seconds:.2} s (target < 10 s)");
        anyhow::ensure!(count >= pods, "listed {count} pods, expected {pods}");

        // Watch throughput: one watcher, N changes made as a controller would.
        let changes = 20_000.min(pods);
        let mut stream = api.watch(&WatchParams::default().timeout(290), &version).await?.boxed();
        let counter = tokio::spawn(async move {
            let mut seen = 0usize;
            let mut first = None;
            while let Some(event) = stream.next().await {
                if let Ok(WatchEvent::Modified(_)) = event {
                    first.get_or_insert_with(Instant::now);
                    seen += 1;
                    if seen == changes {
                        return (seen, first.map(|f| f.elapsed()));
                    }
                }
            }
            (seen, first.map(|f| f.elapsed()))
        });
        let targets = cluster.store.list(PODS, &Filter::default(), Some(changes), None)?.items;
        let started = Instant::now();
        for (i, pod) in targets.into_iter().enumerate() {
            let mut next = pod.clone();
            next["metadata"]["labels"]["bench"] = json!(i.to_string());
            cluster.store.update(PODS, namespace_of(&pod), name_of(&pod), next, false, false)?;
        }
        let write_seconds = started.elapsed().as_secs_f64();
        let (seen, _) = counter.await?;
        let total = started.elapsed().as_secs_f64();
        println!(
            "  watch:                    {seen} events delivered in {total:.2} s = {:.0} events/s (writes took {write_seconds:.2} s)",
            seen as f64 / total
        );
        println!("  peak RSS (server, client and benchmark in one process): {}", memory("VmHWM:"));
        Ok(())
    })
}
