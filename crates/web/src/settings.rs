//! The pages' settings: where they call the public API, and where browsers reach them.

use mybnb_platform::db::redact_url;
use mybnb_platform::settings::{Invalid, Section, described, http_url};
use serde::Deserialize;
use url::Url;

#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Where the pages call the public API: the gateway, when this process does not run every
    /// API context itself; its own listener when `None`.
    pub api_url: Option<Url>,
    /// The address browsers reach the pages at (`https://mybnb.example`), when known.
    pub public_url: Option<Url>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RawWebSettings {
    web_api_url: Option<String>,
    web_public_url: Option<String>,
}

impl Section for WebSettings {
    type Raw = RawWebSettings;

    fn validate(raw: RawWebSettings) -> Result<WebSettings, Invalid> {
        Ok(WebSettings {
            api_url: raw
                .web_api_url
                .map(|url| http_url("web_api_url", &url))
                .transpose()?,
            public_url: raw
                .web_public_url
                .map(|url| http_url("web_public_url", &url))
                .transpose()?,
        })
    }

    fn describe(&self) -> Vec<(String, String)> {
        [
            ("web_api_url", &self.api_url),
            ("web_public_url", &self.public_url),
        ]
        .into_iter()
        .filter_map(|(key, url)| Some(described(key, redact_url(url.as_ref()?.as_str()))))
        .collect()
    }
}
