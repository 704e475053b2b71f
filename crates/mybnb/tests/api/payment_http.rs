//! Booking and payment in two processes: booking charges over HTTP with the service token; a
//! payment process that is down or too slow fails bookings fast and leaves nothing half-made;
//! the internal payment API takes the service token and nothing else.

use std::time::Duration;

use mybnb_payment::domain::PaymentStatus;
use mybnb_payment::http::PaymentRecord;
use mybnb_testkit::eventually::eventually;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::booking_client::day;
use crate::helpers::{Backend, Storage, TestApp, assert_problem, header, spawn_app_on};
use crate::ledger::await_settled;
use crate::payment_settings::{booking_front, payment_only, provider, reconcile_quickly};

/// Payment alone in one process (changed by `configure`), and identity, room and booking in
/// another that reaches it over HTTP; they share their secrets, not their storage.
async fn two_processes(
    backend: Backend,
    configure_payment: impl FnOnce(&mut mybnb::Settings),
    configure_booking: impl FnOnce(&mut mybnb::Settings),
) -> Option<(TestApp, TestApp)> {
    let payment_storage = Storage::create(backend).await?;
    let booking_storage = payment_storage.sibling().await?;
    let payment = spawn_app_on(&payment_storage, |settings| {
        payment_only(settings);
        configure_payment(settings);
    })
    .await;
    let booking = spawn_app_on(&booking_storage, |settings| {
        booking_front(settings, &payment.url(""));
        reconcile_quickly(settings);
        configure_booking(settings);
    })
    .await;
    Some((payment, booking))
}

