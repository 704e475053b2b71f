//! mybnb's web pages: sign up and log in, search, a room with its calendar, booking and paying,
//! my trips, the host's dashboard and live notifications — server-rendered HTML in Korean and
//! English that calls the public API like any other client ([`api`]).
//!
//! Everything works without JavaScript but the live notifications, which one small script adds.
//! Nothing is fetched from anywhere but this server, which every answer tells the browser
//! ([`headers`]).

mod api;
mod assets;
mod calendar;
mod csrf;
mod format;
mod headers;
mod i18n;
mod pages;
mod session;
pub mod settings;
mod visit;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use mybnb_platform::auth::ServiceToken;
use url::Url;

use crate::api::Api;
use crate::csrf::CsrfKey;
use crate::session::CookieNames;

/// The paths the pages own: `/` itself, and each of the others with everything below it. The
/// gateway routes these to the web.
pub const PATHS: &[&str] = &[
    "/",
    "/signup",
    "/login",
    "/logout",
    "/stays",
    "/trips",
    "/host",
    "/inbox",
    "/language",
    "/assets",
];

pub struct WebConfig {
    /// Where the public API answers: the gateway, or this process's own listener.
    pub api: Url,
    /// How long one API call may take.
    pub api_timeout: Duration,
    /// The secret mybnb's services share: the anti-forgery key is derived from it, and it
    /// vouches for the browser's address to the API.
    pub service_token: ServiceToken,
    /// The address browsers reach the pages at, when known: an https one makes every cookie
    /// `Secure` and `__Host-`.
    pub public_url: Option<Url>,
}

struct Web {
    api: Api,
    csrf: CsrfKey,
    cookies: CookieNames,
}

type WebState = Arc<Web>;

/// The pages' routes.
pub fn router(config: WebConfig) -> anyhow::Result<Router> {
    let https = config
        .public_url
        .as_ref()
        .is_some_and(|url| url.scheme() == "https");
    let state = Arc::new(Web {
        cookies: if https {
            CookieNames::HOST_ONLY
        } else {
            CookieNames::PLAIN
        },
        csrf: CsrfKey::derive(config.service_token.secret().as_bytes()),
        api: Api::new(config.api, config.api_timeout, config.service_token)?,
    });
    Ok(pages::routes()
        .merge(assets::routes())
        .layer(axum::middleware::from_fn(headers::protect))
        .with_state(state))
}
