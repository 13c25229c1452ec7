//! The accept loop: HTTP/1.1 connections served by hyper with a bound on
//! reading a request's headers (axum's own `serve` sets no timer, so a client
//! trickling headers could hold a connection, and a task, for ever), each
//! request carrying the peer's address (`ConnectInfo`). When `stopping` turns
//! true the listener closes, idle connections close, and requests under way
//! finish (the caller bounds how long that may take). A connection that opens
//! with a request for a live stream is answered by `stream_connection`, which
//! holds less memory per connection than hyper does; every other goes to hyper.

use super::limits::streams;
use super::stream_connection::{answer, take_stream_request};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `router` on `listener` until `stopping` is true, then waits for the
/// connections under way to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = &error as &dyn std::error::Error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stopping) => break,
        };
        // Answers and live events go out when written, not after the client's
        // delayed ACK of the previous segment (Nagle's algorithm).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(error = &error as &dyn std::error::Error, %peer, "cannot turn off Nagle's algorithm");
        }
        let router = router.clone();
        let mut stop = stopping.clone();
        connections.spawn(async move {
            let mut stream = stream;
            // What the client sends first: a live stream, answered apart, or anything else.
            let first = tokio::select! {
                taken = tokio::time::timeout(header_read_timeout, take_stream_request(&mut stream, streams)) => taken,
                () = stopped(&mut stop) => return,
            };
            match first {
                Ok(Ok(Some(request))) => return answer(stream, request, router, peer).await,
                Ok(Ok(None)) => {}
                Ok(Err(error)) => {
                    tracing::debug!(error = &error as &dyn std::error::Error, %peer, "connection ended before a request");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "no request within the header-read timeout");
                    return;
                }
            }
            // Boxed: a stream's task then holds a pointer, not room for hyper's connection state.
            Box::pin(with_hyper(stream, router, peer, header_read_timeout, stop)).await;
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Serves every request on `stream` with hyper until the client is done, or
/// until `stop`, after which the request under way finishes.
async fn with_hyper(
    stream: TcpStream,
    router: Router,
    peer: SocketAddr,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(error) = served {
                tracing::debug!(error = &error as &dyn std::error::Error, %peer, "connection ended with an error");
            }
        }
        () = stopped(&mut stop) => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// Resolves once `stopping` is true (or its sender is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}
