//! A per-client-address limit on sign-up and token requests, against password guessing and
//! sign-up floods. Uses `governor`'s keyed GCRA limiter: a burst of the per-minute allowance,
//! then one request per 1/n minute.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use mybnb_platform::http::ApiError;

/// Above this many tracked addresses, addresses whose allowance has refilled are forgotten.
const TRACKED_ADDRESSES: usize = 10_000;

#[derive(Clone)]
pub struct PerAddress(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl PerAddress {
    pub fn new(attempts_per_minute: NonZeroU32) -> Self {
        PerAddress(Arc::new(RateLimiter::keyed(Quota::per_minute(
            attempts_per_minute,
        ))))
    }
}

pub async fn limit(State(limiter): State<PerAddress>, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| {
            peer.ip()
        });
    if limiter.0.len() > TRACKED_ADDRESSES {
        limiter.0.retain_recent();
    }
    match limiter.0.check_key(&address) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tracing::warn!(%address, "rate limit reached");
            ApiError::too_many_requests(wait.as_secs() + 1).into_response()
        }
    }
}
