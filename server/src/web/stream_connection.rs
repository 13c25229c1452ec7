//! A connection that opens with a request for a live stream (`GET
//! /api/v1/events`) is answered without hyper's connection machinery, which
//! keeps an 8 KiB write buffer and an 8 KiB read buffer for the life of every
//! connection (its minimum; two thirds of what an idle stream cost). The
//! request goes through the same router, with every layer (sign-in, headers,
//! metrics); only the reading of its head and the writing of the answer are
//! done here: the head is parsed with `httparse` (as hyper does), the answer
//! is written with `Connection: close`, its body in chunks as each frame comes,
//! and the connection ends with the stream. Anything else (another method or
//! path, a body, HTTP/1.0, a head that has not fully arrived) is left to hyper,
//! which serves every request, streams included, the same way.

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use futures_util::{FutureExt, StreamExt};
use http::{HeaderName, HeaderValue, Method, Request, Version, header};
use std::io::IoSlice;
use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tower::ServiceExt;

/// Most heads are under 1 KiB; one longer than this is left to hyper.
const PEEK_BYTES: usize = 8192;
const MAX_HEADERS: usize = 64;

/// Looks at what the client has sent so far without taking it from the
/// socket: a whole `GET` head for a streaming path gives the request to answer
/// here (and takes its bytes); anything else gives `None` and leaves the bytes
/// for hyper.
pub async fn take_stream_request(
    stream: &mut TcpStream,
    is_stream: fn(&str) -> bool,
) -> std::io::Result<Option<Request<Body>>> {
    let mut peeked = vec![0; PEEK_BYTES];
    let seen = stream.peek(&mut peeked).await?;
    let Some((request, head_length)) = stream_request(&peeked[..seen], is_stream) else {
        return Ok(None);
    };
    // The head is in the socket's buffer already: this returns at once.
    tokio::io::AsyncReadExt::read_exact(stream, &mut peeked[..head_length]).await?;
    Ok(Some(request))
}

/// The request, and the length of its head, when `bytes` begin with a whole
/// HTTP/1.1 `GET` head for a streaming path with no body.
fn stream_request(bytes: &[u8], is_stream: fn(&str) -> bool) -> Option<(Request<Body>, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(length) = head.parse(bytes).ok()? else {
        return None;
    };
    let target = head.path?;
    let path = target.split('?').next().unwrap_or(target);
    if head.method? != "GET" || head.version? != 1 || !is_stream(path) {
        return None;
    }
    let mut request = Request::builder().method(Method::GET).uri(target).version(Version::HTTP_11);
    for field in head.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).ok()?;
        // A body, or a protocol switch, is hyper's to handle.
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::UPGRADE
            || name == header::EXPECT
        {
            return None;
        }
        request = request.header(name, HeaderValue::from_bytes(field.value).ok()?);
    }
    Some((request.body(Body::empty()).ok()?, length))
}

/// Answers `request` through `router` on `stream`, then closes the connection:
/// when the answer's body ends (a live stream ends itself when the server
/// stops), or when the client goes away.
pub async fn answer(mut stream: TcpStream, mut request: Request<Body>, router: Router, peer: SocketAddr) {
    request.extensions_mut().insert(ConnectInfo(peer));
    // Boxed: the router's future is gone once it has answered, and the task keeps only the body.
    let response = match Box::pin(router.oneshot(request)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let length = axum::body::HttpBody::size_hint(&body).exact();
    let head = head_of(&parts, length);
    if let Err(error) = write_all(&stream, &mut [IoSlice::new(&head)]).await {
        tracing::debug!(error = &error as &dyn std::error::Error, %peer, "could not write an answer's head");
        return;
    }
    drop(head);
    let ended = match length {
        Some(0) => Ok(()),
        Some(_) => copy_body(&stream, body, false).await,
        None => copy_body(&stream, body, true).await,
    };
    match ended {
        Ok(()) => {
            let _ = stream.shutdown().await;
        }
        Err(error) => {
            tracing::debug!(error = &error as &dyn std::error::Error, %peer, "stream connection ended")
        }
    }
}

/// The status line and header fields, with the framing hyper would add
/// (`date`, and `content-length` or chunked) and `connection: close`.
fn head_of(parts: &http::response::Parts, length: Option<u64>) -> Vec<u8> {
    let mut head = Vec::with_capacity(512);
    let status = parts.status;
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    let mut field = |name: &[u8], value: &[u8]| {
        head.extend_from_slice(name);
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    };
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            field(name.as_str().as_bytes(), value.as_bytes());
        }
    }
    if !parts.headers.contains_key(header::DATE) {
        field(b"date", httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
    }
    match length {
        Some(length) => field(b"content-length", length.to_string().as_bytes()),
        None => field(b"transfer-encoding", b"chunked"),
    }
    field(b"connection", b"close");
    head.extend_from_slice(b"\r\n");
    head
}

