//! The web pages across processes: the browser speaks only to the gateway, which routes the
//! pages' paths to the web process and everything else to the contexts; the web process calls
//! the public API back through the gateway. Searching, the stylesheet, signing up with the
//! anti-forgery token, my trips, the live notification stream — and a form rendered by one web
//! instance is accepted by another, since every instance derives its key from the shared
//! service token.
//!
//! Its own topology start (a few seconds): the other tests are about the API under load and
//! faults, and would lose their focus with pages in them.

use std::collections::BTreeMap;
use std::time::Duration;

use mybnb::services::Service;
use mybnb_client::RoomPage;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use uuid::Uuid;

use crate::helpers::{Deployment, PASSWORD};

const CSRF_COOKIE: &str = "mybnb_csrf";
const SESSION_COOKIE: &str = "mybnb_session";

#[tokio::test]
async fn pages_through_the_gateway() {
    let Some(mut deployment) = Deployment::start(&[]).await else {
        return;
    };
    let gateway = deployment.api();

    // The search page at `/`, and its stylesheet.
    let mut browser = Browser::new(&gateway.url(""));
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "GET /: {}", home.body);
    assert!(
        home.is("text/html"),
        "GET / is a page: {}",
        home.content_type
    );
    assert!(
        home.body.contains("<form"),
        "the search form: {}",
        home.body
    );
    let style = browser.get("/assets/style.css").await;
    assert_eq!(style.status, StatusCode::OK, "GET /assets/style.css");
    assert!(
        style.is("text/css"),
        "the stylesheet: {}",
        style.content_type
    );

    // Signing up: the form's token goes with the cookie it was made for; without it, refused.
    let signup = browser.get("/signup").await;
    assert_eq!(
        signup.status,
        StatusCode::OK,
        "GET /signup: {}",
        signup.body
    );
    assert!(
        browser.cookies.contains_key(CSRF_COOKIE),
        "the form's cookie is set: {:?}",
        browser.cookies
    );
    let csrf = hidden_field(&signup.body, "csrf");
    let username = format!("web-{}", &Uuid::new_v4().simple().to_string()[..8]);
    let forged = browser
        .post(
            "/signup",
            &[("username", &username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a form without its token: {}",
        forged.body
    );
    assert!(
        !browser.cookies.contains_key(SESSION_COOKIE),
        "no session from a refused form"
    );
    let signed_up = browser
        .post(
            "/signup",
            &[
                ("username", &username),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        signed_up.status,
        StatusCode::SEE_OTHER,
        "signing up: {}",
        signed_up.body
    );
    assert!(
        browser.cookies.contains_key(SESSION_COOKIE),
        "signed up and logged in: {:?}",
        browser.cookies
    );

    // My trips, through the session: the web asks the API (mypage) for them.
    let trips = browser.get("/trips").await;
    assert_eq!(trips.status, StatusCode::OK, "GET /trips: {}", trips.body);
    assert!(trips.is("text/html"), "{}", trips.content_type);
    assert!(
        trips.body.contains("No trips yet."),
        "a new user has no trips: {}",
        trips.body
    );
    assert!(
        trips.body.contains(&username),
        "the page knows who is logged in: {}",
        trips.body
    );

    // The live notifications: a stream that stays open, through the gateway and the web.
    let stream = browser
        .request(browser.client.get(browser.url("/inbox/stream")))
        .send()
        .await
        .expect("GET /inbox/stream is answered");
    assert_eq!(stream.status(), StatusCode::OK, "GET /inbox/stream");
    assert!(
        content_type(&stream).starts_with("text/event-stream"),
        "an event stream: {}",
        content_type(&stream)
    );
    drop(stream);

    // The JSON API answers at the same address.
    let rooms = gateway
        .send(gateway.request(Method::GET, "/rooms", None))
        .await;
    assert_eq!(rooms.status, StatusCode::OK, "GET /rooms: {}", rooms.body);
    let page = serde_json::from_value::<RoomPage>(rooms.body.clone());
    assert!(
        rooms.content_type.starts_with("application/json") && page.is_ok(),
        "a page of rooms as JSON: {} {}",
        rooms.content_type,
        rooms.body
    );

    // A second web instance accepts the form the first rendered: the key is shared.
    let first = deployment.topology().ports(Service::Web)[0];
    let second = deployment
        .topology()
        .start_instance(Service::Web)
        .await
        .expect("a second web instance starts");
    let mut other_browser = Browser::new(&format!("http://127.0.0.1:{first}"));
    let login = other_browser.get("/login").await;
    assert_eq!(login.status, StatusCode::OK, "GET /login: {}", login.body);
    let csrf = hidden_field(&login.body, "csrf");
    other_browser.base = format!("http://127.0.0.1:{second}");
    let logged_in = other_browser
        .post(
            "/login",
            &[
                ("username", &username),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        logged_in.status,
        StatusCode::SEE_OTHER,
        "logging in at another instance with the first one's form: {}",
        logged_in.body
    );
    assert!(
        other_browser.cookies.contains_key(SESSION_COOKIE),
        "logged in: {:?}",
        other_browser.cookies
    );

    deployment.stop().await;
}

/// A browser without JavaScript: keeps the cookies it is given, follows no redirect, speaks
/// English.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

/// A page: its status, content type and text.
struct Page {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Page {
    fn is(&self, media_type: &str) -> bool {
        self.content_type.starts_with(media_type)
    }
}

impl Browser {
    fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Browser {
            base: base.trim_end_matches('/').to_owned(),
            client,
            cookies: BTreeMap::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `request` with this browser's language and cookies.
    fn request(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.header(ACCEPT_LANGUAGE, "en");
        if self.cookies.is_empty() {
            return request;
        }
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        request.header(COOKIE, cookies.join("; "))
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.request(self.client.get(self.url(path)));
        self.visit(request, path).await
    }

    /// Submits a form, as `application/x-www-form-urlencoded`.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = self
            .request(self.client.post(self.url(path)))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.visit(request, path).await
    }

    async fn visit(&mut self, request: RequestBuilder, path: &str) -> Page {
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{path} is not answered: {error}"));
        for set in response.headers().get_all(SET_COOKIE) {
            let set = set.to_str().expect("a cookie in ASCII");
            let pair = set.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("a cookie is name=value");
            let removed = set.to_ascii_lowercase().contains("max-age=0");
            if value.is_empty() || removed {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = response.status();
        let content_type = content_type(&response);
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut body = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("{path} has no text: {error}"));
        if let Some(location) = location {
            body = format!("(redirected to {location}) {body}");
        }
        Page {
            status,
            content_type,
            body,
        }
    }
}

fn content_type(response: &Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of the hidden field `name` of the page's form.
fn hidden_field(html: &str, name: &str) -> String {
    let attribute = format!("name=\"{name}\"");
    let at = html
        .find(&attribute)
        .unwrap_or_else(|| panic!("a field named {name} in {html}"));
    let start = html[..at].rfind('<').expect("the field's tag opens");
    let end = at + html[at..].find('>').expect("the field's tag closes");
    let tag = &html[start..end];
    let value = tag
        .split_once("value=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(value, _)| value)
        .unwrap_or_else(|| panic!("the field {name} has a value: {tag}"));
    assert!(!value.is_empty(), "the field {name} has a value: {tag}");
    value.to_owned()
}
