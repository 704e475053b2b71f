//! The gateway under test: [`mybnb_gateway::router`] served on 127.0.0.1 behind the platform's
//! middleware, with `/health/ready` and `/metrics`, as the mybnb binary serves it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use mybnb_gateway::{GatewayConfig, Host, UpstreamConfig};
use mybnb_platform::health::Readiness;
use mybnb_platform::http::{RequestTimeout, serve_behind_middleware};
use mybnb_platform::metrics::Metrics;
use reqwest::{RequestBuilder, StatusCode};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::instance::Echo;
use super::{SETTLE_WITHIN, service_token, verifier};

/// How long a request may take at the gateway; answers that must come "at once" come far sooner.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the gateway checks its instances unless a test says otherwise.
pub const CHECK_EVERY: Duration = Duration::from_millis(20);

/// A running gateway and a client for it. Dropping it stops it.
pub struct Gateway {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    stop: CancellationToken,
    /// The instance checks; dropping the set ends them.
    _checks: JoinSet<()>,
    server: JoinHandle<()>,
}

/// The `rooms` service, which owns `/rooms`, on these instances.
pub fn rooms(instances: Vec<Url>) -> UpstreamConfig {
    UpstreamConfig {
        service: "rooms",
        paths: &["/rooms"],
        instances,
        honours_idempotency_keys: true,
    }
}

/// The `users` service, which owns `/users`, on these instances.
pub fn users(instances: Vec<Url>) -> UpstreamConfig {
    UpstreamConfig {
        service: "users",
        paths: &["/users"],
        instances,
        honours_idempotency_keys: false,
    }
}

impl Gateway {
    /// Starts a gateway in front of `services`, checking every [`CHECK_EVERY`], and waits until
    /// it has checked every instance once.
    pub async fn start(services: Vec<UpstreamConfig>) -> Gateway {
        Gateway::start_checking_every(services, CHECK_EVERY).await
    }

    pub async fn start_checking_every(
        services: Vec<UpstreamConfig>,
        health_interval: Duration,
    ) -> Gateway {
        let components: Vec<String> = services
            .iter()
            .map(|service| format!("upstream.{}", service.service))
            .collect();
        let readiness = Readiness::default();
        let metrics = Metrics::new();
        let stop = CancellationToken::new();
        let mut checks = JoinSet::new();
        let gateway = mybnb_gateway::router(
            GatewayConfig {
                upstreams: services,
                health_interval,
                connect_timeout: Duration::from_secs(1),
            },
            Host {
                verifier: verifier(),
                service_token: service_token(),
                readiness: &readiness,
                metrics: &metrics,
                background: &mut checks,
                stop: &stop,
            },
        );
        let operations: Router = mybnb_platform::health::router(readiness.clone())
            .merge(mybnb_platform::metrics::router(metrics.clone()))
            .into();
        let router = serve_behind_middleware(
            gateway.merge(operations),
            RequestTimeout(REQUEST_TIMEOUT),
            metrics,
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let address = listener.local_addr().expect("a bound listener's address");
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("the gateway serves until it is stopped");
        });
        for component in &components {
            tokio::time::timeout(SETTLE_WITHIN, readiness.usable(component))
                .await
                .unwrap_or_else(|_| panic!("the gateway never checked {component}'s instances"));
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a reqwest client");
        Gateway {
            address,
            client,
            stop,
            _checks: checks,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    /// Sends `request`, expects 200 and reads what the instance that answered received.
    pub async fn echo(&self, request: RequestBuilder) -> Echo {
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        let body = response.text().await.expect("a readable body");
        assert_eq!(status, StatusCode::OK, "an instance's answer, got: {body}");
        serde_json::from_str(&body).expect("an instance's echo")
    }

    /// Sends `GET path` and tells which instance answered.
    pub async fn answered_by(&self, path: &str) -> String {
        self.echo(self.get(path)).await.instance
    }

    /// What the gateway's `/health/ready` says about a service.
    pub async fn readiness_of(&self, service: &str) -> String {
        let body: serde_json::Value = self
            .get("/health/ready")
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("a readiness report");
        body["checks"][format!("upstream.{service}")]
            .as_str()
            .unwrap_or_else(|| panic!("no check for {service} in {body}"))
            .to_owned()
    }

    /// A counter's value in `/metrics` (`series` with its labels); 0 when it has no sample.
    pub async fn metric(&self, series: &str) -> u64 {
        let text = self
            .get("/metrics")
            .send()
            .await
            .expect("the gateway answers")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0, |value| value.trim().parse().expect("a counter's value"))
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.cancel();
        self.server.abort();
    }
}
