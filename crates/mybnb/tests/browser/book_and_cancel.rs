//! The main journey: a host lists a room on the dashboard; a guest finds it by a word of its
//! name, the city, dates and guests, books and pays on its page while their phone shows the
//! inbox, which gets "Payment approved" live, without a reload; the trip shows paid, the
//! calendar shows the nights taken; the guest cancels and gets the refund, live too; the host
//! sees the booking on the dashboard throughout.

use mybnb_testkit::browser::{Browser, PageOptions};
use serde_json::json;

use crate::harness::{
    assert_fits_width, attribute, count, day, log_in, reload_until_text, screenshots, script,
    set_date, sign_up, spawn, suffix, value,
};

/// The first night booked, in days after today, and how many nights.
const FROM: u64 = 20;
const NIGHTS: u64 = 3;

#[tokio::test]
async fn a_guest_finds_books_pays_and_cancels_a_room_a_host_listed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn().await;
    let directory = screenshots("book-and-cancel");
    let word = format!("courtyard{}", suffix());
    let room_name = format!("Quiet {word} hanok");
    let (check_in, check_out) = (day(FROM), day(FROM + NIGHTS));
    let nights: Vec<String> = (FROM..FROM + NIGHTS).map(|d| day(d).to_string()).collect();

    // The host signs up and lists a room.
    let host = browser.open(&directory).await.expect("the host's window");
    let host_name = format!("host-{}", suffix());
    sign_up(&host, &app, &host_name, "Mina").await;
    host.screenshot("host-signed-up")
        .await
        .expect("a screenshot");
    host.goto(&app.url("/host")).await.expect("the dashboard");
    host.wait_for("#no-rooms").await.expect("no rooms yet");
    host.fill("#field-name", &room_name).await.expect("name");
    host.fill("#field-address", "7 Gyedong-gil")
        .await
        .expect("address");
    host.fill("#field-city", "Seoul").await.expect("city");
    host.fill("#field-price", "80000").await.expect("price");
    host.fill("#field-capacity", "3").await.expect("capacity");
    host.fill("#field-description", "A quiet room around a courtyard.")
        .await
        .expect("description");
    host.screenshot("room-form-filled")
        .await
        .expect("a screenshot");
    host.click("form[action='/host/rooms'] button[type=submit]")
        .await
        .expect("the room registered");
    host.wait_for_text("p.notice", "Your room is listed.")
        .await
        .expect("the room is listed");
    let listed = host.text("ul.rooms li.room h3").await.expect("the room");
    assert_eq!(listed, room_name, "the dashboard lists the new room");
    assert_eq!(count(&host, "ul.rooms li.room").await, 1, "one room listed");
    let room = attribute(&host, "ul.rooms li.room", "data-room")
        .await
        .expect("the room's id");
    host.screenshot("room-listed").await.expect("a screenshot");

    // The guest signs up on a desktop, and opens the inbox on a phone, live.
    let guest = browser.open(&directory).await.expect("the guest's window");
    let guest_name = format!("guest-{}", suffix());
    sign_up(&guest, &app, &guest_name, "Joon").await;
    let phone = browser
        .open_with(PageOptions::new(&directory).phone())
        .await
        .expect("the guest's phone");
    log_in(&phone, &app, &guest_name, "/inbox").await;
    phone
        .wait_for("#live-status[data-live='true']")
        .await
        .expect("the inbox is live");
    script(&phone, "window.__marker = 42;").await;
    assert_eq!(
        count(&phone, "li.notification").await,
        0,
        "no notifications yet"
    );
    assert_fits_width(&phone, "the inbox on a phone").await;
    phone
        .screenshot("phone-inbox-live")
        .await
        .expect("a screenshot");

    // The guest searches by a word of the name, the city, the dates and the guests.
    guest.goto(&app.url("/")).await.expect("the search page");
    guest.fill("#field-q", &word).await.expect("words");
    guest.fill("#field-city", "seoul").await.expect("city");
    set_date(&guest, "#field-checkIn", check_in).await;
    set_date(&guest, "#field-checkOut", check_out).await;
    guest.fill("#field-guests", "2").await.expect("guests");
    guest
        .screenshot("search-filled")
        .await
        .expect("a screenshot");
    guest
        .click("form.search button[type=submit]")
        .await
        .expect("searched");
    guest
        .wait_for_text("#results-heading", "One room found")
        .await
        .expect("one result");
    let found = guest.text("ul.rooms li.room h3 a").await.expect("a result");
    assert_eq!(found, room_name);
    let card = guest.text("ul.rooms li.room").await.expect("the result");
    assert!(card.contains("Seoul"), "the result says where: {card}");
    assert_eq!(
        value(&guest, "#field-q").await,
        word,
        "the search keeps its words"
    );
    guest
        .screenshot("search-results")
        .await
        .expect("a screenshot");

    // The room's page: details, the dates carried over, the calendar with the nights free.
    guest
        .click("ul.rooms li.room h3 a")
        .await
        .expect("the room opened");
    guest
        .wait_for_text("main h1", &room_name)
        .await
        .expect("the room's page");
    let details = guest.text("dl.details").await.expect("the details");
    for shown in ["Seoul", "7 Gyedong-gil", "sleeps 3"] {
        assert!(details.contains(shown), "{shown:?} in {details:?}");
    }
    assert_eq!(value(&guest, "#field-checkIn").await, check_in.to_string());
    assert_eq!(
        value(&guest, "#field-checkOut").await,
        check_out.to_string()
    );
    assert_eq!(value(&guest, "#field-guests").await, "2");
    guest.wait_for("table.calendar").await.expect("a calendar");
    for night in &nights {
        let class = attribute(
            &guest,
            &format!("table.calendar td.day[data-date='{night}']"),
            "class",
        )
        .await;
        assert_eq!(class.as_deref(), Some("day free"), "{night} is free");
    }
    guest.screenshot("room-page").await.expect("a screenshot");

    // Book and pay.
    guest
        .click("section.book form button[type=submit]")
        .await
        .expect("booked");
    guest
        .wait_for_text("p.notice", "Booked and paid.")
        .await
        .expect("told it is booked");
    guest.screenshot("booked").await.expect("a screenshot");

    // The phone shows the payment as it happens, without a reload.
    phone
        .wait_for_text(
            "ol#notifications li.notification.fresh[data-type='PAYMENT_APPROVED']",
            "Payment approved",
        )
        .await
        .expect("the live notification");
    assert_eq!(
        script(&phone, "return window.__marker;").await,
        json!(42),
        "the inbox was not reloaded"
    );
    assert_fits_width(&phone, "the inbox with a notification on a phone").await;
    phone
        .screenshot("phone-payment-approved")
        .await
        .expect("a screenshot");

    // My trips shows it paid, once my page has caught up.
    let status = reload_until_text(
        &guest,
        &app,
        "/trips",
        "ul.trips li.trip p.status",
        "Booked · paid",
    )
    .await;
    assert_eq!(status, "Booked · paid");
    assert_eq!(count(&guest, "ul.trips li.trip").await, 1, "one trip");
    let booking = attribute(&guest, "ul.trips li.trip", "data-booking")
        .await
        .expect("the booking's id");
    let trip = guest.text("ul.trips li.trip").await.expect("the trip");
    assert!(trip.contains(&room_name), "{trip}");
    assert!(trip.contains("3 nights"), "{trip}");
    assert!(
        trip.contains("240,000"),
        "three nights at 80,000 won: {trip}"
    );
    guest.screenshot("trip-paid").await.expect("a screenshot");

    // The room's calendar shows those nights taken, and the check-out day free.
    let first_night = &nights[0];
    reload_until_text(
        &guest,
        &app,
        &format!("/stays/{room}?checkIn={check_in}"),
        &format!("table.calendar td.day.taken[data-date='{first_night}']"),
        "",
    )
    .await;
    for night in &nights {
        let class = attribute(
            &guest,
            &format!("table.calendar td.day[data-date='{night}']"),
            "class",
        )
        .await;
        assert_eq!(class.as_deref(), Some("day taken"), "{night} is taken");
    }
    let out = attribute(
        &guest,
        &format!("table.calendar td.day[data-date='{check_out}']"),
        "class",
    )
    .await;
    assert_eq!(
        out.as_deref(),
        Some("day free"),
        "the check-out day is free"
    );
    guest
        .screenshot("calendar-taken")
        .await
        .expect("a screenshot");

    // The host's dashboard lists the booking.
    let hosted = reload_until_text(
        &host,
        &app,
        "/host",
        &format!("ul.trips li.trip[data-booking='{booking}']"),
        "Booked · paid",
    )
    .await;
    assert!(hosted.contains(&room_name), "{hosted}");
    host.screenshot("host-sees-booking")
        .await
        .expect("a screenshot");

    // The guest cancels and is refunded.
    guest.goto(&app.url("/trips")).await.expect("my trips");
    guest
        .click(&format!(
            "ul.trips li.trip[data-booking='{booking}'] form button[type=submit]"
        ))
        .await
        .expect("cancelled");
    guest
        .wait_for_text("p.notice", "Cancelled.")
        .await
        .expect("told it is cancelled");
    guest.screenshot("cancelled").await.expect("a screenshot");
    let status = reload_until_text(
        &guest,
        &app,
        "/trips",
        &format!("ul.trips li.trip[data-booking='{booking}'] p.status"),
        "Cancelled · refunded",
    )
    .await;
    assert_eq!(status, "Cancelled · refunded");
    assert_eq!(
        count(&guest, &format!("li.trip[data-booking='{booking}'] form")).await,
        0,
        "a cancelled trip cannot be cancelled again"
    );
    guest
        .screenshot("trip-refunded")
        .await
        .expect("a screenshot");

    // The phone shows the refund live, still without a reload.
    phone
        .wait_for_text(
            "ol#notifications li.notification.fresh[data-type='PAYMENT_CANCELLED']",
            "Payment refunded",
        )
        .await
        .expect("the live refund");
    assert_eq!(
        script(&phone, "return window.__marker;").await,
        json!(42),
        "the inbox was not reloaded"
    );
    let newest = phone
        .text("ol#notifications li.notification:first-child")
        .await
        .expect("the newest notification");
    assert!(
        newest.contains("Payment refunded"),
        "newest first: {newest}"
    );
    phone
        .screenshot("phone-payment-refunded")
        .await
        .expect("a screenshot");

    // The host sees it cancelled; the nights are free again.
    reload_until_text(
        &host,
        &app,
        "/host",
        &format!("ul.trips li.trip[data-booking='{booking}'] p.status"),
        "Cancelled · refunded",
    )
    .await;
    host.screenshot("host-sees-refund")
        .await
        .expect("a screenshot");
    reload_until_text(
        &guest,
        &app,
        &format!("/stays/{room}?checkIn={check_in}"),
        &format!("table.calendar td.day.free[data-date='{first_night}']"),
        "",
    )
    .await;
    guest
        .screenshot("calendar-free-again")
        .await
        .expect("a screenshot");
}
