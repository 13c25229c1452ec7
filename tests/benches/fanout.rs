//! Live fan-out: one drill fault reaching every open `/api/v1/events` client.
//! Wheelhouse and its drill cluster run in a child process (this same binary,
//! started again), so its memory is measured alone; this process opens the
//! clients as plain TCP connections, waits until every one has its stream
//! open, then asks the child to take a node down and times each client's
//! arrival of the node's component event. Prints the latency percentiles over
//! the clients and the server's memory per connection (the child's RSS with
//! every client connected, less its RSS before, over the clients).
//!
//! Run: `cargo bench -p tests --bench fanout` (or `-- CLIENTS` for another count).
//! To profile the server, name a wrapper program for the child in
//! `FANOUT_SERVER_WRAPPER` (split on spaces), e.g. `heaptrack` or
//! `perf record -g -o /tmp/fanout.perf`. To profile only the fan-out (from
//! the fault until every client has the event), name a FIFO in
//! `FANOUT_PERF_CONTROL`: this writes `enable` to it just before the fault and
//! `disable` once every client has heard, as `perf record -D -1 --control
//! fifo:PATH` expects (with `-a`, the clients and the kernel are seen too).

use app::domain::role::Role;
use server::drill::fault_injection::{FaultKind, FaultRequest};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tests::{Backend, TestDrill, spawn_app_on};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Set in the child process, which serves Wheelhouse on a drill cluster.
const CHILD: &str = "WHEELHOUSE_FANOUT_BENCH_SERVER";
/// What a client waits for: the node's component event after the fault.
const NEEDLE: &str = "\"component\":\"node/worker-3\",\"from\"";

fn micros_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

fn kib_of(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()))
        .unwrap_or(0)
}

/// The child's RSS once it stops moving (two readings 200 ms apart within
/// 256 KiB), or an error after 20 s.
async fn settled_rss(pid: u32) -> anyhow::Result<u64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = kib_of(pid, "VmRSS:");
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = kib_of(pid, "VmRSS:");
        if now.abs_diff(last) <= 256 {
            return Ok(now);
        }
        anyhow::ensure!(Instant::now() < deadline, "the server's RSS did not settle within 20 s");
        last = now;
    }
}

fn main() -> anyhow::Result<()> {
    let clients = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000usize);
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        return runtime.block_on(serve());
    }
    // Clients are light: one thread drives them all, leaving the other core to the server.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(measure(clients))
}

/// The child: Wheelhouse on a drill cluster, a responder's API token; prints
/// `BASE TOKEN`, then injects the fault when a line arrives on stdin and
/// prints the moment it did, in microseconds since the epoch.
async fn serve() -> anyhow::Result<()> {
    let drill = TestDrill::start().await;
    let app = spawn_app_on(Backend::Sqlite, &drill).await;
    let admin = app.signed_in("bench@example.com", Role::Admin).await;
    app.evaluated(&admin).await;
    let token = app.api_token(&admin, "fanout", "responder").await;
    println!("{} {token}", app.url(""));
    let fault = FaultRequest { kind: FaultKind::NodeNotready, target: "worker-3".into(), seconds: None };
    let lines = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    });
    lines.await??;
    let injected = micros_now();
    drill.cluster.inject(&fault)?;
    println!("{injected}");
    // Until the parent closes stdin (then a profiler wrapping this process
    // sees it exit) or kills it.
    tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await??;
    std::process::exit(0)
}

/// One client: opens the stream, says when its headers arrived, then sends
/// the moment (µs since the epoch) its copy of the event arrived, and keeps
/// its connection open until every client has been heard from (a client
/// hanging up early would add its teardown to the others' fan-out).
async fn client(
    address: std::net::SocketAddr,
    request: std::sync::Arc<String>,
    open: tokio::sync::mpsc::Sender<()>,
    arrived: tokio::sync::mpsc::Sender<u64>,
    mut release: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut buffer = vec![0u8; 2048];
    let mut seen = Vec::new();
    let mut opened = false;
    loop {
        let read = stream.read(&mut buffer).await?;
        anyhow::ensure!(read > 0, "the server closed the stream");
        seen.extend_from_slice(&buffer[..read]);
        if !opened && seen.windows(4).any(|w| w == b"\r\n\r\n") {
            anyhow::ensure!(seen.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&seen));
            opened = true;
            let _ = open.send(()).await;
        }
        if opened && String::from_utf8_lossy(&seen).contains(NEEDLE) {
            let _ = arrived.send(micros_now()).await;
            let _ = release.wait_for(|released| *released).await;
            return Ok(());
        }
        // Keep only a tail long enough to hold the needle across reads.
        if seen.len() > 4096 {
            seen.drain(..seen.len() - 256);
        }
    }
}

