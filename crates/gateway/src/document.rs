//! `/openapi.json` at the gateway: the documents of every service, merged, so that it is the
//! same document the all-in-one process serves.

use std::sync::Arc;

use axum::Json;
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full, Limited};
use mybnb_platform::http::ApiError;
use utoipa::openapi::OpenApi;

use crate::upstream::Upstream;

/// A service's document is far smaller; a larger one is refused rather than buffered.
const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

pub(crate) async fn merged(upstreams: &[Arc<Upstream>]) -> Response {
    let mut merged: Option<OpenApi> = None;
    for upstream in upstreams {
        let document = match fetch(upstream).await {
            Ok(document) => document,
            Err(error) => return error.into_response(),
        };
        match &mut merged {
            Some(merged) => merged.merge(document),
            None => merged = Some(document),
        }
    }
    match merged {
        Some(document) => Json(document).into_response(),
        None => ApiError::not_found("the gateway serves no service").into_response(),
    }
}

async fn fetch(upstream: &Arc<Upstream>) -> Result<OpenApi, ApiError> {
    let mut request = Request::new(Full::default());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = axum::http::Uri::from_static("/openapi.json");
    let response = upstream.send(request, true).await?;
    let unreadable = |reason: String| {
        tracing::warn!(
            service = upstream.name(),
            reason,
            "cannot read a service's API document"
        );
        ApiError::service_unavailable(
            format!(
                "the {} service's API document is unavailable",
                upstream.name()
            ),
            1,
        )
    };
    if !response.status().is_success() {
        return Err(unreadable(format!("answered {}", response.status())));
    }
    let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map_err(|error| unreadable(error.to_string()))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|error| unreadable(error.to_string()))
}
