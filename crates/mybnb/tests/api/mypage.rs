//! My page (CQRS): each user's stays as guest and as host, built only from events, and
//! rebuilt from the event history to the same rows (`mybnb replay mypage`).

use mybnb_testkit::eventually::eventually;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_client::id_of;
use crate::helpers::{ApiClient, TestUser, spawn_app, spawn_app_on};

api_tests! {
    /// A booking shows on its guest's page and its host's, with the room, dates, total and
    /// both statuses; once cancelled and refunded, both statuses say so. Nobody else sees it.
    async fn my_page_shows_both_sides_and_follows_a_cancellation(app) {
        let listing = app.listing(55_000).await;
        let guest = app.new_user("guest").await;
        let stranger = app.new_user("stranger").await;
        let booking = app.book(&guest.token, &listing.stay(7, 2)).await;
        let id = id_of(&booking);
        let expected = |booking_status: &str, payment_status: &str| json!({
            "bookingId": id,
            "roomId": listing.id,
            "roomName": booking["roomName"].as_str().unwrap_or_default(),
            "checkIn": booking["checkIn"],
            "checkOut": booking["checkOut"],
            "totalPrice": 110_000,
            "bookingStatus": booking_status,
            "paymentStatus": payment_status,
        });

        let confirmed = expected("CONFIRMED", "APPROVED");
        await_page(&app, &guest, "asGuest", std::slice::from_ref(&confirmed)).await;
        await_page(&app, &listing.host, "asHost", std::slice::from_ref(&confirmed)).await;
        let page = my_page(&app, &guest).await;
        assert_eq!(page["asHost"], json!([]), "the guest hosts nothing");

        assert_eq!(app.cancel_raw(&guest.token, &id).await.status(), StatusCode::OK);
        let cancelled = expected("CANCELLED", "CANCELLED");
        await_page(&app, &guest, "asGuest", std::slice::from_ref(&cancelled)).await;
        await_page(&app, &listing.host, "asHost", std::slice::from_ref(&cancelled)).await;
        assert_eq!(my_page(&app, &stranger).await, json!({"asGuest": [], "asHost": []}));
    }

    async fn my_page_needs_a_token(app) {
        let response = app.client.get(app.url("/mypage")).send().await.expect("a response");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    /// Rebuilt from scratch by replaying the event history, my page ends identical.
    async fn my_page_rebuilt_from_the_history_is_identical(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let listing = app.listing(42_000).await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        let kept = app.book(&first.token, &listing.stay(3, 2)).await;
        let dropped = app.book(&second.token, &listing.stay(8, 1)).await;
        assert_eq!(app.cancel_raw(&second.token, &id_of(&dropped)).await.status(), StatusCode::OK);
        let host_rows = eventually("my page settles", async || {
            let page = my_page(&app, &listing.host).await;
            let mut statuses: Vec<(String, String)> = page["asHost"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|row| (row["bookingStatus"].to_string(), row["paymentStatus"].to_string()))
                .collect();
            statuses.sort();
            let settled = [("\"CANCELLED\"", "\"CANCELLED\""), ("\"CONFIRMED\"", "\"APPROVED\"")]
                .map(|(booking, payment)| (booking.to_owned(), payment.to_owned()));
            if statuses == settled { Ok(page) } else { Err(format!("{page}")) }
        })
        .await;
        let users = [&first, &second, &listing.host];
        let mut before = Vec::new();
        for user in users {
            before.push(my_page(&app, user).await);
        }
        assert!(host_rows["asHost"].as_array().is_some_and(|rows| rows.iter().any(|row| row["bookingId"] == id_of(&kept))));

        let storage = app.storage();
        app.stop().await.expect("a clean stop");
        let mut settings = mybnb::Settings::defaults().expect("default settings");
        storage.apply(&mut settings);
        let applied = mybnb::replay::replay(&settings, mybnb::cli::ReadModel::Mypage).await.expect("replayed");
        assert!(applied >= 5, "two confirmations, a cancellation and payment events: {applied}");

        let app = spawn_app_on(&storage, |_| {}).await;
        for (user, page) in users.into_iter().zip(before) {
            assert_eq!(my_page(&app, user).await, page, "{}'s page after the replay", user.username);
        }
    }
}

async fn my_page(api: &ApiClient, user: &TestUser) -> Value {
    let response = api
        .client
        .get(api.url("/mypage"))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a page")
}

async fn await_page(api: &ApiClient, user: &TestUser, side: &str, expected: &[Value]) {
    eventually("my page follows the events", async || {
        let page = my_page(api, user).await;
        if page[side].as_array().map(Vec::as_slice) == Some(expected) {
            Ok(())
        } else {
            Err(format!("{page}"))
        }
    })
    .await;
}

/// A history that cannot be read to its end (here an unreadable row in the embedded log)
/// fails the replay before anything is thrown away: my page stays as it was.
#[tokio::test]
async fn a_replay_that_cannot_read_the_history_changes_nothing() {
    let Some(app) = spawn_app(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let listing = app.listing(33_000).await;
    let guest = app.new_user("guest").await;
    app.book(&guest.token, &listing.stay(5, 1)).await;
    let before = eventually("my page shows the booking", async || {
        let page = my_page(&app, &guest).await;
        if page["asGuest"][0]["paymentStatus"] == "APPROVED" {
            Ok(page)
        } else {
            Err(format!("{page}"))
        }
    })
    .await;
    let storage = app.storage();
    app.stop().await.expect("a clean stop");

    let mut events = storage.connect("events").await;
    sqlx::query(
        "INSERT INTO events (event_id, event_type, envelope, published_at) \
         VALUES ('broken-1', 'BookingConfirmed', '{not json', '2026-11-24T00:00:00Z')",
    )
    .execute(&mut events)
    .await
    .expect("a broken row");
    let mut settings = mybnb::Settings::defaults().expect("default settings");
    storage.apply(&mut settings);
    let replayed = mybnb::replay::replay(&settings, mybnb::cli::ReadModel::Mypage).await;
    assert!(replayed.is_err(), "the replay fails: {replayed:?}");

    let app = spawn_app_on(&storage, |_| {}).await;
    assert_eq!(my_page(&app, &guest).await, before);
}
