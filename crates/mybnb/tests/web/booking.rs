//! Booking and paying through a room's page: an outage, a declined card and taken nights each
//! come back as the form with words a guest understands (never the API's own text) and nothing
//! booked; a form sent twice books once.

use mybnb::Settings;
use mybnb_payment::simulation::Rate;
use reqwest::StatusCode;

use crate::harness::{App, Browser, Page, User, day, spawn, spawn_with};

fn provider(decline_rate: f64, failure_rate: f64) -> impl FnOnce(&mut Settings) {
    move |settings| {
        settings.payment.network.decline_rate = Rate::parse(decline_rate).expect("a rate");
        settings.payment.network.failure_rate = Rate::parse(failure_rate).expect("a rate");
    }
}

/// A room of a new host, and a guest logged in on the room's page.
async fn guest_at_a_room(app: &App) -> (uuid::Uuid, User, Browser) {
    let host = app.new_user("host").await;
    let room = app.room(&host, "Hanok").await;
    let guest = app.new_user("guest").await;
    let browser = app.logged_in(&guest).await;
    (room, guest, browser)
}

/// Fills in the room's booking form for `nights` nights from `from` days after today and sends
/// it, as the guest would. A form that comes back keeps what was typed, and keeps the attempt's
/// idempotency key only when its outcome is unknown (the payment was unavailable): sending it
/// again then cannot book twice, while after a definite answer it is a new attempt.
async fn book(browser: &Browser, room: &uuid::Uuid, from: u64, nights: u64) -> Page {
    let form = browser.get(&format!("/stays/{room}")).await;
    let key = form.hidden("key").expect("the form has a key");
    let (check_in, check_out) = (day(from).to_string(), day(from + nights).to_string());
    let fields = [
        ("checkIn", check_in.as_str()),
        ("checkOut", &check_out),
        ("key", &key),
    ];
    let page = browser
        .submit(&format!("/stays/{room}/book"), &fields)
        .await;
    if page.status != StatusCode::SEE_OTHER {
        let kept = [("checkIn", &check_in), ("checkOut", &check_out)];
        for (name, typed) in kept {
            assert_eq!(
                page.input(name).as_ref(),
                Some(typed),
                "{name} is kept: {}",
                page.body
            );
        }
        let returned = page.hidden("key").expect("the returned form has a key");
        if page.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(returned, key, "the outcome is unknown: the same attempt");
        } else {
            assert_ne!(returned, key, "a definite answer: a new attempt");
        }
    }
    page
}

/// The guest's bookings that hold nights: none may, whatever attempts were recorded.
async fn assert_nothing_booked(app: &App, guest: &User) {
    let bookings = app.bookings(guest).await;
    assert!(
        bookings.iter().all(|booking| booking.status == "REJECTED"),
        "nothing is booked: {bookings:?}"
    );
}

#[track_caller]
fn assert_told(page: &Page, status: StatusCode, message: &str) {
    page.assert_html(status);
    assert!(page.body.contains(message), "{}", page.body);
    for raw in ["problem", "about:blank", "{\"", "\"detail\""] {
        assert!(
            !page.body.contains(raw),
            "no raw error text ({raw}): {}",
            page.body
        );
    }
}

#[tokio::test]
async fn a_payment_outage_asks_to_try_again_shortly() {
    let app = spawn_with(provider(0.0, 1.0)).await;
    let (room, guest, browser) = guest_at_a_room(&app).await;
    let page = book(&browser, &room, 10, 2).await;
    assert_told(
        &page,
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again shortly.",
    );
    assert_nothing_booked(&app, &guest).await;
}

#[tokio::test]
async fn a_declined_payment_says_so() {
    let app = spawn_with(provider(1.0, 0.0)).await;
    let (room, guest, browser) = guest_at_a_room(&app).await;
    let page = book(&browser, &room, 10, 2).await;
    assert_told(
        &page,
        StatusCode::PAYMENT_REQUIRED,
        "Your payment was declined.",
    );
    assert_nothing_booked(&app, &guest).await;
}

#[tokio::test]
async fn taken_nights_say_they_are_already_booked() {
    let app = spawn().await;
    let (room, guest, browser) = guest_at_a_room(&app).await;
    let first = app.new_user("first").await;
    app.book(&first, room, 10, 2).await;
    let page = book(&browser, &room, 11, 2).await;
    assert_told(
        &page,
        StatusCode::CONFLICT,
        "Some of those nights are already booked.",
    );
    assert_nothing_booked(&app, &guest).await;
}

#[tokio::test]
async fn a_form_sent_twice_books_once() {
    let app = spawn().await;
    let (room, guest, browser) = guest_at_a_room(&app).await;
    let form = browser.get(&format!("/stays/{room}")).await;
    let key = form.hidden("key").expect("the form has a key");
    let (check_in, check_out) = (day(10).to_string(), day(12).to_string());
    let fields = [
        ("checkIn", check_in.as_str()),
        ("checkOut", &check_out),
        ("key", &key),
    ];
    let path = format!("/stays/{room}/book");
    let csrf = browser.csrf().await;
    for _ in 0..2 {
        let page = browser.post_with(&path, &fields, &csrf).await;
        page.assert_redirect("/trips?notice=booked");
    }
    let bookings = app.bookings(&guest).await;
    assert_eq!(bookings.len(), 1, "one booking: {bookings:?}");
    assert_eq!(bookings[0].status, "CONFIRMED", "{bookings:?}");

    let again = browser.get(&format!("/stays/{room}")).await;
    let other = again.hidden("key").expect("the form has a key");
    assert_ne!(
        other, key,
        "each rendering of the form has a key of its own"
    );
    let key = other;
    let (check_in, check_out) = (day(20).to_string(), day(22).to_string());
    let fields = [
        ("checkIn", check_in.as_str()),
        ("checkOut", &check_out),
        ("key", &key),
    ];
    let (first, second) = tokio::join!(
        browser.post_with(&path, &fields, &csrf),
        browser.post_with(&path, &fields, &csrf)
    );
    // The second of two at once may find the first still in progress: refused, not booked.
    let statuses = [first.status, second.status];
    assert!(statuses.contains(&StatusCode::SEE_OTHER), "{statuses:?}");
    let answered = [StatusCode::SEE_OTHER, StatusCode::CONFLICT];
    assert!(
        statuses.iter().all(|status| answered.contains(status)),
        "{statuses:?}"
    );
    let confirmed = app.bookings(&guest).await;
    let confirmed = confirmed
        .iter()
        .filter(|booking| booking.status == "CONFIRMED");
    assert_eq!(confirmed.count(), 2, "the double click booked once more");
}
