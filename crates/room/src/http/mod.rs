//! The room context's HTTP API: `POST /rooms`, `GET /rooms`, `GET /rooms/{id}`,
//! `DELETE /rooms/{id}`, `GET /rooms/{id}/availability`.

mod handlers;
mod messages;

use std::sync::Arc;

use axum::extract::FromRef;
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::http::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::RoomError;
use crate::service::RoomService;

#[derive(Clone, FromRef)]
pub struct RoomState {
    rooms: Arc<RoomService>,
    verifier: TokenVerifier,
}

pub fn router(rooms: Arc<RoomService>, verifier: TokenVerifier) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(handlers::register_room, handlers::search_rooms))
        .routes(routes!(handlers::get_room, handlers::delete_room))
        .routes(routes!(handlers::room_availability))
        .with_state(RoomState { rooms, verifier })
}

impl From<RoomError> for ApiError {
    fn from(error: RoomError) -> Self {
        match error {
            RoomError::Invalid { .. } => ApiError::validation(error.to_string()),
            RoomError::NotFound(_) => ApiError::not_found(error.to_string()),
            RoomError::NotHost => ApiError::forbidden(error.to_string()),
            RoomError::Unexpected(cause) => ApiError::internal(cause),
        }
    }
}
