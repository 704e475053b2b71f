//! Identity as a process runs it: its service on its database, then its API. It publishes
//! `UserRegistered` and consumes nothing.

use mybnb_bus::wired::Wired;
use mybnb_platform::auth::{TokenIssuer, TokenVerifier};
use mybnb_platform::db::Database;

use crate::http;
use crate::service::IdentityService;
use crate::settings::IdentitySettings;
use crate::store::SqlUserRepository;

pub struct IdentityContext {
    identity: IdentityService,
    settings: IdentitySettings,
}

impl IdentityContext {
    pub fn new(database: Database, issuer: TokenIssuer, settings: &IdentitySettings) -> Self {
        IdentityContext {
            identity: IdentityService::new(SqlUserRepository::new(database), issuer),
            settings: settings.clone(),
        }
    }

    pub fn wire(self, verifier: TokenVerifier) -> Wired {
        Wired::serving(http::router(
            self.identity,
            verifier,
            self.settings.auth_rate_limit_per_minute,
        ))
        .publishing()
    }
}
