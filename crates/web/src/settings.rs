//! The pages' settings: where they call the public API.

use mybnb_platform::db::redact_url;
use mybnb_platform::settings::{Invalid, Section, described, http_url};
use serde::Deserialize;
use url::Url;

#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Where the pages call the public API: the gateway, when this process does not run every
    /// API context itself; its own listener when `None`.
    pub api_url: Option<Url>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RawWebSettings {
    web_api_url: Option<String>,
}

impl Section for WebSettings {
    type Raw = RawWebSettings;

    fn validate(raw: RawWebSettings) -> Result<WebSettings, Invalid> {
        Ok(WebSettings {
            api_url: raw
                .web_api_url
                .map(|url| http_url("web_api_url", &url))
                .transpose()?,
        })
    }

    fn describe(&self) -> Vec<(String, String)> {
        self.api_url
            .iter()
            .map(|url| described("web_api_url", redact_url(url.as_str())))
            .collect()
    }
}
