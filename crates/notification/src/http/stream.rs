//! `GET /notifications/stream`: the caller's new notifications as server-sent events.
//!
//! Each event is named after the notification's type, carries its id (so a client that
//! reconnects sends `Last-Event-ID` and is replayed what it missed) and, as data, the same JSON
//! item as the history. A comment line every 15 seconds keeps idle connections open through
//! proxies.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use mybnb_platform::auth::Caller;
use mybnb_platform::http::{ApiError, ProblemDocument};
use uuid::Uuid;

use super::messages::NotificationItem;
use crate::domain::Notification;
use crate::service::NotificationService;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Follow the caller's notifications as they happen (server-sent events).
#[utoipa::path(get, path = "/notifications/stream", tag = "notifications", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<Uuid>, Header,
        description = "The id of the last notification received: those after it are sent first")),
    responses(
        (status = 200, description = "A stream of events, one per new notification: `event` is its type, `id` its id, `data` the item as JSON",
            body = NotificationItem, content_type = "text/event-stream"),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn stream_notifications(
    State(notifications): State<Arc<NotificationService>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, ApiError> {
    // A malformed Last-Event-ID is ignored, as if the client had sent none.
    let last_seen = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Uuid::parse_str(value.trim()).ok());
    let feed = notifications.follow(caller.user_id, last_seen).await?;
    let events = futures_util::stream::unfold(feed, |mut feed| async move {
        let notification = feed.next().await?;
        Some((event(notification), feed))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

fn event(notification: Notification) -> Result<Event, axum::Error> {
    Event::default()
        .event(notification.kind.as_str())
        .id(notification.id.to_string())
        .json_data(NotificationItem::from(notification))
}
