//! A room's availability calendar: `GET /rooms/{id}/availability?from&to`, open to anyone. It
//! shows the nights booked stays take, following bookings and cancellations by event, and
//! refuses unknown or deleted rooms and ranges that are not 1 to 92 nights.

use chrono::{Days, NaiveDate};
use mybnb_testkit::eventually::eventually;
use reqwest::{Method, Response, StatusCode};
use uuid::Uuid;

use mybnb_client::Availability;

use crate::booking_client::day;
use crate::helpers::{TestApp, assert_problem, header};

/// `GET /rooms/{room_id}/availability` with `query`, no token.
async fn availability_raw(
    app: &TestApp,
    room_id: impl std::fmt::Display,
    query: &[(&str, &str)],
) -> Response {
    let path = format!("/rooms/{room_id}/availability");
    app.send(app.request(Method::GET, &path, None).query(query))
        .await
}

/// The availability of `[from, to)`; the request must succeed.
async fn availability(
    app: &TestApp,
    room_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Availability {
    let (from, to) = (from.to_string(), to.to_string());
    let response = availability_raw(app, room_id, &[("from", &from), ("to", &to)]).await;
    let status = response.status();
    let content_type = header(&response, reqwest::header::CONTENT_TYPE);
    let text = response.text().await.expect("a body");
    assert_eq!(
        status,
        StatusCode::OK,
        "availability of {room_id} {from}..{to}: {text}"
    );
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    serde_json::from_str(&text).expect("availability as JSON")
}

/// The nights `days` days after today.
fn nights(days: &[u64]) -> Vec<NaiveDate> {
    days.iter().map(|&days| day(days)).collect()
}

/// The taken nights of `[from, to)` days after today, as the API lists them.
async fn taken(app: &TestApp, room_id: Uuid, from: u64, to: u64) -> Vec<NaiveDate> {
    availability(app, room_id, day(from), day(to))
        .await
        .taken_nights
}

/// Waits until the taken nights of `[from, to)` days after today are the nights `expected`
/// days after today: availability follows bookings by event.
async fn await_taken(app: &TestApp, room_id: Uuid, (from, to): (u64, u64), expected: &[u64]) {
    let expected = nights(expected);
    eventually("availability follows the bookings", async || {
        let found = taken(app, room_id, from, to).await;
        if found == expected {
            Ok(())
        } else {
            Err(format!("{found:?}"))
        }
    })
    .await;
}

api_tests! {
    /// Exactly the nights of the stay are taken, whatever part of them the range holds; the
    /// check-out night and the nights around the stay are free, and other rooms are untouched.
    async fn a_booked_stays_nights_are_taken_and_no_others(app) {
        let booked = app.listing(50_000).await;
        let other = app.listing(60_000).await;
        let guest = app.new_user("guest").await;
        app.book(&guest.token, &booked.stay(10, 3)).await;
        await_taken(&app, booked.id, (8, 16), &[10, 11, 12]).await;

        let body = availability(&app, booked.id, day(8), day(16)).await;
        let expected = Availability { room_id: booked.id, from: day(8), to: day(16), taken_nights: nights(&[10, 11, 12]) };
        assert_eq!(body, expected);
        let cases: [((u64, u64), &[u64]); 6] = [
            ((10, 13), &[10, 11, 12]),
            ((11, 12), &[11]),
            ((12, 20), &[12]),
            ((0, 11), &[10]),
            ((8, 10), &[]),
            ((13, 15), &[]),
        ];
        for ((from, to), expected) in cases {
            assert_eq!(taken(&app, booked.id, from, to).await, nights(expected), "nights {from}..{to}");
        }
        assert!(taken(&app, other.id, 8, 16).await.is_empty(), "the other room is free");
    }

    /// Stays of several bookings are listed together, ascending; a cancelled booking frees its
    /// nights and the others keep theirs.
    async fn a_cancelled_booking_frees_its_nights(app) {
        let listing = app.listing(40_000).await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        let later = app.book(&first.token, &listing.stay(20, 2)).await;
        app.book(&second.token, &listing.stay(5, 2)).await;
        await_taken(&app, listing.id, (0, 30), &[5, 6, 20, 21]).await;

        assert_eq!(app.cancel_raw(&first.token, later.id).await.status(), StatusCode::OK);
        await_taken(&app, listing.id, (0, 30), &[5, 6]).await;

        app.book(&first.token, &listing.stay(19, 2)).await;
        await_taken(&app, listing.id, (0, 30), &[5, 6, 19, 20]).await;
    }

    /// Like `GET /rooms/{id}`: an unknown id, an id that is no id and a deleted room are 404.
    async fn an_unknown_or_deleted_room_is_not_found(app) {
        let (from, to) = (day(1).to_string(), day(3).to_string());
        let range = [("from", from.as_str()), ("to", to.as_str())];
        for id in [Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
            assert_problem(availability_raw(&app, id, &range).await, StatusCode::NOT_FOUND).await;
        }

        let listing = app.listing(30_000).await;
        assert!(taken(&app, listing.id, 1, 3).await.is_empty());
        assert_eq!(app.delete_room(listing.id, &listing.host.token).await.status(), StatusCode::NO_CONTENT);
        assert_problem(availability_raw(&app, listing.id, &range).await, StatusCode::NOT_FOUND).await;
    }

    /// 1 and 92 nights are answered; every other range is a 422 problem.
    async fn ranges_must_be_1_to_92_nights_of_dates(app) {
        let listing = app.listing(20_000).await;
        let start = NaiveDate::from_ymd_opt(2030, 1, 1).expect("a date");
        let after = |nights: u64| (start + Days::new(nights)).to_string();
        for nights in [1, 92] {
            let body = availability(&app, listing.id, start, start + Days::new(nights)).await;
            assert!(body.taken_nights.is_empty(), "{nights} nights");
        }

        let (first, one, later, too_far) = (start.to_string(), after(1), after(10), after(93));
        // Each case, its query, and the field its problem names.
        type Query<'a> = Vec<(&'a str, &'a str)>;
        let cases: [(&str, Query, &str); 11] = [
            ("to before from", vec![("from", &later), ("to", &first)], "to"),
            ("no night at all", vec![("from", &first), ("to", &first)], "to"),
            ("93 nights", vec![("from", &first), ("to", &too_far)], "to"),
            ("from alone", vec![("from", &first)], "to"),
            ("to alone", vec![("to", &one)], "from"),
            ("no dates", vec![], "from"),
            ("the wrong date format", vec![("from", "01/01/2030"), ("to", &one)], "from"),
            ("a date that is no date", vec![("from", &first), ("to", "2030-02-30")], "to"),
            ("a word", vec![("from", "today"), ("to", &one)], "from"),
            ("an empty date", vec![("from", ""), ("to", &one)], "from"),
            ("the same date twice", vec![("from", &first), ("from", &first), ("to", &one)], "from"),
        ];
        for (case, query, field) in cases {
            let response = availability_raw(&app, listing.id, &query).await;
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(problem.message().contains(&format!("`{field}`")), "{case}: {problem}");
        }
    }
}