async fn measure(clients: usize) -> anyhow::Result<()> {
    println!("fan-out benchmark: one drill fault to {clients} open /api/v1/events clients");
    let wrapper = std::env::var("FANOUT_SERVER_WRAPPER").unwrap_or_default();
    let mut program: Vec<String> = wrapper.split_whitespace().map(str::to_owned).collect();
    program.push(std::env::current_exe()?.display().to_string());
    let mut child = tests::KillOnDrop(
        Command::new(&program[0])
            .args(&program[1..])
            .env(CHILD, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let pid = child.0.id();
    let mut stdout = BufReader::new(child.0.stdout.take().expect("piped stdout"));
    // The child's lines, skipping any a profiler wrapping it printed.
    let mut read_line = |wanted: fn(&str) -> bool| -> anyhow::Result<String> {
        let mut line = String::new();
        while !wanted(&line) {
            line.clear();
            anyhow::ensure!(stdout.read_line(&mut line)? > 0, "the server child ended");
        }
        Ok(line)
    };
    let line = read_line(|l| l.starts_with("http://"))?;
    let mut parts = line.split_whitespace();
    let (base, token) =
        (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
    anyhow::ensure!(!token.is_empty(), "the server child did not start: {line:?}");
    let address: std::net::SocketAddr = base.trim_start_matches("http://").trim_end_matches('/').parse()?;
    let request = std::sync::Arc::new(format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    ));
    let before = settled_rss(pid).await?;

    let (open_tx, mut open_rx) = tokio::sync::mpsc::channel(clients);
    let (arrived_tx, mut arrived_rx) = tokio::sync::mpsc::channel(clients);
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let connecting = Instant::now();
    let mut opened = 0;
    let mut wait_for_open = async |until: usize| -> anyhow::Result<()> {
        while opened < until {
            tokio::time::timeout(Duration::from_secs(120), open_rx.recv())
                .await
                .map_err(|_| anyhow::anyhow!("only {opened} of {clients} streams opened within 120 s"))?;
            opened += 1;
        }
        Ok(())
    };
    for i in 0..clients {
        tasks.spawn(client(
            address,
            request.clone(),
            open_tx.clone(),
            arrived_tx.clone(),
            release_rx.clone(),
        ));
        // A ramp, as browsers reconnecting would: at most 512 connections
        // opening at once, within the listen backlog.
        wait_for_open((i + 1).saturating_sub(512)).await?;
    }
    drop(open_tx);
    drop(arrived_tx);
    wait_for_open(clients).await?;
    println!("  {clients} streams open in {:.1} s", connecting.elapsed().as_secs_f64());
    let connected = settled_rss(pid).await?;

    let mut profiler = match std::env::var_os("FANOUT_PERF_CONTROL") {
        Some(path) => Some(std::fs::OpenOptions::new().write(true).open(path)?),
        None => None,
    };
    let mut tell_profiler = |command: &[u8]| -> anyhow::Result<()> {
        if let Some(fifo) = profiler.as_mut() {
            fifo.write_all(command)?;
            fifo.flush()?;
        }
        Ok(())
    };
    tell_profiler(b"enable\n")?;
    let mut stdin = child.0.stdin.take().expect("piped stdin");
    stdin.write_all(b"fault\n")?;
    stdin.flush()?;
    let injected: u64 = read_line(|l| l.trim().parse::<u64>().is_ok())?.trim().parse()?;
    let mut latencies = Vec::with_capacity(clients);
    while latencies.len() < clients {
        tokio::select! {
            arrived = tokio::time::timeout(Duration::from_secs(60), arrived_rx.recv()) => {
                let arrived = arrived
                    .map_err(|_| anyhow::anyhow!("{} of {clients} clients heard the event within 60 s", latencies.len()))?
                    .ok_or_else(|| anyhow::anyhow!("every client stopped"))?;
                latencies.push(arrived.saturating_sub(injected));
            }
            // A client ends before its release only when it failed.
            Some(ended) = tasks.join_next() => ended??,
        }
    }
    tell_profiler(b"disable\n")?;
    release_tx.send_replace(true);
    while let Some(ended) = tokio::time::timeout(Duration::from_secs(60), tasks.join_next()).await? {
        ended??;
    }
    latencies.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    let at = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "  fault -> event at every client: first {:.0} ms, median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(at(0)),
        ms(at(50)),
        ms(at(99)),
        ms(at(100))
    );
    println!(
        "  server RSS: {} MiB before, {} MiB with {clients} clients: {:.1} KiB per connection",
        before / 1024,
        connected / 1024,
        connected.saturating_sub(before) as f64 / clients as f64
    );
    // Closing stdin lets the child exit by itself (its stdout then ends); it
    // is killed if it has not within 60 s.
    drop(stdin);
    let drained = tokio::task::spawn_blocking(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let _ = tokio::time::timeout(Duration::from_secs(60), drained).await;
    drop(child);
    Ok(())
}
