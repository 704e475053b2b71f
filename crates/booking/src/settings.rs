//! Booking's settings: where it reaches room and payment when they run in other processes, how
//! the payment call is guarded, and when the reconciler decides what a request left undecided.

use std::time::Duration;

use mybnb_platform::db::redact_url;
use mybnb_platform::settings::{
    Invalid, Section, at_least_one, described, http_url, invalid, millis,
};
use serde::Deserialize;
use url::Url;

use crate::links::BreakerSettings;

#[derive(Debug, Clone)]
pub struct BookingSettings {
    /// Where booking reaches payment and room when they run in other processes.
    pub payment_service_url: Option<Url>,
    pub room_service_url: Option<Url>,
    pub payment_breaker: BreakerSettings,
    pub reconcile_interval: Duration,
    /// A PENDING booking older than this is decided by the reconciler.
    pub reconcile_stale_after: Duration,
    /// A stay begins at most this many days after today.
    pub horizon_days: u32,
}

#[derive(Deserialize)]
#[serde(default)]
pub struct RawBookingSettings {
    payment_service_url: Option<String>,
    room_service_url: Option<String>,
    payment_timeout_ms: u64,
    payment_max_concurrent: usize,
    payment_breaker_window_ms: u64,
    payment_breaker_minimum_calls: usize,
    payment_breaker_failure_rate: f64,
    payment_breaker_slow_call_ms: Option<u64>,
    payment_breaker_slow_call_rate: f64,
    payment_breaker_open_ms: u64,
    payment_breaker_half_open_calls: usize,
    reconcile_interval_ms: u64,
    reconcile_stale_after_ms: Option<u64>,
    booking_horizon_days: u32,
}

impl Default for RawBookingSettings {
    fn default() -> Self {
        RawBookingSettings {
            payment_service_url: None,
            room_service_url: None,
            payment_timeout_ms: 610,
            payment_max_concurrent: 256,
            payment_breaker_window_ms: 10_000,
            payment_breaker_minimum_calls: 20,
            payment_breaker_failure_rate: 0.5,
            payment_breaker_slow_call_ms: None,
            payment_breaker_slow_call_rate: 0.8,
            payment_breaker_open_ms: 5_000,
            payment_breaker_half_open_calls: 5,
            reconcile_interval_ms: 30_000,
            reconcile_stale_after_ms: None,
            booking_horizon_days: 365,
        }
    }
}

/// A rate of calls: above 0 and at most 1.
fn rate(key: &'static str, rate: f64) -> Result<f64, Invalid> {
    if rate > 0.0 && rate <= 1.0 {
        Ok(rate)
    } else {
        Err(invalid(key, "must be above 0.0 and at most 1.0"))
    }
}

impl Section for BookingSettings {
    type Raw = RawBookingSettings;

    fn validate(raw: RawBookingSettings) -> Result<BookingSettings, Invalid> {
        let url = |key, url: Option<String>| url.map(|url| http_url(key, &url)).transpose();
        let payment_service_url = url("payment_service_url", raw.payment_service_url)?;
        let room_service_url = url("room_service_url", raw.room_service_url)?;
        let payment_timeout = millis("payment_timeout_ms", raw.payment_timeout_ms)?;
        let failure_rate = rate(
            "payment_breaker_failure_rate",
            raw.payment_breaker_failure_rate,
        )?;
        let slow_call_rate = rate(
            "payment_breaker_slow_call_rate",
            raw.payment_breaker_slow_call_rate,
        )?;
        let payment_breaker = BreakerSettings {
            timeout: payment_timeout,
            max_concurrent: at_least_one("payment_max_concurrent", raw.payment_max_concurrent)?,
            minimum_calls: at_least_one(
                "payment_breaker_minimum_calls",
                raw.payment_breaker_minimum_calls,
            )?,
            half_open_calls: at_least_one(
                "payment_breaker_half_open_calls",
                raw.payment_breaker_half_open_calls,
            )?,
            window: millis("payment_breaker_window_ms", raw.payment_breaker_window_ms)?,
            failure_rate,
            slow_call: raw
                .payment_breaker_slow_call_ms
                .map_or(payment_timeout, Duration::from_millis),
            slow_call_rate,
            open_for: Duration::from_millis(raw.payment_breaker_open_ms),
        };
        let reconcile_interval = millis("reconcile_interval_ms", raw.reconcile_interval_ms)?;
        // Past this, a PENDING booking's request has surely given up on payment.
        let reconcile_stale_after = raw.reconcile_stale_after_ms.map_or(
            payment_timeout * 2 + Duration::from_secs(30),
            Duration::from_millis,
        );
        // A request still waiting for payment must never be overtaken by the reconciler.
        if reconcile_stale_after <= payment_timeout {
            return Err(invalid(
                "reconcile_stale_after_ms",
                format!(
                    "must be longer than payment_timeout_ms ({})",
                    payment_timeout.as_millis()
                ),
            ));
        }
        Ok(BookingSettings {
            payment_service_url,
            room_service_url,
            payment_breaker,
            reconcile_interval,
            reconcile_stale_after,
            horizon_days: at_least_one("booking_horizon_days", raw.booking_horizon_days)?,
        })
    }

    fn describe(&self) -> Vec<(String, String)> {
        let mut described_urls = Vec::new();
        for (key, url) in [
            ("payment_service_url", &self.payment_service_url),
            ("room_service_url", &self.room_service_url),
        ] {
            if let Some(url) = url {
                described_urls.push(described(key, redact_url(url.as_str())));
            }
        }
        let breaker = &self.payment_breaker;
        described_urls.into_iter().chain([
            described("payment_timeout_ms", breaker.timeout.as_millis()),
            described("payment_max_concurrent", breaker.max_concurrent),
            described(
                "payment_breaker",
                format!(
                    "window_ms={} minimum_calls={} failure_rate={} slow_call_ms={} slow_call_rate={} open_ms={} half_open_calls={}",
                    breaker.window.as_millis(),
                    breaker.minimum_calls,
                    breaker.failure_rate,
                    breaker.slow_call.as_millis(),
                    breaker.slow_call_rate,
                    breaker.open_for.as_millis(),
                    breaker.half_open_calls
                ),
            ),
            described("reconcile_interval_ms", self.reconcile_interval.as_millis()),
            described(
                "reconcile_stale_after_ms",
                self.reconcile_stale_after.as_millis(),
            ),
            described("booking_horizon_days", self.horizon_days),
        ]).collect()
    }
}
