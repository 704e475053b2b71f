//! What the tests share: a [`Deployment`] — the topology with a PostgreSQL database and a
//! nats-server of its own, in a temporary directory — the public API spoken through its
//! gateway ([`Api`]), and waiting for what happens by events ([`eventually`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use mybnb::topology::{Plan, Running, Topology, free_port};
use mybnb_client::fixtures::unique;
use mybnb_client::{ApiResult, Booking, Client, MyPage, Payment, Problem, Room, RoomPage, Stay};
pub use mybnb_client::{PASSWORD, SETTLED_WITHIN, day};
use mybnb_testkit::eventually::eventually_polling;
use mybnb_testkit::nats::NatsServer;
use mybnb_testkit::postgres::TestDatabase;
pub use mybnb_testkit::told::once_each;
use mybnb_testkit::told::{Tally, await_told, tally};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// How often [`eventually`] asks.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// One deployment at a time: see the crate's documentation.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Lines of each process's log shown when a test fails.
const LOG_TAIL: usize = 30;

/// The distributed topology on fresh storage. Dropping it kills every process and removes its
/// storage; when a test fails, the end of every process's log is printed and the directory
/// with the logs is kept.
pub struct Deployment {
    topology: Option<Topology>,
    api: Api,
    directory: Option<TempDir>,
    _database: TestDatabase,
    _nats: NatsServer,
    _turn: MutexGuard<'static, ()>,
}

impl Deployment {
    /// Waits for the other tests' deployments to be gone, then starts every context in its own
    /// process (two booking and two payment instances, one of each other context) and the
    /// gateway, with `settings` (`MYBNB_*` variables) for every process, and waits until all are
    /// ready. `None` when the test is skipped (see the crate's documentation).
    pub async fn start(settings: &[(&str, &str)]) -> Option<Deployment> {
        let turn = ONE_AT_A_TIME.lock().await;
        let database = TestDatabase::create().await?;
        let nats = NatsServer::start().await?;
        let directory = tempfile::Builder::new()
            .prefix("mybnb-distributed-")
            .tempdir()
            .expect("a temporary directory");
        let secrets = [
            (
                "MYBNB_JWT_SECRET",
                format!("distributed-test-{}", Uuid::new_v4().simple()),
            ),
            (
                "MYBNB_SERVICE_TOKEN",
                format!("distributed-service-{}", Uuid::new_v4().simple()),
            ),
        ];
        let defaults = [
            ("RUST_LOG", "info".to_owned()),
            ("MYBNB_DATABASE_URL", database.url()),
            ("MYBNB_NATS_URL", nats.url()),
            // Every test user signs up from 127.0.0.1.
            ("MYBNB_AUTH_RATE_LIMIT_PER_MINUTE", "100000".to_owned()),
            // Ten processes (eleven while one is replaced) share one PostgreSQL server.
            ("MYBNB_DATABASE_MAX_CONNECTIONS", "4".to_owned()),
        ];
        let env: Vec<(String, String)> = secrets
            .into_iter()
            .chain(defaults)
            .map(|(key, value)| (key.to_owned(), value))
            .chain(
                settings
                    .iter()
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
            )
            .collect();
        let data_dir = directory.path().to_path_buf();
        let mut deployment = Deployment {
            topology: None,
            api: Api::new("http://127.0.0.1:1"),
            directory: Some(directory),
            _database: database,
            _nats: nats,
            _turn: turn,
        };
        let gateway_port = free_port().expect("a free port for the gateway");
        let mut plan = Plan::standard(
            PathBuf::from(env!("CARGO_BIN_EXE_mybnb")),
            data_dir,
            gateway_port,
        );
        plan.env = env;
        match Topology::start(plan).await {
            Ok(topology) => {
                deployment.topology = Some(topology);
                deployment.api = Api::new(&format!("http://127.0.0.1:{gateway_port}"));
            }
            Err(error) => panic!("the topology does not start: {error:#}"),
        }
        Some(deployment)
    }

    /// The public API, through the gateway.
    pub fn api(&self) -> Api {
        self.api.clone()
    }

    pub fn topology(&mut self) -> &mut Topology {
        self.topology.as_mut().expect("the topology runs")
    }

    /// Every running process, the gateway last.
    pub fn processes(&self) -> Vec<&Running> {
        self.topology
            .as_ref()
            .map(Topology::processes)
            .unwrap_or_default()
    }

