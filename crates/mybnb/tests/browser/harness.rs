//! The harness: [`spawn`] starts the all-in-one mybnb in this process (`support/running.rs`:
//! the pages next to the JSON API at one address); the journeys drive
//! its pages in a headless Chromium ([`Browser`]) and use the JSON API only to arrange what a
//! journey is not about, or to check what the pages did.
//!
//! What the pages show after something happened in the background (my page is built from
//! events) is awaited by reloading until it shows, within a bound: [`reload_until_text`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use fantoccini::Locator;
use fantoccini::error::{CmdError, ErrorStatus};
use mybnb_testkit::browser::Page;
use mybnb_testkit::eventually::eventually_polling;
use serde_json::{Value, json};

pub use crate::running::{App, PASSWORD, day, spawn, spawn_with, suffix};

/// How long a page may take to show what happens in the background (my page, a refund): a
/// bound on a page that never shows it, not a timing assertion.
const SHOWN_WITHIN: Duration = Duration::from_secs(30);

/// How often a page is reloaded while waiting for it to show something.
const RELOAD_EVERY: Duration = Duration::from_millis(250);

/// Where a journey's numbered screenshots go.
pub fn screenshots(journey: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("screenshots")
        .join(journey)
}

/// Signs up `username` with [`PASSWORD`] on the sign-up page, as a visitor would; the page
/// then shows them logged in.
pub async fn sign_up(page: &Page, app: &App, username: &str, display_name: &str) {
    page.goto(&app.url("/signup"))
        .await
        .expect("the sign-up page");
    page.fill("#field-username", username)
        .await
        .expect("username");
    page.fill("#field-password", PASSWORD)
        .await
        .expect("password");
    page.fill("#field-display_name", display_name)
        .await
        .expect("display name");
    page.click("form[action='/signup'] button[type=submit]")
        .await
        .expect("signed up");
    page.wait_for_text("#who", username)
        .await
        .expect("logged in after signing up");
}

/// Logs in as `username` on the login page, which then sends the browser on to `next`.
pub async fn log_in(page: &Page, app: &App, username: &str, next: &str) {
    let next = url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
    page.goto(&app.url(&format!("/login?next={next}")))
        .await
        .expect("the login page");
    page.fill("#field-username", username)
        .await
        .expect("username");
    page.fill("#field-password", PASSWORD)
        .await
        .expect("password");
    page.click("form[action='/login'] button[type=submit]")
        .await
        .expect("logged in");
    page.wait_for_text("#who", username)
        .await
        .expect("logged in");
}

/// Puts `date` in the date field matching `css`, as its date picker would: what typing into a
/// date field means depends on the browser's language, the value it submits does not.
pub async fn set_date(page: &Page, css: &str, date: NaiveDate) {
    page.wait_for(css).await.expect("the date field");
    let script = "const field = document.querySelector(arguments[0]);
                  field.value = arguments[1];
                  field.dispatchEvent(new Event('input', { bubbles: true }));
                  field.dispatchEvent(new Event('change', { bubbles: true }));
                  return field.value;";
    let set = page
        .client()
        .execute(script, vec![json!(css), json!(date.to_string())])
        .await
        .expect("setting the date");
    assert_eq!(set, json!(date.to_string()), "{css} takes {date}");
}

/// The current value of the field matching `css` (what is typed or kept, not its attribute).
pub async fn value(page: &Page, css: &str) -> String {
    page.wait_for(css).await.expect("the field");
    let field = page
        .client()
        .find(Locator::Css(css))
        .await
        .expect("the field");
    field
        .prop("value")
        .await
        .expect("its value")
        .unwrap_or_default()
}

/// The attribute `name` of the element matching `css`, once there is one.
pub async fn attribute(page: &Page, css: &str, name: &str) -> Option<String> {
    page.wait_for(css).await.expect("the element");
    let element = page
        .client()
        .find(Locator::Css(css))
        .await
        .expect("the element");
    element.attr(name).await.expect("its attribute")
}

/// How many elements match `css` now.
pub async fn count(page: &Page, css: &str) -> usize {
    let found = page.client().find_all(Locator::Css(css)).await;
    found.expect("looking for elements").len()
}

/// Runs `script` in the page and answers what it returns.
pub async fn script(page: &Page, script: &str) -> Value {
    page.client()
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|error| panic!("running {script:?}: {error}"))
}

/// Loads `path` again and again until the element matching `css` shows `needle`; answers its
/// whole text. For what a page shows once events have been applied in the background.
pub async fn reload_until_text(
    page: &Page,
    app: &App,
    path: &str,
    css: &str,
    needle: &str,
) -> String {
    let url = app.url(path);
    eventually_polling(
        SHOWN_WITHIN,
        RELOAD_EVERY,
        &format!("{path} shows {needle:?} in `{css}`"),
        async || {
            page.goto(&url)
                .await
                .map_err(|error| format!("{error:#}"))?;
            match page.client().find(Locator::Css(css)).await {
                Ok(element) => {
                    let text = element.text().await.map_err(|error| error.to_string())?;
                    if text.contains(needle) {
                        Ok(text)
                    } else {
                        Err(format!("its text is {text:?}"))
                    }
                }
                Err(CmdError::Standard(error)) if error.error == ErrorStatus::NoSuchElement => {
                    Err(format!("no `{css}` yet"))
                }
                Err(error) => Err(error.to_string()),
            }
        },
    )
    .await
}

/// Whether the page is no wider than its window: nothing to scroll sideways to.
pub async fn assert_fits_width(page: &Page, what: &str) {
    let widths = script(
        page,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
    )
    .await;
    let (scroll, inner) = (widths[0].as_u64(), widths[1].as_u64());
    assert!(
        matches!((scroll, inner), (Some(scroll), Some(inner)) if scroll <= inner),
        "{what} overflows sideways: scrollWidth {scroll:?} > innerWidth {inner:?}"
    );
}
