//! `Idempotency-Key`: a repeated request returns the first booking instead of booking (and
//! charging) twice; a request still in progress conflicts; after a failed attempt the key is
//! free again.

use std::time::Duration;

use mybnb_testkit::eventually::eventually;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use mybnb_client::{Booking, Problem};

use crate::booking_client::BookingRequest;
use crate::helpers::{Storage, assert_problem, spawn_app_on};
use crate::ledger::await_settled;
use crate::payment_settings::{provider, reconcile_quickly};

fn declining(settings: &mut mybnb::Settings) {
    provider(settings, "0", 1.0, 0.0);
    reconcile_quickly(settings);
}

/// The same request, `count` times at once, with the key `key`.
fn repeats(token: &str, body: &Value, key: &str, count: usize) -> Vec<BookingRequest> {
    (0..count)
        .map(|_| BookingRequest {
            token: token.to_owned(),
            body: body.clone(),
            key: Some(key.to_owned()),
        })
        .collect()
}

fn slow_payment(settings: &mut mybnb::Settings) {
    provider(settings, "1000", 0.0, 0.0);
    settings.booking.payment_breaker.timeout = Duration::from_secs(10);
    settings.booking.payment_breaker.slow_call = Duration::from_secs(10);
}

api_tests! {
    /// The same key, sent again, answers the first booking: one booking, one payment.
    async fn a_repeated_key_returns_the_first_booking(app) {
        let listing = app.listing(80_000).await;
        let guest = app.new_user("guest").await;
        let body = listing.stay(10, 2);
        let mut answers = Vec::new();
        for _ in 0..3 {
            let response = app.book_raw(&guest.token, &body, Some("trip-2030")).await;
            assert_eq!(response.status(), StatusCode::CREATED);
            answers.push(response.json::<Booking>().await.expect("a booking"));
        }
        assert!(answers.iter().all(|answer| *answer == answers[0]), "the same booking each time: {answers:?}");
        assert_eq!(app.bookings(&guest.token).await, vec![answers[0].clone()]);
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!((ledger.bookings.len(), ledger.payments.len()), (1, 1), "{ledger:?}");
    }

    /// Keys belong to the guest who sent them: another guest's equal key is another request.
    async fn keys_belong_to_their_guest(app) {
        let listing = app.listing(80_000).await;
        let (ana, bo) = (app.new_user("ana").await, app.new_user("bo").await);
        let first = app.book_raw(&ana.token, &listing.stay(10, 2), Some("same-key")).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Booking = first.json().await.expect("a booking");
        let taken = app.book_raw(&bo.token, &listing.stay(10, 2), Some("same-key")).await;
        assert_problem(taken, StatusCode::CONFLICT).await;
        let second = app.book_raw(&bo.token, &listing.stay(12, 1), Some("same-key")).await;
        assert_eq!(second.status(), StatusCode::CREATED);
        let second: Booking = second.json().await.expect("a booking");
        assert_ne!(first.id, second.id);
        assert_eq!(second.guest, bo.id);
    }

    /// While the first request waits for payment, a repeat conflicts rather than booking
    /// again; once it is done, repeats answer its booking.
    async fn a_key_still_in_progress_conflicts(app with slow_payment) {
        let listing = app.listing(80_000).await;
        let guest = app.new_user("guest").await;
        let body = listing.stay(10, 2);
        let first = {
            let request = app.request(Method::POST, "/bookings", Some(&guest.token));
            request.header("idempotency-key", "slow").json(&body).send()
        };
        let first = tokio::spawn(first);
        let pending = eventually("the first request holds its nights", async || {
            let mine = app.bookings(&guest.token).await;
            match mine.as_slice() {
                [pending] if pending.status == "PENDING" => Ok(pending.id),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        let repeat = app.book_raw(&guest.token, &body, Some("slow")).await;
        assert_problem(repeat, StatusCode::CONFLICT).await;
        // Nor can a booking still waiting for its payment be cancelled.
        assert_problem(app.cancel_raw(&guest.token, pending).await, StatusCode::CONFLICT).await;

        let first = first.await.expect("the task ends").expect("the first request is answered");
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Booking = first.json().await.expect("a booking");
        let later = app.book_raw(&guest.token, &body, Some("slow")).await;
        assert_eq!(later.json::<Booking>().await.expect("a booking"), first);
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!((ledger.bookings.len(), ledger.payments.len()), (1, 1), "{ledger:?}");
    }

    /// A key whose attempt was declined (402) or found payment unavailable (503) books when
    /// the guest tries again with it, here after the provider recovers.
    async fn a_key_is_free_again_after_a_failed_attempt(backend: Backend) {
        let Some(storage) = Storage::create(backend).await else { return };
        let declining = spawn_app_on(&storage, |settings| provider(settings, "0", 1.0, 0.0)).await;
        let listing = declining.listing(55_000).await;
        let guest = declining.new_user("guest").await;
        let body = listing.stay(10, 2);
        for _ in 0..2 {
            let declined = declining.book_raw(&guest.token, &body, Some("retry-me")).await;
            assert_problem(declined, StatusCode::PAYMENT_REQUIRED).await;
        }
        declining.stop().await.expect("a clean stop");

        let failing = spawn_app_on(&storage, |settings| provider(settings, "0", 0.0, 1.0)).await;
        let unavailable = failing.book_raw(&guest.token, &body, Some("retry-me")).await;
        assert_problem(unavailable, StatusCode::SERVICE_UNAVAILABLE).await;
        failing.stop().await.expect("a clean stop");

        let healthy = spawn_app_on(&storage, reconcile_quickly).await;
        let booked = healthy.book_raw(&guest.token, &body, Some("retry-me")).await;
        assert_eq!(booked.status(), StatusCode::CREATED);
        let booked: Booking = booked.json().await.expect("a booking");
        let again = healthy.book_raw(&guest.token, &body, Some("retry-me")).await;
        assert_eq!(again.json::<Booking>().await.expect("a booking"), booked);

        let ledger = await_settled(&storage, &storage).await;
        assert_eq!(ledger.bookings_with("REJECTED").len(), 3, "{ledger:?}");
        assert_eq!(ledger.bookings_with("CONFIRMED").len(), 1, "{ledger:?}");
    }

    /// Repeats sent all at once make one booking: each answer is that booking or a 409 while
    /// it is in progress.
    async fn concurrent_repeats_make_one_booking(app with reconcile_quickly) {
        let listing = app.listing(80_000).await;
        let guest = app.new_user("guest").await;
        let answers = app.book_all_at_once(repeats(&guest.token, &listing.stay(10, 2), "at-once", 20)).await;
        let booked: Vec<&Booking> = answers
            .iter()
            .filter_map(|(status, _, body)| body.as_ref().ok().filter(|_| *status == StatusCode::CREATED))
            .collect();
        for (status, content_type, body) in &answers {
            match (*status, body) {
                (StatusCode::CREATED, Ok(booking)) => assert_eq!(booking, booked[0], "the same booking"),
                (StatusCode::CONFLICT, Err(problem)) => {
                    assert!(content_type.starts_with("application/problem+json"), "{problem}");
                    assert_eq!(problem.kind.as_deref(), Some(Problem::IN_PROGRESS), "{problem}");
                }
                (other, body) => panic!("a repeat answered {other}: {body:?}"),
            }
        }
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!((ledger.bookings.len(), ledger.payments.len()), (1, 1), "{ledger:?}");
        assert_eq!(app.bookings(&guest.token).await.len(), 1);
    }

    /// Repeats sent all at once of a request whose payment is declined: each is declined
    /// (402) or told the first is in progress (409); none is answered as booked, none fails.
    async fn concurrent_repeats_of_a_declined_request_are_never_booked(app with declining) {
        let listing = app.listing(80_000).await;
        let guest = app.new_user("guest").await;
        // Each round races its repeats against the first one's rejection.
        for round in 0..4 {
            let key = format!("declined-{round}");
            let answers = app.book_all_at_once(repeats(&guest.token, &listing.stay(10, 2), &key, 25)).await;
            for (status, content_type, body) in &answers {
                let refused = matches!(*status, StatusCode::PAYMENT_REQUIRED | StatusCode::CONFLICT);
                assert!(refused, "round {round}: a repeat answered {status}: {body:?}");
                assert!(content_type.starts_with("application/problem+json"), "{status}: {body:?}");
            }
        }
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert!(ledger.bookings_with("CONFIRMED").is_empty(), "{ledger:?}");
    }
}