    /// Stops every process gracefully; each must exit cleanly.
    pub async fn stop(mut self) {
        let topology = self.topology.take().expect("the topology runs");
        if let Err(error) = topology.stop().await {
            panic!("the topology does not stop cleanly: {error:#}");
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let Some(directory) = self.directory.take() else {
            return;
        };
        let directory = directory.keep();
        eprintln!("{}", log_tails(&directory));
        eprintln!("the processes' logs are kept in {}", directory.display());
    }
}

/// The last lines of each process's log under `directory` (each instance has a directory of
/// its own there, stopped ones too).
fn log_tails(directory: &Path) -> String {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("mybnb.log"))
        .filter(|log| log.is_file())
        .collect();
    logs.sort();
    let mut report = String::new();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n");
        report.push_str(&format!(
            "\n===== {} (last {LOG_TAIL} lines)\n{tail}\n",
            log.display()
        ));
    }
    report
}

/// Polls `probe` until it answers `Ok`, for at most [`SETTLED_WITHIN`]; fails naming `what` and
/// the probe's last reason otherwise. Asks every [`POLL_EVERY`]: each probe goes through the
/// gateway to processes that share the machine.
pub async fn eventually<T>(what: &str, probe: impl AsyncFnMut() -> Result<T, String>) -> T {
    eventually_polling(SETTLED_WITHIN, POLL_EVERY, what, probe).await
}

/// A request to book `room_id` for `nights` nights from `from` days after today, as JSON so
/// that a test can spoil it.
pub fn stay(room_id: Uuid, from: u64, nights: u64) -> Value {
    json!({
        "roomId": room_id,
        "checkIn": day(from).to_string(),
        "checkOut": day(from + nights).to_string(),
    })
}

/// A signed-up user with a token.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub token: String,
}

/// A status and a body (JSON, or the text as a JSON string when it is not JSON), for the
/// requests a test sends as they are.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Answer {
    /// Whether this is an RFC 9457 problem document with `status`.
    pub fn is_problem(&self, status: StatusCode) -> bool {
        let problem = serde_json::from_value::<Problem>(self.body.clone());
        self.status == status
            && self.content_type.starts_with("application/problem+json")
            && problem.is_ok_and(|problem| problem.status == status.as_u16())
    }
}

/// `result`'s value; a failed call fails the test, saying what was being done.
fn must<T>(result: ApiResult<T>, doing: impl std::fmt::Display) -> T {
    result.unwrap_or_else(|error| panic!("{doing}: {error}"))
}

