//! Percentiles of a run's samples (nearest rank, as the bookings tables use).

use serde::Serialize;

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
pub fn micros_between(earlier: std::time::Instant, later: std::time::Instant) -> i64 {
    match later.checked_duration_since(earlier) {
        Some(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        None => -i64::try_from((earlier - later).as_micros()).unwrap_or(i64::MAX),
    }
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
