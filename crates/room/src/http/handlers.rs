use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use mybnb_platform::auth::Caller;
use mybnb_platform::http::{ApiError, BodyErrors, Json, Path, ProblemDocument, Query, RequestId};
use uuid::Uuid;

use super::messages::{
    AvailabilityQuery, AvailabilityResponse, RegisterRoomRequest, RoomPage, RoomResponse,
    SearchRoomsQuery,
};
use crate::domain::{Host, RoomId};
use crate::service::RoomService;

/// Register a room; the caller becomes its host.
#[utoipa::path(post, path = "/rooms", tag = "rooms", security(("bearer" = [])),
    request_body = RegisterRoomRequest,
    responses(
        (status = 201, description = "Registered", body = RoomResponse,
            headers(("Location" = String, description = "The room's URL"))),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        BodyErrors,
    ))]
pub async fn register_room(
    State(rooms): State<Arc<RoomService>>,
    caller: Caller,
    RequestId(request_id): RequestId,
    Json(request): Json<RegisterRoomRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let host = Host {
        id: caller.user_id,
        name: caller.username,
    };
    let room = rooms
        .register(host, request.into_draft(), &request_id)
        .await?;
    let location = format!("/rooms/{}", room.id.0);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(RoomResponse::from(room)),
    ))
}

/// Read a room.
#[utoipa::path(get, path = "/rooms/{id}", tag = "rooms",
    params(("id" = Uuid, Path, description = "The room's id")),
    responses(
        (status = 200, description = "The room", body = RoomResponse),
        (status = 404, description = "No such room, or deleted", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn get_room(
    State(rooms): State<Arc<RoomService>>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RoomResponse>, ApiError> {
    let room = rooms.get(RoomId(id)).await?;
    Ok(axum::Json(room.into()))
}

/// Delete a room; only its host may.
#[utoipa::path(delete, path = "/rooms/{id}", tag = "rooms", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The room's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not the room's host", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such room, or already deleted", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn delete_room(
    State(rooms): State<Arc<RoomService>>,
    caller: Caller,
    RequestId(request_id): RequestId,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    rooms
        .delete(caller.user_id, RoomId(id), &request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search rooms.
#[utoipa::path(get, path = "/rooms", tag = "rooms", params(SearchRoomsQuery),
    responses(
        (status = 200, description = "A page of matching rooms", body = RoomPage),
        (status = 422, description = "Invalid parameters", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn search_rooms(
    State(rooms): State<Arc<RoomService>>,
    Query(query): Query<SearchRoomsQuery>,
) -> Result<axum::Json<RoomPage>, ApiError> {
    let results = rooms.search(query.into_draft()).await?;
    Ok(axum::Json(results.into()))
}

/// Which nights of a room are taken, for an availability calendar.
#[utoipa::path(get, path = "/rooms/{id}/availability", tag = "rooms",
    params(("id" = Uuid, Path, description = "The room's id"), AvailabilityQuery),
    responses(
        (status = 200, description = "The taken nights of the range", body = AvailabilityResponse),
        (status = 404, description = "No such room, or deleted", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid range", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn room_availability(
    State(rooms): State<Arc<RoomService>>,
    Path(id): Path<Uuid>,
    Query(query): Query<AvailabilityQuery>,
) -> Result<axum::Json<AvailabilityResponse>, ApiError> {
    let availability = rooms
        .availability(RoomId(id), query.from.as_deref(), query.to.as_deref())
        .await?;
    Ok(axum::Json(availability.into()))
}
