//! The middleware every request passes through, outermost first: a request id, a tracing span,
//! panic containment, metrics, a deadline and the body-size limit.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use super::ApiError;
use crate::metrics::{Metrics, record_http};

/// The largest request body accepted; larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a request may take before it is answered 503.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Puts the application's routes behind the shared middleware, with problem+json answers for
/// unknown paths (404) and methods (405).
pub fn serve_behind_middleware(
    router: Router,
    timeout: RequestTimeout,
    metrics: Arc<Metrics>,
) -> Router {
    router
        .fallback(|| async { ApiError::not_found("there is nothing at this path") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn_with_state(timeout, enforce_deadline))
        .layer(from_fn_with_state(metrics, record_http))
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                // Failures are logged where they are understood (a 500's cause by ApiError); a
                // 503 during an outage is not an error of this process.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG))
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id,
                    )
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn enforce_deadline(
    State(RequestTimeout(limit)): State<RequestTimeout>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis(), "request timed out");
            ApiError::service_unavailable("the request took too long; try again shortly", 1)
                .into_response()
        }
    }
}
