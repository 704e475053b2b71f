//! Notifications: the history, and new ones as they come, without reloading (a small script
//! listens to [`stream`], which passes on the API's stream with the visitor's token, since a
//! browser's `EventSource` cannot send one).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::failed;
use crate::WebState;
use crate::format::date;
use crate::visit::{PageQuery, Visit};

/// The notification types, with the texts that name them.
const KINDS: [(&str, &str); 4] = [
    ("PAYMENT_APPROVED", "kind-payment-approved"),
    ("PAYMENT_CANCELLED", "kind-payment-cancelled"),
    ("BOOKING_CONFIRMED", "kind-booking-confirmed"),
    ("BOOKING_CANCELLED", "kind-booking-cancelled"),
];

fn kind_text(visit: &Visit, kind: &str) -> String {
    KINDS
        .iter()
        .find(|(name, _)| *name == kind)
        .map_or_else(|| kind.to_owned(), |(_, id)| visit.text(id))
}

pub async fn page(State(web): State<WebState>, visit: Visit) -> Response {
    let Some(session) = visit.session.clone() else {
        return visit.send_to_login();
    };
    let notifications = match web.api.notifications(&session.token).await {
        Ok(notifications) => notifications.items,
        Err(failure) => return failed(visit, failure),
    };
    let newest = notifications.first().map(|first| first.id.to_string());
    let body = html! {
        p.hint #live-status role="status"
            data-connected=(visit.text("inbox-live"))
            data-disconnected=(visit.text("inbox-reconnecting")) {
            (visit.text("inbox-static"))
        }
        @if notifications.is_empty() { p #no-notifications { (visit.text("inbox-none")) } }
        ol.notifications #notifications aria-live="polite"
            data-stream={ "/inbox/stream" @if let Some(newest) = &newest { "?after=" (newest) } }
            data-payment-approved=(visit.text("kind-payment-approved"))
            data-payment-cancelled=(visit.text("kind-payment-cancelled"))
            data-booking-confirmed=(visit.text("kind-booking-confirmed"))
            data-booking-cancelled=(visit.text("kind-booking-cancelled")) {
            @for notification in &notifications {
                li.notification id={ "n-" (notification.id) } data-type=(notification.kind) {
                    strong { (kind_text(&visit, &notification.kind)) }
                    " "
                    time datetime=(notification.created_at.to_rfc3339()) {
                        (date(visit.locale, notification.created_at.date_naive()))
                    }
                    p { (notification.message) }
                }
            }
        }
        script src="/assets/live.js" defer {}
    };
    let title = visit.text("inbox-title");
    visit.page(StatusCode::OK, &title, None, body)
}

#[derive(Debug, Deserialize)]
pub struct After {
    after: Option<String>,
}

/// The visitor's new notifications as server-sent events, passed on from the API as they come.
pub async fn stream(
    State(web): State<WebState>,
    visit: Visit,
    headers: HeaderMap,
    PageQuery(query): PageQuery<After>,
) -> Response {
    let Some(session) = visit.session.clone() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // A reconnecting browser says what it saw last; the page says what it showed.
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or(query.after);
    match web
        .api
        .notification_stream(&session.token, after.as_deref())
        .await
    {
        Ok(upstream) => (
            [
                (CONTENT_TYPE, "text/event-stream"),
                (CACHE_CONTROL, "no-cache"),
            ],
            Body::from_stream(upstream.bytes_stream()),
        )
            .into_response(),
        Err(failure) => failed(visit, failure),
    }
}
