//! Every form that changes something refuses, with 403 and before doing anything, a submission
//! without the anti-forgery token, with another browser's token, and with the token from before
//! logging in; with the browser's own token the same submission goes through.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{App, Browser, PASSWORD, Page, User, day, spawn, suffix};

const FORGERY: &str = "This form has expired or did not come from mybnb.";

#[track_caller]
fn assert_refused(page: &Page, how: &str) {
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{how}: {}", page.body);
    assert!(page.body.contains(FORGERY), "{how}: {}", page.body);
    assert!(page.location.is_none(), "{how}");
}

/// What a browser's forms carried before it logged in: the token, and the nonce it was for.
struct Stale {
    token: String,
    nonce: String,
}

/// Posts `fields` to `path` from `browser` without a token, with the token of another browser
/// (its own nonce, but the same session), and, when given, with the `stale` token — as is, and
/// with its old nonce put back, so that only the session tells it apart: each must be refused.
async fn refuses_forgeries(
    app: &App,
    browser: &Browser,
    path: &str,
    fields: &[(&str, &str)],
    stale: Option<&Stale>,
) {
    assert_refused(&browser.post(path, fields).await, "without a token");

    let other = app.browser();
    if let Some(session) = browser.cookie("mybnb_session") {
        other.set_cookie("mybnb_session", &session);
    }
    let foreign = other.csrf().await;
    assert_ne!(
        foreign,
        browser.csrf().await,
        "browsers have tokens of their own"
    );
    let page = browser.post_with(path, fields, &foreign).await;
    assert_refused(&page, "another browser's token");

    if let Some(stale) = stale {
        let page = browser.post_with(path, fields, &stale.token).await;
        assert_refused(&page, "a token from before logging in");

        let nonce = browser.cookie("mybnb_csrf").expect("a nonce");
        assert_ne!(nonce, stale.nonce, "logging in renews the nonce");
        browser.set_cookie("mybnb_csrf", &stale.nonce);
        let page = browser.post_with(path, fields, &stale.token).await;
        assert_refused(&page, "a token from before logging in, with its nonce");
        browser.set_cookie("mybnb_csrf", &nonce);
    }
}

/// A new user, and a browser that read a form's token and then logged in as them.
async fn logged_in_after_a_token(app: &App) -> (User, Browser, Stale) {
    let user = app.new_user("user").await;
    let browser = app.browser();
    let token = browser.csrf().await;
    let nonce = browser.cookie("mybnb_csrf").expect("a nonce");
    browser.log_in(&user.username, PASSWORD).await;
    (user, browser, Stale { token, nonce })
}

#[tokio::test]
async fn signing_up_needs_a_valid_token() {
    let app = spawn().await;
    let username = format!("new-{}", suffix());
    let form = [("username", username.as_str()), ("password", PASSWORD)];
    let anonymous = app.browser();
    refuses_forgeries(&app, &anonymous, "/signup", &form, None).await;
    let (_, browser, stale) = logged_in_after_a_token(&app).await;
    refuses_forgeries(&app, &browser, "/signup", &form, Some(&stale)).await;
    let refused = app.token_status(&username, PASSWORD).await;
    assert_eq!(refused, StatusCode::UNAUTHORIZED, "no user was made");

    anonymous
        .submit("/signup", &form)
        .await
        .assert_redirect("/");
    let made = app.token_status(&username, PASSWORD).await;
    assert_eq!(made, StatusCode::OK, "the user was made");
}

#[tokio::test]
async fn logging_in_needs_a_valid_token() {
    let app = spawn().await;
    let target = app.new_user("target").await;
    let form = [
        ("username", target.username.as_str()),
        ("password", PASSWORD),
    ];
    let anonymous = app.browser();
    refuses_forgeries(&app, &anonymous, "/login", &form, None).await;
    assert_eq!(anonymous.cookie("mybnb_session"), None, "no session began");

    let (_, browser, stale) = logged_in_after_a_token(&app).await;
    let session = browser.cookie("mybnb_session");
    refuses_forgeries(&app, &browser, "/login", &form, Some(&stale)).await;
    assert_eq!(
        browser.cookie("mybnb_session"),
        session,
        "the session is unchanged"
    );

    let page = anonymous.submit("/login", &form).await;
    page.assert_redirect("/");
    assert!(
        page.set_cookie("mybnb_session").is_some(),
        "a session began"
    );
}

#[tokio::test]
async fn logging_out_needs_a_valid_token() {
    let app = spawn().await;
    let (_, browser, stale) = logged_in_after_a_token(&app).await;
    refuses_forgeries(&app, &browser, "/logout", &[], Some(&stale)).await;
    let trips = browser.get("/trips").await;
    assert_eq!(trips.status, StatusCode::OK, "still logged in: {trips:?}");

    browser
        .submit("/logout", &[])
        .await
        .assert_redirect("/?notice=logged-out");
    browser
        .get("/trips")
        .await
        .assert_redirect("/login?next=%2Ftrips");
}

