//! What every page tells the browser: a Content-Security-Policy that allows no inline script
//! and no framing, `nosniff`, a same-origin referrer, and no caching of personal pages — on
//! every page, logged in or not, and on errors too.

use reqwest::StatusCode;

use crate::harness::{Page, spawn};

#[track_caller]
fn header<'a>(page: &'a Page, name: &str) -> &'a str {
    page.headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

#[track_caller]
fn assert_protected(page: &Page, path: &str) {
    let policy = header(page, "content-security-policy");
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{path}: {directive} in {policy:?}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    assert_eq!(header(page, "x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header(page, "referrer-policy"), "same-origin", "{path}");
}

#[tokio::test]
async fn every_page_allows_no_inline_script_no_framing_and_no_caching() {
    let app = spawn().await;
    let user = app.new_user("guest").await;
    let browser = app.logged_in(&user).await;
    for path in ["/", "/trips", "/host", "/inbox", "/stays/not-a-room"] {
        let page = browser.get(path).await;
        assert_protected(&page, path);
        assert_eq!(header(&page, "cache-control"), "no-store", "{path}");
    }
    let anonymous = app.browser().get("/login").await;
    anonymous.assert_html(StatusCode::OK);
    assert_protected(&anonymous, "/login");
    assert_eq!(header(&anonymous, "cache-control"), "no-store");
    let script = app.browser().get("/assets/live.js").await;
    assert_eq!(header(&script, "x-content-type-options"), "nosniff");
    assert!(
        header(&script, "cache-control").starts_with("public"),
        "assets stay cacheable"
    );
}