/// The most frames written together: three slices each, well within a
/// `writev`'s limit of 1024.
const MOST_FRAMES_PER_WRITE: usize = 64;

/// Writes the frames of `body` as they come (as chunks when `chunked`), and
/// the last chunk when the body ends. The frames ready when the connection's
/// turn comes go out in one write: when one change brings several events, a
/// subscriber woken late has them all waiting, and one system call each, not
/// one per event, is what fanning out to thousands of connections costs.
/// Ends early, with an error, when the client closes its side or the body
/// fails.
async fn copy_body(stream: &TcpStream, body: Body, chunked: bool) -> std::io::Result<()> {
    let mut frames = body.into_data_stream();
    // Made once, not per frame.
    let gone = client_gone(stream);
    tokio::pin!(gone);
    loop {
        let first = tokio::select! {
            frame = frames.next() => frame,
            gone = &mut gone => return Err(gone),
        };
        let mut batch = Batch::default();
        let mut ended = batch.take(first)?;
        while !ended && batch.data.len() < MOST_FRAMES_PER_WRITE {
            match frames.next().now_or_never() {
                Some(frame) => ended = batch.take(frame)?,
                None => break,
            }
        }
        batch.write(stream, chunked, ended).await?;
        if ended {
            return Ok(());
        }
    }
}

/// Frames taken from a body, to be written together.
#[derive(Default)]
struct Batch {
    data: Vec<Bytes>,
}

impl Batch {
    /// Takes one item of the body's stream; true when the body has ended.
    fn take(&mut self, frame: Option<Result<Bytes, axum::Error>>) -> std::io::Result<bool> {
        match frame {
            Some(Ok(data)) if data.is_empty() => Ok(false),
            Some(Ok(data)) => {
                self.data.push(data);
                Ok(false)
            }
            Some(Err(error)) => Err(std::io::Error::other(error)),
            None => Ok(true),
        }
    }

    /// Writes the frames, as chunks when `chunked`, then the last chunk when `ended`.
    async fn write(self, stream: &TcpStream, chunked: bool, ended: bool) -> std::io::Result<()> {
        if !chunked {
            let mut slices: Vec<IoSlice> = self.data.iter().map(|data| IoSlice::new(data)).collect();
            return write_all(stream, &mut slices).await;
        }
        // Each frame's chunk-size line, `{:x}\r\n`, one after another.
        let mut sizes = String::new();
        for data in &self.data {
            use std::fmt::Write;
            let _ = write!(sizes, "{:x}\r\n", data.len());
        }
        let mut slices = Vec::with_capacity(self.data.len() * 3 + 1);
        for (size, data) in sizes.split_inclusive('\n').zip(&self.data) {
            slices.push(IoSlice::new(size.as_bytes()));
            slices.push(IoSlice::new(data));
            slices.push(IoSlice::new(b"\r\n"));
        }
        if ended {
            slices.push(IoSlice::new(b"0\r\n\r\n"));
        }
        write_all(stream, &mut slices).await
    }
}

