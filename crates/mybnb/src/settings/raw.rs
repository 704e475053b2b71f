//! The settings as written, before validation: every key, its default, and the command-line
//! flags that override them.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::LogFormat;

/// `MYBNB_*` variables that are not settings: the config file's path (a flag of its own) and
/// the test harness's switches.
pub(super) const NOT_SETTINGS: &[&str] = &[
    "config",
    "skip_external",
    "test_database_url",
    "nats_server",
];

/// Every settings key, as written in a config file (and, in capitals after `MYBNB_`, as an
/// environment variable).
pub const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "services",
    "database_url",
    "identity_database_url",
    "room_database_url",
    "booking_database_url",
    "payment_database_url",
    "notification_database_url",
    "mypage_database_url",
    "database_max_connections",
    "nats_url",
    "smtp_url",
    "mail_from",
    "service_token",
    "payment_service_url",
    "room_service_url",
    "web_api_url",
    "gateway_identity_urls",
    "gateway_room_urls",
    "gateway_booking_urls",
    "gateway_payment_urls",
    "gateway_notification_urls",
    "gateway_mypage_urls",
    "gateway_web_urls",
    "gateway_health_interval_ms",
    "gateway_connect_timeout_ms",
    "payment_latency_ms",
    "payment_decline_rate",
    "payment_failure_rate",
    "payment_network_concurrency",
    "payment_timeout_ms",
    "payment_max_concurrent",
    "payment_breaker_window_ms",
    "payment_breaker_minimum_calls",
    "payment_breaker_failure_rate",
    "payment_breaker_slow_call_ms",
    "payment_breaker_slow_call_rate",
    "payment_breaker_open_ms",
    "payment_breaker_half_open_calls",
    "reconcile_interval_ms",
    "reconcile_stale_after_ms",
    "jwt_secret",
    "token_ttl_secs",
    "auth_rate_limit_per_minute",
    "request_timeout_ms",
    "drain_delay_ms",
    "shutdown_timeout_ms",
    "log_format",
];

/// The settings as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSettings {
    pub(super) listen: String,
    pub(super) data_dir: PathBuf,
    pub(super) services: String,
    pub(super) database_url: Option<SecretString>,
    pub(super) identity_database_url: Option<SecretString>,
    pub(super) room_database_url: Option<SecretString>,
    pub(super) booking_database_url: Option<SecretString>,
    pub(super) payment_database_url: Option<SecretString>,
    pub(super) notification_database_url: Option<SecretString>,
    pub(super) mypage_database_url: Option<SecretString>,
    pub(super) database_max_connections: u32,
    pub(super) nats_url: Option<SecretString>,
    pub(super) smtp_url: Option<SecretString>,
    pub(super) mail_from: String,
    pub(super) service_token: Option<SecretString>,
    pub(super) payment_service_url: Option<String>,
    pub(super) room_service_url: Option<String>,
    pub(super) web_api_url: Option<String>,
    pub(super) gateway_identity_urls: Option<String>,
    pub(super) gateway_room_urls: Option<String>,
    pub(super) gateway_booking_urls: Option<String>,
    pub(super) gateway_payment_urls: Option<String>,
    pub(super) gateway_notification_urls: Option<String>,
    pub(super) gateway_mypage_urls: Option<String>,
    pub(super) gateway_web_urls: Option<String>,
    pub(super) gateway_health_interval_ms: u64,
    pub(super) gateway_connect_timeout_ms: u64,
    pub(super) payment_latency_ms: LatencySetting,
    pub(super) payment_decline_rate: f64,
    pub(super) payment_failure_rate: f64,
    pub(super) payment_network_concurrency: Option<usize>,
    pub(super) payment_timeout_ms: u64,
    pub(super) payment_max_concurrent: usize,
    pub(super) payment_breaker_window_ms: u64,
    pub(super) payment_breaker_minimum_calls: usize,
    pub(super) payment_breaker_failure_rate: f64,
    pub(super) payment_breaker_slow_call_ms: Option<u64>,
    pub(super) payment_breaker_slow_call_rate: f64,
    pub(super) payment_breaker_open_ms: u64,
    pub(super) payment_breaker_half_open_calls: usize,
    pub(super) reconcile_interval_ms: u64,
    pub(super) reconcile_stale_after_ms: Option<u64>,
    pub(super) jwt_secret: Option<SecretString>,
    pub(super) token_ttl_secs: u64,
    pub(super) auth_rate_limit_per_minute: u32,
    pub(super) request_timeout_ms: u64,
    pub(super) drain_delay_ms: u64,
    pub(super) shutdown_timeout_ms: u64,
    pub(super) log_format: LogFormat,
}

impl Default for RawSettings {
    fn default() -> Self {
        RawSettings {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("./mybnb-data"),
            services: "all".to_owned(),
            database_url: None,
            identity_database_url: None,
            room_database_url: None,
            booking_database_url: None,
            payment_database_url: None,
            notification_database_url: None,
            mypage_database_url: None,
            database_max_connections: 8,
            nats_url: None,
            smtp_url: None,
            mail_from: "mybnb <noreply@mybnb.localhost>".to_owned(),
            service_token: None,
            payment_service_url: None,
            room_service_url: None,
            web_api_url: None,
            gateway_identity_urls: None,
            gateway_room_urls: None,
            gateway_booking_urls: None,
            gateway_payment_urls: None,
            gateway_notification_urls: None,
            gateway_mypage_urls: None,
            gateway_web_urls: None,
            gateway_health_interval_ms: 500,
            gateway_connect_timeout_ms: 1_000,
            payment_latency_ms: LatencySetting::Millis(0),
            payment_decline_rate: 0.0,
            payment_failure_rate: 0.0,
            payment_network_concurrency: None,
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
            jwt_secret: None,
            token_ttl_secs: 3600,
            auth_rate_limit_per_minute: 30,
            request_timeout_ms: 10_000,
            drain_delay_ms: 0,
            shutdown_timeout_ms: 30_000,
            log_format: LogFormat::Text,
        }
    }
}

/// Flags given on the command line; only those present override the other layers.
#[derive(Serialize)]
pub(super) struct FlagOverrides<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) listen: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) data_dir: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) services: Option<&'a String>,
}

/// `payment_latency_ms` as written: `500` arrives as a number (from TOML or an environment
/// variable), `400..620` as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum LatencySetting {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// serde names every field it expects when it meets an unknown one: that list is the truth
    /// `KEYS` must match.
    #[test]
    fn keys_lists_every_setting() {
        let error = serde_json::from_str::<RawSettings>(r#"{"not_a_setting": 0}"#)
            .expect_err("an unknown key is refused");
        let message = error.to_string();
        let expected: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
        assert_eq!(expected, KEYS, "from: {message}");
    }
}
