//! The harness: [`spawn_app_with`] starts mybnb in this process on a free port with fresh
//! storage and hands back a [`TestApp`] that speaks the API through typed helpers;
//! [`spawn_app_on`] starts one on existing [`Storage`], as a restarted or a second process.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use mybnb::settings::LogFormat;
use mybnb::{Application, Settings, ShutdownHandle};
use mybnb_client::fixtures::unique;
use mybnb_client::{
    ApiResult, Client, Credentials, MyPage, NewUser, Problem, Room, RoomPage, User,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
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

/// Speaks the API of a mybnb process at `address`, in this test process or not: typed calls
/// through [`Client`] (`api`), and raw requests for what must be sent or read as it is.
pub struct ApiClient {
    pub address: SocketAddr,
    pub api: Client,
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
    pub id: Uuid,
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

/// `result`'s value; a failed call fails the test, saying what was being done.
pub fn must<T>(result: ApiResult<T>, doing: impl std::fmt::Display) -> T {
    result.unwrap_or_else(|error| panic!("{doing}: {error}"))
}

impl ApiClient {
    /// A client for the process at `address` that was given `storage`'s secrets.
    pub fn new(address: SocketAddr, storage: &Storage) -> ApiClient {
        ApiClient {
            address,
            api: Client::new(&format!("http://{address}")).expect("a loopback base URL"),
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
                if self.api.is_ready().await {
                    return;
                }
            }
        })
        .await;
        if outcome.is_err() {
            let report = match self.api.readiness().await {
                Ok(report) => format!("{report:?}"),
                Err(error) => error.to_string(),
            };
            panic!("the application was not ready within {READY_WITHIN:?}: {report}");
        }
    }

    /// A request to `path`, with the bearer `token` when given, for what the typed calls
    /// cannot send or answers they do not read.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        self.api.request(method, path, token)
    }

    /// Sends `request`; it must be answered, whatever the status.
    pub async fn send(&self, request: RequestBuilder) -> Response {
        request.send().await.expect("the request is answered")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.request(Method::GET, path, None)).await
    }

    /// POSTs `body` as JSON, with a bearer token when given.
    pub async fn post_json(
        &self,
        path: &str,
        body: &impl Serialize,
        token: Option<&str>,
    ) -> Response {
        self.send(self.request(Method::POST, path, token).json(body))
            .await
    }

    pub async fn sign_up_raw(&self, body: &Value) -> Response {
        self.post_json("/users", body, None).await
    }

    /// Signs up `username` with [`PASSWORD`]; the sign-up must succeed.
    pub async fn sign_up(&self, username: &str) -> User {
        let new = NewUser {
            username,
            password: PASSWORD,
            ..NewUser::default()
        };
        must(
            self.api.sign_up(&new).await,
            format!("signing up {username}"),
        )
    }

    pub async fn token_raw(&self, username: &str, password: &str) -> Response {
        let body = json!({ "username": username, "password": password });
        self.post_json("/auth/token", &body, None).await
    }

    /// An access token for `username` and `password`; the request must succeed.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let credentials = Credentials { username, password };
        let token = self.api.token(&credentials).await;
        must(token, format!("a token for {username}")).access_token
    }

    /// A new user with a unique name, signed up and holding a token.
    pub async fn new_user(&self, prefix: &str) -> TestUser {
        let username = unique(prefix);
        let user = self.sign_up(&username).await;
        let token = self.token(&username, PASSWORD).await;
        TestUser {
            id: user.id,
            username,
            token,
        }
    }

    pub async fn me(&self, token: &str) -> Response {
        self.send(self.request(Method::GET, "/users/me", Some(token)))
            .await
    }

    pub async fn register_room_raw(&self, token: &str, body: &impl Serialize) -> Response {
        self.post_json("/rooms", body, Some(token)).await
    }

    /// Registers a room as the holder of `token`; the registration must succeed.
    pub async fn register_room(&self, token: &str, body: &Value) -> Room {
        let answer = self
            .api
            .json(self.request(Method::POST, "/rooms", Some(token)).json(body));
        must(answer.await, format!("registering {body}"))
    }

    /// `GET /rooms/{id}`, whatever `id` is.
    pub async fn get_room(&self, id: impl std::fmt::Display) -> Response {
        self.get(&format!("/rooms/{id}")).await
    }

    /// The room; it must exist.
    pub async fn room(&self, id: Uuid) -> Room {
        must(self.api.room(id).await, format!("reading room {id}"))
    }

    pub async fn delete_room(&self, id: impl std::fmt::Display, token: &str) -> Response {
        let path = format!("/rooms/{id}");
        self.send(self.request(Method::DELETE, &path, Some(token)))
            .await
    }

    pub async fn search_raw(&self, query: &[(&str, &str)]) -> Response {
        self.send(self.request(Method::GET, "/rooms", None).query(query))
            .await
    }

    /// A search that must succeed.
    pub async fn search(&self, query: &[(&str, &str)]) -> RoomPage {
        must(self.api.search(query).await, format!("searching {query:?}"))
    }

    /// How many rooms exist, as a search with no criteria counts them.
    pub async fn room_count(&self) -> u64 {
        self.search(&[]).await.total
    }

    /// `GET /mypage` as the holder of `token`; it must be answered 200.
    pub async fn my_page(&self, token: &str) -> MyPage {
        must(self.api.my_page(token).await, "my page")
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
pub async fn assert_problem(response: Response, status: StatusCode) -> Problem {
    let actual = response.status();
    let content_type = header(&response, reqwest::header::CONTENT_TYPE);
    let text = response.text().await.expect("a body");
    assert_eq!(actual, status, "status of a response with body {text}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type of a {status} is {content_type:?}, body {text}"
    );
    let problem: Problem = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("a problem document ({error}): {text}"));
    let members = [
        problem.kind.as_deref(),
        Some(&*problem.title),
        problem.detail.as_deref(),
    ];
    assert!(
        members
            .iter()
            .all(|member| member.is_some_and(|text| !text.is_empty())),
        "the problem has a type, a title and a detail: {text}"
    );
    assert_eq!(problem.status, status.as_u16(), "{text}");
    problem
}
