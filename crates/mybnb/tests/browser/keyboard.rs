//! The keyboard alone: from the top of the login page, Tab reaches the skip link first and then
//! the username field; typing, Tab to the password, typing and Enter log in.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use mybnb_testkit::browser::{Browser, Page};

use crate::harness::{PASSWORD, screenshots, spawn};

/// At most this many Tabs from the top of the login page to its username field.
const TABS_TO_THE_FORM: usize = 20;

/// Presses Tab on whatever has the focus, as a keyboard does.
async fn press_tab(page: &Page) {
    let tab = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down {
            value: Key::Tab.into(),
        })
        .then(KeyAction::Up {
            value: Key::Tab.into(),
        });
    page.client()
        .perform_actions(tab)
        .await
        .expect("Tab pressed");
}

/// What has the focus: its tag, id and class, such as `input#field-username.`.
async fn focused(page: &Page) -> String {
    let element = page.client().active_element().await.expect("a focus");
    let tag = element.tag_name().await.expect("its tag");
    let id = element
        .attr("id")
        .await
        .expect("its id")
        .unwrap_or_default();
    let class = element
        .attr("class")
        .await
        .expect("its class")
        .unwrap_or_default();
    format!("{tag}#{id}.{class}")
}

/// Types `text` (with special keys) into whatever has the focus.
async fn type_keys(page: &Page, text: &str) {
    let element = page.client().active_element().await.expect("a focus");
    element.send_keys(text).await.expect("typed");
}

#[tokio::test]
async fn the_login_form_works_with_the_keyboard_alone() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn().await;
    let user = app.new_user("keys").await;
    let page = browser.open(screenshots("keyboard")).await.expect("a page");
    page.goto(&app.url("/login")).await.expect("the login page");
    page.wait_for("#field-username").await.expect("the form");

    // Tab from the top: the skip link first, then on until the username field.
    let mut seen = Vec::new();
    for _ in 0..TABS_TO_THE_FORM {
        press_tab(&page).await;
        let now = focused(&page).await;
        let arrived = now.starts_with("input#field-username.");
        seen.push(now);
        if arrived {
            break;
        }
    }
    assert_eq!(seen[0], "a#.skip", "the skip link comes first: {seen:?}");
    assert!(
        seen.last()
            .is_some_and(|last| last.starts_with("input#field-username.")),
        "Tab reaches the username field: {seen:?}"
    );
    page.screenshot("username-focused")
        .await
        .expect("a screenshot");

    type_keys(&page, &user.username).await;
    type_keys(&page, &Key::Tab.to_string()).await;
    let now = focused(&page).await;
    assert!(
        now.starts_with("input#field-password."),
        "Tab goes on to the password: {now}"
    );
    type_keys(&page, PASSWORD).await;
    page.screenshot("password-typed")
        .await
        .expect("a screenshot");
    type_keys(&page, &Key::Enter.to_string()).await;

    page.wait_for_text("#who", &user.username)
        .await
        .expect("logged in by Enter");
    let url = page.client().current_url().await.expect("a URL");
    assert_eq!(url.path(), "/", "sent on to the home page");
    page.screenshot("logged-in").await.expect("a screenshot");
}
