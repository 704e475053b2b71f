//! A form that did not go through comes back with what was typed and says what is wrong, with
//! the status that says it too — but never with the password; and whatever a visitor typed or a
//! host named a room is shown escaped, never as markup.

use reqwest::StatusCode;

use crate::harness::{PASSWORD, Page, SCRIPT, SCRIPT_ESCAPED, spawn, suffix};

#[track_caller]
fn assert_kept(page: &Page, fields: &[(&str, &str)]) {
    for (name, typed) in fields {
        assert_eq!(
            page.input(name).as_deref(),
            Some(*typed),
            "{name}: {}",
            page.body
        );
    }
}

#[track_caller]
fn assert_escaped(page: &Page) {
    assert!(
        !page.body.contains("<script"),
        "no markup gets through: {}",
        page.body
    );
    assert!(
        page.body.contains(SCRIPT_ESCAPED),
        "shown escaped: {}",
        page.body
    );
}

#[tokio::test]
async fn a_taken_username_keeps_what_was_typed() {
    let app = spawn().await;
    let taken = app.new_user("taken").await;
    let password = format!("secret-{}", suffix());
    let form = [
        ("username", taken.username.as_str()),
        ("password", &password),
        ("display_name", "Kim"),
    ];
    let page = app.browser().submit("/signup", &form).await;
    page.assert_html(StatusCode::CONFLICT);
    assert!(
        page.body.contains("That username is taken."),
        "{}",
        page.body
    );
    assert_kept(
        &page,
        &[
            ("username", &taken.username),
            ("display_name", "Kim"),
            ("password", ""),
        ],
    );
    assert!(!page.body.contains(&password), "the password is not echoed");
}

#[tokio::test]
async fn a_failed_login_keeps_the_username_but_not_the_password() {
    let app = spawn().await;
    let user = app.new_user("user").await;
    let wrong = format!("wrong-{}", suffix());
    let form = [
        ("username", user.username.as_str()),
        ("password", &wrong),
        ("next", "/host"),
    ];
    let page = app.browser().submit("/login", &form).await;
    page.assert_html(StatusCode::UNAUTHORIZED);
    assert!(
        page.body.contains("The username or password is wrong."),
        "{}",
        page.body
    );
    assert_kept(
        &page,
        &[
            ("username", &user.username),
            ("password", ""),
            ("next", "/host"),
        ],
    );
    assert!(!page.body.contains(&wrong), "the password is not echoed");
    assert!(page.set_cookie("mybnb_session").is_none(), "no session");
}

#[tokio::test]
async fn a_room_with_an_invalid_price_keeps_every_field() {
    let app = spawn().await;
    let host = app.new_user("host").await;
    let browser = app.logged_in(&host).await;
    for (price, status, message) in [
        (
            "fifty thousand",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter the price and the guests as whole numbers.",
        ),
        (
            "-5",
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check the room",
        ),
    ] {
        let form = [
            ("name", "Sunny loft"),
            ("address", "3 Itaewon-ro"),
            ("city", "Seoul"),
            ("price", price),
            ("capacity", "3"),
            ("description", "Quiet & bright"),
        ];
        let page = browser.submit("/host/rooms", &form).await;
        page.assert_html(status);
        assert!(page.body.contains(message), "{price}: {}", page.body);
        assert_kept(&page, &form[..5]);
        assert_eq!(
            page.textarea("description").as_deref(),
            Some("Quiet &amp; bright")
        );
    }
    assert_eq!(
        app.rooms_of(host.id).await,
        Vec::<String>::new(),
        "nothing listed"
    );
}

#[tokio::test]
async fn a_search_with_a_malformed_date_keeps_the_other_fields() {
    let app = spawn().await;
    let path = "/?q=hanok&city=Seoul&checkIn=2030-02-30&checkOut=2030-03-02&guests=2&minPrice=1000";
    let page = app.browser().get(path).await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Enter a date."), "{}", page.body);
    assert!(page.body.contains("aria-invalid=\"true\""), "{}", page.body);
    let typed = [
        ("q", "hanok"),
        ("city", "Seoul"),
        ("checkIn", "2030-02-30"),
        ("checkOut", "2030-03-02"),
        ("guests", "2"),
        ("minPrice", "1000"),
    ];
    assert_kept(&page, &typed);
}

#[tokio::test]
async fn a_room_name_is_shown_escaped_wherever_it_appears() {
    let app = spawn().await;
    let host = app.new_user("host").await;
    let city = format!("City{}", suffix());
    let browser = app.logged_in(&host).await;
    let form = [
        ("name", SCRIPT),
        ("address", "1 Jongno"),
        ("city", &city),
        ("price", "40000"),
        ("capacity", "2"),
    ];
    browser
        .submit("/host/rooms", &form)
        .await
        .assert_redirect("/host?notice=room-registered");
    assert_eq!(app.rooms_of(host.id).await, [SCRIPT]);

    let dashboard = browser.get("/host").await;
    assert_escaped(&dashboard);
    let results = browser.get(&format!("/?city={city}")).await;
    assert!(results.body.contains("One room found"), "{}", results.body);
    assert_escaped(&results);
    let room = dashboard
        .body
        .split("data-room=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next());
    let room = room.expect("the dashboard lists the room").to_owned();
    assert_escaped(&app.browser().get(&format!("/stays/{room}")).await);
}

#[tokio::test]
async fn a_username_is_shown_escaped_on_the_forms_that_show_it_back() {
    let app = spawn().await;
    let form = [("username", SCRIPT), ("password", PASSWORD)];
    let signup = app.browser().submit("/signup", &form).await;
    assert!(signup.status.is_client_error(), "{}", signup.status);
    assert_escaped(&signup);
    assert_eq!(signup.input("username").as_deref(), Some(SCRIPT_ESCAPED));

    let login = app.browser().submit("/login", &form).await;
    login.assert_html(StatusCode::UNAUTHORIZED);
    assert_escaped(&login);
    assert_eq!(login.input("username").as_deref(), Some(SCRIPT_ESCAPED));

    let search = app
        .browser()
        .get("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    search.assert_html(StatusCode::OK);
    assert_escaped(&search);
}
