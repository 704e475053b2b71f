//! Liveness and readiness.
//!
//! Every component a process depends on (a context's database, later a broker or a peer
//! service) registers here and reports whether it is usable. The process is ready when all of
//! them are and it is not shutting down; load balancers and Kubernetes read `/health/ready`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::ApiError;

/// The state of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentStatus {
    /// Not usable yet, with the reason (e.g. "connecting: connection refused").
    Starting(String),
    Ready,
    /// Usable, but impaired (e.g. a circuit breaker open): reported, still ready.
    Degraded(String),
}

/// The process's readiness, shared by the components that report into it.
#[derive(Clone)]
pub struct Readiness {
    components: Arc<RwLock<BTreeMap<String, ComponentStatus>>>,
    draining: Arc<AtomicBool>,
    /// Bumped on every change, so that tasks can await a component.
    changes: Arc<tokio::sync::watch::Sender<()>>,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            components: Arc::default(),
            draining: Arc::default(),
            changes: Arc::new(tokio::sync::watch::Sender::new(())),
        }
    }
}

/// The body of `/health/ready`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadinessReport {
    /// `ready`, `degraded` (ready, but a component is impaired), `starting` or `draining`.
    pub status: &'static str,
    /// Each component's state: `ready`, or why it is not.
    pub checks: BTreeMap<String, String>,
}

impl Readiness {
    pub fn set(&self, component: &str, status: ComponentStatus) {
        // A poisoned lock only means another thread panicked mid-update of a plain map; the
        // map itself is still consistent, so keep using it.
        let mut components = self
            .components
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        components.insert(component.to_owned(), status);
        drop(components);
        self.changes.send_replace(());
    }

    /// Resolves once the component is usable (ready or degraded).
    pub async fn usable(&self, component: &str) {
        let mut changes = self.changes.subscribe();
        loop {
            let usable = self
                .components
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get(component)
                .is_some_and(|status| !matches!(status, ComponentStatus::Starting(_)));
            if usable || changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// True once every component is ready (whether or not the process is shutting down).
    pub fn is_started(&self) -> bool {
        self.components
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .all(|status| !matches!(status, ComponentStatus::Starting(_)))
    }

    /// From now on the process reports not ready, so traffic moves elsewhere.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn report(&self) -> ReadinessReport {
        let checks: BTreeMap<String, String> = self
            .components
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(name, status)| {
                let state = match status {
                    ComponentStatus::Ready => "ready".to_owned(),
                    ComponentStatus::Starting(reason) => reason.clone(),
                    ComponentStatus::Degraded(reason) => format!("degraded: {reason}"),
                };
                (name.clone(), state)
            })
            .collect();
        let degraded = checks
            .values()
            .any(|state: &String| state.starts_with("degraded"));
        let status = if self.draining.load(Ordering::SeqCst) {
            "draining"
        } else if !self.is_started() {
            "starting"
        } else if degraded {
            "degraded"
        } else {
            "ready"
        };
        ReadinessReport { status, checks }
    }
}

/// `/health/live` and `/health/ready`.
pub fn router(readiness: Readiness) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .with_state(readiness)
}

/// Answers 503 to requests for a context whose components have not started yet (its database
/// is still being migrated, say), instead of letting them fail on the way.
pub async fn refuse_until_started(
    State(readiness): State<Readiness>,
    request: Request,
    next: Next,
) -> Response {
    if readiness.is_started() {
        next.run(request).await
    } else {
        ApiError::service_unavailable("the service is starting; try again shortly", 1)
            .into_response()
    }
}

/// Whether the process is running.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process is running")))]
async fn live() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "live" }))
}

/// Whether the process can take traffic: every component ready and not shutting down.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses(
    (status = 200, description = "Ready for traffic", body = ReadinessReport),
    (status = 503, description = "Starting or shutting down; `checks` says why",
        body = crate::http::ProblemDocument, content_type = "application/problem+json"),
))]
async fn ready(State(readiness): State<Readiness>) -> Response {
    let report = readiness.report();
    if matches!(report.status, "ready" | "degraded") {
        return axum::Json(report).into_response();
    }
    let detail = format!("the service is {}", report.status);
    let checks = serde_json::to_value(&report.checks).unwrap_or_default();
    ApiError::service_unavailable(detail, 1)
        .with_extension("checks", checks)
        .into_response()
}
