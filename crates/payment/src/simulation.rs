//! The simulated card network: every charge waits the configured latency, then fails as an
//! outage would with `failure_rate`, is declined with `decline_rate`, and is approved otherwise.
//! `MYBNB_PAYMENT_LATENCY_MS` etc. set it, so that a slow or failing provider can be reproduced.
//! `MYBNB_PAYMENT_NETWORK_CONCURRENCY` caps how many authorizations one payment instance has in
//! flight, as a provider's per-client connection limit does: the rest wait their turn.
//!
//! The service calls this connection directly, with no card-network trait between them: it is
//! the one network there is, chosen at compile time.

use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Semaphore;

use crate::domain::{Authorization, PaymentOrder};

/// How long the network takes to answer: a fixed time (`500`) or a uniform range
/// (`400..620`), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    min_ms: u64,
    max_ms: u64,
}

impl Latency {
    pub const NONE: Latency = Latency {
        min_ms: 0,
        max_ms: 0,
    };

    fn sample(self) -> Duration {
        let millis = if self.min_ms == self.max_ms {
            self.min_ms
        } else {
            rand::rng().random_range(self.min_ms..=self.max_ms)
        };
        Duration::from_millis(millis)
    }
}

impl FromStr for Latency {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = |part: &str| {
            part.trim().parse::<u64>().map_err(|_| {
                format!("`{text}` is not milliseconds (`500`) or a range (`400..620`)")
            })
        };
        let (min_ms, max_ms) = match text.split_once("..") {
            Some((min, max)) => (number(min)?, number(max)?),
            None => (number(text)?, number(text)?),
        };
        if min_ms > max_ms {
            return Err(format!("`{text}`: the range's start exceeds its end"));
        }
        Ok(Latency { min_ms, max_ms })
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min_ms == self.max_ms {
            write!(formatter, "{}", self.min_ms)
        } else {
            write!(formatter, "{}..{}", self.min_ms, self.max_ms)
        }
    }
}

/// A probability from 0.0 to 1.0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(f64);

impl Rate {
    pub const NEVER: Rate = Rate(0.0);

    pub fn parse(rate: f64) -> Result<Rate, String> {
        if (0.0..=1.0).contains(&rate) {
            Ok(Rate(rate))
        } else {
            Err(format!("{rate} is not a rate between 0.0 and 1.0"))
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

/// How the simulated network behaves: the settings, before a process connects to it.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedNetwork {
    pub latency: Latency,
    pub decline_rate: Rate,
    pub failure_rate: Rate,
    /// Authorizations one process may have in flight; unlimited when `None`.
    pub concurrency: Option<NonZeroUsize>,
}

impl SimulatedNetwork {
    /// This process's connection to the network, with its own in-flight limit.
    pub fn connect(self) -> SimulatedConnection {
        SimulatedConnection {
            network: self,
            lanes: self
                .concurrency
                .map(|lanes| Arc::new(Semaphore::new(lanes.get()))),
        }
    }
}

/// One process's connection to the simulated network.
#[derive(Debug, Clone)]
pub struct SimulatedConnection {
    network: SimulatedNetwork,
    lanes: Option<Arc<Semaphore>>,
}

/// Why a charge got no answer: the card network is down.
#[derive(Debug, thiserror::Error)]
#[error("the card network is unavailable")]
pub struct NetworkUnavailable;

impl SimulatedConnection {
    /// Approves or declines the charge; `Err` when the network is down.
    pub async fn authorize(
        &self,
        _order: &PaymentOrder,
    ) -> Result<Authorization, NetworkUnavailable> {
        let network = self.network;
        // Draw everything before waiting: the thread's generator cannot be held across `.await`.
        let (delay, roll) = (network.latency.sample(), rand::rng().random::<f64>());
        // The semaphore is never closed, so a permit always comes in the end.
        let _lane = match &self.lanes {
            Some(lanes) => Some(lanes.acquire().await.map_err(|_| NetworkUnavailable)?),
            None => None,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if roll < network.failure_rate.0 {
            Err(NetworkUnavailable)
        } else if roll < network.failure_rate.0 + network.decline_rate.0 {
            Ok(Authorization::Declined)
        } else {
            Ok(Authorization::Approved)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_a_number_or_a_range() {
        assert_eq!(
            "500".parse(),
            Ok(Latency {
                min_ms: 500,
                max_ms: 500
            })
        );
        assert_eq!(
            "400..620".parse(),
            Ok(Latency {
                min_ms: 400,
                max_ms: 620
            })
        );
        assert!("620..400".parse::<Latency>().is_err());
        assert!("fast".parse::<Latency>().is_err());
    }

    #[test]
    fn rates_are_probabilities() {
        assert!(Rate::parse(0.5).is_ok());
        assert!(Rate::parse(1.5).is_err());
        assert!(Rate::parse(-0.1).is_err());
    }

    #[tokio::test]
    async fn certain_failure_and_certain_decline_are_honoured() {
        let order = PaymentOrder::parse(
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            1,
        )
        .expect("valid");
        let failing = SimulatedNetwork {
            latency: Latency::NONE,
            decline_rate: Rate::NEVER,
            failure_rate: Rate(1.0),
            concurrency: None,
        };
        assert!(failing.connect().authorize(&order).await.is_err());
        let declining = SimulatedNetwork {
            failure_rate: Rate::NEVER,
            decline_rate: Rate(1.0),
            ..failing
        };
        assert_eq!(
            declining.connect().authorize(&order).await.ok(),
            Some(Authorization::Declined)
        );
        let approving = SimulatedNetwork {
            decline_rate: Rate::NEVER,
            ..declining
        };
        assert_eq!(
            approving.connect().authorize(&order).await.ok(),
            Some(Authorization::Approved)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_capped_connection_authorizes_one_at_a_time() {
        let order = PaymentOrder::parse(
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            1,
        )
        .expect("valid");
        let connection = SimulatedNetwork {
            latency: Latency {
                min_ms: 100,
                max_ms: 100,
            },
            decline_rate: Rate::NEVER,
            failure_rate: Rate::NEVER,
            concurrency: NonZeroUsize::new(1),
        }
        .connect();
        let started = tokio::time::Instant::now();
        let (first, second) = tokio::join!(
            async {
                connection.authorize(&order).await.ok();
                started.elapsed()
            },
            async {
                connection.authorize(&order).await.ok();
                started.elapsed()
            },
        );
        // On the paused clock: the second waits for the first's lane, then its own latency.
        assert_eq!(first.min(second), Duration::from_millis(100));
        assert_eq!(first.max(second), Duration::from_millis(200));
    }
}
