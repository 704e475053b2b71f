//! What every scenario measures with: percentiles of samples (nearest rank, as the tables
//! use), signed time between instants, answers counted by kind, and a progress line a second.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mybnb_client::ApiError;
use serde::Serialize;
use tokio::task::JoinHandle;

/// The spread of one measurement, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spread {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Spread {
    /// The spread of `samples_us` (microseconds, may be negative); all zero when empty.
    pub fn of(mut samples_us: Vec<i64>) -> Spread {
        samples_us.sort_unstable();
        let at = |p: f64| {
            let index = ((samples_us.len() as f64 * p).ceil() as usize).saturating_sub(1);
            samples_us.get(index).copied().unwrap_or_default() as f64 / 1000.0
        };
        Spread {
            count: samples_us.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Microseconds from `earlier` to `later`, negative when `later` came first.
pub fn micros_between(earlier: Instant, later: Instant) -> i64 {
    match later.checked_duration_since(earlier) {
        Some(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        None => -i64::try_from((earlier - later).as_micros()).unwrap_or(i64::MAX),
    }
}

/// Adds one to `kind`'s count.
pub fn tally(counts: &mut BTreeMap<String, u64>, kind: impl Into<String>) {
    *counts.entry(kind.into()).or_default() += 1;
}

/// How a request that got no answer failed, short enough to count by.
pub fn transport_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "broken body"
    } else {
        "transport error"
    }
}

/// What went wrong with a request that got no answer: its kind, and with `detailed` its
/// causes ("timed out: …: …").
pub fn failure(error: &reqwest::Error, detailed: bool) -> String {
    let mut text = transport_kind(error).to_owned();
    if detailed {
        text.push_str(&format!(": {error}"));
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
    }
    text
}

/// A booking call's outcome: 201 and the booking, a refusal's status, or how it failed.
pub fn booked<T>(answer: Result<T, ApiError>) -> (Result<u16, String>, Option<T>) {
    match answer {
        Ok(value) => (Ok(201), Some(value)),
        Err(ApiError::Transport(error)) => (Err(failure(&error, false)), None),
        Err(error) => (Ok(error.status().map_or(0, |status| status.as_u16())), None),
    }
}

/// Prints `"   <seconds> s  <line()>"` every second until aborted.
pub fn every_second(
    started: Instant,
    mut line: impl FnMut() -> String + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            eprintln!("   {:>3.0} s  {}", started.elapsed().as_secs_f64(), line());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let spread = Spread::of((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(spread.count, 100);
        assert_eq!(spread.p50_ms, 50.0);
        assert_eq!(spread.p90_ms, 90.0);
        assert_eq!(spread.p99_ms, 99.0);
        assert_eq!(spread.max_ms, 100.0);
        assert_eq!(Spread::of(Vec::new()).max_ms, 0.0);
    }
}
