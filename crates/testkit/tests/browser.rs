//! The browser support against a small site of the test's own: a form whose answer is kept in
//! a cookie, a page that shows the `Accept-Language` it was asked with and its window's width.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::Form;
use axum::Router;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse};
use axum::routing::{get, post};
use mybnb_testkit::browser::{Browser, Page, PageOptions};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Serves the site on a free loopback port; answers its address.
async fn serve() -> String {
    let app = Router::new()
        .route("/", get(home))
        .route("/greet", post(greet));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the site");
    let address = listener.local_addr().expect("the site's address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/")
}

/// Who the cookies say greeted, in which words, or "nobody"; the request's Accept-Language;
/// the window's width (written by the page's script); and the form.
async fn home(headers: HeaderMap) -> Html<String> {
    let cookies = headers
        .get(COOKIE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let cookie = |name: &str| {
        cookies
            .split("; ")
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let greeted = match (cookie("greeting"), cookie("who")) {
        (Some(greeting), Some(who)) => {
            let words = if greeting == "annyeong" {
                "안녕하세요"
            } else {
                "Hello"
            };
            format!("{words}, {who}")
        }
        _ => "nobody".to_owned(),
    };
    let language = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Greeter</title></head>
<body>
<p id="greeted">{greeted}</p>
<p id="language">{language}</p>
<p id="width"></p>
<form method="post" action="/greet">
  <input id="name" name="name">
  <select id="greeting" name="greeting">
    <option value="hello">Hello</option>
    <option value="annyeong">안녕하세요</option>
  </select>
  <button id="send" type="submit">Send</button>
</form>
<script>document.getElementById("width").textContent = String(window.innerWidth);</script>
</body></html>"#
    ))
}

/// Keeps the form's answer in cookies and sends the browser back to `/`.
async fn greet(Form(form): Form<HashMap<String, String>>) -> impl IntoResponse {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    (
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (LOCATION, "/".to_owned()),
            (SET_COOKIE, format!("who={}; Path=/", field("name"))),
            (
                SET_COOKIE,
                format!("greeting={}; Path=/", field("greeting")),
            ),
        ]),
    )
}

fn screenshots(journey: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("screenshots")
        .join(journey)
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    assert!(
        bytes.starts_with(&PNG_SIGNATURE),
        "{} is not a PNG",
        path.display()
    );
}

#[tokio::test]
async fn a_form_is_filled_and_sent_and_its_answer_awaited_and_photographed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = serve().await;
    let directory = screenshots("testkit-form");
    let page = browser.open(&directory).await.expect("a page");

    page.goto(&site).await.expect("the form");
    assert_eq!(page.text("#greeted").await.expect("who"), "nobody");
    assert_eq!(page.text("#width").await.expect("the width"), "1280");
    page.fill("#name", "someone else").await.expect("filled");
    page.fill("#name", "alice").await.expect("filled again");
    page.select("#greeting", "annyeong")
        .await
        .expect("a greeting chosen");
    let filled = page.screenshot("filled").await.expect("a screenshot");
    page.click("#send").await.expect("sent");
    page.wait_for_text("#greeted", "안녕하세요, alice")
        .await
        .expect("the answer");
    let greeted = page.screenshot("greeted").await.expect("a screenshot");

    assert_eq!(filled, directory.join("01-filled.png"));
    assert_eq!(greeted, directory.join("02-greeted.png"));
    assert_png(&filled);
    assert_png(&greeted);

    // A failure names what was looked for, and on which page.
    let error = page
        .text("#greeted >")
        .await
        .expect_err("an invalid selector fails");
    let message = format!("{error:#}");
    assert!(
        message.starts_with(&format!("reading the text of `#greeted >` on {site}: ")),
        "{message}"
    );
    page.close().await.expect("closed");
}

#[tokio::test]
async fn two_pages_open_at_once_keep_cookies_of_their_own() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = serve().await;
    let directory = screenshots("testkit-two-users");
    let (alice, bob) =
        tokio::try_join!(browser.open(&directory), browser.open(&directory)).expect("two pages");
    tokio::try_join!(alice.goto(&site), bob.goto(&site)).expect("the form, twice");

    alice.fill("#name", "alice").await.expect("alice's name");
    alice.click("#send").await.expect("alice's form sent");
    alice
        .wait_for_text("#greeted", "Hello, alice")
        .await
        .expect("alice greeted");
    let alice_shot = alice
        .screenshot("alice-greeted")
        .await
        .expect("a screenshot");

    bob.goto(&site).await.expect("the form again");
    assert_eq!(bob.text("#greeted").await.expect("who"), "nobody");
    bob.fill("#name", "bob").await.expect("bob's name");
    bob.click("#send").await.expect("bob's form sent");
    bob.wait_for_text("#greeted", "Hello, bob")
        .await
        .expect("bob greeted");
    let bob_shot = bob.screenshot("bob-greeted").await.expect("a screenshot");

    alice.goto(&site).await.expect("the form again");
    assert_eq!(alice.text("#greeted").await.expect("who"), "Hello, alice");
    let who = async |page: &Page| {
        let cookie = page.client().get_named_cookie("who").await;
        cookie.expect("a cookie `who`").value().to_owned()
    };
    assert_eq!(who(&alice).await, "alice");
    assert_eq!(who(&bob).await, "bob");

    // The pages share the directory, and one numbering.
    assert_eq!(alice_shot, directory.join("01-alice-greeted.png"));
    assert_eq!(bob_shot, directory.join("02-bob-greeted.png"));
    assert_png(&alice_shot);
    assert_png(&bob_shot);
    tokio::try_join!(alice.close(), bob.close()).expect("both closed");
}

#[tokio::test]
async fn a_phone_page_in_korean_is_narrow_and_asks_for_korean() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = serve().await;
    let options = PageOptions::new(screenshots("testkit-phone-korean"))
        .phone()
        .language("ko");
    let page = browser.open_with(options).await.expect("a page");

    page.goto(&site).await.expect("the form");
    page.wait_for("#name").await.expect("the form's field");
    assert_eq!(page.text("#width").await.expect("the width"), "390");
    let language = page.text("#language").await.expect("the language");
    assert!(language.starts_with("ko"), "Accept-Language: {language}");
    assert_png(&page.screenshot("home").await.expect("a screenshot"));
    page.close().await.expect("closed");
}
