//! The harness: [`spawn`] starts the all-in-one mybnb in this process (`support/running.rs`);
//! a [`Browser`] visits its pages over real HTTP, keeping its own cookies and following no
//! redirect, so that each test sees every `Location` and `Set-Cookie`; the [`App`] speaks the
//! JSON API at the same address, to arrange and to check what the pages did.

use std::collections::BTreeMap;
use std::sync::Mutex;

use mybnb_client::Credentials;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use uuid::Uuid;

use crate::running::client;
pub use crate::running::{App, PASSWORD, User, day, spawn, spawn_with, suffix};

/// What every page must show escaped and never as is.
pub const SCRIPT: &str = "<script>alert(1)</script>";
pub const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

impl App {
    /// A browser that has visited nothing yet.
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.url(""),
            client: client(reqwest::redirect::Policy::none()),
            cookies: Mutex::new(BTreeMap::new()),
            headers: Vec::new(),
        }
    }

    /// A browser logged in as `user` through the login page.
    pub async fn logged_in(&self, user: &User) -> Browser {
        let browser = self.browser();
        browser.log_in(&user.username, PASSWORD).await;
        browser
    }

    /// `GET /rooms/{id}`'s status.
    pub async fn room_status(&self, id: Uuid) -> StatusCode {
        match self.api.room(id).await {
            Ok(_) => StatusCode::OK,
            Err(error) => error
                .status()
                .unwrap_or_else(|| panic!("reading room {id}: {error}")),
        }
    }

    /// The names of the rooms of the host `host_id`, as `GET /rooms?host=` finds them.
    pub async fn rooms_of(&self, host_id: Uuid) -> Vec<String> {
        let page = self.api.search(&[("host", host_id)]).await;
        let page = page.unwrap_or_else(|error| panic!("the rooms of {host_id}: {error}"));
        page.items.into_iter().map(|room| room.name).collect()
    }

    /// `GET /bookings/{id}`'s status field.
    pub async fn booking_status(&self, guest: &User, id: Uuid) -> String {
        let booking = self.api.booking(&guest.token, id).await;
        booking
            .unwrap_or_else(|error| panic!("reading booking {id}: {error}"))
            .status
    }

    /// `POST /auth/token`'s status.
    pub async fn token_status(&self, username: &str, password: &str) -> StatusCode {
        let credentials = Credentials { username, password };
        match self.api.token(&credentials).await {
            Ok(_) => StatusCode::OK,
            Err(error) => error
                .status()
                .unwrap_or_else(|| panic!("a token for {username}: {error}")),
        }
    }
}

/// A browser: its cookies, sent back as a browser would, and headers it sends on every request.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
    headers: Vec<(&'static str, String)>,
}

impl Browser {
    /// Sends `name: value` with every request from now on.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Browser {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().insert(name.to_owned(), value.to_owned());
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.cookies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// Posts `fields` as a form, as they are: no anti-forgery token is added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = self.client.post(format!("{}{path}", self.base));
        let request = request.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(request.body(body)).await
    }

    /// Posts `fields` with the anti-forgery token `csrf`.
    pub async fn post_with(&self, path: &str, fields: &[(&str, &str)], csrf: &str) -> Page {
        let mut fields = fields.to_vec();
        fields.push(("csrf", csrf));
        self.post(path, &fields).await
    }

    /// The anti-forgery token the forms of this browser carry now, read from the home page.
    pub async fn csrf(&self) -> String {
        self.get("/")
            .await
            .hidden("csrf")
            .expect("a page with a form")
    }

    /// Posts `fields` with the token the browser's forms carry now, as submitting a form does.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf().await;
        self.post_with(path, fields, &csrf).await
    }

    /// Logs in through the login page; it must succeed.
    pub async fn log_in(&self, username: &str, password: &str) {
        let form = [("username", username), ("password", password)];
        let page = self.submit("/login", &form).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "logging in: {}",
            page.body
        );
        assert!(self.cookie("mybnb_session").is_some(), "a session");
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> Page {
        let cookies: Vec<String> = (self.jar().iter())
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookies.join("; "));
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("the page answers");
        let header = |name| {
            let value = response.headers().get(name);
            value
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let (location, content_type) = (header(LOCATION), header(CONTENT_TYPE));
        let set_cookies: Vec<SetCookie> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(SetCookie::parse)
            .collect();
        for cookie in &set_cookies {
            if cookie.removes() {
                self.jar().remove(&cookie.name);
            } else {
                self.jar().insert(cookie.name.clone(), cookie.value.clone());
            }
        }
        Page {
            status: response.status(),
            location,
            content_type: content_type.unwrap_or_default(),
            set_cookies,
            headers: response.headers().clone(),
            body: response.text().await.expect("a body"),
        }
    }
}

/// One answer to a browser.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub set_cookies: Vec<SetCookie>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// Asserts that the answer is a redirect (303, as after a form) to `to`.
    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(
            (self.status, self.location.as_deref()),
            (StatusCode::SEE_OTHER, Some(to)),
            "{}",
            self.body
        );
    }

    /// Asserts that the answer is a page in HTML with `status`.
    #[track_caller]
    pub fn assert_html(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.content_type.starts_with("text/html"),
            "{}",
            self.content_type
        );
        assert!(self.body.contains("<html lang="), "{}", self.body);
    }

    pub fn set_cookie(&self, name: &str) -> Option<&SetCookie> {
        self.set_cookies.iter().find(|cookie| cookie.name == name)
    }

    /// The value of the (first) `<input name=…>`, as written in the HTML.
    pub fn input(&self, name: &str) -> Option<String> {
        let wanted = format!(" name=\"{name}\"");
        self.body.split("<input").skip(1).find_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            if tag.contains(&wanted) {
                attribute(tag, "value")
            } else {
                None
            }
        })
    }

    /// The value of the hidden field `name`.
    pub fn hidden(&self, name: &str) -> Option<String> {
        self.input(name)
    }

    /// The text of the `<textarea name=…>`, as written in the HTML.
    pub fn textarea(&self, name: &str) -> Option<String> {
        let start = self
            .body
            .find(&format!("<textarea id=\"field-{name}\" name=\"{name}\""))?;
        let rest = &self.body[start..];
        let content = &rest[rest.find('>')? + 1..];
        Some(content[..content.find("</textarea>")?].to_owned())
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let value = &tag[start..];
    Some(value[..value.find('"')?].to_owned())
}

/// A `Set-Cookie` header: the cookie, and its attributes by lower-case name.
#[derive(Debug)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    attributes: BTreeMap<String, String>,
}

impl SetCookie {
    fn parse(header: &str) -> SetCookie {
        let mut parts = header.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|pair| pair.split_once('='))
            .unwrap_or((header, ""));
        let attributes = parts.map(|attribute| match attribute.split_once('=') {
            Some((key, value)) => (key.to_ascii_lowercase(), value.to_owned()),
            None => (attribute.to_ascii_lowercase(), String::new()),
        });
        SetCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            attributes: attributes.collect(),
        }
    }

    pub fn has(&self, attribute: &str) -> bool {
        self.attributes.contains_key(attribute)
    }

    pub fn get(&self, attribute: &str) -> Option<&str> {
        self.attributes.get(attribute).map(String::as_str)
    }

    /// Whether the browser must forget the cookie.
    pub fn removes(&self) -> bool {
        self.value.is_empty() || self.get("max-age") == Some("0")
    }
}
