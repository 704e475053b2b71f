//! A running all-in-one mybnb for the pages' suites (`web/` over plain HTTP, `browser/` in
//! Chromium), included by both with `#[path]`: [`spawn`] starts it in this process on a free
//! loopback port with fresh SQLite storage — the pages next to the JSON API at one address —
//! and [`App`] speaks that API through `mybnb_client`, to arrange what a test is not about and to check what the
//! pages did.

use std::net::SocketAddr;
use std::time::Duration;

use mybnb::{Application, Settings, ShutdownHandle};
use mybnb_client::{Booking, Client, NewBooking, NewRoom};
pub use mybnb_client::{PASSWORD, day};
use mybnb_testkit::eventually::eventually;
use secrecy::SecretString;
use tempfile::TempDir;
use uuid::Uuid;

/// A running mybnb; dropping it stops it.
pub struct App {
    pub address: SocketAddr,
    /// The JSON API at the same address; follows redirects.
    pub api: Client,
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
    pub id: Uuid,
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
        api: Client::with_http(
            &format!("http://{address}"),
            client(reqwest::redirect::Policy::default()),
        )
        .expect("a client of the API"),
        shutdown,
        _data: data,
    };
    eventually("mybnb is ready", async || match app.api.readiness().await {
        Ok(_) => Ok(()),
        Err(error) => Err(error.to_string()),
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
        .pool_idle_timeout(mybnb_client::POOL_IDLE_TIMEOUT)
        .build()
        .expect("an HTTP client")
}

/// Eight random hex digits, for names no other test uses.
pub fn suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A new user named `<prefix>-<random>`, signed up with [`PASSWORD`] and holding a token.
    pub async fn new_user(&self, prefix: &str) -> User {
        let username = format!("{prefix}-{}", suffix());
        let (user, token) = (self.api.sign_up_with_token(&username, PASSWORD).await)
            .unwrap_or_else(|error| panic!("signing up {username}: {error}"));
        User {
            id: user.id,
            username,
            token: token.access_token,
        }
    }

    /// Registers a room of `host` named `name` in Seoul at 50,000 won a night, sleeping 4,
    /// through the API; answers its id.
    pub async fn room(&self, host: &User, name: &str) -> Uuid {
        let room = NewRoom {
            name,
            address: "12 Bukchon-ro",
            city: Some("Seoul"),
            price: 50_000,
            capacity: Some(4),
            description: None,
        };
        let registered = self.api.register_room(&host.token, &room).await;
        registered
            .unwrap_or_else(|error| panic!("registering {name}: {error}"))
            .id
    }

    /// Books `nights` nights from `from` days after today as `guest` through the API; answers
    /// the booking's id.
    pub async fn book(&self, guest: &User, room: Uuid, from: u64, nights: u64) -> Uuid {
        let stay = NewBooking {
            room_id: room,
            check_in: day(from),
            check_out: day(from + nights),
            guests: None,
        };
        let booked = self.api.book(&guest.token, &stay, None).await;
        booked
            .unwrap_or_else(|error| panic!("booking {stay:?}: {error}"))
            .id
    }

    /// `GET /bookings`: `guest`'s bookings, whatever their status.
    pub async fn bookings(&self, guest: &User) -> Vec<Booking> {
        let bookings = self.api.bookings(&guest.token).await;
        bookings.unwrap_or_else(|error| panic!("listing bookings: {error}"))
    }
}
