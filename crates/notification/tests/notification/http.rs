//! The router, called directly: who may read what, bad parameters, and the live stream.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use mybnb_notification::http::{NotificationItem, NotificationList};
use mybnb_notification::service::NotificationService;
use mybnb_platform::auth::{TokenIssuer, token_keys};
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::{Backend, TestDatabase, Trip, within};

struct Api {
    router: Router,
    issuer: TokenIssuer,
    notifications: Arc<NotificationService>,
    _storage: TestDatabase,
}

impl Api {
    async fn new() -> Api {
        let storage = TestDatabase::create(Backend::Sqlite)
            .await
            .expect("SQLite is always there");
        let notifications = storage.service(false);
        let (issuer, verifier) = token_keys(
            b"a test secret of at least thirty-two bytes",
            Duration::from_secs(3600),
        )
        .expect("token keys");
        let (router, _) =
            mybnb_notification::http::router(notifications.clone(), verifier).split_for_parts();
        Api {
            router,
            issuer,
            notifications,
            _storage: storage,
        }
    }

    fn token(&self, user: Uuid) -> String {
        self.issuer
            .issue(user, "someone")
            .expect("a token")
            .access_token
    }

    async fn get(&self, uri: &str, user: Option<Uuid>, last_event_id: Option<Uuid>) -> Response {
        let mut request = Request::builder().uri(uri);
        if let Some(user) = user {
            request = request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token(user)),
            );
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let request = request.body(Body::empty()).expect("a request");
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers")
    }
}

async fn json<T: serde::de::DeserializeOwned>(response: Response) -> T {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn content_type(response: &Response) -> &str {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_history_is_the_callers_own_and_needs_a_token() {
    let api = Api::new().await;
    let mine = Trip::new();
    let theirs = Trip::new();
    for envelope in [mine.approved(), theirs.approved(), mine.refunded()] {
        api.notifications.handle(envelope).await.expect("handled");
    }

    let anonymous = api.get("/notifications", None, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&anonymous), "application/problem+json");

    let response = api
        .get("/notifications?size=1", Some(mine.guest), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = json(response).await;
    assert_eq!(
        (
            body["total"].as_u64(),
            body["page"].as_u64(),
            body["size"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let item = &body["items"][0];
    assert_eq!(item["type"], "PAYMENT_CANCELLED");
    assert_eq!(item["bookingId"], mine.booking_id.to_string());
    for field in ["id", "message", "createdAt"] {
        assert!(item[field].is_string(), "{field} in {item}");
    }

    let list: NotificationList =
        json(api.get("/notifications", Some(theirs.guest), None).await).await;
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0].booking_id, theirs.booking_id);
    let nobody: NotificationList =
        json(api.get("/notifications", Some(mine.host), None).await).await;
    assert!(nobody.items.is_empty());
}

#[tokio::test]
async fn bad_page_parameters_are_422_problems() {
    let api = Api::new().await;
    let user = Some(Uuid::now_v7());
    for uri in [
        "/notifications?page=0",
        "/notifications?size=0",
        "/notifications?page=-1",
        "/notifications?size=many",
    ] {
        let response = api.get(uri, user, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(content_type(&response), "application/problem+json", "{uri}");
    }
}

/// The next event of a server-sent stream, as `(event name, id, data)`; comments skipped.
async fn next_event(
    body: &mut (impl futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin),
    buffer: &mut String,
) -> (String, String, String) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut fields = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    fields.0 = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("id:") {
                    fields.1 = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    fields.2.push_str(value.trim());
                }
            }
            if !fields.2.is_empty() {
                return fields;
            }
            continue;
        }
        let chunk = within("a server-sent event", body.next())
            .await
            .expect("the stream goes on")
            .expect("a chunk");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_stream_pushes_the_callers_new_notifications_only() {
    let api = Api::new().await;
    let anonymous = api.get("/notifications/stream", None, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let trip = Trip::new();
    let response = api
        .get("/notifications/stream", Some(trip.guest), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("text/event-stream"));
    let mut body = response.into_body().into_data_stream();

    // Someone else's notification first: it must not show up here.
    api.notifications
        .handle(Trip::new().approved())
        .await
        .expect("handled");
    api.notifications
        .handle(trip.approved())
        .await
        .expect("handled");

    let mut buffer = String::new();
    let (event, id, data) = next_event(&mut body, &mut buffer).await;
    let item: NotificationItem = serde_json::from_str(&data).expect("an item");
    assert_eq!(event, "PAYMENT_APPROVED");
    assert_eq!(item.kind, "PAYMENT_APPROVED");
    assert_eq!(item.booking_id, trip.booking_id);
    assert_eq!(id, item.id.to_string());

    api.notifications
        .handle(trip.refunded())
        .await
        .expect("handled");
    let (event, _, _) = next_event(&mut body, &mut buffer).await;
    assert_eq!(event, "PAYMENT_CANCELLED");
}

#[tokio::test]
async fn a_reconnecting_stream_is_replayed_what_it_missed() {
    let api = Api::new().await;
    let trip = Trip::new();
    api.notifications
        .handle(trip.approved())
        .await
        .expect("handled");
    api.notifications
        .handle(trip.refunded())
        .await
        .expect("handled");
    let history: NotificationList =
        json(api.get("/notifications", Some(trip.guest), None).await).await;
    let (missed, seen) = (history.items[0].id, history.items[1].id);

    let response = api
        .get("/notifications/stream", Some(trip.guest), Some(seen))
        .await;
    let mut body = response.into_body().into_data_stream();
    let mut buffer = String::new();
    let (event, id, _) = next_event(&mut body, &mut buffer).await;
    assert_eq!(
        (event.as_str(), id),
        ("PAYMENT_CANCELLED", missed.to_string())
    );

    // Ending the streams (at shutdown) closes this one.
    api.notifications.end_streams();
    let rest = within("the end of the stream", body.next()).await;
    assert!(rest.is_none(), "{rest:?}");
}
