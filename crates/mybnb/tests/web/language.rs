//! Which language a visitor reads: their browser's `Accept-Language` (Korean or English, English
//! for anything else) until they choose one on the page, which a long-lived cookie keeps; the
//! switch sends them back to the page they were on, and never off the site.

use reqwest::StatusCode;

use crate::harness::{App, Page, spawn};

const KOREAN_TITLE: &str = "머물 곳 찾기";
const ENGLISH_TITLE: &str = "Find a place to stay";

#[track_caller]
fn assert_language(page: &Page, lang: &str) {
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains(&format!("<html lang=\"{lang}\">")),
        "{lang}: {}",
        page.body
    );
    let (shown, hidden) = match lang {
        "ko" => (KOREAN_TITLE, ENGLISH_TITLE),
        _ => (ENGLISH_TITLE, KOREAN_TITLE),
    };
    assert!(page.body.contains(shown), "{lang}: {}", page.body);
    assert!(!page.body.contains(hidden), "{lang}: {}", page.body);
}

async fn home_for(app: &App, accept_language: &str) -> Page {
    let browser = app
        .browser()
        .with_header("accept-language", accept_language);
    browser.get("/").await
}

#[tokio::test]
async fn the_browser_language_decides_korean_or_english() {
    let app = spawn().await;
    assert_language(&home_for(&app, "ko-KR,ko;q=0.9").await, "ko");
    assert_language(&home_for(&app, "en-US").await, "en");
    assert_language(&home_for(&app, "fr").await, "en");
    assert_language(&home_for(&app, "fr-FR,fr;q=0.9,ko;q=0.5").await, "ko");
    assert_language(&app.browser().get("/").await, "en");
}

#[tokio::test]
async fn a_chosen_language_is_kept_and_wins_over_the_browser() {
    let app = spawn().await;
    let browser = app.browser().with_header("accept-language", "en-US");
    let login = browser.get("/login?next=%2Fhost").await;
    let back = login
        .hidden("back")
        .expect("the switch says where to come back");
    assert_eq!(back, "/login?next=%2Fhost");

    let page = browser
        .submit("/language", &[("language", "ko"), ("back", &back)])
        .await;
    page.assert_redirect("/login?next=%2Fhost");
    let chosen = page.set_cookie("mybnb_lang").expect("the choice is kept");
    assert_eq!(chosen.value, "ko");
    assert_eq!(chosen.get("max-age"), Some(&*(365 * 24 * 3600).to_string()));
    assert_language(&browser.get("/").await, "ko");

    let korean = app
        .browser()
        .with_header("accept-language", "ko-KR,ko;q=0.9");
    korean
        .submit("/language", &[("language", "en"), ("back", "/")])
        .await;
    assert_language(&korean.get("/").await, "en");
}

#[tokio::test]
async fn the_switch_only_sends_back_to_this_site() {
    let app = spawn().await;
    let browser = app.browser();
    for back in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "",
    ] {
        let page = browser
            .submit("/language", &[("language", "ko"), ("back", back)])
            .await;
        page.assert_redirect("/");
    }
    let page = browser
        .submit("/language", &[("language", "tlh"), ("back", "/")])
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
}
