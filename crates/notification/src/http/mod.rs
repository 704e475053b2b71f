//! The notification context's HTTP API: `GET /notifications` (one's history, newest first, in
//! pages) and `GET /notifications/stream` (one's new notifications as server-sent events).

mod handlers;
mod messages;
mod stream;

use std::sync::Arc;

use axum::extract::FromRef;
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::http::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::NotificationError;
use crate::service::NotificationService;

pub use messages::{NotificationItem, NotificationList};

#[derive(Clone, FromRef)]
pub struct NotificationState {
    notifications: Arc<NotificationService>,
    verifier: TokenVerifier,
}

pub fn router(notifications: Arc<NotificationService>, verifier: TokenVerifier) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(handlers::list_notifications))
        .routes(routes!(stream::stream_notifications))
        .with_state(NotificationState {
            notifications,
            verifier,
        })
}

impl From<NotificationError> for ApiError {
    fn from(error: NotificationError) -> Self {
        match error {
            NotificationError::Invalid { .. } => ApiError::validation(error.to_string()),
            NotificationError::Unexpected(cause) => ApiError::internal(cause),
        }
    }
}
