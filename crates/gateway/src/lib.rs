//! mybnb's gateway: one public address in front of every context's instances.
//!
//! Requests are routed by path to the service that owns it, so a client sees the same API as
//! the all-in-one process. Each service's instances sit behind a power-of-two-choices balancer
//! (tower `balance`), which holds only the instances whose readiness check passes; an instance
//! that cannot be reached is taken out at once, and a request that is safe to repeat is sent
//! once more to another. The caller's token is verified here and what it says is passed on
//! ([`mybnb_platform::forwarded`]).

mod document;
mod endpoint;
mod metrics;
mod proxy;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::routing::{any, get};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mybnb_platform::auth::{ServiceToken, TokenVerifier};
use mybnb_platform::health::Readiness;
use mybnb_platform::http::CLIENT_POOL_IDLE;
use mybnb_platform::metrics::Metrics;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::endpoint::Instance;
use crate::metrics::GatewayMetrics;
use crate::proxy::{Proxy, forward};
use crate::upstream::Upstream;

/// One service behind the gateway.
pub struct UpstreamConfig {
    pub service: &'static str,
    /// The path prefixes it owns: each matches itself and everything below it, but `/`, which
    /// matches only itself.
    pub paths: &'static [&'static str],
    /// Its instances' base URLs.
    pub instances: Vec<url::Url>,
    /// Whether a request carrying an `Idempotency-Key` has its effect once however often it is
    /// sent: then such a request is sent again to another instance when the first fails.
    pub honours_idempotency_keys: bool,
}

pub struct GatewayConfig {
    pub upstreams: Vec<UpstreamConfig>,
    /// How often each instance's readiness is checked.
    pub health_interval: Duration,
    /// How long connecting to an instance (and its readiness check) may take.
    pub connect_timeout: Duration,
}

/// What the gateway needs from the application it runs in.
pub struct Host<'a> {
    pub verifier: TokenVerifier,
    pub service_token: ServiceToken,
    pub readiness: &'a Readiness,
    pub metrics: &'a Metrics,
    pub background: &'a mut JoinSet<()>,
    pub stop: &'a CancellationToken,
}

/// The gateway's routes; its instance checks run in `host.background` until `host.stop`.
/// Must be called within a Tokio runtime. Requests need `ConnectInfo<SocketAddr>`.
pub fn router(config: GatewayConfig, host: Host<'_>) -> Router {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(config.connect_timeout));
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(CLIENT_POOL_IDLE)
        .build(connector);
    let metrics = GatewayMetrics::register(host.metrics);
    let mut router = Router::new();
    let mut upstreams = Vec::new();
    for upstream in config.upstreams {
        let instances: Vec<Instance> = upstream
            .instances
            .iter()
            .map(|url| Instance::from(url.as_str()))
            .collect();
        let balanced = Arc::new(Upstream::new(
            upstream.service,
            &instances,
            client.clone(),
            host.readiness.clone(),
            metrics.clone(),
        ));
        let (watched, stop) = (balanced.clone(), host.stop.clone());
        let (interval, timeout) = (config.health_interval, config.connect_timeout);
        host.background
            .spawn(async move { watched.watch(interval, timeout, stop).await });
        upstreams.push(balanced.clone());
        let proxy = Arc::new(Proxy {
            upstream: balanced,
            verifier: host.verifier.clone(),
            token: host.service_token.clone(),
            keyed: upstream.honours_idempotency_keys,
        });
        for path in upstream.paths {
            let handler = {
                let proxy = proxy.clone();
                any(
                    move |ConnectInfo(client): ConnectInfo<SocketAddr>, request: Request| async move {
                        forward(&proxy, client, request).await
                    },
                )
            };
            if *path == "/" {
                router = router.route(path, handler);
                continue;
            }
            // A catch-all matches one character or more, so `{path}/` needs a route of its own.
            router = router
                .route(path, handler.clone())
                .route(&format!("{path}/"), handler.clone())
                .route(&format!("{path}/{{*rest}}"), handler);
        }
    }
    let upstreams = Arc::new(upstreams);
    router.route(
        "/openapi.json",
        get(move || async move { document::merged(&upstreams).await }),
    )
}
