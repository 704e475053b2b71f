//! Who sees what: the pages of a user need a session and send a visitor to log in and back
//! (only ever to a page of this site); one user never sees another's trips; a room that does
//! not exist is a 404 page.

use mybnb_testkit::eventually::eventually;
use reqwest::StatusCode;

use crate::harness::{Browser, PASSWORD, spawn};

#[tokio::test]
async fn a_user_s_pages_send_a_visitor_to_log_in_and_back() {
    let app = spawn().await;
    let user = app.new_user("user").await;
    for (path, next) in [
        ("/trips", "%2Ftrips"),
        ("/host", "%2Fhost"),
        ("/inbox", "%2Finbox"),
        ("/trips?notice=booked", "%2Ftrips%3Fnotice%3Dbooked"),
    ] {
        let browser = app.browser();
        let page = browser.get(path).await;
        let login = format!("/login?next={next}");
        page.assert_redirect(&login);

        let form = browser.get(&login).await;
        let next = form.hidden("next").expect("the login form carries next");
        assert_eq!(next, path);
        let credentials = [("username", user.username.as_str()), ("password", PASSWORD)];
        let fields = [credentials.as_slice(), &[("next", next.as_str())]].concat();
        browser
            .submit("/login", &fields)
            .await
            .assert_redirect(path);
        assert_eq!(browser.get(path).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn logging_in_goes_on_only_to_a_page_of_this_site() {
    let app = spawn().await;
    let user = app.new_user("user").await;
    for next in [
        "//evil.example",
        "https://evil.example/trips",
        "/\\evil.example",
        "/\r\nSet-Cookie: evil=1",
        "",
    ] {
        let fields = [
            ("username", user.username.as_str()),
            ("password", PASSWORD),
            ("next", next),
        ];
        app.browser()
            .submit("/login", &fields)
            .await
            .assert_redirect("/");
    }
}

/// The body of `browser`'s page at `path`, once it shows `id`.
async fn await_shown(browser: &Browser, path: &str, id: &str) -> String {
    eventually(&format!("{path} shows {id}"), async || {
        let page = browser.get(path).await;
        if page.status == StatusCode::OK && page.body.contains(id) {
            Ok(page.body)
        } else {
            Err(format!("{}: {}", page.status, page.body))
        }
    })
    .await
}

#[tokio::test]
async fn a_user_never_sees_another_user_s_trips() {
    let app = spawn().await;
    let host = app.new_user("host").await;
    let room = app.room(&host, "Hanok").await;
    let (first, second) = (app.new_user("first").await, app.new_user("second").await);
    let booking = app.book(&first, room, 10, 2).await.to_string();
    let first_browser = app.logged_in(&first).await;
    let trips = await_shown(&first_browser, "/trips", &booking).await;
    assert!(
        trips.contains(&format!("/trips/{booking}/cancel")),
        "{trips}"
    );
    await_shown(&app.logged_in(&host).await, "/host", &booking).await;

    // Once the second user's own booking, made later, shows, the first one would too.
    let second_booking = app.book(&second, room, 20, 1).await.to_string();
    let second_browser = app.logged_in(&second).await;
    let trips = await_shown(&second_browser, "/trips", &second_booking).await;
    assert!(!trips.contains(&booking), "another's trip: {trips}");
    let hosted = second_browser.get("/host").await;
    assert!(
        !hosted.body.contains(&booking),
        "another's trip: {}",
        hosted.body
    );
    let trips = first_browser.get("/trips").await;
    assert!(!trips.body.contains(&second_booking), "{}", trips.body);
}

#[tokio::test]
async fn the_live_stream_needs_a_session() {
    let app = spawn().await;
    let page = app.browser().get("/inbox/stream").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(page.location.is_none());
}

#[tokio::test]
async fn an_unknown_room_is_a_404_page() {
    let app = spawn().await;
    let unknown = format!("/stays/{}", uuid::Uuid::now_v7());
    for path in [unknown.as_str(), "/stays/not-a-room-id"] {
        let page = app.browser().get(path).await;
        page.assert_html(StatusCode::NOT_FOUND);
        assert!(
            page.body.contains("There is nothing here"),
            "{path}: {}",
            page.body
        );
    }
}

/// The address a form is sent to, opened as a page (reloaded after the form came back with an
/// error, or typed in), leads to the page the form is on rather than to an error.
#[tokio::test]
async fn a_form_s_own_address_opened_as_a_page_leads_to_its_form() {
    let app = spawn().await;
    let browser = app.browser();
    let id = "0193a1b2-0000-7000-8000-000000000001";
    for (address, form) in [
        (format!("/stays/{id}/book"), format!("/stays/{id}")),
        (format!("/trips/{id}/cancel"), "/trips".to_owned()),
        ("/host/rooms".to_owned(), "/host".to_owned()),
        (format!("/host/rooms/{id}/delete"), "/host".to_owned()),
        ("/logout".to_owned(), "/".to_owned()),
        ("/language".to_owned(), "/".to_owned()),
    ] {
        browser.get(&address).await.assert_redirect(&form);
    }
}

/// A page's address whose query does not fit the page gets a page saying so, not a plain-text
/// error.
#[tokio::test]
async fn a_query_that_does_not_fit_gets_a_page() {
    let app = spawn().await;
    let page = app.browser().get("/?notice=booked&notice=cancelled").await;
    page.assert_html(StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("That form was incomplete"),
        "{}",
        page.body
    );
}
