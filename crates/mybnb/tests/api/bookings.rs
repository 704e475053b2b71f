//! Booking a room: `POST /bookings` priced from the room and paid in the same request, the
//! original system's `usedate`, and every request it turns away — each a problem document that
//! changes nothing (I5).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use mybnb_client::{Booking, Payment, Problem};

use crate::booking_client::{day, stay};
use crate::helpers::{assert_problem, header};
use crate::ledger::await_settled;

/// Requests for `room_id` that are invalid whatever the state, each with why.
fn invalid_requests(room_id: Uuid) -> Vec<(&'static str, Value)> {
    let with = |member: &str, value: Value| {
        let mut body = stay(room_id, 10, 2);
        body[member] = value;
        body
    };
    let dates = |check_in: String, check_out: String| json!({ "roomId": room_id, "checkIn": check_in, "checkOut": check_out });
    let yesterday = (day(0) - chrono::Days::new(1)).to_string();
    vec![
        (
            "check-in in the past",
            dates(yesterday.clone(), day(1).to_string()),
        ),
        (
            "check-out before check-in",
            dates(day(12).to_string(), day(10).to_string()),
        ),
        (
            "no night at all",
            dates(day(10).to_string(), day(10).to_string()),
        ),
        ("31 nights", dates(day(10).to_string(), day(41).to_string())),
        (
            "check-in past the horizon (365 days)",
            dates(day(366).to_string(), day(367).to_string()),
        ),
        (
            "a stay in the year 9999",
            dates("9999-12-01".into(), "9999-12-31".into()),
        ),
        (
            "a date that is no date",
            dates("2030-02-30".into(), "2030-03-02".into()),
        ),
        (
            "the wrong date format",
            dates(day(10).format("%d/%m/%Y").to_string(), day(12).to_string()),
        ),
        (
            "check-in alone",
            json!({ "roomId": room_id, "checkIn": day(10).to_string() }),
        ),
        ("no dates", json!({ "roomId": room_id })),
        (
            "usedate with check-in",
            with("usedate", json!(day(10).format("%Y%m%d").to_string())),
        ),
        (
            "usedate in the past",
            json!({ "roomId": room_id, "usedate": yesterday.replace('-', "") }),
        ),
        (
            "usedate with dashes",
            json!({ "roomId": room_id, "usedate": day(10).to_string() }),
        ),
        ("more guests than beds", with("guests", json!(5))),
        ("no guests", with("guests", json!(0))),
        ("negative guests", with("guests", json!(-1))),
        ("guests as text", with("guests", json!("two"))),
        ("a room id that is no id", with("roomId", json!("room-1"))),
        (
            "no room id",
            json!({ "checkIn": day(10).to_string(), "checkOut": day(12).to_string() }),
        ),
        ("an array", json!([room_id])),
    ]
}

