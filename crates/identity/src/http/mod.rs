//! The identity context's HTTP API: `POST /users`, `POST /auth/token`, `GET /users/me`.

mod handlers;
mod messages;
mod rate_limit;

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::middleware::from_fn_with_state;
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::http::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::IdentityError;
use crate::service::IdentityService;

#[derive(Clone, FromRef)]
pub struct IdentityState {
    identity: Arc<IdentityService>,
    verifier: TokenVerifier,
}

/// The identity routes; sign-up and token requests are limited to `attempts_per_minute` per
/// client address.
pub fn router(
    identity: IdentityService,
    verifier: TokenVerifier,
    attempts_per_minute: NonZeroU32,
) -> OpenApiRouter {
    let state = IdentityState {
        identity: Arc::new(identity),
        verifier,
    };
    let limited = OpenApiRouter::new()
        .routes(routes!(handlers::sign_up))
        .routes(routes!(handlers::issue_token))
        .route_layer(from_fn_with_state(
            rate_limit::PerAddress::new(attempts_per_minute),
            rate_limit::limit,
        ));
    OpenApiRouter::new()
        .routes(routes!(handlers::me))
        .merge(limited)
        .with_state(state)
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Invalid { .. } => ApiError::validation(error.to_string()),
            IdentityError::UsernameTaken => ApiError::conflict(error.to_string()),
            IdentityError::BadCredentials | IdentityError::UnknownUser => {
                ApiError::unauthorized(error.to_string())
            }
            IdentityError::Unexpected(cause) => ApiError::internal(cause),
        }
    }
}
