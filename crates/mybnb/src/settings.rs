//! One settings tree: defaults, then a TOML file (`--config`), then `MYBNB_*` environment
//! variables, then command-line flags. Every key is flat and snake_case; its variable is the key
//! in capitals after `MYBNB_` (`data_dir` ↔ `MYBNB_DATA_DIR`). Unknown keys and bad values are
//! refused before anything is opened.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use mybnb_platform::db::{DatabaseLocation, redact_url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use mybnb_booking::links::BreakerSettings;
use mybnb_payment::simulation::{Rate, SimulatedNetwork};

use crate::cli::ServeArgs;
use crate::services::{Service, ServiceSet};

/// `MYBNB_*` variables that are not settings: the config file's path (a flag of its own) and
/// the test harness's switches.
const NOT_SETTINGS: &[&str] = &["config", "skip_external", "test_database_url"];

/// The settings as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSettings {
    listen: String,
    data_dir: PathBuf,
    services: String,
    database_url: Option<SecretString>,
    identity_database_url: Option<SecretString>,
    room_database_url: Option<SecretString>,
    booking_database_url: Option<SecretString>,
    payment_database_url: Option<SecretString>,
    database_max_connections: u32,
    service_token: Option<SecretString>,
    payment_service_url: Option<String>,
    room_service_url: Option<String>,
    payment_latency_ms: LatencySetting,
    payment_decline_rate: f64,
    payment_failure_rate: f64,
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
    jwt_secret: Option<SecretString>,
    token_ttl_secs: u64,
    auth_rate_limit_per_minute: u32,
    request_timeout_ms: u64,
    drain_delay_ms: u64,
    shutdown_timeout_ms: u64,
    log_format: LogFormat,
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
            database_max_connections: 8,
            service_token: None,
            payment_service_url: None,
            room_service_url: None,
            payment_latency_ms: LatencySetting::Millis(0),
            payment_decline_rate: 0.0,
            payment_failure_rate: 0.0,
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
struct FlagOverrides<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    services: Option<&'a String>,
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
    /// The credential services present to each other; generated in the data directory when
    /// absent (enough for one process).
    pub service_token: Option<SecretString>,
    /// Where booking reaches payment and room when they run in other processes.
    pub payment_service_url: Option<String>,
    pub room_service_url: Option<String>,
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
            .map_err(|error| SettingsError::Source(describe(error)))?;
        Settings::validate(raw)
    }

    fn validate(raw: RawSettings) -> Result<Settings, SettingsError> {
        let listen = raw.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an IP address and port", raw.listen),
            )
        })?;
        let services: ServiceSet = raw
            .services
            .parse()
            .map_err(|reason| invalid("services", reason))?;
        let mut context_database_urls = BTreeMap::new();
        for (service, key, url) in [
            (
                Service::Identity,
                "identity_database_url",
                raw.identity_database_url,
            ),
            (Service::Room, "room_database_url", raw.room_database_url),
            (
                Service::Booking,
                "booking_database_url",
                raw.booking_database_url,
            ),
            (
                Service::Payment,
                "payment_database_url",
                raw.payment_database_url,
            ),
        ] {
            if let Some(url) = url {
                check_postgres_url(key, &url)?;
                context_database_urls.insert(service, url);
            }
        }
        if let Some(url) = &raw.database_url {
            check_postgres_url("database_url", url)?;
        }
        if raw.database_max_connections == 0 {
            return Err(invalid("database_max_connections", "must be at least 1"));
        }
        for (key, secret) in [
            ("jwt_secret", &raw.jwt_secret),
            ("service_token", &raw.service_token),
        ] {
            if let Some(secret) = secret
                && secret.expose_secret().len() < mybnb_platform::auth::MIN_SECRET_BYTES
            {
                return Err(invalid(
                    key,
                    format!(
                        "must be at least {} bytes",
                        mybnb_platform::auth::MIN_SECRET_BYTES
                    ),
                ));
            }
        }
        if let Some(token) = &raw.service_token
            && !token
                .expose_secret()
                .bytes()
                .all(|byte| byte.is_ascii_graphic())
        {
            return Err(invalid(
                "service_token",
                "must be printable ASCII (it travels in a header)",
            ));
        }
        if raw.token_ttl_secs == 0 {
            return Err(invalid("token_ttl_secs", "must be at least 1"));
        }
        let auth_rate_limit_per_minute = NonZeroU32::new(raw.auth_rate_limit_per_minute)
            .ok_or_else(|| invalid("auth_rate_limit_per_minute", "must be at least 1"))?;
        if raw.request_timeout_ms == 0 {
            return Err(invalid("request_timeout_ms", "must be at least 1"));
        }
        for (key, url) in [
            ("payment_service_url", &raw.payment_service_url),
            ("room_service_url", &raw.room_service_url),
        ] {
            if let Some(url) = url {
                check_http_url(key, url)?;
            }
        }
        if services.contains(Service::Booking) {
            for (needed, key, url) in [
                (
                    Service::Payment,
                    "payment_service_url",
                    &raw.payment_service_url,
                ),
                (Service::Room, "room_service_url", &raw.room_service_url),
            ] {
                if !services.contains(needed) && url.is_none() {
                    return Err(invalid(
                        key,
                        format!("booking needs {needed}: run it in this process or set `{key}`"),
                    ));
                }
            }
        }
        let payment_network = SimulatedNetwork {
            latency: raw
                .payment_latency_ms
                .to_string()
                .parse()
                .map_err(|reason| invalid("payment_latency_ms", reason))?,
            decline_rate: Rate::parse(raw.payment_decline_rate)
                .map_err(|reason| invalid("payment_decline_rate", reason))?,
            failure_rate: Rate::parse(raw.payment_failure_rate)
                .map_err(|reason| invalid("payment_failure_rate", reason))?,
        };
        if raw.payment_timeout_ms == 0 {
            return Err(invalid("payment_timeout_ms", "must be at least 1"));
        }
        let payment_timeout = Duration::from_millis(raw.payment_timeout_ms);
        for (key, rate) in [
            (
                "payment_breaker_failure_rate",
                raw.payment_breaker_failure_rate,
            ),
            (
                "payment_breaker_slow_call_rate",
                raw.payment_breaker_slow_call_rate,
            ),
        ] {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(invalid(key, "must be above 0.0 and at most 1.0"));
            }
        }
        for (key, count) in [
            ("payment_max_concurrent", raw.payment_max_concurrent),
            (
                "payment_breaker_minimum_calls",
                raw.payment_breaker_minimum_calls,
            ),
            (
                "payment_breaker_half_open_calls",
                raw.payment_breaker_half_open_calls,
            ),
        ] {
            if count == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        let payment_breaker = BreakerSettings {
            timeout: payment_timeout,
            max_concurrent: raw.payment_max_concurrent,
            window: Duration::from_millis(raw.payment_breaker_window_ms),
            minimum_calls: raw.payment_breaker_minimum_calls,
            failure_rate: raw.payment_breaker_failure_rate,
            slow_call: raw
                .payment_breaker_slow_call_ms
                .map_or(payment_timeout, Duration::from_millis),
            slow_call_rate: raw.payment_breaker_slow_call_rate,
            open_for: Duration::from_millis(raw.payment_breaker_open_ms),
            half_open_calls: raw.payment_breaker_half_open_calls,
        };
        if raw.payment_breaker_window_ms == 0 {
            return Err(invalid("payment_breaker_window_ms", "must be at least 1"));
        }
        if raw.reconcile_interval_ms == 0 {
            return Err(invalid("reconcile_interval_ms", "must be at least 1"));
        }
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
        Ok(Settings {
            listen,
            data_dir: raw.data_dir,
            services,
            database_url: raw.database_url,
            context_database_urls,
            database_max_connections: raw.database_max_connections,
            service_token: raw.service_token,
            payment_service_url: raw.payment_service_url,
            room_service_url: raw.room_service_url,
            payment_network,
            payment_breaker,
            reconcile_interval: Duration::from_millis(raw.reconcile_interval_ms),
            reconcile_stale_after,
            jwt_secret: raw.jwt_secret,
            token_lifetime: Duration::from_secs(raw.token_ttl_secs),
            auth_rate_limit_per_minute,
            request_timeout: Duration::from_millis(raw.request_timeout_ms),
            drain_delay: Duration::from_millis(raw.drain_delay_ms),
            shutdown_timeout: Duration::from_millis(raw.shutdown_timeout_ms),
            log_format: raw.log_format,
        })
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

    /// The effective settings as `(key, value)` pairs, safe to log: secrets are named, never
    /// shown, and database URLs lose their passwords.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut described = vec![
            ("listen".to_owned(), self.listen.to_string()),
            ("data_dir".to_owned(), self.data_dir.display().to_string()),
            ("services".to_owned(), self.services.to_string()),
        ];
        for service in self.services.iter() {
            described.push((
                format!("{service}_database"),
                self.database_location(service).describe(),
            ));
        }
        let generated_unless_set = |secret: &Option<SecretString>| match secret {
            Some(_) => "set (hidden)".to_owned(),
            None => "generated in data_dir".to_owned(),
        };
        let breaker = &self.payment_breaker;
        for (key, url) in [
            ("payment_service_url", &self.payment_service_url),
            ("room_service_url", &self.room_service_url),
        ] {
            if let Some(url) = url {
                described.push((key.to_owned(), redact_url(url)));
            }
        }
        if self.services.contains(Service::Payment) {
            let network = &self.payment_network;
            described.extend([
                ("payment_latency_ms".to_owned(), network.latency.to_string()),
                (
                    "payment_decline_rate".to_owned(),
                    network.decline_rate.value().to_string(),
                ),
                (
                    "payment_failure_rate".to_owned(),
                    network.failure_rate.value().to_string(),
                ),
            ]);
        }
        if self.services.contains(Service::Booking) {
            described.extend([
                ("payment_timeout_ms".to_owned(), breaker.timeout.as_millis().to_string()),
                ("payment_max_concurrent".to_owned(), breaker.max_concurrent.to_string()),
                (
                    "payment_breaker".to_owned(),
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
                ("reconcile_interval_ms".to_owned(), self.reconcile_interval.as_millis().to_string()),
                ("reconcile_stale_after_ms".to_owned(), self.reconcile_stale_after.as_millis().to_string()),
            ]);
        }
        described.extend([
            (
                "database_max_connections".to_owned(),
                self.database_max_connections.to_string(),
            ),
            (
                "jwt_secret".to_owned(),
                generated_unless_set(&self.jwt_secret),
            ),
            (
                "service_token".to_owned(),
                generated_unless_set(&self.service_token),
            ),
            (
                "token_ttl_secs".to_owned(),
                self.token_lifetime.as_secs().to_string(),
            ),
            (
                "auth_rate_limit_per_minute".to_owned(),
                self.auth_rate_limit_per_minute.to_string(),
            ),
            (
                "request_timeout_ms".to_owned(),
                self.request_timeout.as_millis().to_string(),
            ),
            (
                "drain_delay_ms".to_owned(),
                self.drain_delay.as_millis().to_string(),
            ),
            (
                "shutdown_timeout_ms".to_owned(),
                self.shutdown_timeout.as_millis().to_string(),
            ),
        ]);
        described
    }
}

