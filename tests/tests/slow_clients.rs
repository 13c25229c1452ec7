//! A client that sends part of its request headers and never finishes them (a
//! slowloris) is cut off once the header read timeout passes, and everyone
//! else is still served.

use std::time::Duration;
use tests::{Backend, TestDatabase, settings_for, start_server_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_cut_off_and_others_are_still_served() {
    let (_database, url) = TestDatabase::create(Backend::Sqlite).await;
    let mut settings = settings_for(&url);
    settings.header_read_timeout = Duration::from_secs(1);
    let (base, _, _, server) = start_server_with(settings).await;

    let mut slow = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: wheelhouse\r\nX-Still-Typing: 1\r\n").await.unwrap();
    // The server closes the connection (with or without a 408 first); a deadline
    // makes a regression fail instead of hang.
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), slow.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the half-sent request still held its connection after 15 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains(" 200 "), "headers never ended, yet it was answered: {answer}");

    let healthy = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(healthy.status(), 200, "others are still served");
    server.abort();
}
