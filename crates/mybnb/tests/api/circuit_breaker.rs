//! The guard around the payment call (I6): a failing provider opens the circuit, and bookings
//! are then turned away with 503 and `Retry-After` without calling it, while `/metrics` and
//! `/health/ready` say so; once the provider recovers, a probe closes the circuit again. A
//! bulkhead turns away charges beyond its limit at once.

use std::time::Duration;

use mybnb::Settings;
use mybnb_client::Booking;
use mybnb_payment::domain::PaymentStatus;
use mybnb_testkit::eventually::eventually;
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::booking_client::{Listing, day, metric};
use crate::helpers::{ApiClient, Storage, TestUser, assert_problem, header, spawn_app_on};
use crate::ledger::await_settled;
use crate::payment_settings::{
    booking_front, payment_only, provider, reconcile_quickly, small_circuit,
};

const STATE: &str = "mybnb_payment_circuit_state";
const TRANSITIONS: &str = "mybnb_payment_circuit_transitions_total";

fn failing_with_a_small_circuit(settings: &mut Settings) {
    provider(settings, "0", 0.0, 1.0);
    small_circuit(settings, 4, Duration::from_secs(60));
    reconcile_quickly(settings);
}

fn one_slow_charge_at_a_time(settings: &mut Settings) {
    provider(settings, "1000", 0.0, 0.0);
    settings.booking.payment_breaker.max_concurrent = 1;
    settings.booking.payment_breaker.timeout = Duration::from_secs(10);
    settings.booking.payment_breaker.slow_call = Duration::from_secs(10);
}

/// Books nights 10 and 11 as `guest`, which must be refused with 503 and a `Retry-After` of at
/// most `at_most` seconds.
async fn assert_turned_away(app: &ApiClient, guest: &TestUser, listing: &Listing, at_most: u64) {
    let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
    let retry_after = header(&response, reqwest::header::RETRY_AFTER);
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is seconds: {retry_after:?}"));
    assert!((1..=at_most).contains(&seconds), "Retry-After {seconds}");
}

async fn circuit_state(app: &ApiClient) -> Option<f64> {
    metric(&app.metrics().await, STATE, &[])
}

/// The ids of `guest`'s bookings.
async fn attempts(app: &ApiClient, guest: &TestUser) -> Vec<Uuid> {
    app.bookings(&guest.token)
        .await
        .iter()
        .map(|booking| booking.id)
        .collect()
}

