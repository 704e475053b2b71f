//! What the settings say, for the start-up log, and what is wrong with them, for the user.

use figment::Figment;
use figment::value::Value;
use mybnb_platform::db::redact_url;
use mybnb_platform::settings::{Section, described};
use secrecy::{ExposeSecret, SecretString};

use super::Settings;
use crate::services::Service;

impl Settings {
    /// The effective settings as `(key, value)` pairs, safe to log: secrets are named, never
    /// shown, and database URLs lose their passwords. A context's section is described when
    /// the context runs here.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut lines = vec![
            described("listen", self.listen),
            described("data_dir", self.data_dir.display()),
            described("services", &self.services),
        ];
        for service in self.services.iter().filter(|service| service.keeps_data()) {
            lines.push(described(
                &format!("{service}_database"),
                self.database_location(service).describe(),
            ));
        }
        let services = &self.services;
        for (service, section) in [
            (Service::Identity, self.identity.describe()),
            (Service::Payment, self.payment.describe()),
            (Service::Booking, self.booking.describe()),
            (Service::Notification, self.notification.describe()),
            (Service::Web, self.web.describe()),
            (Service::Gateway, self.gateway.describe()),
        ] {
            if services.contains(service) {
                lines.extend(section);
            }
        }
        if services.iter().any(Service::keeps_data) {
            lines.push(described(
                "events",
                match &self.nats_url {
                    Some(url) => format!("NATS JetStream at {}", redact_url(url.expose_secret())),
                    None => format!(
                        "embedded log at {}",
                        self.data_dir.join("events.db").display()
                    ),
                },
            ));
        }
        let generated_unless_set = |secret: &Option<SecretString>| match secret {
            Some(_) => "set (hidden)",
            None => "generated in data_dir",
        };
        lines.extend([
            described("database_max_connections", self.database_max_connections),
            described("jwt_secret", generated_unless_set(&self.jwt_secret)),
            described("service_token", generated_unless_set(&self.service_token)),
            described("request_timeout_ms", self.request_timeout.as_millis()),
            described(
                "http_header_timeout_ms",
                self.connection_limits.header_timeout.as_millis(),
            ),
            described(
                "http_max_connections",
                self.connection_limits.max_connections,
            ),
            described("drain_delay_ms", self.drain_delay.as_millis()),
            described("shutdown_timeout_ms", self.shutdown_timeout.as_millis()),
        ]);
        lines
    }
}

/// Settings whose values are never shown: secrets, and URLs that may hold passwords. On
/// Kubernetes they belong in the Secret.
pub fn is_secret(key: &str) -> bool {
    ["jwt_secret", "service_token", "nats_url", "smtp_url"].contains(&key)
        || key.ends_with("database_url")
}

/// Where a value was given, in the terms of the README: its variable, or its file.
fn place(metadata: Option<&figment::Metadata>, key: Option<&str>) -> String {
    let origin = metadata.map(|metadata| match &metadata.source {
        Some(source) => source.to_string(),
        None => metadata.name.to_string(),
    });
    let from_environment = origin
        .as_deref()
        .is_some_and(|name| name.contains("environment"));
    match (key, from_environment, origin) {
        (Some(key), true, _) => format!(" (MYBNB_{})", key.to_uppercase()),
        (_, false, Some(origin)) => format!(" (in {origin})"),
        _ => String::new(),
    }
}

/// A key no section knows.
pub(super) fn unknown_key(figment: &Figment, key: &str, value: &Value) -> String {
    format!(
        "unknown setting `{key}`{}; the README lists them all",
        place(figment.get_metadata(value.tag()), Some(key))
    )
}

/// figment's errors in the terms of the README: the setting, where it was set, what is wrong.
pub(super) fn render_errors(errors: figment::Error) -> String {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|error| {
            let key = error.path.last().map(|key| key.to_lowercase());
            let place = place(error.metadata.as_ref(), key.as_deref());
            match (&error.kind, key) {
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
