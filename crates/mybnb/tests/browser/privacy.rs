//! Privacy: a guest sees their own trip; another guest, logged in in another window, sees none
//! of it — not on their trips, not in their inbox, not in the page's HTML — and cannot cancel it
//! with a form of their own.

use mybnb_testkit::browser::Browser;
use serde_json::json;

use crate::harness::{count, log_in, reload_until_text, screenshots, sign_up, spawn, suffix};

#[tokio::test]
async fn a_guest_sees_none_of_another_guests_trips() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn().await;
    let directory = screenshots("privacy");
    let host = app.new_user("host").await;
    let room = app.room(&host, "Hanok by the wall").await;
    let first = app.new_user("first").await;
    let booking = app.book(&first, room, 30, 2).await;

    // The first guest sees their trip.
    let first_page = browser
        .open(&directory)
        .await
        .expect("the first guest's window");
    log_in(&first_page, &app, &first.username, "/trips").await;
    reload_until_text(
        &first_page,
        &app,
        "/trips",
        &format!("ul.trips li.trip[data-booking='{booking}'] p.status"),
        "Booked · paid",
    )
    .await;
    first_page
        .screenshot("first-guest-trips")
        .await
        .expect("a screenshot");

    // The second guest, in a window of their own, sees none of it.
    let second_page = browser
        .open(&directory)
        .await
        .expect("the second guest's window");
    let second = format!("second-{}", suffix());
    sign_up(&second_page, &app, &second, "Second").await;
    second_page
        .goto(&app.url("/trips"))
        .await
        .expect("my trips");
    second_page
        .wait_for_text("#no-trips", "No trips yet.")
        .await
        .expect("the empty state");
    assert_eq!(count(&second_page, "ul.trips li.trip").await, 0, "no trips");
    assert_eq!(
        count(&second_page, &format!("li.trip[data-booking='{booking}']")).await,
        0,
        "not the first guest's trip"
    );
    let source = second_page
        .client()
        .source()
        .await
        .expect("the page's HTML");
    assert!(
        !source.contains(&booking.to_string()),
        "the booking's id is nowhere on the page"
    );
    assert!(!source.contains("Hanok by the wall"), "nor its room");
    second_page
        .screenshot("second-guest-trips")
        .await
        .expect("a screenshot");

    // Only once the first guest has the payment's notification does an empty inbox prove it
    // is not shown to the second.
    reload_until_text(
        &first_page,
        &app,
        "/inbox",
        "ol#notifications li.notification[data-type='PAYMENT_APPROVED']",
        "Payment approved",
    )
    .await;
    second_page
        .goto(&app.url("/inbox"))
        .await
        .expect("the inbox");
    second_page
        .wait_for_text("#no-notifications", "No notifications yet.")
        .await
        .expect("no notifications of the first guest's");
    second_page
        .screenshot("second-guest-inbox")
        .await
        .expect("a screenshot");

    // A cancel form of their own for the first guest's booking (with a valid token of the
    // second guest's) is refused, and the trip stays booked.
    second_page
        .goto(&app.url("/trips"))
        .await
        .expect("my trips");
    let forge = "const form = document.createElement('form');
                 form.method = 'post';
                 form.action = '/trips/' + arguments[0] + '/cancel';
                 const csrf = document.querySelector('input[name=csrf]').cloneNode();
                 form.appendChild(csrf);
                 document.body.appendChild(form);
                 form.submit();";
    second_page
        .client()
        .execute(forge, vec![json!(booking)])
        .await
        .expect("the form sent");
    let refused = second_page
        .wait_for_text("p.error[role=alert]", "There is nothing here")
        .await
        .expect("a refusal");
    assert_eq!(
        refused, "There is nothing here, or it has been deleted.",
        "the booking is not theirs to see"
    );
    let title = second_page.client().title().await.expect("a title");
    assert!(title.starts_with("That did not work"), "{title}");
    second_page
        .screenshot("second-guest-refused")
        .await
        .expect("a screenshot");

    first_page.goto(&app.url("/trips")).await.expect("my trips");
    let status = first_page
        .text(&format!("li.trip[data-booking='{booking}'] p.status"))
        .await
        .expect("the trip");
    assert_eq!(status, "Booked · paid", "the trip is not cancelled");
    let bookings = app.bookings(&first).await;
    assert_eq!(bookings.len(), 1, "{bookings:?}");
    assert_eq!(bookings[0].status, "CONFIRMED", "{bookings:?}");
    assert_eq!(
        count(&first_page, "ul.trips li.trip").await,
        1,
        "the first guest's one trip"
    );
    first_page
        .screenshot("first-guest-still-booked")
        .await
        .expect("a screenshot");
}
