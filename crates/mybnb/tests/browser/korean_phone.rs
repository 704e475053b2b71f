//! Korean on a phone: a phone whose browser asks for Korean gets every page in Korean, none
//! wider than the screen; the header's switch to English works on the page it is on, and the
//! choice sticks on every page after, still none wider than the screen.

use mybnb_testkit::browser::{Browser, Page, PageOptions};

use crate::harness::{
    App, assert_fits_width, attribute, day, log_in, reload_until_text, screenshots, script, spawn,
};

/// Opens `path` and checks that it is in `lang`, titled `title`, and no wider than the phone;
/// takes a screenshot named `name`.
async fn assert_page(page: &Page, app: &App, path: &str, lang: &str, title: &str, name: &str) {
    page.goto(&app.url(path)).await.expect("the page");
    let h1 = page.text("main h1").await.expect("a heading");
    assert_eq!(h1, title, "{path} in {lang}");
    let shown = attribute(page, "html", "lang").await;
    assert_eq!(shown.as_deref(), Some(lang), "{path}: html[lang]");
    let pressed = attribute(
        page,
        &format!("form.language button[value='{lang}']"),
        "aria-pressed",
    )
    .await;
    assert_eq!(
        pressed.as_deref(),
        Some("true"),
        "{path}: the switch shows {lang}"
    );
    assert_fits_width(page, &format!("{path} in {lang}")).await;
    page.screenshot(name).await.expect("a screenshot");
}

#[tokio::test]
async fn a_korean_phone_gets_korean_pages_that_fit_and_can_switch_to_english() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn().await;
    let host = app.new_user("host").await;
    let room_name = "북촌 한옥 스테이 with a long name for a narrow screen";
    let room = app.room(&host, room_name).await;
    let guest = app.new_user("guest").await;
    app.book(&guest, room, 44, 2).await;

    let options = PageOptions::new(screenshots("korean-phone"))
        .phone()
        .language("ko");
    let phone = browser.open_with(options).await.expect("a phone in Korean");
    let (check_in, check_out) = (day(40), day(42));
    let search = format!("/?q=한옥&city=Seoul&checkIn={check_in}&checkOut={check_out}&guests=2");
    let stay = format!("/stays/{room}?checkIn={check_in}&checkOut={check_out}&guests=2");
    assert_page(&phone, &app, "/", "ko", "머물 곳 찾기", "ko-search").await;
    let width = script(&phone, "return window.innerWidth;").await;
    assert_eq!(width, 390, "a phone-sized window");
    assert_page(&phone, &app, &search, "ko", "머물 곳 찾기", "ko-results").await;
    let result = phone.text("ul.rooms li.room h3 a").await.expect("a result");
    assert_eq!(result, room_name);
    assert_page(&phone, &app, &stay, "ko", room_name, "ko-room").await;
    let book = phone.text("#book-heading").await.expect("the booking form");
    assert_eq!(book, "예약 및 결제");
    // The room's calendar and my trips learn of the booking by event.
    reload_until_text(&phone, &app, &stay, "table.calendar td.day.taken", "").await;
    assert_page(&phone, &app, "/login", "ko", "로그인", "ko-login").await;
    assert_page(&phone, &app, "/signup", "ko", "회원가입", "ko-signup").await;

    log_in(&phone, &app, &guest.username, "/trips").await;
    assert_page(&phone, &app, "/trips", "ko", "내 여행", "ko-trips").await;
    reload_until_text(&phone, &app, "/trips", "ul.trips li.trip", "").await;
    assert_page(&phone, &app, "/host", "ko", "호스트 대시보드", "ko-host").await;
    assert_page(&phone, &app, "/inbox", "ko", "알림", "ko-inbox").await;

    // The switch to English, on the page it is on.
    phone.goto(&app.url("/trips")).await.expect("my trips");
    phone
        .click("form.language button[value='en']")
        .await
        .expect("English chosen");
    phone
        .wait_for_text("main h1", "My trips")
        .await
        .expect("the same page in English");
    let url = phone.client().current_url().await.expect("a URL");
    assert_eq!(url.path(), "/trips", "back on the page it was chosen on");
    assert_page(&phone, &app, "/trips", "en", "My trips", "en-trips").await;

    // It sticks on every page after, though the browser still asks for Korean.
    assert_page(&phone, &app, "/", "en", "Find a place to stay", "en-search").await;
    assert_page(
        &phone,
        &app,
        &search,
        "en",
        "Find a place to stay",
        "en-results",
    )
    .await;
    assert_page(&phone, &app, &stay, "en", room_name, "en-room").await;
    let book = phone.text("#book-heading").await.expect("the booking form");
    assert_eq!(book, "Book and pay");
    assert_page(&phone, &app, "/host", "en", "Host dashboard", "en-host").await;
    assert_page(&phone, &app, "/inbox", "en", "Notifications", "en-inbox").await;
    let cookie = phone
        .client()
        .get_named_cookie("mybnb_lang")
        .await
        .expect("the language is kept");
    assert_eq!(cookie.value(), "en");
}
