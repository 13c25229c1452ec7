//! A client that trickles its request headers (a slowloris) is cut off once
//! the header read timeout passes, and everyone else is still served.

use std::time::{Duration, Instant};
use tests::{Backend, TestDatabase, settings_for, start_server_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off_and_others_are_still_served() {
    let (_database, url) = TestDatabase::create(Backend::Sqlite).await;
    let mut settings = settings_for(&url);
    settings.header_read_timeout = Duration::from_secs(1);
    let (base, _, _, server) = start_server_with(settings).await;

    let mut slow = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: wheelhouse\r\n").await.unwrap();
    // One more header line every 200 ms, never the blank line that ends them.
    let started = Instant::now();
    let cut_off = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if slow.write_all(b"X-Still-Typing: 1\r\n").await.is_err() {
            break true;
        }
        let mut buffer = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(20), slow.read(&mut buffer)).await {
            // Closed (with or without a 408 first): cut off.
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(n)) => {
                let answer = String::from_utf8_lossy(&buffer[..n]).to_string();
                assert!(!answer.contains(" 200 "), "headers never ended, yet it was answered: {answer}");
                break true;
            }
            Err(_) => {}
        }
        // A deadline so that a regression fails instead of hanging.
        if started.elapsed() > Duration::from_secs(15) {
            break false;
        }
    };
    assert!(cut_off, "the trickling client still held its connection after 15 s");

    let healthy = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(healthy.status(), 200, "others are still served");
    server.abort();
}
