//! The process's own section: where it listens and keeps its data, what it runs, where its
//! databases and its bus are, the secrets its services share, and how it stops. Every other
//! section belongs to a context (`mybnb_booking::settings`, …) or to the gateway.

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

/// The process's section as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawProcessSettings {
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
    pub(super) service_token: Option<SecretString>,
    pub(super) jwt_secret: Option<SecretString>,
    pub(super) request_timeout_ms: u64,
    pub(super) http_header_timeout_ms: u64,
    pub(super) http_max_connections: usize,
    pub(super) drain_delay_ms: u64,
    pub(super) shutdown_timeout_ms: u64,
    pub(super) log_format: LogFormat,
}

impl Default for RawProcessSettings {
    fn default() -> Self {
        RawProcessSettings {
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
            service_token: None,
            jwt_secret: None,
            request_timeout_ms: 10_000,
            http_header_timeout_ms: 20_000,
            http_max_connections: 1024,
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
