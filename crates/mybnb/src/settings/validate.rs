//! Turning the process's section into values usable as they are, and the checks that span
//! sections: what a process runs decides which links and secrets it must be given.

use std::collections::BTreeMap;
use std::time::Duration;

use mybnb_platform::http::ConnectionLimits;
use mybnb_platform::settings::{Invalid, invalid, secret_url};
use secrecy::{ExposeSecret, SecretString};

use super::process::RawProcessSettings;
use super::{Sections, Settings};
use crate::services::{Service, ServiceSet};

impl Settings {
    /// The process's section validated and put together with the contexts' sections.
    pub(super) fn validate(
        raw: RawProcessSettings,
        sections: Sections,
    ) -> Result<Settings, Invalid> {
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
            (
                Service::Notification,
                "notification_database_url",
                raw.notification_database_url,
            ),
            (
                Service::Mypage,
                "mypage_database_url",
                raw.mypage_database_url,
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
        if let Some(url) = &raw.nats_url {
            secret_url("nats_url", url, &["nats", "tls"], "a nats:// URL")?;
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
        for (key, value) in [
            ("request_timeout_ms", raw.request_timeout_ms),
            ("http_header_timeout_ms", raw.http_header_timeout_ms),
            ("http_max_connections", raw.http_max_connections as u64),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        let settings = Settings {
            listen,
            data_dir: raw.data_dir,
            services,
            database_url: raw.database_url,
            context_database_urls,
            database_max_connections: raw.database_max_connections,
            nats_url: raw.nats_url,
            service_token: raw.service_token,
            jwt_secret: raw.jwt_secret,
            request_timeout: Duration::from_millis(raw.request_timeout_ms),
            connection_limits: ConnectionLimits {
                header_timeout: Duration::from_millis(raw.http_header_timeout_ms),
                max_connections: raw.http_max_connections,
            },
            drain_delay: Duration::from_millis(raw.drain_delay_ms),
            shutdown_timeout: Duration::from_millis(raw.shutdown_timeout_ms),
            log_format: raw.log_format,
            identity: sections.identity,
            payment: sections.payment,
            booking: sections.booking,
            notification: sections.notification,
            web: sections.web,
            gateway: sections.gateway,
        };
        settings.check_links()?;
        Ok(settings)
    }

    /// What the enabled services need from elsewhere is configured: booking's links to room and
    /// payment, the pages' API, the gateway's instances and the secrets it shares.
    fn check_links(&self) -> Result<(), Invalid> {
        let services = &self.services;
        let runs_the_api = Service::ALL_IN_ONE
            .into_iter()
            .filter(|service| service.keeps_data())
            .all(|service| services.contains(service));
        if services.contains(Service::Web) && self.web.api_url.is_none() && !runs_the_api {
            return Err(invalid(
                "web_api_url",
                "the web pages call the public API: run every context in this process or set it to the gateway's URL",
            ));
        }
        if services.contains(Service::Booking) {
            for (needed, key, url) in [
                (
                    Service::Payment,
                    "payment_service_url",
                    &self.booking.payment_service_url,
                ),
                (
                    Service::Room,
                    "room_service_url",
                    &self.booking.room_service_url,
                ),
            ] {
                if !services.contains(needed) && url.is_none() {
                    return Err(invalid(
                        key,
                        format!("booking needs {needed}: run it in this process or set `{key}`"),
                    ));
                }
            }
        }
        if services.contains(Service::Gateway) {
            for upstream in &self.gateway.upstreams {
                if upstream.instances.is_empty() {
                    return Err(invalid(
                        upstream.key,
                        format!(
                            "the gateway needs {}'s instances: a comma-separated list of URLs",
                            upstream.service
                        ),
                    ));
                }
            }
            for (key, secret) in [
                ("jwt_secret", &self.jwt_secret),
                ("service_token", &self.service_token),
            ] {
                if secret.is_none() {
                    return Err(invalid(
                        key,
                        "the gateway shares it with the services behind it, so it must be set",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_postgres_url(key: &'static str, url: &SecretString) -> Result<(), Invalid> {
    secret_url(
        key,
        url,
        &["postgres", "postgresql"],
        "a postgres:// URL (SQLite needs no URL)",
    )
}
