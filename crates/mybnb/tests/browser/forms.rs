//! Forms that fail keep what was typed and say what is wrong in words a person understands: a
//! wrong password, a check-out before the check-in, nights already taken, and a payment
//! provider that is down — which books nothing and never shows a raw error.

use mybnb_payment::simulation::Rate;
use mybnb_testkit::browser::{Browser, Page};

use crate::harness::{
    App, PASSWORD, count, day, log_in, reload_until_text, screenshots, set_date, spawn, spawn_with,
    value,
};

/// Fills the booking form on `room`'s page with `check_in` and `check_out` (days after today)
/// and 2 guests, and sends it.
async fn try_booking(page: &Page, app: &App, room: &uuid::Uuid, check_in: u64, check_out: u64) {
    page.goto(&app.url(&format!("/stays/{room}")))
        .await
        .expect("the room's page");
    set_date(page, "#field-checkIn", day(check_in)).await;
    set_date(page, "#field-checkOut", day(check_out)).await;
    page.fill("#field-guests", "2").await.expect("guests");
    page.click("section.book form button[type=submit]")
        .await
        .expect("the form sent");
}

/// The booking form says `message` and still holds the dates and guests typed.
async fn assert_kept(page: &Page, message: &str, check_in: u64, check_out: u64) {
    page.wait_for_text("section.book p.error[role=alert]", message)
        .await
        .expect("the form says what is wrong");
    assert_eq!(
        value(page, "#field-checkIn").await,
        day(check_in).to_string()
    );
    assert_eq!(
        value(page, "#field-checkOut").await,
        day(check_out).to_string()
    );
    assert_eq!(value(page, "#field-guests").await, "2");
}

/// The page shows nothing of the API's own error text.
async fn assert_no_raw_error(page: &Page) {
    let shown = page.text("body").await.expect("the page's text");
    for raw in [
        "problem",
        "about:blank",
        "{\"",
        "\"detail\"",
        "Service Unavailable",
        "503",
        "error:",
    ] {
        assert!(!shown.contains(raw), "no raw error text ({raw}): {shown}");
    }
}

#[tokio::test]
async fn failed_forms_keep_what_was_typed_and_say_what_is_wrong() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn().await;
    let host = app.new_user("host").await;
    let room = app.room(&host, "Garden room").await;
    let other = app.new_user("other").await;
    app.book(&other, room, 10, 2).await;
    let guest = app.new_user("guest").await;
    let page = browser.open(screenshots("forms")).await.expect("a page");

    // A wrong password: the username stays, the password does not, no one is logged in.
    page.goto(&app.url("/login")).await.expect("the login page");
    page.fill("#field-username", &guest.username)
        .await
        .expect("username");
    page.fill("#field-password", "not the password")
        .await
        .expect("password");
    page.click("form[action='/login'] button[type=submit]")
        .await
        .expect("sent");
    page.wait_for_text("p.error[role=alert]", "The username or password is wrong.")
        .await
        .expect("told the login failed");
    assert_eq!(value(&page, "#field-username").await, guest.username);
    assert_eq!(value(&page, "#field-password").await, "");
    assert_eq!(count(&page, "#who").await, 0, "no one is logged in");
    page.screenshot("login-wrong-password")
        .await
        .expect("a screenshot");
    page.fill("#field-password", PASSWORD)
        .await
        .expect("password");
    page.click("form[action='/login'] button[type=submit]")
        .await
        .expect("sent again");
    page.wait_for_text("#who", &guest.username)
        .await
        .expect("logged in with the right password");

    // Check-out before check-in.
    try_booking(&page, &app, &room, 25, 23).await;
    assert_kept(&page, "Check-out must be after check-in.", 25, 23).await;
    assert_no_raw_error(&page).await;
    page.screenshot("check-out-before-check-in")
        .await
        .expect("a screenshot");

    // Nights another guest has booked, once the room's calendar knows of them (it learns of
    // bookings by event).
    let taken_night = format!("table.calendar td.day.taken[data-date='{}']", day(10));
    reload_until_text(&page, &app, &format!("/stays/{room}"), &taken_night, "").await;
    try_booking(&page, &app, &room, 9, 11).await;
    assert_kept(&page, "Some of those nights are already booked.", 9, 11).await;
    assert_no_raw_error(&page).await;
    let taken = attribute_class(&page, day(10)).await;
    assert_eq!(taken, "day taken", "the calendar shows why");
    page.screenshot("nights-taken").await.expect("a screenshot");

    let bookings = app.bookings(&guest).await;
    assert!(
        bookings.iter().all(|booking| booking.status != "CONFIRMED"),
        "nothing booked: {bookings:?}"
    );
    page.goto(&app.url("/trips")).await.expect("my trips");
    page.wait_for("#no-trips").await.expect("no trips");
}

async fn attribute_class(page: &Page, date: chrono::NaiveDate) -> String {
    crate::harness::attribute(
        page,
        &format!("table.calendar td.day[data-date='{date}']"),
        "class",
    )
    .await
    .unwrap_or_default()
}

#[tokio::test]
async fn a_payment_outage_asks_to_try_again_shortly_and_books_nothing() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_with(|settings| {
        settings.payment.network.failure_rate = Rate::parse(1.0).expect("a rate");
    })
    .await;
    let host = app.new_user("host").await;
    let room = app.room(&host, "Rooftop room").await;
    let guest = app.new_user("guest").await;
    let page = browser
        .open(screenshots("payment-outage"))
        .await
        .expect("a page");
    log_in(&page, &app, &guest.username, "/").await;

    try_booking(&page, &app, &room, 15, 17).await;
    assert_kept(&page, "Please try again shortly", 15, 17).await;
    assert_no_raw_error(&page).await;
    let title = page.text("main h1").await.expect("a heading");
    assert_eq!(title, "Rooftop room", "still on the room's page");
    page.screenshot("payment-outage")
        .await
        .expect("a screenshot");

    let bookings = app.bookings(&guest).await;
    assert!(
        bookings.iter().all(|booking| booking.status == "REJECTED"),
        "nothing booked: {bookings:?}"
    );
    page.goto(&app.url("/trips")).await.expect("my trips");
    page.wait_for_text("#no-trips", "No trips yet.")
        .await
        .expect("no trip");
    assert_eq!(count(&page, "ul.trips li.trip").await, 0, "no trip");
    page.screenshot("no-trip").await.expect("a screenshot");
}
