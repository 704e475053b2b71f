//! Booking reaches the room context over HTTP when room runs in another process: the booking is
//! priced from the room as that process has it; when it cannot be reached, booking is
//! unavailable for a while (503 with `Retry-After`), not broken, and books nothing.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::booking_client::stay;
use crate::helpers::{Backend, Storage, TestApp, assert_problem, header, spawn_app_on};
use crate::ledger::await_settled;

/// Room alone in one process, and identity, payment and booking in another that reaches it
/// over HTTP; they share their secrets, not their storage.
async fn room_apart(backend: Backend) -> Option<(TestApp, TestApp)> {
    let room_storage = Storage::create(backend).await?;
    let booking_storage = room_storage.sibling().await?;
    let rooms = spawn_app_on(&room_storage, |settings| {
        settings.services = "room".parse().expect("a service list");
    })
    .await;
    let app = spawn_app_on(&booking_storage, |settings| {
        settings.services = "identity,payment,booking".parse().expect("a service list");
        settings.booking.room_service_url = Some(rooms.url("").parse().expect("a URL"));
    })
    .await;
    Some((rooms, app))
}

api_tests! {
    async fn a_room_of_another_process_is_booked_at_its_price(backend: Backend) {
        let Some((rooms, app)) = room_apart(backend).await else { return };
        let host = app.new_user("host").await;
        let listing = json!({ "name": "Remote hanok", "address": "3 Samcheong-ro", "price": 95_000, "capacity": 2 });
        let room = rooms.register_room(&host.token, &listing).await;
        let room_id = room.id;
        let guest = app.new_user("guest").await;

        let booking = app.book(&guest.token, &stay(room_id, 10, 2)).await;
        assert_eq!(booking.room_name, "Remote hanok");
        assert_eq!(booking.host, host.id);
        assert_eq!((booking.nightly_price, booking.total_price), (95_000, 190_000));
        let mut crowd = stay(room_id, 20, 1);
        crowd["guests"] = json!(3);
        assert_problem(app.book_raw(&guest.token, &crowd, None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        let unknown = stay(Uuid::now_v7(), 10, 2);
        assert_problem(app.book_raw(&guest.token, &unknown, None).await, StatusCode::NOT_FOUND).await;
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.bookings.len(), 1, "{ledger:?}");
        assert_eq!(ledger.booking(booking.id).status, "CONFIRMED");
    }

    /// The room service down is an outage of a dependency, as a payment outage is: 503 with
    /// `Retry-After`, and nothing booked.
    async fn an_unreachable_room_service_makes_booking_unavailable(backend: Backend) {
        let Some((rooms, app)) = room_apart(backend).await else { return };
        let host = app.new_user("host").await;
        let listing = json!({ "name": "Soon unreachable", "address": "3 Samcheong-ro", "price": 95_000 });
        let room = rooms.register_room(&host.token, &listing).await;
        let room_id = room.id;
        let guest = app.new_user("guest").await;
        rooms.stop().await.expect("a clean stop");

        let response = app.book_raw(&guest.token, &stay(room_id, 10, 2), None).await;
        let retry_after = header(&response, reqwest::header::RETRY_AFTER);
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(retry_after.parse::<u64>().is_ok_and(|seconds| seconds >= 1), "Retry-After {retry_after:?}");
        assert!(app.bookings(&guest.token).await.is_empty(), "nothing was booked");
    }
}
