//! The live event stream over raw HTTP/1.1: a connection that opens with the
//! stream's request is answered apart from hyper (less memory per
//! connection), one that asked for something else first is answered by hyper.
//! Both must look the same to a client: status, headers, chunked events.

use app::domain::role::Role;
use std::collections::BTreeSet;
use std::time::Duration;
use tests::{Backend, spawn_app};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEADLINE: Duration = Duration::from_secs(15);

async fn connect(app: &tests::TestApp) -> TcpStream {
    let address = app.url("").trim_start_matches("http://").to_owned();
    TcpStream::connect(address).await.unwrap()
}

fn events_request(token: Option<&str>) -> String {
    let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n{authorization}\r\n"
    )
}

/// Reads until `done` holds for everything read so far (or fails after the deadline).
async fn read_until(stream: &mut TcpStream, read: &mut Vec<u8>, what: &str, done: impl Fn(&[u8]) -> bool) {
    let reading = async {
        let mut buffer = [0u8; 4096];
        while !done(read) {
            let n = stream.read(&mut buffer).await.unwrap();
            assert!(n > 0, "the connection closed before {what}: {}", String::from_utf8_lossy(read));
            read.extend_from_slice(&buffer[..n]);
        }
    };
    tokio::time::timeout(DEADLINE, reading).await.unwrap_or_else(|_| panic!("no {what} within {DEADLINE:?}"));
}

fn has_head(read: &[u8]) -> bool {
    read.windows(4).any(|w| w == b"\r\n\r\n")
}

/// The status line and the header fields (lower-case name → value) of a head.
fn head(read: &[u8]) -> (String, Vec<(String, String)>) {
    let end = read.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let text = String::from_utf8_lossy(&read[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let fields = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    (status, fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn contains(read: &[u8], text: &str) -> bool {
    read.windows(text.len()).any(|w| w == text.as_bytes())
}

#[tokio::test]
async fn a_live_stream_looks_the_same_on_a_new_connection_and_after_another_request() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let token = app.api_token(&admin, "stream", "responder").await;

    // A new connection whose first request is the stream.
    let mut fresh = connect(&app).await;
    fresh.write_all(events_request(Some(&token)).as_bytes()).await.unwrap();
    let mut fresh_read = Vec::new();
    read_until(&mut fresh, &mut fresh_read, "the stream's head", has_head).await;

    // A connection that first asks for something else, then for the stream.
    let mut reused = connect(&app).await;
    reused.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut reused_read = Vec::new();
    read_until(&mut reused, &mut reused_read, "the health answer", |read| {
        has_head(read) && {
            let (_, fields) = head(read);
            let length: usize = field(&fields, "content-length").unwrap().parse().unwrap();
            let start = read.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            read.len() >= start + length
        }
    })
    .await;
    reused_read.clear();
    reused.write_all(events_request(Some(&token)).as_bytes()).await.unwrap();
    read_until(&mut reused, &mut reused_read, "the stream's head", has_head).await;

    let (fresh_status, fresh_fields) = head(&fresh_read);
    let (reused_status, reused_fields) = head(&reused_read);
    assert_eq!(fresh_status, "HTTP/1.1 200 OK");
    assert_eq!(reused_status, fresh_status);
    for fields in [&fresh_fields, &reused_fields] {
        assert_eq!(field(fields, "content-type"), Some("text/event-stream"));
        assert_eq!(field(fields, "cache-control"), Some("no-cache"));
        assert_eq!(field(fields, "transfer-encoding"), Some("chunked"));
        assert_eq!(field(fields, "x-content-type-options"), Some("nosniff"));
        assert!(field(fields, "date").is_some());
    }
    // The same fields apart from the connection's end, which only the stream's own connection announces.
    let names = |fields: &[(String, String)]| -> BTreeSet<String> {
        fields.iter().map(|(n, _)| n.clone()).filter(|n| n != "connection").collect()
    };
    assert_eq!(names(&fresh_fields), names(&reused_fields));
    assert_eq!(field(&fresh_fields, "connection"), Some("close"));

    // An incident declared now reaches both, as an `incident` event in a chunk.
    app.declare(
        &admin,
        serde_json::json!({"title": "Checkout errors", "severity": "SEV2", "category": "networking"}),
    )
    .await;
    for (stream, read) in [(&mut fresh, &mut fresh_read), (&mut reused, &mut reused_read)] {
        read_until(stream, read, "the incident event", |read| contains(read, "event: incident")).await;
        assert!(contains(read, "\nid: "), "stored events carry their id");
    }
}

#[tokio::test]
async fn a_stream_without_credentials_is_refused_and_the_connection_closed() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut stream = connect(&app).await;
    stream.write_all(events_request(None).as_bytes()).await.unwrap();
    let mut read = Vec::new();
    let reading = stream.read_to_end(&mut read);
    tokio::time::timeout(DEADLINE, reading).await.expect("the server closes the connection").unwrap();
    let (status, fields) = head(&read);
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
    let body_start = read.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &read[body_start..];
    assert_eq!(field(&fields, "content-length"), Some(body.len().to_string().as_str()));
    let error: serde_json::Value = serde_json::from_slice(body).expect("the API's error shape");
    assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
}
