//! The harness: [`spawn_app_with`] starts mybnb in this process on a free port with fresh
//! storage and hands back a [`TestApp`] that speaks the API through typed helpers;
//! [`spawn_app_on`] starts one on existing [`Storage`], as a restarted or a second process.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use mybnb::settings::LogFormat;
use mybnb::{Application, Settings, ShutdownHandle};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use crate::storage::{Backend, Storage};

/// How long the harness waits for the application to become ready before giving up.
const READY_WITHIN: Duration = Duration::from_secs(30);

pub use mybnb_client::PASSWORD;

/// A running application and a client for it (its [`ApiClient`], through `Deref`). Dropping it
/// stops the application; its storage goes once nothing else holds it.
pub struct TestApp {
    api: ApiClient,
    shutdown: ShutdownHandle,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    storage: Arc<Storage>,
}

/// Speaks the API of a mybnb process at `address`, in this test process or not.
pub struct ApiClient {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    /// The token-signing secret the application was given, for forging tokens.
    pub jwt_secret: String,
    /// The credential of the internal APIs the application was given.
    pub service_token: String,
}

impl Deref for TestApp {
    type Target = ApiClient;

    fn deref(&self) -> &ApiClient {
        &self.api
    }
}

/// A signed-up user with a token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub token: String,
}

/// Starts the application on `backend` with test settings, changed by `configure`, and waits
/// until it is ready. `None` means the test is skipped (no PostgreSQL or nats-server, and
/// `MYBNB_SKIP_EXTERNAL=1`).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let storage = Storage::create(backend).await?;
    Some(spawn_app_on(&storage, configure).await)
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the application on `storage` — fresh, or left by an application that has stopped —
/// with test settings changed by `configure`, and waits until it is ready.
pub async fn spawn_app_on(
    storage: &Arc<Storage>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let app = start(storage.clone(), configure).await;
    app.wait_until_ready().await;
    app
}

/// Starts the application on SQLite with test settings, changed by `configure`, without
/// waiting for it to become ready.
pub async fn spawn_app_unready(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let storage = Storage::create(Backend::Sqlite)
        .await
        .expect("SQLite storage is always available");
    start(storage, configure).await
}

async fn start(storage: Arc<Storage>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        mybnb::telemetry::init(LogFormat::Text);
    }
    let mut settings = Settings::defaults().expect("the default settings are valid");
    settings.listen = "127.0.0.1:0".parse().expect("a socket address");
    storage.apply(&mut settings);
    // Tests sign up many users from one address; the rate-limit test sets its own limit.
    settings.identity.auth_rate_limit_per_minute = 10_000.try_into().expect("non-zero");
    configure(&mut settings);

    let application = Application::build(settings)
        .await
        .expect("the application builds");
    let address = application.local_addr().expect("a bound address");
    let shutdown = application.shutdown_handle();
    let server = tokio::spawn(application.run_until_stopped());
    TestApp {
        api: ApiClient::new(address, &storage),
        shutdown,
        server: Some(server),
        storage,
    }
}

/// A client with a bound on every request, so a hung server fails the test instead of
/// hanging it.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}

impl TestApp {
    /// The storage the application runs on, to start another application on it.
    pub fn storage(&self) -> Arc<Storage> {
        self.storage.clone()
    }

    /// Asks the application to stop and waits until it has, returning how it ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.shutdown();
        let server = self.server.take().expect("the server task, once");
        server.await.expect("the server task does not panic")
    }
}

impl ApiClient {
    /// A client for the process at `address` that was given `storage`'s secrets.
    pub fn new(address: SocketAddr, storage: &Storage) -> ApiClient {
        ApiClient {
            address,
            client: client(),
            jwt_secret: storage.jwt_secret.clone(),
            service_token: storage.service_token.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn wait_until_ready(&self) {
        let mut poll = tokio::time::interval(Duration::from_millis(20));
        let outcome = tokio::time::timeout(READY_WITHIN, async {
            loop {
                poll.tick().await;
                if let Ok(response) = self.client.get(self.url("/health/ready")).send().await
                    && response.status() == StatusCode::OK
                {
                    return;
                }
            }
        })
        .await;
        if outcome.is_err() {
            let report = match self.client.get(self.url("/health/ready")).send().await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(error) => error.to_string(),
            };
            panic!("the application was not ready within {READY_WITHIN:?}: {report}");
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the request is answered")
    }

    /// POSTs `body` as JSON, with a bearer token when given.
    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the request is answered")
    }

    pub async fn sign_up_raw(&self, body: &Value) -> Response {
        self.post_json("/users", body, None).await
    }

    /// Signs up `username` with [`PASSWORD`]; the sign-up must succeed.
    pub async fn sign_up(&self, username: &str) -> Value {
        let response = self
            .sign_up_raw(&json!({ "username": username, "password": PASSWORD }))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "signing up {username}"
        );
        response.json().await.expect("a user as JSON")
    }

