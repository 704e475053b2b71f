//! A running all-in-one mybnb for the pages' suites (`web/` over plain HTTP, `browser/` in
//! Chromium), included by both with `#[path]`: [`spawn`] starts it in this process on a free
//! loopback port with fresh SQLite storage — the pages next to the JSON API at one address —
//! and [`App`] speaks that API, to arrange what a test is not about and to check what the
//! pages did.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use mybnb::{Application, Settings, ShutdownHandle};
use mybnb_testkit::eventually::eventually;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The password of every user made here.
pub const PASSWORD: &str = "correct horse battery";

/// A running mybnb; dropping it stops it.
pub struct App {
    pub address: SocketAddr,
    /// Follows redirects; for the JSON API.
    pub api: reqwest::Client,
    shutdown: ShutdownHandle,
    _data: TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

/// A user signed up through the API, with a token for arranging and checking through it.
pub struct User {
    // Read by the web suite only; the browser suite includes this file too.
    #[allow(dead_code)]
    pub id: String,
    pub username: String,
    pub token: String,
}

pub async fn spawn() -> App {
    spawn_with(|_| {}).await
}

/// Starts mybnb with test settings changed by `configure`, and waits until it is ready.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> App {
    let data = tempfile::tempdir().expect("a temporary data directory");
    let mut settings = Settings::defaults().expect("the default settings are valid");
    settings.listen = "127.0.0.1:0".parse().expect("a socket address");
    settings.data_dir = data.path().to_path_buf();
    settings.jwt_secret = Some(SecretString::from(format!(
        "pages-jwt-{:032x}",
        rand::random::<u128>()
    )));
    settings.service_token = Some(SecretString::from(format!(
        "pages-service-{:032x}",
        rand::random::<u128>()
    )));
    // Every browser of a test comes from the same address.
    settings.identity.auth_rate_limit_per_minute = 10_000.try_into().expect("non-zero");
    configure(&mut settings);
    let application = Application::build(settings).await.expect("mybnb builds");
    let address = application.local_addr().expect("a bound address");
    let shutdown = application.shutdown_handle();
    tokio::spawn(application.run_until_stopped());
    let app = App {
        address,
        api: client(reqwest::redirect::Policy::default()),
        shutdown,
        _data: data,
    };
    eventually("mybnb is ready", async || {
        match app.api.get(app.url("/health/ready")).send().await {
            Ok(response) if response.status() == StatusCode::OK => Ok(()),
            Ok(response) => Err(response.status().to_string()),
            Err(error) => Err(error.to_string()),
        }
    })
    .await;
    app
}

/// An HTTP client for loopback, with the redirect policy given.
pub fn client(redirects: reqwest::redirect::Policy) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(redirects)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Eight random hex digits, for names no other test uses.
pub fn suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// The date `days` days after today in UTC, as bookings count.
pub fn day(days: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(days)
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends an API request; the API must answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Response {
        request.send().await.expect("the API answers")
    }

    /// `POST /auth/token` as JSON.
    pub async fn token_raw(&self, username: &str, password: &str) -> Response {
        let body = json!({ "username": username, "password": password });
        self.send(self.api.post(self.url("/auth/token")).json(&body))
            .await
    }

    /// A new user named `<prefix>-<random>`, signed up with [`PASSWORD`] and holding a token.
    pub async fn new_user(&self, prefix: &str) -> User {
        let username = format!("{prefix}-{}", suffix());
        let body = json!({ "username": username, "password": PASSWORD });
        let response = self
            .send(self.api.post(self.url("/users")).json(&body))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "signing up {username}"
        );
        let user: Value = response.json().await.expect("a user");
        let response = self.token_raw(&username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "a token for {username}");
        let token: Value = response.json().await.expect("a token");
        User {
            id: text(&user["id"]),
            username,
            token: text(&token["accessToken"]),
        }
    }

    /// Registers a room of `host` named `name` in Seoul at 50,000 won a night, sleeping 4,
    /// through the API; answers its id.
    pub async fn room(&self, host: &User, name: &str) -> String {
        let body = json!({ "name": name, "address": "12 Bukchon-ro", "city": "Seoul",
                           "price": 50_000, "capacity": 4 });
        let request = self.api.post(self.url("/rooms")).bearer_auth(&host.token);
        let response = self.send(request.json(&body)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "registering {name}");
        text(&response.json::<Value>().await.expect("a room")["id"])
    }

    /// Books `nights` nights from `from` days after today as `guest` through the API; answers
    /// the booking's id.
    pub async fn book(&self, guest: &User, room: &str, from: u64, nights: u64) -> String {
        let body = json!({ "roomId": room, "checkIn": day(from).to_string(),
                           "checkOut": day(from + nights).to_string() });
        let request = self
            .api
            .post(self.url("/bookings"))
            .bearer_auth(&guest.token);
        let response = self.send(request.json(&body)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "booking {body}");
        text(&response.json::<Value>().await.expect("a booking")["id"])
    }

    /// `GET /bookings`: `guest`'s bookings, whatever their status.
    pub async fn bookings(&self, guest: &User) -> Vec<Value> {
        let request = self
            .api
            .get(self.url("/bookings"))
            .bearer_auth(&guest.token);
        let response = self.send(request).await;
        assert_eq!(response.status(), StatusCode::OK, "listing bookings");
        let list: Value = response.json().await.expect("a list");
        list["items"].as_array().expect("items").clone()
    }
}

/// A JSON string's text.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is a string"))
        .to_owned()
}
