//! The refund saga's first step: a cancelled booking's payment is refunded by event
//! (`BookingCancelled` → payment → `PaymentCancelled`), seen through the public API.

use mybnb_client::Payment;
use mybnb_testkit::eventually::eventually;
use reqwest::StatusCode;
use uuid::Uuid;

api_tests! {
    /// Cancelling a booking refunds its payment: its guest and its host both see it go from
    /// APPROVED to CANCELLED, for the same amount.
    async fn a_cancelled_booking_is_refunded(app) {
        let listing = app.listing(70_000).await;
        let guest = app.new_user("guest").await;
        let booking = app.book(&guest.token, &listing.stay(12, 2)).await;
        let id = booking.id;
        let before = payment_of(&app, &guest.token, id).await;
        assert_eq!((before.status.as_str(), before.amount), ("APPROVED", 140_000));

        let cancelled = app.cancel_raw(&guest.token, id).await;
        assert_eq!(cancelled.status(), StatusCode::OK);
        for token in [&guest.token, &listing.host.token] {
            let refunded = eventually("the payment is refunded", async || {
                let payment = payment_of(&app, token, id).await;
                if payment.status == "CANCELLED" {
                    Ok(payment)
                } else {
                    Err(format!("{payment:?}"))
                }
            })
            .await;
            assert_eq!(refunded.id, before.id, "the same payment, refunded");
            assert_eq!(refunded.amount, before.amount);
        }
    }

    /// A booking that stays confirmed keeps its payment: refunds follow cancellations only.
    async fn only_cancelled_bookings_are_refunded(app) {
        let listing = app.listing(50_000).await;
        let (kept, dropped) = (app.new_user("kept").await, app.new_user("dropped").await);
        let stays = app.book(&kept.token, &listing.stay(20, 1)).await;
        let goes = app.book(&dropped.token, &listing.stay(22, 1)).await;
        assert_eq!(app.cancel_raw(&dropped.token, goes.id).await.status(), StatusCode::OK);
        eventually("the cancelled one is refunded", async || {
            let payment = payment_of(&app, &dropped.token, goes.id).await;
            if payment.status == "CANCELLED" { Ok(()) } else { Err(format!("{payment:?}")) }
        })
        .await;
        let payment = payment_of(&app, &kept.token, stays.id).await;
        assert_eq!(payment.status, "APPROVED");
    }
}

/// The booking's one payment, as the holder of `token` sees it.
async fn payment_of(app: &crate::helpers::TestApp, token: &str, booking_id: Uuid) -> Payment {
    let payments = app.payments(token, booking_id).await;
    let [payment] = payments.as_slice() else {
        panic!("one payment: {payments:?}")
    };
    payment.clone()
}