    pub async fn token_raw(&self, username: &str, password: &str) -> Response {
        let body = json!({ "username": username, "password": password });
        self.post_json("/auth/token", &body, None).await
    }

    /// An access token for `username` and `password`; the request must succeed.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let response = self.token_raw(username, password).await;
        assert_eq!(response.status(), StatusCode::OK, "a token for {username}");
        let body: Value = response.json().await.expect("a token as JSON");
        body["accessToken"]
            .as_str()
            .expect("accessToken is a string")
            .to_owned()
    }

    /// A new user with a unique name, signed up and holding a token.
    pub async fn new_user(&self, prefix: &str) -> TestUser {
        let username = format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..8]);
        let user = self.sign_up(&username).await;
        let token = self.token(&username, PASSWORD).await;
        TestUser {
            id: user["id"].as_str().expect("id is a string").to_owned(),
            username,
            token,
        }
    }

    pub async fn me(&self, token: &str) -> Response {
        self.client
            .get(self.url("/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn register_room_raw(&self, token: &str, body: &Value) -> Response {
        self.post_json("/rooms", body, Some(token)).await
    }

    /// Registers a room as the holder of `token`; the registration must succeed.
    pub async fn register_room(&self, token: &str, body: &Value) -> Value {
        let response = self.register_room_raw(token, body).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::CREATED, "registering {body}: {text}");
        serde_json::from_str(&text).expect("a room as JSON")
    }

    pub async fn get_room(&self, id: &str) -> Response {
        self.get(&format!("/rooms/{id}")).await
    }

    pub async fn delete_room(&self, id: &str, token: &str) -> Response {
        self.client
            .delete(self.url(&format!("/rooms/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn search_raw(&self, query: &[(&str, &str)]) -> Response {
        self.client
            .get(self.url("/rooms"))
            .query(query)
            .send()
            .await
            .expect("the request is answered")
    }

    /// A search that must succeed.
    pub async fn search(&self, query: &[(&str, &str)]) -> Value {
        let response = self.search_raw(query).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::OK, "searching {query:?}: {text}");
        serde_json::from_str(&text).expect("a page as JSON")
    }

    /// How many rooms exist, as a search with no criteria counts them.
    pub async fn room_count(&self) -> u64 {
        self.search(&[]).await["total"]
            .as_u64()
            .expect("total is a number")
    }

    /// Whether `username` can still be signed up: tries it, so it is taken afterwards.
    pub async fn username_is_free(&self, username: &str) -> bool {
        let body = json!({ "username": username, "password": PASSWORD });
        self.sign_up_raw(&body).await.status() == StatusCode::CREATED
    }
}

/// A valid room listing with the given name and price.
pub fn room(name: &str, price: i64) -> Value {
    json!({ "name": name, "address": "1 Test-ro, Jongno-gu", "price": price })
}

/// The ids of a page's rooms, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items is an array")
        .iter()
        .map(|room| room["id"].as_str().expect("id is a string").to_owned())
        .collect()
}

/// The header's value as text; empty when absent or not text.
pub fn header(response: &Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Checks that `response` is an RFC 9457 problem document with `status`, and returns it.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let content_type = header(&response, reqwest::header::CONTENT_TYPE);
    let text = response.text().await.expect("a body");
    assert_eq!(actual, status, "status of a response with body {text}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type of a {status} is {content_type:?}, body {text}"
    );
    let problem: Value = serde_json::from_str(&text).expect("a problem document is JSON");
    for member in ["type", "title", "detail"] {
        assert!(
            problem[member]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "the problem has a `{member}`: {problem}"
        );
    }
    assert_eq!(problem["status"], json!(status.as_u16()), "{problem}");
    problem
}