api_tests! {
    /// A booking made in the booking process is paid in the payment process, where its guest
    /// and host can see the payment.
    async fn a_booking_is_paid_in_the_payment_process(backend: Backend) {
        let Some((payment, app)) = two_processes(backend, |_| {}, |_| {}).await else { return };
        let listing = app.listing(120_000).await;
        let guest = app.new_user("guest").await;
        let booking = app.book(&guest.token, &listing.stay(10, 2)).await;
        let id = booking.id;
        assert_eq!(booking.status, "CONFIRMED");

        let record = payment.internal_payment(id).await.expect("the payment process has it");
        let paid = PaymentRecord { id: booking.payment_id.expect("a payment id"), booking_id: id, guest_id: guest.id,
                                   host_id: listing.host.id, amount: 240_000, status: PaymentStatus::Approved };
        assert_eq!(record, paid);
        for token in [&guest.token, &listing.host.token] {
            let payments = payment.payments(token, id).await;
            assert_eq!(payments.iter().map(|payment| payment.id).collect::<Vec<_>>(), vec![paid.id]);
        }
        assert_problem(app.payments_raw(&guest.token, id).await, StatusCode::NOT_FOUND).await;
        await_settled(&app.storage(), &payment.storage()).await;
    }

    /// With the payment process stopped, bookings fail at once with 503 (the refused
    /// connection was retried a little), hold no nights, and once payment is back the
    /// reconciler makes sure no charge exists.
    async fn bookings_fail_fast_while_payment_is_down(backend: Backend) {
        let Some((payment, app)) = two_processes(backend, |_| {}, |_| {}).await else { return };
        let (payment_storage, payment_address) = (payment.storage(), payment.address);
        let listing = app.listing(120_000).await;
        let guest = app.new_user("guest").await;
        payment.stop().await.expect("a clean stop");

        let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
        assert!(!header(&response, reqwest::header::RETRY_AFTER).is_empty(), "a 503 says when to retry");
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        let mine = app.bookings(&guest.token).await;
        assert!(mine.iter().all(|booking| booking.status == "REJECTED"), "{mine:?}");
        assert!(app.free_rooms(day(10), day(12)).await.contains(&listing.id), "the nights are free");

        let payment = spawn_app_on(&payment_storage, |settings| {
            payment_only(settings);
            settings.listen = payment_address;
        })
        .await;
        let ledger = await_settled(&app.storage(), &payment_storage).await;
        let attempt = mine[0].id;
        let payments: Vec<&str> = ledger.payments_of(attempt).iter().map(|payment| payment.status.as_str()).collect();
        assert_eq!(payments, ["VOIDED"], "a void stands in for the uncertain charge");
        let booking = app.book(&guest.token, &listing.stay(10, 2)).await;
        assert_eq!(payment.internal_payment(booking.id).await.expect("paid").status, PaymentStatus::Approved);
    }

    /// Payment over HTTP slower than booking's timeout: the charge completes in the payment
    /// process after booking gave up, and the reconciler voids it.
    async fn a_charge_that_completes_after_the_timeout_is_voided(backend: Backend) {
        let slow = |settings: &mut mybnb::Settings| provider(settings, "300", 0.0, 0.0);
        let short_timeout = |settings: &mut mybnb::Settings| settings.booking.payment_breaker.timeout = Duration::from_millis(50);
        let Some((payment, app)) = two_processes(backend, slow, short_timeout).await else { return };
        let listing = app.listing(120_000).await;
        let guest = app.new_user("guest").await;
        let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        let [attempt] = app.bookings(&guest.token).await.try_into().expect("one attempt");
        let id = attempt.id;

        eventually("the late charge is voided", async || {
            match payment.internal_payment(id).await {
                Some(record) if record.status == PaymentStatus::Voided => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        let ledger = await_settled(&app.storage(), &payment.storage()).await;
        assert_eq!(ledger.booking(id).status, "REJECTED");
    }

    /// Only the service token opens `/internal/payments`: a user's token, another token or
    /// none is a 401 and charges nothing. With it, a charge is made once per booking.
    async fn the_internal_payment_api_takes_only_the_service_token(backend: Backend) {
        let Some((payment, app)) = two_processes(backend, |_| {}, |_| {}).await else { return };
        let guest = app.new_user("guest").await;
        let booking_id = Uuid::now_v7();
        let order = json!({ "bookingId": booking_id, "guestId": guest.id, "hostId": Uuid::now_v7(), "amount": 10_000 });
        let charge = "/internal/payments".to_owned();
        let read = format!("/internal/payments/{booking_id}");
        let void = format!("/internal/payments/{booking_id}/void");
        let wrong = format!("{}-not", payment.service_token);
        for token in [guest.token.as_str(), wrong.as_str(), ""] {
            for (method, path, body) in [
                (Method::POST, &charge, Some(&order)),
                (Method::GET, &read, None),
                (Method::POST, &void, Some(&order)),
            ] {
                let response = payment.internal_raw(method.clone(), path, body, Some(token)).await;
                assert_problem(response, StatusCode::UNAUTHORIZED).await;
            }
        }
        let anonymous = payment.send(payment.request(Method::POST, &charge, None).json(&order)).await;
        assert_problem(anonymous, StatusCode::UNAUTHORIZED).await;
        assert_eq!(payment.internal_payment(booking_id).await, None, "nothing was charged");

        let first = payment.internal_charge(&order).await;
        assert_eq!((first.status, first.amount), (PaymentStatus::Approved, 10_000));
        assert_eq!(payment.internal_charge(&order).await, first, "charged once");
        let mut other_amount = order.clone();
        other_amount["amount"] = json!(1);
        let conflict = payment.internal_raw(Method::POST, &charge, Some(&other_amount), None).await;
        assert_problem(conflict, StatusCode::CONFLICT).await;
        let voided = payment.internal_raw(Method::POST, &void, Some(&order), None).await;
        assert_eq!(voided.status(), StatusCode::OK);
        assert_eq!(payment.internal_payment(booking_id).await.expect("a payment").status, PaymentStatus::Voided);
        let elsewhere = format!("/internal/payments/{}/void", Uuid::now_v7());
        let mismatch = payment.internal_raw(Method::POST, &elsewhere, Some(&order), None).await;
        assert_problem(mismatch, StatusCode::CONFLICT).await;

        // Refunds happen by event only: there is no refund call, with the token or without.
        let paid_id = Uuid::now_v7();
        let mut paid = order.clone();
        paid["bookingId"] = json!(paid_id);
        payment.internal_charge(&paid).await;
        let refund = format!("/internal/payments/{paid_id}/refund");
        let no_refund = payment.internal_raw(Method::POST, &refund, None, None).await;
        assert!(no_refund.status().is_client_error(), "{}", no_refund.status());
        assert_eq!(payment.internal_payment(paid_id).await.expect("a payment").status, PaymentStatus::Approved);
    }
}
