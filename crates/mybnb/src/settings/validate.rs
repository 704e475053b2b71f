//! Turning the settings as written into values that are usable as they are.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use mybnb_booking::links::BreakerSettings;
use mybnb_payment::simulation::{Rate, SimulatedNetwork};
use mybnb_platform::db::redact_url;
use secrecy::{ExposeSecret, SecretString};

use super::raw::RawSettings;
use super::{GatewaySettings, MailSettings, Settings, SettingsError, invalid};
use crate::services::{Service, ServiceSet};

impl Settings {
    pub(super) fn validate(raw: RawSettings) -> Result<Settings, SettingsError> {
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
        let gateway = gateway_settings(&raw, &services)?;
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
            check_secret_url("nats_url", url, &["nats", "tls"], "a nats:// URL")?;
        }
        let mail = match raw.smtp_url {
            Some(smtp_url) => {
                check_secret_url("smtp_url", &smtp_url, &["smtp", "smtps"], "an smtp:// URL")?;
                if raw.mail_from.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(invalid(
                        "mail_from",
                        format!(
                            "`{}` is not a mailbox like `mybnb <noreply@example.com>`",
                            raw.mail_from
                        ),
                    ));
                }
                Some(MailSettings {
                    smtp_url,
                    from: raw.mail_from,
                })
            }
            None => None,
        };
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
        let web_api_url = match &raw.web_api_url {
            Some(url) => {
                check_http_url("web_api_url", url)?;
                Some(
                    url::Url::parse(url)
                        .map_err(|error| invalid("web_api_url", error.to_string()))?,
                )
            }
            None => None,
        };
        let runs_the_api = Service::ALL_IN_ONE
            .into_iter()
            .filter(|service| service.keeps_data())
            .all(|service| services.contains(service));
        if services.contains(Service::Web) && web_api_url.is_none() && !runs_the_api {
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
        let payment_network =
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
            nats_url: raw.nats_url,
            mail,
            service_token: raw.service_token,
            payment_service_url: raw.payment_service_url,
            room_service_url: raw.room_service_url,
            web_api_url,
            gateway,
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
}

/// The gateway's upstreams: each a comma-separated list of base URLs, all required when the
/// gateway runs.
fn gateway_settings(
    raw: &RawSettings,
    services: &ServiceSet,
) -> Result<GatewaySettings, SettingsError> {
    let mut upstreams = BTreeMap::new();
    for (service, key, list) in [
        (
            Service::Identity,
            "gateway_identity_urls",
            &raw.gateway_identity_urls,
        ),
        (Service::Room, "gateway_room_urls", &raw.gateway_room_urls),
        (
            Service::Booking,
            "gateway_booking_urls",
            &raw.gateway_booking_urls,
        ),
        (
            Service::Payment,
            "gateway_payment_urls",
            &raw.gateway_payment_urls,
        ),
        (
            Service::Notification,
            "gateway_notification_urls",
            &raw.gateway_notification_urls,
        ),
        (
            Service::Mypage,
            "gateway_mypage_urls",
            &raw.gateway_mypage_urls,
        ),
        (Service::Web, "gateway_web_urls", &raw.gateway_web_urls),
    ] {
        let mut instances = Vec::new();
        for url in list.iter().flat_map(|list| list.split(',')).map(str::trim) {
            let shown = redact_url(url);
            let parsed = url::Url::parse(url)
                .map_err(|error| invalid(key, format!("`{shown}` is not a URL: {error}")))?;
            // The gateway speaks plain HTTP to the instances (inside the cluster), and sends
            // nothing but the service token with what it forwards.
            let base = parsed.scheme() == "http"
                && parsed.username().is_empty()
                && parsed.password().is_none()
                && parsed.path() == "/"
                && parsed.query().is_none();
            if !base {
                return Err(invalid(
                    key,
                    format!(
                        "`{shown}` must be a base URL like http://10.0.0.5:8080: http, without credentials or a path"
                    ),
                ));
            }
            instances.push(parsed);
        }
        if services.contains(Service::Gateway) && instances.is_empty() {
            return Err(invalid(
                key,
                format!("the gateway needs {service}'s instances: a comma-separated list of URLs"),
            ));
        }
        upstreams.insert(service, instances);
    }
    for (key, millis) in [
        ("gateway_health_interval_ms", raw.gateway_health_interval_ms),
        ("gateway_connect_timeout_ms", raw.gateway_connect_timeout_ms),
    ] {
        if millis == 0 {
            return Err(invalid(key, "must be at least 1"));
        }
    }
    if services.contains(Service::Gateway) {
        for (key, secret) in [
            ("jwt_secret", &raw.jwt_secret),
            ("service_token", &raw.service_token),
        ] {
            if secret.is_none() {
                return Err(invalid(
                    key,
                    "the gateway shares it with the services behind it, so it must be set",
                ));
            }
        }
    }
    Ok(GatewaySettings {
        upstreams,
        health_interval: Duration::from_millis(raw.gateway_health_interval_ms),
        connect_timeout: Duration::from_millis(raw.gateway_connect_timeout_ms),
    })
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
    check_secret_url(
        key,
        url,
        &["postgres", "postgresql"],
        "a postgres:// URL (SQLite needs no URL)",
    )
}

/// A URL that may hold a password: checked, and shown redacted when wrong.
fn check_secret_url(
    key: &'static str,
    url: &SecretString,
    schemes: &[&str],
    expected: &str,
) -> Result<(), SettingsError> {
    let url = url.expose_secret();
    let parsed = url::Url::parse(url)
        .map_err(|error| invalid(key, format!("`{}` is not a URL: {error}", redact_url(url))))?;
    if schemes.contains(&parsed.scheme()) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("`{}:` is not supported; use {expected}", parsed.scheme()),
        ))
    }
}
