//! Payment's settings: how its simulated card network behaves.

use std::num::NonZeroUsize;

use mybnb_platform::settings::{Invalid, Section, described, invalid};
use serde::Deserialize;

use crate::simulation::{Rate, SimulatedNetwork};

#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub network: SimulatedNetwork,
}

#[derive(Deserialize)]
#[serde(default)]
pub struct RawPaymentSettings {
    payment_latency_ms: LatencySetting,
    payment_decline_rate: f64,
    payment_failure_rate: f64,
    payment_network_concurrency: Option<usize>,
}

impl Default for RawPaymentSettings {
    fn default() -> Self {
        RawPaymentSettings {
            payment_latency_ms: LatencySetting::Millis(0),
            payment_decline_rate: 0.0,
            payment_failure_rate: 0.0,
            payment_network_concurrency: None,
        }
    }
}

/// `payment_latency_ms` as written: `500` arrives as a number (from TOML or an environment
/// variable), `400..620` as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum LatencySetting {
    Millis(u64),
    Text(String),
}

impl std::fmt::Display for LatencySetting {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LatencySetting::Millis(millis) => write!(formatter, "{millis}"),
            LatencySetting::Text(text) => formatter.write_str(text),
        }
    }
}

impl Section for PaymentSettings {
    type Raw = RawPaymentSettings;

    fn validate(raw: RawPaymentSettings) -> Result<PaymentSettings, Invalid> {
        let network =
            SimulatedNetwork {
                latency: raw
                    .payment_latency_ms
                    .to_string()
                    .parse()
                    .map_err(|reason| invalid("payment_latency_ms", reason))?,
                decline_rate: Rate::parse(raw.payment_decline_rate)
                    .map_err(|reason| invalid("payment_decline_rate", reason))?,
                failure_rate: Rate::parse(raw.payment_failure_rate)
                    .map_err(|reason| invalid("payment_failure_rate", reason))?,
                concurrency: match raw.payment_network_concurrency {
                    Some(lanes) => Some(NonZeroUsize::new(lanes).ok_or_else(|| {
                        invalid("payment_network_concurrency", "must be at least 1")
                    })?),
                    None => None,
                },
            };
        Ok(PaymentSettings { network })
    }

    fn describe(&self) -> Vec<(String, String)> {
        let network = &self.network;
        vec![
            described("payment_latency_ms", network.latency),
            described("payment_decline_rate", network.decline_rate.value()),
            described("payment_failure_rate", network.failure_rate.value()),
            described(
                "payment_network_concurrency",
                network
                    .concurrency
                    .map_or("unlimited".to_owned(), |lanes| lanes.to_string()),
            ),
        ]
    }
}