/// Settings whose values are never shown: secrets, and URLs that may hold passwords.
fn is_secret(key: &str) -> bool {
    key == "jwt_secret" || key == "service_token" || key.ends_with("database_url")
}

/// figment's errors in the terms of the README: the setting, where it was set, what is wrong.
fn describe(errors: figment::Error) -> String {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|error| {
            let origin = error
                .metadata
                .as_ref()
                .map(|metadata| match &metadata.source {
                    Some(source) => source.to_string(),
                    None => metadata.name.to_string(),
                });
            let from_environment = origin
                .as_deref()
                .is_some_and(|name| name.contains("environment"));
            let key = error.path.last().map(|key| key.to_lowercase());
            let place = match (&key, from_environment, &origin) {
                (Some(key), true, _) => format!(" (MYBNB_{})", key.to_uppercase()),
                (_, false, Some(origin)) => format!(" (in {origin})"),
                _ => String::new(),
            };
            match (&error.kind, key) {
                (figment::error::Kind::UnknownField(field, _), _) => {
                    format!("unknown setting `{field}`{place}; the README lists them all")
                }
                // A secret's value must not be echoed, even when it is malformed.
                (_, Some(key)) if is_secret(&key) => {
                    format!("invalid `{key}`{place}: not a valid value (not shown: it is a secret)")
                }
                (kind, Some(key)) => format!("invalid `{key}`{place}: {}", kind.to_string().trim()),
                (kind, None) => {
                    format!(
                        "cannot read the settings{place}: {}",
                        kind.to_string().trim()
                    )
                }
            }
        })
        .collect();
    lines.join("; ")
}

fn check_http_url(key: &'static str, url: &str) -> Result<(), SettingsError> {
    let parsed = url::Url::parse(url)
        .map_err(|error| invalid(key, format!("`{}` is not a URL: {error}", redact_url(url))))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        scheme => Err(invalid(
            key,
            format!("`{scheme}:` is not supported; use an http:// URL"),
        )),
    }
}

fn check_postgres_url(key: &'static str, url: &SecretString) -> Result<(), SettingsError> {
    let url = url.expose_secret();
    let parsed = url::Url::parse(url)
        .map_err(|error| invalid(key, format!("`{}` is not a URL: {error}", redact_url(url))))?;
    match parsed.scheme() {
        "postgres" | "postgresql" => Ok(()),
        scheme => Err(invalid(
            key,
            format!("`{scheme}:` is not supported; use a postgres:// URL (SQLite needs no URL)"),
        )),
    }
}