#[tokio::test]
async fn choosing_a_language_needs_a_valid_token() {
    let app = spawn().await;
    let form = [("language", "ko"), ("back", "/")];
    let anonymous = app.browser();
    refuses_forgeries(&app, &anonymous, "/language", &form, None).await;
    let (_, browser, stale) = logged_in_after_a_token(&app).await;
    refuses_forgeries(&app, &browser, "/language", &form, Some(&stale)).await;
    for browser in [&anonymous, &browser] {
        assert_eq!(browser.cookie("mybnb_lang"), None, "no language was chosen");
        assert!(browser.get("/").await.body.contains("<html lang=\"en\">"));
    }

    browser
        .submit("/language", &form)
        .await
        .assert_redirect("/");
    assert!(browser.get("/").await.body.contains("<html lang=\"ko\">"));
}

#[tokio::test]
async fn booking_needs_a_valid_token() {
    let app = spawn().await;
    let host = app.new_user("host").await;
    let room = app.room(&host, "Hanok").await;
    let (guest, browser, stale) = logged_in_after_a_token(&app).await;
    let path = format!("/stays/{room}/book");
    let key = browser.get(&format!("/stays/{room}")).await.hidden("key");
    let key = key.expect("the booking form has a key");
    let (check_in, check_out) = (day(10).to_string(), day(12).to_string());
    let form = [
        ("checkIn", check_in.as_str()),
        ("checkOut", &check_out),
        ("key", &key),
    ];
    refuses_forgeries(&app, &browser, &path, &form, Some(&stale)).await;
    assert_eq!(
        app.bookings(&guest).await,
        Vec::<mybnb_client::Booking>::new(),
        "nothing booked"
    );

    let page = browser.submit(&path, &form).await;
    page.assert_redirect("/trips?notice=booked");
    assert_eq!(app.bookings(&guest).await.len(), 1, "booked");
}

#[tokio::test]
async fn cancelling_needs_a_valid_token() {
    let app = spawn().await;
    let host = app.new_user("host").await;
    let room = app.room(&host, "Hanok").await;
    let (guest, browser, stale) = logged_in_after_a_token(&app).await;
    let booking = app.book(&guest, room, 10, 2).await;
    let path = format!("/trips/{booking}/cancel");
    refuses_forgeries(&app, &browser, &path, &[], Some(&stale)).await;
    assert_eq!(app.booking_status(&guest, booking).await, "CONFIRMED");

    let page = browser.submit(&path, &[]).await;
    page.assert_redirect("/trips?notice=cancelled");
    assert_eq!(app.booking_status(&guest, booking).await, "CANCELLED");
}

#[tokio::test]
async fn registering_a_room_needs_a_valid_token() {
    let app = spawn().await;
    let (host, browser, stale) = logged_in_after_a_token(&app).await;
    let room = |name| {
        [
            ("name", name),
            ("address", "3 Itaewon-ro"),
            ("price", "70000"),
            ("capacity", "2"),
        ]
    };
    let forged = room("Forged loft");
    refuses_forgeries(&app, &browser, "/host/rooms", &forged, Some(&stale)).await;
    assert_eq!(
        app.rooms_of(host.id).await,
        Vec::<String>::new(),
        "nothing listed"
    );

    let page = browser.submit("/host/rooms", &room("Real loft")).await;
    page.assert_redirect("/host?notice=room-registered");
    assert_eq!(app.rooms_of(host.id).await, ["Real loft"]);
}

#[tokio::test]
async fn deleting_a_room_needs_a_valid_token() {
    let app = spawn().await;
    let (host, browser, stale) = logged_in_after_a_token(&app).await;
    let room = app.room(&host, "Hanok").await;
    let path = format!("/host/rooms/{room}/delete");
    refuses_forgeries(&app, &browser, &path, &[], Some(&stale)).await;
    assert_eq!(app.room_status(room).await, StatusCode::OK, "not deleted");

    let page = browser.submit(&path, &[]).await;
    page.assert_redirect("/host?notice=room-deleted");
    assert_eq!(
        app.room_status(room).await,
        StatusCode::NOT_FOUND,
        "deleted"
    );
}

/// Every form route, with made-up ids where it has one.
fn every_form_route() -> Vec<String> {
    let id = uuid::Uuid::now_v7();
    [
        "/signup".to_owned(),
        "/login".to_owned(),
        "/logout".to_owned(),
        "/language".to_owned(),
        format!("/stays/{id}/book"),
        format!("/trips/{id}/cancel"),
        "/host/rooms".to_owned(),
        format!("/host/rooms/{id}/delete"),
    ]
    .into()
}

/// A browser gets the refusal as a page; a client asking for JSON gets a problem document.
#[tokio::test]
async fn a_refusal_is_a_page_for_browsers_and_a_problem_for_other_clients() {
    let app = spawn().await;
    let browser = app.browser();
    let client = app.browser().with_header("accept", "application/json");
    for path in every_form_route() {
        let page = browser.post(&path, &[]).await;
        assert_refused(&page, &path);
        page.assert_html(StatusCode::FORBIDDEN);

        let answer = client.post(&path, &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            answer.body
        );
        assert!(
            answer.content_type.starts_with("application/problem+json"),
            "{path}: {}",
            answer.content_type
        );
        let problem: Value = serde_json::from_str(&answer.body).expect("a JSON problem");
        assert_eq!(problem["status"], 403, "{path}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains(FORGERY))
        );
        assert!(!answer.body.contains("<html"), "{path}");
    }
}