api_tests! {
    /// Four failures (`minimum_calls`) open the circuit; later bookings are refused without a
    /// call to payment: the failed attempts were uncertain and got a void, while the refused
    /// ones were turned away before they claimed anything.
    async fn an_outage_opens_the_circuit(app with failing_with_a_small_circuit) {
        let listing = app.listing(40_000).await;
        let (early, late) = (app.new_user("early").await, app.new_user("late").await);
        assert_eq!(circuit_state(&app).await, Some(0.0), "closed at first");
        for _ in 0..4 {
            assert_turned_away(&app, &early, &listing, 60).await;
        }
        let metrics = app.metrics().await;
        assert_eq!(metric(&metrics, STATE, &[]), Some(1.0), "{metrics}");
        assert_eq!(metric(&metrics, TRANSITIONS, &[("from", "closed"), ("to", "open")]), Some(1.0), "{metrics}");
        let report = app.readiness().await;
        assert_eq!(report.status, "degraded", "degraded is still ready: {report:?}");
        assert_eq!(report.checks["booking.payment"], "degraded: payment circuit open", "{report:?}");

        for _ in 0..3 {
            assert_turned_away(&app, &late, &listing, 60).await;
        }
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        let called = attempts(&app, &early).await;
        assert_eq!(called.len(), 4);
        for id in called {
            let payments: Vec<&str> = ledger.payments_of(id).iter().map(|payment| payment.status.as_str()).collect();
            assert_eq!(payments, ["VOIDED"], "payment was called for {id}");
        }
        assert!(attempts(&app, &late).await.is_empty(), "nothing was claimed while open");
        assert_eq!(ledger.payments.len(), 4, "only the calls made before it opened: {ledger:?}");
        assert!(app.free_rooms(day(10), day(12)).await.contains(&listing.id));
    }

    /// With one charge allowed at a time, a second booking is refused at once while the first
    /// waits for its slow payment, and the first still goes through.
    async fn the_bulkhead_refuses_charges_beyond_its_limit(app with one_slow_charge_at_a_time) {
        let listing = app.listing(40_000).await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        let request = app.request(Method::POST, "/bookings", Some(&first.token));
        let in_flight = tokio::spawn(request.json(&listing.stay(20, 2)).send());
        eventually("the first booking waits for its payment", async || {
            match app.bookings(&first.token).await.as_slice() {
                [pending] if pending.status == "PENDING" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        assert_turned_away(&app, &second, &listing, 5).await;

        let answer = in_flight.await.expect("the task ends").expect("answered");
        assert_eq!(answer.status(), StatusCode::CREATED);
        assert_eq!(circuit_state(&app).await, Some(0.0), "a full bulkhead does not trip the circuit");
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        let [refused] = attempts(&app, &second).await.try_into().expect("one refused attempt");
        assert!(ledger.payments_of(refused).is_empty(), "payment was not called: {ledger:?}");
    }

    /// Payment in its own process fails, the circuit opens; payment restarts healthy on the
    /// same address and storage, and once `open_for` has passed a probe closes the circuit.
    async fn the_circuit_closes_again_once_payment_recovers(backend: Backend) {
        let Some(payment_storage) = Storage::create(backend).await else { return };
        let Some(booking_storage) = payment_storage.sibling().await else { return };
        let failing = spawn_app_on(&payment_storage, |settings| {
            payment_only(settings);
            provider(settings, "0", 0.0, 1.0);
        })
        .await;
        let payment_address = failing.address;
        let app = spawn_app_on(&booking_storage, |settings| {
            booking_front(settings, &failing.url(""));
            small_circuit(settings, 2, Duration::from_millis(300));
            reconcile_quickly(settings);
        })
        .await;
        let listing = app.listing(40_000).await;
        let guest = app.new_user("guest").await;
        for _ in 0..2 {
            assert_turned_away(&app, &guest, &listing, 1).await;
        }
        assert_eq!(circuit_state(&app).await, Some(1.0));

        failing.stop().await.expect("a clean stop");
        let healthy = spawn_app_on(&payment_storage, |settings| {
            payment_only(settings);
            settings.listen = payment_address;
        })
        .await;
        let booking: Booking = eventually("a probe closes the circuit and the booking is made", async || {
            let response = app.book_raw(&guest.token, &listing.stay(10, 2), None).await;
            match response.status() {
                StatusCode::CREATED => Ok(response.json().await.expect("a booking")),
                other => Err(format!("{other}: {}", response.text().await.unwrap_or_default())),
            }
        })
        .await;
        let metrics = app.metrics().await;
        assert_eq!(metric(&metrics, STATE, &[]), Some(0.0), "{metrics}");
        assert_eq!(metric(&metrics, TRANSITIONS, &[("from", "open"), ("to", "half_open")]), Some(1.0), "{metrics}");
        assert_eq!(metric(&metrics, TRANSITIONS, &[("from", "half_open"), ("to", "closed")]), Some(1.0), "{metrics}");
        let report = app.readiness().await;
        assert_eq!(report.status, "ready", "{report:?}");
        assert_eq!(report.checks["booking.payment"], "ready", "{report:?}");
        let payment = healthy.internal_payment(booking.id).await.expect("the payment is in the payment process");
        assert_eq!(payment.status, PaymentStatus::Approved);
        await_settled(&booking_storage, &payment_storage).await;
    }

    /// The breaker judges the calls of its recent window only: after a healthy run has aged
    /// out of the window, an outage opens it at `minimum_calls` failures.
    async fn the_circuit_judges_recent_calls_only(backend: Backend) {
        let Some(payment_storage) = Storage::create(backend).await else { return };
        let Some(booking_storage) = payment_storage.sibling().await else { return };
        let payment = spawn_app_on(&payment_storage, payment_only).await;
        let payment_address = payment.address;
        // Wide enough to hold the four failures on a slow machine.
        let window = Duration::from_millis(1500);
        let app = spawn_app_on(&booking_storage, |settings| {
            booking_front(settings, &payment.url(""));
            small_circuit(settings, 4, Duration::from_secs(60));
            settings.booking.payment_breaker.window = window;
            reconcile_quickly(settings);
        })
        .await;
        let listing = app.listing(40_000).await;
        let guest = app.new_user("guest").await;
        for night in 0..8 {
            app.book(&guest.token, &listing.stay(30 + night, 1)).await;
        }
        payment.stop().await.expect("a clean stop");
        // Nothing to await but time itself: the healthy calls must leave the window.
        tokio::time::sleep(window).await;
        for _ in 0..4 {
            assert_turned_away(&app, &guest, &listing, 60).await;
        }
        let state = circuit_state(&app).await;

        let _payment = spawn_app_on(&payment_storage, |settings| {
            payment_only(settings);
            settings.listen = payment_address;
        })
        .await;
        await_settled(&booking_storage, &payment_storage).await;
        assert_eq!(state, Some(1.0), "the 4 calls in the window failed; the 8 successes are older");
    }
}