/// Resolves when the client has closed its side (or the socket failed).
/// Whatever else it sends is read and dropped: the answer ends this connection.
async fn client_gone(stream: &TcpStream) -> std::io::Error {
    let mut sink = [0u8; 64];
    loop {
        if let Err(error) = stream.readable().await {
            return error;
        }
        match stream.try_read(&mut sink) {
            Ok(0) => return std::io::ErrorKind::UnexpectedEof.into(),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return error,
        }
    }
}

/// Writes every byte of `slices`, in as few system calls as the socket allows.
async fn write_all(stream: &TcpStream, mut slices: &mut [IoSlice<'_>]) -> std::io::Result<()> {
    while !slices.is_empty() {
        stream.writable().await?;
        match stream.try_write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(path: &str) -> bool {
        path == "/api/v1/events"
    }

    #[test]
    fn a_whole_get_head_for_the_stream_is_taken_with_its_length() {
        let bytes = b"GET /api/v1/events?x=1 HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 7\r\n\r\nextra";
        let (request, length) = stream_request(bytes, events).expect("taken");
        assert_eq!(length, bytes.len() - "extra".len());
        assert_eq!(request.uri().path(), "/api/v1/events");
        assert_eq!(request.uri().query(), Some("x=1"));
        assert_eq!(request.headers()["last-event-id"], "7");
    }

    #[test]
    fn anything_else_is_left_to_hyper() {
        for bytes in [
            &b"GET /api/v1/events HTTP/1.1\r\nHost: a\r\n"[..],
            b"GET /status HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST /api/v1/events HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/v1/events HTTP/1.0\r\nHost: a\r\n\r\n",
            b"GET /api/v1/events HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"GET /api/v1/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /api/v1/events HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"GET /api/v1/events HTTP/1.1\r\nBad Header: x\r\n\r\n",
            b"not http at all\r\n\r\n",
        ] {
            assert!(stream_request(bytes, events).is_none(), "{}", String::from_utf8_lossy(bytes));
        }
    }

    /// The bytes a client reads when `frames` are copied as a body.
    async fn copied(frames: Vec<&'static str>, chunked: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let body = Body::from_stream(futures_util::stream::iter(
            frames
                .into_iter()
                .map(|frame| Ok::<_, std::convert::Infallible>(Bytes::from_static(frame.as_bytes()))),
        ));
        copy_body(&server, body, chunked).await.unwrap();
        drop(server);
        let mut read = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut client, &mut read).await.unwrap();
        read
    }

    #[tokio::test]
    async fn frames_ready_together_are_chunked_in_order_and_the_body_ends() {
        let frames = vec!["event: a\n\n", "", "event: bb\ndata: 1234567\n\n", "x"];
        assert_eq!(
            copied(frames.clone(), true).await,
            "a\r\nevent: a\n\n\r\n19\r\nevent: bb\ndata: 1234567\n\n\r\n1\r\nx\r\n0\r\n\r\n"
        );
        assert_eq!(copied(frames, false).await, "event: a\n\nevent: bb\ndata: 1234567\n\nx");
        // More frames than one write takes.
        let many: Vec<&'static str> = std::iter::repeat_n("ab", MOST_FRAMES_PER_WRITE * 2 + 1).collect();
        assert_eq!(
            copied(many, true).await,
            format!("{}0\r\n\r\n", "2\r\nab\r\n".repeat(MOST_FRAMES_PER_WRITE * 2 + 1))
        );
    }

    #[test]
    fn the_head_frames_the_body_and_closes() {
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "text/event-stream")
            .header("connection", "keep-alive")
            .body(())
            .unwrap();
        let (parts, ()) = response.into_parts();
        let streamed = String::from_utf8(head_of(&parts, None)).unwrap();
        assert!(streamed.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ndate: "));
        assert!(streamed.ends_with("transfer-encoding: chunked\r\nconnection: close\r\n\r\n"));
        assert!(!streamed.contains("keep-alive"));
        let sized = String::from_utf8(head_of(&parts, Some(12))).unwrap();
        assert!(sized.contains("content-length: 12\r\n") && !sized.contains("chunked"));
    }
}
