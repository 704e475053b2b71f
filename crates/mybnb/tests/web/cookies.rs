//! The cookies the pages set: scripts cannot read them, other sites' requests do not carry
//! them, the session lasts as long as its token, `Secure` when the page came over TLS — always,
//! and `__Host-`, where the public address is https — and logging out forgets the session.

use std::time::Duration;

use reqwest::StatusCode;

use crate::harness::{PASSWORD, SetCookie, spawn, spawn_with};

#[track_caller]
fn assert_ours(cookie: &SetCookie, secure: bool) {
    assert!(cookie.has("httponly"), "{cookie:?}");
    assert_eq!(cookie.get("samesite"), Some("Lax"), "{cookie:?}");
    assert_eq!(cookie.get("path"), Some("/"), "{cookie:?}");
    assert_eq!(cookie.has("secure"), secure, "{cookie:?}");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_lasts_as_long_as_its_token() {
    let app =
        spawn_with(|settings| settings.identity.token_lifetime = Duration::from_secs(7200)).await;
    let user = app.new_user("user").await;
    let browser = app.browser();
    let first = browser.get("/login").await;
    let nonce = first
        .set_cookie("mybnb_csrf")
        .expect("a nonce on the first visit");
    assert_ours(nonce, false);

    let form = [("username", user.username.as_str()), ("password", PASSWORD)];
    let page = browser.submit("/login", &form).await;
    page.assert_redirect("/");
    let session = page.set_cookie("mybnb_session").expect("a session cookie");
    assert_ours(session, false);
    assert_eq!(session.get("max-age"), Some("7200"), "{session:?}");
    assert!(
        session.value.starts_with(&user.id.to_string()),
        "{session:?}"
    );
    let renewed = page
        .set_cookie("mybnb_csrf")
        .expect("a new nonce with the session");
    assert_ours(renewed, false);
    assert_ne!(renewed.value, nonce.value, "the nonce starts afresh");
}

#[tokio::test]
async fn over_tls_every_cookie_is_secure() {
    let app = spawn().await;
    let user = app.new_user("user").await;
    let browser = app.browser().with_header("x-forwarded-proto", "https");
    let first = browser.get("/").await;
    assert_ours(first.set_cookie("mybnb_csrf").expect("a nonce"), true);

    let form = [("username", user.username.as_str()), ("password", PASSWORD)];
    let page = browser.submit("/login", &form).await;
    page.assert_redirect("/");
    assert_ours(page.set_cookie("mybnb_session").expect("a session"), true);
    assert_ours(page.set_cookie("mybnb_csrf").expect("a new nonce"), true);

    let page = browser.submit("/language", &[("language", "ko")]).await;
    page.assert_redirect("/");
    assert_ours(page.set_cookie("mybnb_lang").expect("a language"), true);
}

/// With an https public address, every cookie is `Secure` and `__Host-`, whatever the request
/// came over: no plain-HTTP page or other subdomain can set or shadow it.
#[tokio::test]
async fn with_an_https_public_address_every_cookie_is_host_only_and_secure() {
    let public = url::Url::parse("https://mybnb.example/").expect("a URL");
    let app = spawn_with(|settings| settings.web.public_url = Some(public)).await;
    let user = app.new_user("user").await;
    let browser = app.browser();
    let first = browser.get("/").await;
    assert_ours(
        first.set_cookie("__Host-mybnb_csrf").expect("a nonce"),
        true,
    );
    assert!(
        first.set_cookie("mybnb_csrf").is_none(),
        "{:?}",
        first.set_cookies
    );

    let form = [("username", user.username.as_str()), ("password", PASSWORD)];
    let page = browser.submit("/login", &form).await;
    page.assert_redirect("/");
    assert_ours(
        page.set_cookie("__Host-mybnb_session").expect("a session"),
        true,
    );
    let trips = browser.get("/trips").await;
    trips.assert_html(StatusCode::OK);
    assert!(
        trips.body.contains(&user.username),
        "the session is read back: {}",
        trips.body
    );

    let page = browser.submit("/language", &[("language", "ko")]).await;
    assert_ours(
        page.set_cookie("__Host-mybnb_lang").expect("a language"),
        true,
    );
}

#[tokio::test]
async fn logging_out_clears_the_session_cookie() {
    let app = spawn().await;
    let user = app.new_user("user").await;
    let browser = app.logged_in(&user).await;
    assert_eq!(browser.get("/trips").await.status, StatusCode::OK);

    let page = browser.submit("/logout", &[]).await;
    page.assert_redirect("/?notice=logged-out");
    let cleared = page
        .set_cookie("mybnb_session")
        .expect("the session is cleared");
    assert_eq!(cleared.value, "", "{cleared:?}");
    assert_eq!(cleared.get("max-age"), Some("0"), "{cleared:?}");
    assert_eq!(cleared.get("path"), Some("/"), "{cleared:?}");
    assert_eq!(browser.cookie("mybnb_session"), None);
    browser
        .get("/trips")
        .await
        .assert_redirect("/login?next=%2Ftrips");
    let home = browser.get("/?notice=logged-out").await;
    assert!(home.body.contains("You are logged out."), "{}", home.body);
}
