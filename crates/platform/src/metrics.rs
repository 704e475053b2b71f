//! Prometheus metrics, in the OpenMetrics text format at `/metrics`.
//!
//! One registry per application (not a process-global one), so several applications in one
//! process — as in tests — keep separate counts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::ApiError;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

type LatencyFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

/// The application's metrics registry and the HTTP metrics every request feeds.
pub struct Metrics {
    registry: Mutex<Registry>,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: LatencyFamily,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~16 s, doubling.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0005, 2.0, 16,
    ))
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("mybnb");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route and status",
            http_latency.clone(),
        );
        Arc::new(Metrics {
            registry: Mutex::new(registry),
            http_requests,
            http_latency,
        })
    }

    /// Registers a context's own metric.
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .register(name, help, metric);
    }

    fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = HttpLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        prometheus_client::encoding::text::encode(&mut text, &registry)?;
        Ok(text)
    }
}

/// Counts and times every request by its route template (`/rooms/{id}`, not the id), so the
/// number of series stays bounded.
pub async fn record_http(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = tokio::time::Instant::now();
    let response = next.run(request).await;
    metrics.observe_http(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `/metrics`.
pub fn router(metrics: Arc<Metrics>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(scrape))
        .with_state(metrics)
}

/// The application's metrics, in the OpenMetrics text format that Prometheus scrapes.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text")))]
async fn scrape(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.encode() {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        Err(error) => {
            ApiError::internal(anyhow::anyhow!("encoding metrics: {error}")).into_response()
        }
    }
}
