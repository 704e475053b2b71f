//! Who sees and cancels a booking (I4) — its guest, and its room's host for reading — what a
//! cancellation releases, and how bookings shape a search by dates.

use mybnb_client::Booking;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::booking_client::day;
use crate::helpers::assert_problem;
use crate::ledger::await_settled;

api_tests! {
    /// A stranger is told the booking does not exist, whatever they try; the host reads it and
    /// its payment, but lists and cancels only their own bookings as a guest.
    async fn a_booking_is_seen_by_its_guest_and_host_only(app) {
        let listing = app.listing(90_000).await;
        let guest = app.new_user("guest").await;
        let stranger = app.new_user("stranger").await;
        let booking = app.book(&guest.token, &listing.stay(20, 2)).await;
        let id = booking.id;

        assert_eq!(app.booking(&listing.host.token, id).await, booking, "the host sees it");
        assert_eq!(app.payments_raw(&listing.host.token, id).await.status(), StatusCode::OK);
        assert!(app.bookings(&listing.host.token).await.is_empty(), "the host's own list is as a guest");

        let unknown = Uuid::now_v7().to_string();
        for (case, response) in [
            ("reading", app.booking_raw(&stranger.token, id).await),
            ("cancelling", app.cancel_raw(&stranger.token, id).await),
            ("its payments", app.payments_raw(&stranger.token, id).await),
            ("the host cancelling", app.cancel_raw(&listing.host.token, id).await),
            ("an unknown booking", app.booking_raw(&stranger.token, &unknown).await),
            ("cancelling an unknown booking", app.cancel_raw(&guest.token, &unknown).await),
            ("payments of an unknown booking", app.payments_raw(&guest.token, &unknown).await),
        ] {
            let problem = assert_problem(response, StatusCode::NOT_FOUND).await;
            assert!(!problem.to_string().contains(&guest.id.to_string()), "{case}: nothing leaks: {problem}");
        }
        let stranger_error = app.booking_raw(&stranger.token, id).await.text().await.expect("a body");
        let unknown_error = app.booking_raw(&stranger.token, &unknown).await.text().await.expect("a body");
        assert_eq!(stranger_error.replace(&id.to_string(), "ID"), unknown_error.replace(&unknown, "ID"),
            "someone else's booking looks exactly like one that does not exist");
        assert!(app.bookings(&stranger.token).await.is_empty());
        assert_eq!(app.booking(&guest.token, id).await.status, "CONFIRMED", "nothing changed");
    }

    /// `GET /bookings` lists the caller's own bookings, newest first, and no one else's.
    async fn each_guest_lists_their_own_bookings(app) {
        let listing = app.listing(30_000).await;
        let (ana, bo) = (app.new_user("ana").await, app.new_user("bo").await);
        let first = app.book(&ana.token, &listing.stay(3, 1)).await;
        let other = app.book(&bo.token, &listing.stay(4, 1)).await;
        let second = app.book(&ana.token, &listing.stay(5, 2)).await;
        assert_eq!(app.bookings(&ana.token).await, vec![second, first]);
        assert_eq!(app.bookings(&bo.token).await, vec![other]);
    }

    /// Cancelling gives the nights back: they can be booked again, by anyone. A booking is
    /// cancelled once; a later cancel conflicts.
    async fn a_cancelled_stay_can_be_booked_again(app) {
        let listing = app.listing(45_000).await;
        let (guest, next) = (app.new_user("guest").await, app.new_user("next").await);
        let booking = app.book(&guest.token, &listing.stay(7, 3)).await;
        let id = booking.id;
        assert_problem(app.book_raw(&next.token, &listing.stay(8, 1), None).await, StatusCode::CONFLICT).await;

        let response = app.cancel_raw(&guest.token, id).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cancelled: Booking = response.json().await.expect("a booking");
        let mut expected = booking.clone();
        expected.status = "CANCELLED".into();
        assert_eq!(cancelled, expected, "only the status changes");
        assert_eq!(app.booking(&guest.token, id).await, cancelled);
        assert_eq!(app.booking(&listing.host.token, id).await.status, "CANCELLED");
        assert_problem(app.cancel_raw(&guest.token, id).await, StatusCode::CONFLICT).await;

        let again = app.book(&next.token, &listing.stay(7, 3)).await;
        assert_ne!(again.id, id);
        assert_problem(app.cancel_raw(&guest.token, again.id).await, StatusCode::NOT_FOUND).await;
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.bookings_with("CONFIRMED").len(), 1, "{ledger:?}");
    }

    /// A stay that begins today has begun: it can no longer be cancelled, and keeps its nights.
    async fn a_stay_that_has_begun_cannot_be_cancelled(app) {
        let listing = app.listing(35_000).await;
        let guest = app.new_user("guest").await;
        let booking = app.book(&guest.token, &listing.stay(0, 2)).await;
        let id = booking.id;
        let problem = assert_problem(app.cancel_raw(&guest.token, id).await, StatusCode::CONFLICT).await;
        assert!(problem.message().contains("begun"), "{problem}");
        assert_eq!(app.booking(&guest.token, id).await.status, "CONFIRMED");
        app.await_free_rooms(day(0), day(1), &[]).await;
    }

    /// A search by dates leaves out a room with any of those nights taken, keeps it when the
    /// stays only touch, and finds it again once the booking is cancelled. (Search follows
    /// bookings by event: eventually.)
    async fn search_by_dates_follows_bookings_and_cancellations(app) {
        let booked = app.listing(50_000).await;
        let free = app.listing(60_000).await;
        let guest = app.new_user("guest").await;
        let booking = app.book(&guest.token, &booked.stay(10, 3)).await;
        app.await_free_rooms(day(10), day(13), std::slice::from_ref(&free.id)).await;

        for (from, to) in [(10, 13), (12, 14), (8, 11), (11, 12), (5, 20)] {
            let found = app.free_rooms(day(from), day(to)).await;
            assert_eq!(found, vec![free.id], "nights {from}..{to}");
        }
        for (from, to) in [(8, 10), (13, 15)] {
            let found = app.free_rooms(day(from), day(to)).await;
            assert_eq!(found, vec![booked.id, free.id], "nights {from}..{to}");
        }
        assert_eq!(app.room_count().await, 2, "without dates every room is found");

        assert_eq!(app.cancel_raw(&guest.token, booking.id).await.status(), StatusCode::OK);
        app.await_free_rooms(day(10), day(13), &[booked.id, free.id]).await;
    }

    async fn a_search_needs_both_dates_in_order(app) {
        let (d10, d12) = (day(10).to_string(), day(12).to_string());
        for query in [
            vec![("checkIn", d10.as_str())],
            vec![("checkOut", d12.as_str())],
            vec![("checkIn", d12.as_str()), ("checkOut", d10.as_str())],
            vec![("checkIn", d10.as_str()), ("checkOut", d10.as_str())],
            vec![("checkIn", "tomorrow"), ("checkOut", d12.as_str())],
        ] {
            assert_problem(app.search_raw(&query).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    }
}
