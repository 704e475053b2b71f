//! Instances of a service for the gateway to stand in front of: small axum servers on
//! 127.0.0.1 whose readiness the test switches, and whose routes say which instance answered
//! and what it received.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use mybnb_platform::auth::Caller;
use mybnb_platform::forwarded::trust_gateway;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use url::Url;

use super::{eventually, service_token};

/// One running instance. Dropping it stops it.
pub struct Instance {
    pub name: &'static str,
    pub address: SocketAddr,
    state: Arc<InstanceState>,
    server: JoinHandle<()>,
}

struct InstanceState {
    name: &'static str,
    ready: AtomicBool,
    /// Readiness checks received, counted as they arrive.
    checks: watch::Sender<u64>,
    /// Requests answered other than readiness checks and documents.
    served: AtomicUsize,
    /// Lets `/{prefix}/stream` send its second event.
    release: Notify,
}

/// What an instance says it received: its answer to every route but a few special ones.
#[derive(Debug, Deserialize)]
pub struct Echo {
    pub instance: String,
    pub method: String,
    /// The path and query.
    pub uri: String,
    /// The headers as they arrived, before `trust_gateway` (repeated ones joined by ", ").
    pub headers: BTreeMap<String, String>,
    /// The caller `trust_gateway` believed the request came from.
    pub caller: Option<EchoCaller>,
    /// The client address `trust_gateway` believed.
    pub client: Option<SocketAddr>,
    pub body: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct EchoCaller {
    pub user_id: uuid::Uuid,
    pub username: String,
}

/// How an instance serves its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    On,
    /// Every connection carries one exchange; so a killed instance has no connection the
    /// gateway could still send on, and reaching it fails to connect.
    Off,
}

impl Instance {
    /// Starts a ready instance. Its `/openapi.json` documents one path, `/{name}`.
    pub async fn start(name: &'static str) -> Instance {
        Instance::start_with(name, KeepAlive::On).await
    }

    pub async fn start_with(name: &'static str, keep_alive: KeepAlive) -> Instance {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        Instance::serve(name, listener, keep_alive)
    }

    /// Starts an instance again on the address a killed one had.
    pub async fn restart(name: &'static str, address: SocketAddr) -> Instance {
        let listener = TcpListener::bind(address)
            .await
            .expect("the killed instance's port to be free");
        Instance::serve(name, listener, KeepAlive::On)
    }

    fn serve(name: &'static str, listener: TcpListener, keep_alive: KeepAlive) -> Instance {
        let address = listener.local_addr().expect("a bound listener's address");
        let state = Arc::new(InstanceState {
            name,
            ready: AtomicBool::new(true),
            checks: watch::Sender::new(0),
            served: AtomicUsize::new(0),
            release: Notify::new(),
        });
        let router = app(state.clone());
        let server = tokio::spawn(serve(listener, router, keep_alive));
        Instance {
            name,
            address,
            state,
            server,
        }
    }

    /// The base URL the gateway is configured with.
    pub fn url(&self) -> Url {
        base_url(self.address)
    }

    /// Makes `/health/ready` answer 200 (ready) or 503.
    pub fn set_ready(&self, ready: bool) {
        self.state.ready.store(ready, Ordering::SeqCst);
    }

    /// Waits until the gateway has acted on this instance's readiness as it is now: until two
    /// more checks have arrived, the first of which saw the current readiness. The gateway
    /// checks again only after it has acted on the previous answer.
    pub async fn await_checked(&self) {
        let mut checks = self.state.checks.subscribe();
        let seen = *checks.borrow_and_update();
        eventually(
            &format!("{} to be checked twice more", self.name),
            async || {
                if *checks.borrow_and_update() >= seen + 2 {
                    Ok(())
                } else {
                    Err("not yet".to_owned())
                }
            },
        )
        .await;
    }

    /// Requests it has answered, other than readiness checks and `/openapi.json`.
    pub fn served(&self) -> usize {
        self.state.served.load(Ordering::SeqCst)
    }

    /// Lets the current `/{prefix}/stream` response send its second event.
    pub fn release_stream(&self) {
        self.state.release.notify_one();
    }

