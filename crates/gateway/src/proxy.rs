//! Forwarding one request: the caller's token is verified here, once, and what it says is
//! passed on with the client's address ([`mybnb_platform::forwarded`]); the response streams
//! back as it comes (the notification stream never ends).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONNECTION, HOST};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_body_util::Full;
use mybnb_platform::auth::{ServiceToken, TokenVerifier};
use mybnb_platform::forwarded::{vouch, vouched_client};
use mybnb_platform::http::{ApiError, MAX_BODY_BYTES};

use crate::upstream::{Upstream, repeatable};

/// What every route of one service shares.
pub(crate) struct Proxy {
    pub(crate) upstream: Arc<Upstream>,
    pub(crate) verifier: TokenVerifier,
    pub(crate) token: ServiceToken,
    /// Whether the service honours `Idempotency-Key` ([`crate::UpstreamConfig`]).
    pub(crate) keyed: bool,
}

/// Headers about one connection, not the request (RFC 9110 §7.6.1): never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub(crate) async fn forward(proxy: &Proxy, client: SocketAddr, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::payload_too_large(format!(
            "the request body is over the limit of {MAX_BODY_BYTES} bytes"
        ))
        .into_response();
    };
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    if let Some(host) = headers.remove(HOST) {
        headers.insert("x-forwarded-host", host);
    }
    let caller = proxy.verifier.caller(&headers);
    let client = vouched_client(&headers, &proxy.token).unwrap_or(client);
    vouch(&mut headers, &proxy.token, caller.as_ref(), client);
    append_forwarded_for(&mut headers, client);
    let repeatable = repeatable(&parts.method, &headers, proxy.keyed);
    let mut forwarded = axum::http::Request::new(Full::new(body));
    *forwarded.method_mut() = parts.method;
    *forwarded.uri_mut() = parts.uri;
    *forwarded.headers_mut() = headers;
    match proxy.upstream.send(forwarded, repeatable).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Body::new(body))
        }
        Err(error) => error.into_response(),
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Adds the client to the chain of addresses earlier proxies left, which may span several
/// header lines (RFC 9110 §5.3).
fn append_forwarded_for(headers: &mut HeaderMap, client: SocketAddr) {
    let mut chain: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect();
    chain.push(client.ip().to_string());
    if let Ok(value) = HeaderValue::from_str(&chain.join(", ")) {
        headers.insert("x-forwarded-for", value);
    }
}
