//! Identity's settings: how long the tokens it signs last and how often one client may try a
//! password.

use std::num::NonZeroU32;
use std::time::Duration;

use mybnb_platform::settings::{Invalid, Section, described, invalid};
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct IdentitySettings {
    pub token_lifetime: Duration,
    /// Sign-ups and token requests one client may make per minute.
    pub auth_rate_limit_per_minute: NonZeroU32,
}

#[derive(Deserialize)]
#[serde(default)]
pub struct RawIdentitySettings {
    token_ttl_secs: u64,
    auth_rate_limit_per_minute: u32,
}

impl Default for RawIdentitySettings {
    fn default() -> Self {
        RawIdentitySettings {
            token_ttl_secs: 3600,
            auth_rate_limit_per_minute: 30,
        }
    }
}

impl Section for IdentitySettings {
    type Raw = RawIdentitySettings;

    fn validate(raw: RawIdentitySettings) -> Result<IdentitySettings, Invalid> {
        if raw.token_ttl_secs == 0 {
            return Err(invalid("token_ttl_secs", "must be at least 1"));
        }
        Ok(IdentitySettings {
            token_lifetime: Duration::from_secs(raw.token_ttl_secs),
            auth_rate_limit_per_minute: NonZeroU32::new(raw.auth_rate_limit_per_minute)
                .ok_or_else(|| invalid("auth_rate_limit_per_minute", "must be at least 1"))?,
        })
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            described("token_ttl_secs", self.token_lifetime.as_secs()),
            described(
                "auth_rate_limit_per_minute",
                self.auth_rate_limit_per_minute,
            ),
        ]
    }
}
