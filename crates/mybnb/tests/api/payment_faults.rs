//! A provider that declines, fails or is too slow (I1, I6): the guest is told at once (402, or
//! 503 with `Retry-After`), nothing is booked, the nights stay free, and whatever the provider
//! did meanwhile is made right by the reconciler: no charge survives without its booking.

use std::time::Duration;

use mybnb::Settings;
use mybnb_payment::domain::PaymentStatus;
use mybnb_testkit::eventually::eventually;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::booking_client::{Listing, day};
use crate::helpers::{TestApp, TestUser, assert_problem, header};
use crate::ledger::await_settled;
use crate::payment_settings::{provider, reconcile_quickly};

fn declining(settings: &mut Settings) {
    provider(settings, "0", 1.0, 0.0);
    reconcile_quickly(settings);
}

fn failing(settings: &mut Settings) {
    provider(settings, "0", 0.0, 1.0);
    reconcile_quickly(settings);
}

/// The provider answers after 300 ms; booking gives up after 50.
fn too_slow(settings: &mut Settings) {
    provider(settings, "300", 0.0, 0.0);
    settings.booking.payment_breaker.timeout = Duration::from_millis(50);
    reconcile_quickly(settings);
}

/// The guest's single booking, which the refused request left behind: it must not hold its
/// nights, and the room must be free for them.
async fn assert_nothing_booked(app: &TestApp, guest: &TestUser, listing: &Listing) -> Uuid {
    let mine = app.bookings(&guest.token).await;
    let [attempt] = mine.as_slice() else {
        panic!("one attempt is recorded: {mine:?}");
    };
    assert_eq!(attempt.status, "REJECTED", "{attempt:?}");
    assert_eq!(attempt.payment_id, None, "{attempt:?}");
    assert!(
        app.free_rooms(day(10), day(12)).await.contains(&listing.id),
        "the nights are free"
    );
    attempt.id
}

/// `Retry-After` is a whole number of seconds, at least one.
fn retry_after_secs(response: &reqwest::Response) -> u64 {
    let value = header(response, reqwest::header::RETRY_AFTER);
    value
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is seconds: {value:?}"))
}

api_tests! {
    /// A declined payment is a 402; the attempt is REJECTED, its payment DECLINED, and the
    /// nights can still be found and asked for.
    async fn a_declined_payment_books_nothing(app with declining) {
        let listing = app.listing(66_000).await;
        let guest = app.new_user("guest").await;
        let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
        let problem = assert_problem(response, StatusCode::PAYMENT_REQUIRED).await;
        assert!(problem.message().contains("declined"), "{problem}");

        let attempt = assert_nothing_booked(&app, &guest, &listing).await;
        let payment = app.internal_payment(attempt).await.expect("the decline is recorded");
        assert_eq!((payment.status, payment.amount), (PaymentStatus::Declined, 132_000));
        await_settled(&app.storage(), &app.storage()).await;
    }

    /// An outage is a 503 with `Retry-After`; nothing is half-made: the nights are free at
    /// once, and the reconciler records a void so that no charge can appear later.
    async fn an_outage_answers_503_and_leaves_nothing_half_made(app with failing) {
        let listing = app.listing(66_000).await;
        let guest = app.new_user("guest").await;
        let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
        assert!(retry_after_secs(&response) >= 1);
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;

        let attempt = assert_nothing_booked(&app, &guest, &listing).await;
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        let payments: Vec<&str> = ledger.payments_of(attempt).iter().map(|payment| payment.status.as_str()).collect();
        assert_eq!(payments, ["VOIDED"], "a void stands in for the charge");
        let retry = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
        assert_problem(retry, StatusCode::SERVICE_UNAVAILABLE).await;
    }

    /// A provider slower than the timeout: the guest gets a 503 without waiting for it; the
    /// booking is REJECTED, and the charge — made or still on its way — ends VOIDED.
    async fn a_payment_slower_than_the_timeout_is_voided(app with too_slow) {
        let listing = app.listing(66_000).await;
        let guest = app.new_user("guest").await;
        let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
        assert!(retry_after_secs(&response) >= 1);
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;

        let attempt = assert_nothing_booked(&app, &guest, &listing).await;
        let payment = eventually("the uncertain charge is voided", async || {
            match app.internal_payment(attempt).await {
                Some(payment) if payment.status == PaymentStatus::Voided => Ok(payment),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        assert_eq!(payment.amount, 132_000);
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.booking(attempt).status, "REJECTED");
        let late = serde_json::json!({ "bookingId": attempt, "guestId": guest.id,
                                       "hostId": listing.host.id, "amount": 132_000 });
        assert_eq!(app.internal_charge(&late).await.status, PaymentStatus::Voided, "a late charge is refused");
    }

    /// Healthy payments keep I1 across a mix of bookings and cancellations.
    async fn bookings_and_cancellations_keep_payments_consistent(app with reconcile_quickly) {
        let listing = app.listing(30_000).await;
        let guest = app.new_user("guest").await;
        let mut kept = Vec::new();
        for from in 0..6 {
            let booking = app.book(&guest.token, &listing.stay(10 + 2 * from, 2)).await;
            if from % 2 == 0 {
                assert_eq!(app.cancel_raw(&guest.token, booking.id).await.status(), StatusCode::OK);
            } else {
                kept.push(booking.id.to_string());
            }
        }
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        let mut confirmed: Vec<String> = ledger.bookings_with("CONFIRMED").iter().map(|booking| booking.id.clone()).collect();
        confirmed.sort();
        kept.sort();
        assert_eq!(confirmed, kept);
        assert_eq!(ledger.payments.len(), 6, "one payment per booking: {ledger:?}");
    }
}
