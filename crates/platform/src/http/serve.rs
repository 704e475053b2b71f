//! Serving a router on a listener, as every mybnb listener does: HTTP/1.1 with a bound on
//! reading each request's head — counted from when the connection opens or falls idle after a
//! response, so a half-sent request and an idle keep-alive connection are both closed once it
//! passes — and a cap on open connections: one over the cap is answered `503` with
//! `Retry-After` and closed, so that a flood of connections cannot take every file the process
//! may open. Written on hyper's connection API because `axum::serve` sets neither bound.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// What a listener allows its connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The longest a connection may take to send a request's head, from when it opens or
    /// falls idle: it bounds half-sent requests and idle keep-alive connections alike.
    pub header_timeout: Duration,
    /// Connections open at once; one more is turned away with a 503.
    pub max_connections: usize,
}

/// How long a mybnb process keeps an idle pooled connection to another's listener: less than
/// the listeners' default header timeout, so that a listener never closes a connection just as
/// the pool hands it out.
pub const CLIENT_POOL_IDLE: Duration = Duration::from_secs(15);

/// Connections being turned away at once; past these, one over the cap is closed unanswered.
const TURNING_AWAY: usize = 64;

/// How long a turned-away connection is given to send its request before the answer: closing a
/// socket with unread data resets it, and the client would see a reset, not the 503.
const READ_BEFORE_TURNING_AWAY: Duration = Duration::from_millis(500);

/// The problem document a connection over the cap is answered with.
const TURNED_AWAY: &str = r#"{"type":"/problems/unavailable","title":"Service Unavailable","status":503,"detail":"too many connections are open; try again shortly"}"#;

/// Serves `router` on `listener` within `limits` until `closing` completes, then stops
/// accepting and waits for the open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    closing: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut connection = http1::Builder::new();
    connection
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let turning_away = Arc::new(Semaphore::new(TURNING_AWAY));
    let graceful = GracefulShutdown::new();
    tokio::pin!(closing);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of files, or a connection reset while queued: take a breath.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut closing => break,
        };
        let Ok(slot) = open.clone().try_acquire_owned() else {
            if let Ok(turn) = turning_away.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    turn_away(stream).await;
                    drop(turn);
                });
            }
            continue;
        };
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let served =
            connection.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let served = graceful.watch(served);
        tokio::spawn(async move {
            if let Err(error) = served.await {
                tracing::debug!(%error, %peer, "a connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers a connection over the cap with a 503 and closes it.
async fn turn_away(mut stream: TcpStream) {
    let mut request = [0; 4096];
    let _ = tokio::time::timeout(READ_BEFORE_TURNING_AWAY, stream.read(&mut request)).await;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{TURNED_AWAY}",
        TURNED_AWAY.len()
    );
    // A client that is gone already is as good as told.
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}
