//! What the settings say, for the start-up log, and what is wrong with them, for the user.

use mybnb_platform::db::redact_url;
use secrecy::{ExposeSecret, SecretString};

use super::Settings;
use crate::services::Service;

impl Settings {
    /// The effective settings as `(key, value)` pairs, safe to log: secrets are named, never
    /// shown, and database URLs lose their passwords.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut described = vec![
            ("listen".to_owned(), self.listen.to_string()),
            ("data_dir".to_owned(), self.data_dir.display().to_string()),
            ("services".to_owned(), self.services.to_string()),
        ];
        for service in self.services.iter().filter(|service| service.keeps_data()) {
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
        if let Some(url) = &self.web_api_url {
            described.push(("web_api_url".to_owned(), redact_url(url.as_str())));
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
                (
                    "payment_network_concurrency".to_owned(),
                    network
                        .concurrency
                        .map_or("unlimited".to_owned(), |lanes| lanes.to_string()),
                ),
            ]);
        }
        if self.services.contains(Service::Gateway) {
            for (service, instances) in &self.gateway.upstreams {
                let urls: Vec<String> = instances
                    .iter()
                    .map(|url| redact_url(url.as_str()))
                    .collect();
                described.push((format!("gateway_{service}_urls"), urls.join(",")));
            }
            described.extend([
                (
                    "gateway_health_interval_ms".to_owned(),
                    self.gateway.health_interval.as_millis().to_string(),
                ),
                (
                    "gateway_connect_timeout_ms".to_owned(),
                    self.gateway.connect_timeout.as_millis().to_string(),
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
        if self.services.iter().any(Service::keeps_data) {
            described.push((
                "events".to_owned(),
                match &self.nats_url {
                    Some(url) => format!("NATS JetStream at {}", redact_url(url.expose_secret())),
                    None => format!(
                        "embedded log at {}",
                        self.data_dir.join("events.db").display()
                    ),
                },
            ));
        }
        if self.services.contains(Service::Notification) {
            described.push((
                "mail".to_owned(),
                match &self.mail {
                    Some(mail) => format!(
                        "SMTP at {} from {}",
                        redact_url(mail.smtp_url.expose_secret()),
                        mail.from
                    ),
                    None => "off (no smtp_url)".to_owned(),
                },
            ));
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

/// Settings whose values are never shown: secrets, and URLs that may hold passwords. On
/// Kubernetes they belong in the Secret.
pub fn is_secret(key: &str) -> bool {
    ["jwt_secret", "service_token", "nats_url", "smtp_url"].contains(&key)
        || key.ends_with("database_url")
}

/// figment's errors in the terms of the README: the setting, where it was set, what is wrong.
pub(super) fn render_errors(errors: figment::Error) -> String {
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
