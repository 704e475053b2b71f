//! The gateway's section: each context's instances, and how the gateway watches them.

use std::time::Duration;

use mybnb_platform::db::redact_url;
use mybnb_platform::settings::{Invalid, Section, described, invalid, millis};
use serde::Deserialize;

use crate::services::Service;

/// Where the gateway finds each context's instances, and how it watches them.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Each context's instances; checked to be there when the gateway runs.
    pub upstreams: Vec<Upstream>,
    /// How often each instance's readiness is checked.
    pub health_interval: Duration,
    pub connect_timeout: Duration,
}

/// One context's instances, and the key that lists them.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub service: Service,
    pub key: &'static str,
    /// Base URLs.
    pub instances: Vec<url::Url>,
}

/// The gateway's section as written: each upstream a comma-separated list of base URLs.
#[derive(Deserialize)]
#[serde(default)]
pub struct RawGatewaySettings {
    gateway_identity_urls: Option<String>,
    gateway_room_urls: Option<String>,
    gateway_booking_urls: Option<String>,
    gateway_payment_urls: Option<String>,
    gateway_notification_urls: Option<String>,
    gateway_mypage_urls: Option<String>,
    gateway_web_urls: Option<String>,
    gateway_health_interval_ms: u64,
    gateway_connect_timeout_ms: u64,
}

impl Default for RawGatewaySettings {
    fn default() -> Self {
        RawGatewaySettings {
            gateway_identity_urls: None,
            gateway_room_urls: None,
            gateway_booking_urls: None,
            gateway_payment_urls: None,
            gateway_notification_urls: None,
            gateway_mypage_urls: None,
            gateway_web_urls: None,
            gateway_health_interval_ms: 500,
            gateway_connect_timeout_ms: 1_000,
        }
    }
}

impl Section for GatewaySettings {
    type Raw = RawGatewaySettings;

    fn validate(raw: RawGatewaySettings) -> Result<GatewaySettings, Invalid> {
        let mut upstreams = Vec::new();
        for (service, key, list) in [
            (
                Service::Identity,
                "gateway_identity_urls",
                raw.gateway_identity_urls,
            ),
            (Service::Room, "gateway_room_urls", raw.gateway_room_urls),
            (
                Service::Booking,
                "gateway_booking_urls",
                raw.gateway_booking_urls,
            ),
            (
                Service::Payment,
                "gateway_payment_urls",
                raw.gateway_payment_urls,
            ),
            (
                Service::Notification,
                "gateway_notification_urls",
                raw.gateway_notification_urls,
            ),
            (
                Service::Mypage,
                "gateway_mypage_urls",
                raw.gateway_mypage_urls,
            ),
            (Service::Web, "gateway_web_urls", raw.gateway_web_urls),
        ] {
            let mut instances = Vec::new();
            for url in list.iter().flat_map(|list| list.split(',')).map(str::trim) {
                instances.push(base_url(key, url)?);
            }
            upstreams.push(Upstream {
                service,
                key,
                instances,
            });
        }
        Ok(GatewaySettings {
            upstreams,
            health_interval: millis("gateway_health_interval_ms", raw.gateway_health_interval_ms)?,
            connect_timeout: millis("gateway_connect_timeout_ms", raw.gateway_connect_timeout_ms)?,
        })
    }

    fn describe(&self) -> Vec<(String, String)> {
        let mut described_upstreams: Vec<(String, String)> = self
            .upstreams
            .iter()
            .map(|upstream| {
                let urls: Vec<String> = upstream
                    .instances
                    .iter()
                    .map(|url| redact_url(url.as_str()))
                    .collect();
                described(upstream.key, urls.join(","))
            })
            .collect();
        described_upstreams.extend([
            described(
                "gateway_health_interval_ms",
                self.health_interval.as_millis(),
            ),
            described(
                "gateway_connect_timeout_ms",
                self.connect_timeout.as_millis(),
            ),
        ]);
        described_upstreams
    }
}

/// An instance's base URL. The gateway speaks plain HTTP to the instances (inside the cluster),
/// and sends nothing but the service token with what it forwards.
fn base_url(key: &'static str, url: &str) -> Result<url::Url, Invalid> {
    let shown = redact_url(url);
    let parsed = url::Url::parse(url)
        .map_err(|error| invalid(key, format!("`{shown}` is not a URL: {error}")))?;
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
    Ok(parsed)
}
