//! My page (CQRS): each user's stays as guest and as host, built only from events, and
//! rebuilt from the event history to the same rows (`mybnb replay mypage`).

use mybnb_client::{MyPage, Stay};
use mybnb_testkit::eventually::eventually;
use reqwest::{Method, StatusCode};

use crate::helpers::{ApiClient, TestUser, spawn_app, spawn_app_on};

api_tests! {
    /// A booking shows on its guest's page and its host's, with the room, dates, total and
    /// both statuses; once cancelled and refunded, both statuses say so. Nobody else sees it.
    async fn my_page_shows_both_sides_and_follows_a_cancellation(app) {
        let listing = app.listing(55_000).await;
        let guest = app.new_user("guest").await;
        let stranger = app.new_user("stranger").await;
        let booking = app.book(&guest.token, &listing.stay(7, 2)).await;
        let id = booking.id;
        let expected = |booking_status: &str, payment_status: &str| Stay {
            booking_id: id,
            room_id: listing.id,
            room_name: booking.room_name.clone(),
            check_in: booking.check_in,
            check_out: booking.check_out,
            total_price: 110_000,
            booking_status: booking_status.into(),
            payment_status: payment_status.into(),
        };

        let confirmed = expected("CONFIRMED", "APPROVED");
        await_page(&app, &guest, |page| &page.as_guest, std::slice::from_ref(&confirmed)).await;
        await_page(&app, &listing.host, |page| &page.as_host, std::slice::from_ref(&confirmed)).await;
        let page = app.my_page(&guest.token).await;
        assert!(page.as_host.is_empty(), "the guest hosts nothing");

        assert_eq!(app.cancel_raw(&guest.token, id).await.status(), StatusCode::OK);
        let cancelled = expected("CANCELLED", "CANCELLED");
        await_page(&app, &guest, |page| &page.as_guest, std::slice::from_ref(&cancelled)).await;
        await_page(&app, &listing.host, |page| &page.as_host, std::slice::from_ref(&cancelled)).await;
        let nothing = MyPage { as_guest: vec![], as_host: vec![] };
        assert_eq!(app.my_page(&stranger.token).await, nothing);
    }

    async fn my_page_needs_a_token(app) {
        let response = app.send(app.request(Method::GET, "/mypage", None)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    /// Rebuilt from scratch by replaying the event history, my page ends identical.
    async fn my_page_rebuilt_from_the_history_is_identical(backend: Backend) {
        let Some(app) = spawn_app(backend).await else { return };
        let listing = app.listing(42_000).await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        let kept = app.book(&first.token, &listing.stay(3, 2)).await;
        let dropped = app.book(&second.token, &listing.stay(8, 1)).await;
        assert_eq!(app.cancel_raw(&second.token, dropped.id).await.status(), StatusCode::OK);
        let host_rows = eventually("my page settles", async || {
            let page = app.my_page(&listing.host.token).await;
            let mut statuses: Vec<(&str, &str)> = page.as_host
                .iter()
                .map(|row| (&*row.booking_status, &*row.payment_status))
                .collect();
            statuses.sort();
            let settled = statuses == [("CANCELLED", "CANCELLED"), ("CONFIRMED", "APPROVED")];
            if settled { Ok(page.clone()) } else { Err(format!("{page:?}")) }
        })
        .await;
        let users = [&first, &second, &listing.host];
        let mut before = Vec::new();
        for user in users {
            before.push(app.my_page(&user.token).await);
        }
        assert!(host_rows.as_host.iter().any(|row| row.booking_id == kept.id));

        let storage = app.storage();
        app.stop().await.expect("a clean stop");
        let mut settings = mybnb::Settings::defaults().expect("default settings");
        storage.apply(&mut settings);
        let applied = mybnb::replay::replay(&settings, mybnb::cli::ReadModel::Mypage).await.expect("replayed");
        assert!(applied >= 5, "two confirmations, a cancellation and payment events: {applied}");

        let app = spawn_app_on(&storage, |_| {}).await;
        for (user, page) in users.into_iter().zip(before) {
            assert_eq!(app.my_page(&user.token).await, page, "{}'s page after the replay", user.username);
        }
    }
}

/// Waits until `user`'s page lists exactly `expected` on `side`.
async fn await_page(
    api: &ApiClient,
    user: &TestUser,
    side: fn(&MyPage) -> &[Stay],
    expected: &[Stay],
) {
    eventually("my page follows the events", async || {
        let page = api.my_page(&user.token).await;
        if side(&page) == expected {
            Ok(())
        } else {
            Err(format!("{page:?}"))
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
        let page = app.my_page(&guest.token).await;
        if page
            .as_guest
            .first()
            .is_some_and(|stay| stay.payment_status == "APPROVED")
        {
            Ok(page)
        } else {
            Err(format!("{page:?}"))
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
    assert_eq!(app.my_page(&guest.token).await, before);
}