api_tests! {
    /// Every field of the answer; the price, host and name come from the room, whatever the
    /// client sends; the booking reads back the same and its payment is the total.
    async fn a_booking_is_priced_from_the_room_and_paid(app) {
        let listing = app.listing(85_000).await;
        let guest = app.new_user("guest").await;
        let mut body = listing.stay(10, 3);
        body["guests"] = json!(2);
        body["price"] = json!(1);
        body["totalPrice"] = json!(1);
        body["host"] = json!(guest.id);

        let response = app.book_raw(&guest.token, &body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let location = header(&response, reqwest::header::LOCATION);
        let booking: Booking = response.json().await.expect("a booking: ids UUIDs, createdAt RFC 3339");
        let id = booking.id;
        assert_eq!(location, format!("/bookings/{id}"));
        let payment_id = booking.payment_id.expect("a payment id");
        assert!(booking.created_at.is_some(), "{booking:?}");
        let expected = Booking {
            id, room_id: listing.id, room_name: listing.name.clone(), guest: guest.id,
            host: listing.host.id, check_in: day(10), check_out: day(13),
            nights: 3, guests: 2, nightly_price: 85_000, total_price: 255_000,
            status: "CONFIRMED".into(), payment_id: Some(payment_id), created_at: booking.created_at,
        };
        assert_eq!(booking, expected);

        assert_eq!(app.booking(&guest.token, id).await, booking, "it reads back the same");
        assert_eq!(app.bookings(&guest.token).await, vec![booking.clone()]);
        let payments = app.payments(&guest.token, id).await;
        assert_eq!(payments, vec![Payment { id: payment_id, booking_id: id, amount: 255_000, status: "APPROVED".into() }]);
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.payments.len(), 1, "one charge: {ledger:?}");
    }

    /// `usedate` (`YYYYMMDD`) books that one night; `guests` defaults to 1.
    async fn usedate_books_one_night(app) {
        let listing = app.listing(40_000).await;
        let guest = app.new_user("guest").await;
        let usedate = day(5).format("%Y%m%d").to_string();
        let booking = app.book(&guest.token, &json!({ "roomId": listing.id, "usedate": usedate })).await;
        assert_eq!((booking.check_in, booking.check_out), (day(5), day(6)));
        assert_eq!((booking.nights, booking.guests), (1, 1));
        assert_eq!(booking.total_price, 40_000);

        let same_night = app.book_raw(&guest.token, &listing.stay(5, 1), None).await;
        assert_problem(same_night, StatusCode::CONFLICT).await;
    }

    /// Today is bookable, and so are 30 nights, the longest stay, and a stay 365 days ahead,
    /// the horizon.
    async fn stays_at_the_limits_are_booked(app) {
        let listing = app.listing(10_000).await;
        let guest = app.new_user("guest").await;
        let tonight = app.book(&guest.token, &listing.stay(0, 1)).await;
        assert_eq!(tonight.check_in, day(0));
        let month = app.book(&guest.token, &listing.stay(1, 30)).await;
        assert_eq!((month.nights, month.total_price), (30, 300_000));
        let mut full_house = listing.stay(40, 1);
        full_house["guests"] = json!(listing.capacity);
        assert_eq!(app.book(&guest.token, &full_house).await.guests, 4);
        let farthest = app.book(&guest.token, &listing.stay(365, 1)).await;
        assert_eq!(farthest.check_in, day(365));
    }

    async fn an_unknown_room_is_not_found(app) {
        let guest = app.new_user("guest").await;
        let response = app.book_raw(&guest.token, &stay(Uuid::now_v7(), 3, 1), None).await;
        assert_problem(response, StatusCode::NOT_FOUND).await;

        let listing = app.listing(30_000).await;
        assert_eq!(app.delete_room(listing.id, &listing.host.token).await.status(), StatusCode::NO_CONTENT);
        let deleted = app.book_raw(&guest.token, &listing.stay(3, 1), None).await;
        assert_problem(deleted, StatusCode::NOT_FOUND).await;
        assert!(app.bookings(&guest.token).await.is_empty());
    }

    /// A night held by someone else makes the whole stay conflict; the nights around it are free.
    async fn taken_nights_conflict(app) {
        let listing = app.listing(50_000).await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        app.book(&first.token, &listing.stay(10, 3)).await;
        for (from, nights) in [(10, 3), (12, 5), (8, 3), (11, 1), (5, 20)] {
            let response = app.book_raw(&second.token, &listing.stay(from, nights), None).await;
            let problem = assert_problem(response, StatusCode::CONFLICT).await;
            assert!(problem.message().contains("booked"), "{problem}");
        }
        assert!(app.bookings(&second.token).await.is_empty(), "nothing was left behind");
        app.book(&second.token, &listing.stay(8, 2)).await;
        app.book(&second.token, &listing.stay(13, 2)).await;
        await_settled(&app.storage(), &app.storage()).await;
    }

    async fn hosts_cannot_book_their_own_room(app) {
        let listing = app.listing(60_000).await;
        let response = app.book_raw(&listing.host.token, &listing.stay(3, 2), None).await;
        assert_problem(response, StatusCode::FORBIDDEN).await;
        assert!(app.bookings(&listing.host.token).await.is_empty());
        assert!(app.free_rooms(day(3), day(5)).await.contains(&listing.id));
    }

    /// Each invalid request is a 422 problem; afterwards there is no booking, no payment, and
    /// the nights asked for are still free.
    async fn invalid_requests_are_refused_and_change_nothing(app) {
        let listing = app.listing(70_000).await;
        let guest = app.new_user("guest").await;
        for (case, body) in invalid_requests(listing.id) {
            let response = app.book_raw(&guest.token, &body, None).await;
            let status = response.status();
            let text = response.text().await.expect("a body");
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {text}");
            let problem: Problem = serde_json::from_str(&text).expect("a problem document");
            assert_eq!(problem.status, 422, "{case}: {problem}");
        }
        let too_long = "k".repeat(256);
        for key in ["", too_long.as_str(), "with space", "tab\there"] {
            let response = app.book_raw(&guest.token, &listing.stay(10, 2), Some(key)).await;
            assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        assert!(app.bookings(&guest.token).await.is_empty(), "no booking was made");
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert!(ledger.bookings.is_empty() && ledger.payments.is_empty(), "{ledger:?}");
        assert!(app.free_rooms(day(10), day(12)).await.contains(&listing.id));
        app.book(&guest.token, &listing.stay(10, 2)).await;
    }

    /// Malformed bodies are 400 or 415 and book nothing; every booking route needs a token.
    async fn malformed_and_anonymous_requests_are_refused(app) {
        let listing = app.listing(20_000).await;
        let guest = app.new_user("guest").await;
        let request = app.request(Method::POST, "/bookings", Some(&guest.token));
        let half = request.header("content-type", "application/json").body(r#"{"roomId": "#);
        assert_problem(app.send(half).await, StatusCode::BAD_REQUEST).await;
        let text = app.request(Method::POST, "/bookings", Some(&guest.token))
            .header("content-type", "text/plain").body(listing.stay(3, 1).to_string());
        assert_problem(app.send(text).await, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

        let some_id = Uuid::now_v7().to_string();
        for (method, path) in [
            (Method::POST, "/bookings".to_owned()),
            (Method::GET, "/bookings".to_owned()),
            (Method::GET, format!("/bookings/{some_id}")),
            (Method::POST, format!("/bookings/{some_id}/cancel")),
            (Method::GET, format!("/payments?bookingId={some_id}")),
        ] {
            let anonymous = app.request(method.clone(), &path, None).json(&listing.stay(3, 1));
            assert_problem(app.send(anonymous).await, StatusCode::UNAUTHORIZED).await;
            let forged = app.request(method, &path, Some("not.a.token"));
            assert_problem(app.send(forged).await, StatusCode::UNAUTHORIZED).await;
        }
        for malformed in ["not-a-uuid", "123"] {
            assert_problem(app.booking_raw(&guest.token, malformed).await, StatusCode::NOT_FOUND).await;
            assert_problem(app.cancel_raw(&guest.token, malformed).await, StatusCode::NOT_FOUND).await;
        }
        assert!(app.bookings(&guest.token).await.is_empty());
        assert!(app.free_rooms(day(3), day(4)).await.contains(&listing.id));
    }
}