/// The public API at one address (the gateway's): typed calls through [`Client`], and raw
/// requests ([`Api::request`], [`Api::send`]) for what must be sent or read as it is.
#[derive(Clone)]
pub struct Api {
    pub client: Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            client: Client::new(base).expect("a base URL"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.client.base().as_str().trim_end_matches('/'),
            path
        )
    }

    /// A request to `path`, with the bearer `token` when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        self.client.request(method, path, token)
    }

    /// Sends `request`, which must be answered (by any status).
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let described = format!("{request:?}");
        match Api::try_send(request).await {
            Ok(answer) => answer,
            Err(error) => panic!("{described} is not answered: {error}"),
        }
    }

    /// Sends `request`; `Err` when it is not answered.
    pub async fn try_send(request: RequestBuilder) -> Result<Answer, reqwest::Error> {
        let response = request.send().await?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }

    /// A new user with a unique name, signed up and holding a token.
    pub async fn new_user(&self, prefix: &str) -> User {
        let username = unique(prefix);
        let signed_up = self.client.sign_up_with_token(&username, PASSWORD).await;
        let (user, token) = must(signed_up, format!("signing up {username}"));
        User {
            id: user.id,
            username,
            token: token.access_token,
        }
    }

    pub async fn me(&self, token: &str) -> mybnb_client::User {
        must(self.client.me(token).await, "/users/me")
    }

    /// Registers a room as the holder of `token`; its id.
    pub async fn register_room(&self, token: &str, body: &Value) -> Uuid {
        let request = self.request(Method::POST, "/rooms", Some(token)).json(body);
        let room: Room = must(
            self.client.json(request).await,
            format!("registering {body}"),
        );
        room.id
    }

    pub async fn room(&self, id: Uuid) -> Answer {
        self.send(self.request(Method::GET, &format!("/rooms/{id}"), None))
            .await
    }

    pub async fn delete_room(&self, token: &str, id: Uuid) -> Answer {
        let path = format!("/rooms/{id}");
        self.send(self.request(Method::DELETE, &path, Some(token)))
            .await
    }

    /// A search that must succeed: the page.
    pub async fn search(&self, query: &[(&str, &str)]) -> RoomPage {
        must(
            self.client.search(query).await,
            format!("searching {query:?}"),
        )
    }

    /// The ids of the rooms a search finds, in order.
    pub async fn search_ids(&self, query: &[(&str, &str)]) -> Vec<Uuid> {
        self.search(query).await.ids()
    }

    /// Ids of the rooms free on every night of `[from, from + nights)` days after today.
    pub async fn free_rooms(&self, from: u64, nights: u64) -> Vec<Uuid> {
        let (check_in, check_out) = (day(from).to_string(), day(from + nights).to_string());
        let query = [
            ("checkIn", check_in.as_str()),
            ("checkOut", check_out.as_str()),
            ("size", "100"),
        ];
        let mut ids = self.search_ids(&query).await;
        ids.sort();
        ids
    }

    pub async fn book(&self, token: &str, body: &Value, key: Option<&str>) -> Answer {
        let mut request = self
            .request(Method::POST, "/bookings", Some(token))
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send(request).await
    }

    /// Books as the holder of `token`; the booking must be made. Returns it.
    pub async fn book_ok(&self, token: &str, body: &Value) -> Booking {
        let request = self
            .request(Method::POST, "/bookings", Some(token))
            .json(body);
        must(self.client.json(request).await, format!("booking {body}"))
    }

    /// The booking as the holder of `token` sees it.
    pub async fn booking(&self, token: &str, id: Uuid) -> Booking {
        must(
            self.client.booking(token, id).await,
            format!("reading booking {id}"),
        )
    }

    /// `GET /bookings`: the bookings of the holder of `token`, as guest, in every status.
    pub async fn bookings(&self, token: &str) -> Vec<Booking> {
        must(self.client.bookings(token).await, "listing bookings")
    }

    pub async fn cancel(&self, token: &str, id: Uuid) -> Answer {
        let path = format!("/bookings/{id}/cancel");
        self.send(self.request(Method::POST, &path, Some(token)))
            .await
    }

    /// `GET /payments?bookingId=` as the holder of `token`: the payments, `None` when payment
    /// knows none (404).
    pub async fn payments(&self, token: &str, booking_id: Uuid) -> Option<Vec<Payment>> {
        match self.client.payments(token, booking_id).await {
            Ok(payments) => Some(payments),
            Err(error) if error.status() == Some(StatusCode::NOT_FOUND) => None,
            Err(error) => panic!("the payments of {booking_id}: {error}"),
        }
    }

    /// The one payment of a booking that has one.
    pub async fn payment(&self, token: &str, booking_id: Uuid) -> Payment {
        let payments = self.payments(token, booking_id).await;
        match payments.as_deref() {
            Some([payment]) => payment.clone(),
            _ => panic!("booking {booking_id} has one payment: {payments:?}"),
        }
    }

    /// Waits until the booking's payment has `status`; returns it.
    pub async fn await_payment(&self, token: &str, booking_id: Uuid, status: &str) -> Payment {
        let what = format!("the payment of {booking_id} becomes {status}");
        eventually(&what, async || {
            let payment = self.payment(token, booking_id).await;
            if payment.status == status {
                Ok(payment)
            } else {
                Err(format!("{payment:?}"))
            }
        })
        .await
    }

    /// The whole notification history of the holder of `token`, as `(type, bookingId)` counts.
    pub async fn notifications(&self, token: &str) -> Tally {
        tally(&must(
            self.client.all_notifications(token).await,
            "notifications",
        ))
    }

    /// Waits until `user`'s history holds exactly `expected`, each as often as counted there.
    pub async fn await_notifications(&self, user: &User, expected: &Tally) {
        let (who, token) = (&user.username, &user.token);
        await_told(
            &self.client,
            who,
            token,
            expected,
            SETTLED_WITHIN,
            POLL_EVERY,
        )
        .await;
    }

    pub async fn my_page(&self, token: &str) -> MyPage {
        must(self.client.my_page(token).await, "my page")
    }

    /// Waits until one side of `user`'s page (`|page| &page.as_guest`, …) is `expected`.
    pub async fn await_my_page(
        &self,
        user: &User,
        side: fn(&MyPage) -> &[Stay],
        expected: &[Stay],
    ) {
        let what = format!("{}'s page follows the events", user.username);
        eventually(&what, async || {
            let page = self.my_page(&user.token).await;
            if side(&page) == expected {
                Ok(())
            } else {
                Err(format!("{page:?}, expecting {expected:?}"))
            }
        })
        .await;
    }
}
