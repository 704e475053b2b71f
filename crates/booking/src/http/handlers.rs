use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use mybnb_platform::auth::Caller;
use mybnb_platform::http::{ApiError, BodyErrors, Json, Path, ProblemDocument, RequestId};
use uuid::Uuid;

use super::Bookings;
use super::messages::{BookRequest, BookingList, BookingResponse};
use crate::domain::IdempotencyKey;

/// Book a room and pay for it, in one request.
#[utoipa::path(post, path = "/bookings", tag = "bookings", security(("bearer" = [])),
    request_body = BookRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Repeating a request with the same key returns the first result instead of booking twice")),
    responses(
        (status = 201, description = "Booked and paid", body = BookingResponse),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 402, description = "The payment was declined; nothing was booked", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Hosts cannot book their own rooms", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Some nights are taken, or the same Idempotency-Key is in progress", body = ProblemDocument, content_type = "application/problem+json"),
        BodyErrors,
        (status = 503, description = "Payment unavailable; nothing was booked. Retry after `Retry-After` seconds", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn book(
    State(bookings): State<Arc<Bookings>>,
    caller: Caller,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    Json(request): Json<BookRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|value| {
            let key = value
                .to_str()
                .map_err(|_| ApiError::validation("`Idempotency-Key` must be printable ASCII"))?;
            Ok::<_, ApiError>(IdempotencyKey::parse(key)?)
        })
        .transpose()?;
    // In a task of its own: once nights are claimed and payment is called, the booking is
    // decided even if the client goes away or the request times out meanwhile.
    let booking = tokio::spawn(async move {
        bookings
            .book(
                caller.user_id,
                request.into_draft(),
                idempotency_key.as_ref(),
                &request_id,
            )
            .await
    })
    .await
    .map_err(|error| ApiError::internal(anyhow::anyhow!("the booking task failed: {error}")))??;
    let location = format!("/bookings/{}", booking.id());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(BookingResponse::from(booking)),
    ))
}

/// The caller's own bookings as a guest, newest first.
#[utoipa::path(get, path = "/bookings", tag = "bookings", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's bookings", body = BookingList),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn list_bookings(
    State(bookings): State<Arc<Bookings>>,
    caller: Caller,
) -> Result<axum::Json<BookingList>, ApiError> {
    let items = bookings.list(caller.user_id).await?;
    Ok(axum::Json(BookingList {
        items: items.into_iter().map(BookingResponse::from).collect(),
    }))
}

/// A booking, for its guest or its room's host.
#[utoipa::path(get, path = "/bookings/{id}", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The booking", body = BookingResponse),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn get_booking(
    State(bookings): State<Arc<Bookings>>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BookingResponse>, ApiError> {
    Ok(axum::Json(bookings.get(caller.user_id, id).await?.into()))
}

/// Cancel a confirmed booking that has not begun; its payment is refunded.
#[utoipa::path(post, path = "/bookings/{id}/cancel", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The booking, now CANCELLED", body = BookingResponse),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's as guest", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Not confirmed, or already begun", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn cancel_booking(
    State(bookings): State<Arc<Bookings>>,
    caller: Caller,
    RequestId(request_id): RequestId,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BookingResponse>, ApiError> {
    Ok(axum::Json(
        bookings
            .cancel(caller.user_id, id, &request_id)
            .await?
            .into(),
    ))
}