    /// Stops it as a crash would: its listener and every connection close at once.
    pub async fn kill(mut self) -> SocketAddr {
        self.server.abort();
        // The task's end drops the listener and the connections it holds.
        let _ = (&mut self.server).await;
        self.address
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn base_url(address: SocketAddr) -> Url {
    Url::parse(&format!("http://{address}/")).expect("a URL made of an address")
}

fn app(state: Arc<InstanceState>) -> Router {
    Router::new()
        .route("/health/ready", get(readiness))
        .route("/openapi.json", get(document))
        .route("/{prefix}/stream", get(stream))
        .route("/{prefix}/hop", get(hop_by_hop_answer))
        .fallback(echo)
        .layer(from_fn_with_state(service_token(), trust_gateway))
        // Outermost: the headers as they came, before `trust_gateway` strips its own.
        .layer(from_fn(keep_received_headers))
        .with_state(state)
}

/// Each connection is a future of this one task, not a task of its own, so that ending the task
/// closes them all.
async fn serve(listener: TcpListener, router: Router, keep_alive: KeepAlive) {
    let mut connections = FuturesUnordered::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let connection = hyper::server::conn::http1::Builder::new()
                    .keep_alive(keep_alive == KeepAlive::On)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
                connections.push(connection);
            }
            Some(_) = connections.next(), if !connections.is_empty() => {}
        }
    }
}

#[derive(Clone)]
struct Received(HeaderMap);

async fn keep_received_headers(mut request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    request.extensions_mut().insert(Received(headers));
    next.run(request).await
}

async fn readiness(State(state): State<Arc<InstanceState>>) -> StatusCode {
    // Counted before the readiness is read: a check counted after `set_ready` sees it.
    state.checks.send_modify(|checks| *checks += 1);
    if state.ready.load(Ordering::SeqCst) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn document(State(state): State<Arc<InstanceState>>) -> Json<serde_json::Value> {
    let path = format!("/{}", state.name);
    Json(json!({
        "openapi": "3.1.0",
        "info": { "title": state.name, "version": "1" },
        "paths": { path: { "get": { "responses": { "200": { "description": "ok" } } } } },
    }))
}

async fn echo(
    State(state): State<Arc<InstanceState>>,
    Extension(Received(headers)): Extension<Received>,
    request: Request,
) -> Json<serde_json::Value> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .map(|caller| json!({ "user_id": caller.user_id, "username": caller.username }));
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(client)| client.to_string());
    let mut received = BTreeMap::<String, String>::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        received
            .entry(name.as_str().to_owned())
            .and_modify(|joined| *joined = format!("{joined}, {value}"))
            .or_insert(value);
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .expect("a small request body");
    state.served.fetch_add(1, Ordering::SeqCst);
    Json(json!({
        "instance": state.name,
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": received,
        "caller": caller,
        "client": client,
        "body": String::from_utf8_lossy(&body),
    }))
}

/// An event stream: one event now, the next once the test releases it.
async fn stream(State(state): State<Arc<InstanceState>>) -> Response {
    state.served.fetch_add(1, Ordering::SeqCst);
    let events = futures_util::stream::unfold(0, move |sent| {
        let state = state.clone();
        async move {
            let event = match sent {
                0 => "data: first\n\n",
                1 => {
                    state.release.notified().await;
                    "data: second\n\n"
                }
                _ => return None,
            };
            Some((
                Ok::<_, Infallible>(Bytes::from_static(event.as_bytes())),
                sent + 1,
            ))
        }
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(events),
    )
        .into_response()
}

/// An answer with headers about its connection, which the gateway must not pass on.
async fn hop_by_hop_answer(State(state): State<Arc<InstanceState>>) -> Response {
    state.served.fetch_add(1, Ordering::SeqCst);
    (
        [
            ("connection", "x-upstream-hop"),
            ("x-upstream-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("x-upstream-kept", "1"),
        ],
        "hop",
    )
        .into_response()
}

/// An instance that passes its readiness checks but takes every other request and closes the
/// connection without answering: a request that reached an instance and failed there.
pub struct Swallower {
    pub address: SocketAddr,
    swallowed: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl Swallower {
    pub async fn start() -> Swallower {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let address = listener.local_addr().expect("a bound listener's address");
        let swallowed = Arc::new(AtomicUsize::new(0));
        let counter = swallowed.clone();
        let server = tokio::spawn(async move {
            let mut connections = FuturesUnordered::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        connections.push(swallow(stream, counter.clone()));
                    }
                    Some(()) = connections.next(), if !connections.is_empty() => {}
                }
            }
        });
        Swallower {
            address,
            swallowed,
            server,
        }
    }

    pub fn url(&self) -> Url {
        base_url(self.address)
    }

    /// Requests it took and never answered.
    pub fn swallowed(&self) -> usize {
        self.swallowed.load(Ordering::SeqCst)
    }
}

impl Drop for Swallower {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Reads one request's head; answers it if it is a readiness check, else counts it and closes.
async fn swallow(mut stream: TcpStream, swallowed: Arc<AtomicUsize>) {
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    if head.starts_with(b"GET /health/ready ") {
        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    } else {
        // Counted before the connection closes, so that the gateway's answer comes after.
        swallowed.fetch_add(1, Ordering::SeqCst);
    }
}
