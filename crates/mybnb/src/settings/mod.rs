//! One settings tree: defaults, then a TOML file (`--config`), then `MYBNB_*` environment
//! variables, then command-line flags. Every key is flat and snake_case; its variable is the key
//! in capitals after `MYBNB_` (`data_dir` ↔ `MYBNB_DATA_DIR`). Unknown keys and bad values are
//! refused before anything is opened.

mod describe;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use mybnb_booking::links::BreakerSettings;
use mybnb_payment::simulation::SimulatedNetwork;
use mybnb_platform::db::DatabaseLocation;
use secrecy::SecretString;
use serde::Deserialize;

use crate::cli::ServeArgs;
use crate::services::{Service, ServiceSet};
use raw::{FlagOverrides, NOT_SETTINGS, RawSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated settings: every value here is usable as it is.
#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub services: ServiceSet,
    /// The PostgreSQL URL shared by every context (a schema each), unless a context has its own.
    pub database_url: Option<SecretString>,
    pub context_database_urls: BTreeMap<Service, SecretString>,
    pub database_max_connections: u32,
    /// NATS JetStream carries the events when set; the embedded log in `data_dir` otherwise.
    pub nats_url: Option<SecretString>,
    /// Notifications are also e-mailed when set.
    pub mail: Option<MailSettings>,
    /// The credential services present to each other; generated in the data directory when
    /// absent (enough for one process).
    pub service_token: Option<SecretString>,
    /// Where booking reaches payment and room when they run in other processes.
    pub payment_service_url: Option<String>,
    pub room_service_url: Option<String>,
    /// Where the web pages call the public API: the gateway, when this process does not run
    /// every API context itself; its own listener otherwise.
    pub web_api_url: Option<url::Url>,
    pub gateway: GatewaySettings,
    pub payment_network: SimulatedNetwork,
    pub payment_breaker: BreakerSettings,
    pub reconcile_interval: Duration,
    /// A PENDING booking older than this is decided by the reconciler.
    pub reconcile_stale_after: Duration,
    /// The token-signing secret; when absent, one is generated once in the data directory.
    pub jwt_secret: Option<SecretString>,
    pub token_lifetime: Duration,
    pub auth_rate_limit_per_minute: NonZeroU32,
    pub request_timeout: Duration,
    pub drain_delay: Duration,
    pub shutdown_timeout: Duration,
    pub log_format: LogFormat,
}

pub use describe::is_secret;
pub use mybnb_notification::mail::MailSettings;
pub use raw::KEYS;

/// Where the gateway finds each context's instances, and how it watches them.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Each context's instances (base URLs); every context has at least one when the gateway
    /// runs.
    pub upstreams: BTreeMap<Service, Vec<url::Url>>,
    /// How often each instance's readiness is checked.
    pub health_interval: Duration,
    pub connect_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value could not be read: named by key and origin, one line each.
    #[error("{0}")]
    Source(String),
    #[error("invalid `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl Settings {
    /// The settings when nothing is configured.
    pub fn defaults() -> Result<Settings, SettingsError> {
        Settings::validate(RawSettings::default())
    }

    /// Reads the layers in order — defaults, config file, environment, flags — and validates
    /// the result.
    pub fn load(args: &ServeArgs) -> Result<Settings, SettingsError> {
        let mut figment = Figment::new();
        if let Some(file) = &args.config {
            figment = figment.merge(Toml::file_exact(file));
        }
        let flags = FlagOverrides {
            listen: args.listen.as_ref(),
            data_dir: args.data_dir.as_ref(),
            services: args.services.as_ref(),
        };
        let raw: RawSettings = figment
            .merge(Env::prefixed("MYBNB_").ignore(NOT_SETTINGS))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|error| SettingsError::Source(describe::render_errors(error)))?;
        Settings::validate(raw)
    }

    /// Where a context keeps its data: its own PostgreSQL URL, else the shared one, else a
    /// SQLite file named after it in the data directory.
    pub fn database_location(&self, service: Service) -> DatabaseLocation {
        match self
            .context_database_urls
            .get(&service)
            .or(self.database_url.as_ref())
        {
            Some(url) => DatabaseLocation::Postgres {
                url: url.clone(),
                schema: service.name().to_owned(),
            },
            None => DatabaseLocation::Sqlite {
                path: self.data_dir.join(format!("{}.db", service.name())),
            },
        }
    }
}
