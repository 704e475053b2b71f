//! One settings tree: defaults, then a TOML file (`--config`), then `MYBNB_*` environment
//! variables, then command-line flags. Every key is flat and snake_case; its variable is the key
//! in capitals after `MYBNB_` (`data_dir` ↔ `MYBNB_DATA_DIR`). Unknown keys and bad values are
//! refused before anything is opened.
//!
//! The tree is read in sections, each written once where it belongs
//! ([`mybnb_platform::settings::Section`]): the process's own ([`process`]), each context's
//! (`mybnb_identity::settings`, `mybnb_payment::settings`, `mybnb_booking::settings`,
//! `mybnb_notification::settings`), the pages' (`mybnb_web::settings`) and the gateway's
//! ([`gateway`]). The keys are the union of the sections' keys.

mod describe;
mod gateway;
mod process;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Value};
use mybnb_booking::settings::BookingSettings;
use mybnb_identity::settings::IdentitySettings;
use mybnb_notification::settings::NotificationSettings;
use mybnb_payment::settings::PaymentSettings;
use mybnb_platform::db::DatabaseLocation;
use mybnb_platform::http::ConnectionLimits;
use mybnb_platform::settings::{Invalid, Section, keys_of};
use mybnb_web::settings::WebSettings;
use secrecy::SecretString;
use serde::Deserialize;

use crate::cli::ServeArgs;
use crate::services::{Service, ServiceSet};
use process::{FlagOverrides, NOT_SETTINGS, RawProcessSettings};

pub use describe::is_secret;
pub use gateway::{GatewaySettings, Upstream};
pub use mybnb_notification::mail::MailSettings;

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
    /// The credential services present to each other; generated in the data directory when
    /// absent (enough for one process).
    pub service_token: Option<SecretString>,
    /// The token-signing secret; when absent, one is generated once in the data directory.
    pub jwt_secret: Option<SecretString>,
    pub request_timeout: Duration,
    /// What the listener allows each connection and how many it keeps open.
    pub connection_limits: ConnectionLimits,
    pub drain_delay: Duration,
    pub shutdown_timeout: Duration,
    pub log_format: LogFormat,
    pub identity: IdentitySettings,
    pub payment: PaymentSettings,
    pub booking: BookingSettings,
    pub notification: NotificationSettings,
    pub web: WebSettings,
    pub gateway: GatewaySettings,
}

/// The sections that belong to the contexts, the pages and the gateway, validated.
struct Sections {
    identity: IdentitySettings,
    payment: PaymentSettings,
    booking: BookingSettings,
    notification: NotificationSettings,
    web: WebSettings,
    gateway: GatewaySettings,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value could not be read: named by key and origin, one line each.
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// Every settings key, as written in a config file (and, in capitals after `MYBNB_`, as an
/// environment variable): the process's, then each section's.
pub fn keys() -> Vec<&'static str> {
    let process = keys_of::<RawProcessSettings>();
    [
        process,
        IdentitySettings::keys(),
        PaymentSettings::keys(),
        BookingSettings::keys(),
        NotificationSettings::keys(),
        WebSettings::keys(),
        GatewaySettings::keys(),
    ]
    .concat()
}

impl Settings {
    /// The settings when nothing is configured.
    pub fn defaults() -> Result<Settings, SettingsError> {
        let sections = Sections {
            identity: IdentitySettings::validate(Default::default())?,
            payment: PaymentSettings::validate(Default::default())?,
            booking: BookingSettings::validate(Default::default())?,
            notification: NotificationSettings::validate(Default::default())?,
            web: WebSettings::validate(Default::default())?,
            gateway: GatewaySettings::validate(Default::default())?,
        };
        Ok(Settings::validate(RawProcessSettings::default(), sections)?)
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
        let figment = figment
            .merge(Env::prefixed("MYBNB_").ignore(NOT_SETTINGS))
            .merge(Serialized::defaults(flags));
        refuse_unknown_keys(&figment)?;
        let sections = Sections {
            identity: section(&figment)?,
            payment: section(&figment)?,
            booking: section(&figment)?,
            notification: section(&figment)?,
            web: section(&figment)?,
            gateway: section(&figment)?,
        };
        let process = figment
            .extract()
            .map_err(|error| SettingsError::Source(describe::render_errors(error)))?;
        Ok(Settings::validate(process, sections)?)
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

/// One section read from the tree and validated.
fn section<S: Section>(figment: &Figment) -> Result<S, SettingsError> {
    let raw = figment
        .extract()
        .map_err(|error| SettingsError::Source(describe::render_errors(error)))?;
    Ok(S::validate(raw)?)
}

/// Every key given must be some section's: a misspelt key is refused, not ignored.
fn refuse_unknown_keys(figment: &Figment) -> Result<(), SettingsError> {
    let given: Dict = figment
        .extract()
        .map_err(|error| SettingsError::Source(describe::render_errors(error)))?;
    let known = keys();
    let unknown: Vec<String> = given
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, value): (&String, &Value)| describe::unknown_key(figment, key, value))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(SettingsError::Source(unknown.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Sections are read from one flat tree: a key two sections claimed would be read twice.
    #[test]
    fn no_two_sections_claim_a_key() {
        let keys = keys();
        let unique: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(unique.len(), keys.len(), "{keys:?}");
    }

    #[test]
    fn every_section_is_read_from_the_same_tree() {
        let figment = Figment::new().merge(Serialized::defaults(BTreeMap::from([
            ("payment_timeout_ms", 900_u64),
            ("token_ttl_secs", 60),
            ("gateway_health_interval_ms", 250),
        ])));
        refuse_unknown_keys(&figment).expect("known keys");
        let booking: BookingSettings = section(&figment).expect("a valid section");
        let identity: IdentitySettings = section(&figment).expect("a valid section");
        let gateway: GatewaySettings = section(&figment).expect("a valid section");
        assert_eq!(booking.payment_breaker.timeout, Duration::from_millis(900));
        assert_eq!(identity.token_lifetime, Duration::from_secs(60));
        assert_eq!(gateway.health_interval, Duration::from_millis(250));
    }

    #[test]
    fn a_key_no_section_knows_is_refused() {
        let figment = Figment::new().merge(Serialized::defaults(BTreeMap::from([(
            "payment_timout_ms",
            1,
        )])));
        let refused = refuse_unknown_keys(&figment).expect_err("a misspelt key");
        assert!(
            refused
                .to_string()
                .contains("unknown setting `payment_timout_ms`"),
            "{refused}"
        );
    }
}
