//! The second refund saga: a host deletes a room (`RoomDeleted`) → booking cancels the room's
//! upcoming bookings (`BookingCancelled`) → payment refunds each (`PaymentCancelled`). Stays
//! that have begun are left alone, and every guest and the host are told. Seen through the
//! public API.

use mybnb_testkit::eventually::eventually;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::booking_client::metric;
use crate::helpers::TestApp;
use crate::ledger::await_settled;
use crate::notification_client::once_each;

api_tests! {
    /// Every upcoming booking of a deleted room ends CANCELLED with its payment refunded; a
    /// stay that has begun keeps its booking and its payment; another room's booking is
    /// untouched.
    async fn deleting_a_room_cancels_and_refunds_its_upcoming_bookings(app) {
        let listing = app.listing(40_000).await;
        let other = app.listing(45_000).await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        let upcoming = [
            (&first, app.book(&first.token, &listing.stay(5, 2)).await),
            (&second, app.book(&second.token, &listing.stay(9, 1)).await),
        ];
        let begun = app.book(&first.token, &listing.stay(0, 2)).await;
        let elsewhere = app.book(&second.token, &other.stay(5, 2)).await;

        let deleted = app.delete_room(listing.id, &listing.host.token).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

        for (guest, booking) in &upcoming {
            let id = booking.id;
            eventually("the upcoming booking is cancelled and refunded", async || {
                let status = app.booking(&guest.token, id).await.status.clone();
                let payment = payment_status(&app, &guest.token, id).await;
                if status == "CANCELLED" && payment == "CANCELLED" {
                    Ok(())
                } else {
                    Err(format!("booking {status}, payment {payment}"))
                }
            })
            .await;
        }
        let begun_id = begun.id;
        assert_eq!(app.booking(&first.token, begun_id).await.status, "CONFIRMED");
        assert_eq!(payment_status(&app, &first.token, begun_id).await, "APPROVED");
        let elsewhere_id = elsewhere.id;
        assert_eq!(app.booking(&second.token, elsewhere_id).await.status, "CONFIRMED");
        assert_eq!(payment_status(&app, &second.token, elsewhere_id).await, "APPROVED");

        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.bookings_with("CANCELLED").len(), 2, "{ledger:?}");

        // Each guest is told of the refund, and the host of each cancellation.
        let (first_upcoming, second_upcoming) = (upcoming[0].1.id, upcoming[1].1.id);
        app.await_notifications(&first, &once_each([
            ("PAYMENT_APPROVED", first_upcoming),
            ("PAYMENT_APPROVED", begun_id),
            ("PAYMENT_CANCELLED", first_upcoming),
        ])).await;
        app.await_notifications(&second, &once_each([
            ("PAYMENT_APPROVED", second_upcoming),
            ("PAYMENT_APPROVED", elsewhere_id),
            ("PAYMENT_CANCELLED", second_upcoming),
        ])).await;
        app.await_notifications(&listing.host, &once_each([
            ("BOOKING_CONFIRMED", first_upcoming),
            ("BOOKING_CONFIRMED", second_upcoming),
            ("BOOKING_CONFIRMED", begun_id),
            ("BOOKING_CANCELLED", first_upcoming),
            ("BOOKING_CANCELLED", second_upcoming),
        ])).await;
    }

    /// A room without bookings is simply gone: once booking has handled the deletion, nothing
    /// else was cancelled.
    async fn deleting_a_room_without_bookings_cancels_nothing(app) {
        let listing = app.listing(30_000).await;
        let guest = app.new_user("guest").await;
        let elsewhere = app.listing(31_000).await;
        let kept = app.book(&guest.token, &elsewhere.stay(3, 1)).await;
        assert_eq!(app.delete_room(listing.id, &listing.host.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get_room(listing.id).await.status(), StatusCode::NOT_FOUND);
        eventually("booking handles the deletion", async || {
            let metrics = app.metrics().await;
            match metric(&metrics, "mybnb_events_handled_total", &[("subscriber", "booking")]) {
                Some(handled) if handled >= 1.0 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert!(ledger.bookings_with("CANCELLED").is_empty(), "{ledger:?}");
        assert_eq!(app.booking(&guest.token, kept.id).await.status, "CONFIRMED");
    }
}

/// The status of the booking's first payment, as the holder of `token` sees it.
async fn payment_status(app: &TestApp, token: &str, booking_id: Uuid) -> String {
    let payments = app.payments(token, booking_id).await;
    payments
        .first()
        .map(|payment| payment.status.clone())
        .unwrap_or_default()
}
