//! host-insights follows a running mybnb both ways a new team would run it: in-process beside
//! an all-in-one mybnb on its embedded log, and as its own process on NATS JetStream. mybnb is
//! not changed, configured or told about it either way.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use mybnb::{Application, Settings};
use mybnb_bus::{EmbeddedLog, EventBus};
use mybnb_platform::db::{Database, DatabaseLocation};
use mybnb_testkit::nats::NatsServer;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const WITHIN: Duration = Duration::from_secs(30);

/// An all-in-one mybnb in this process, on SQLite in `data_dir`, with events on `nats_url`
/// when given.
async fn start_mybnb(
    data_dir: &std::path::Path,
    nats_url: Option<String>,
) -> (SocketAddr, mybnb::ShutdownHandle) {
    let mut settings = Settings::defaults().expect("default settings");
    settings.listen = "127.0.0.1:0".parse().expect("an address");
    settings.data_dir = data_dir.to_path_buf();
    settings.nats_url = nats_url.map(SecretString::from);
    let application = Application::build(settings).await.expect("mybnb builds");
    let address = application.local_addr().expect("an address");
    let shutdown = application.shutdown_handle();
    tokio::spawn(application.run_until_stopped());
    (address, shutdown)
}

/// Signs up a host and a guest, registers a room at 30,000 won a night, books two stays (two
/// nights, one night) and cancels the second. Returns the room's and host's ids.
async fn book_and_cancel(client: &reqwest::Client, mybnb: SocketAddr) -> (String, String) {
    let url = |path: &str| format!("http://{mybnb}{path}");
    let call =
        async |method: reqwest::Method, path: &str, token: Option<&str>, body: Value| -> Value {
            let deadline = tokio::time::Instant::now() + WITHIN;
            loop {
                let mut request = client.request(method.clone(), url(path)).json(&body);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                // mybnb answers 503 until its databases are migrated.
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        return response.json().await.unwrap_or(Value::Null);
                    }
                    Ok(response)
                        if response.status() == 503 && tokio::time::Instant::now() < deadline => {}
                    Ok(response) => panic!("{method} {path}: {}", response.status()),
                    Err(error) => panic!("{method} {path}: {error}"),
                }
                tokio::task::yield_now().await;
            }
        };
    let mut tokens = Vec::new();
    for name in ["insight-host", "insight-guest"] {
        let password = "correct horse battery";
        call(
            reqwest::Method::POST,
            "/users",
            None,
            json!({"username": name, "password": password}),
        )
        .await;
        let token = call(
            reqwest::Method::POST,
            "/auth/token",
            None,
            json!({"username": name, "password": password}),
        )
        .await;
        tokens.push(token["accessToken"].as_str().expect("a token").to_owned());
    }
    let (host, guest) = (&tokens[0], &tokens[1]);
    let room = call(
        reqwest::Method::POST,
        "/rooms",
        Some(host),
        json!({"name": "Insightful loft", "address": "1 Jongno", "price": 30_000}),
    )
    .await;
    let room_id = room["id"].as_str().expect("a room id").to_owned();
    let stay = |from: u64, nights: u64| json!({"roomId": room_id, "checkIn": date(from), "checkOut": date(from + nights)});
    call(reqwest::Method::POST, "/bookings", Some(guest), stay(10, 2)).await;
    let dropped = call(reqwest::Method::POST, "/bookings", Some(guest), stay(20, 1)).await;
    let dropped_id = dropped["id"].as_str().expect("a booking id").to_owned();
    call(
        reqwest::Method::POST,
        &format!("/bookings/{dropped_id}/cancel"),
        Some(guest),
        json!({}),
    )
    .await;
    (
        room_id,
        room["host"].as_str().expect("a host id").to_owned(),
    )
}

/// `YYYY-MM-DD`, `days` from today (UTC).
fn date(days: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days)).to_string()
}

/// Waits until host-insights at `insights` reports the room as booked once (two nights, 60,000
/// won) with one cancellation.
async fn await_insight(
    client: &reqwest::Client,
    insights: SocketAddr,
    room_id: &str,
    host_id: &str,
) {
    let expected = json!({"items": [{"roomId": room_id, "hostId": host_id, "bookings": 1, "cancellations": 1, "revenue": 60_000}]});
    let deadline = tokio::time::Instant::now() + WITHIN;
    let mut poll = tokio::time::interval(Duration::from_millis(25));
    loop {
        poll.tick().await;
        let seen = match client
            .get(format!("http://{insights}/insights/rooms?hostId={host_id}"))
            .send()
            .await
        {
            Ok(response) => response.json::<Value>().await.unwrap_or(Value::Null),
            Err(error) => Value::String(error.to_string()),
        };
        if seen == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "host-insights did not catch up; last seen {seen}"
        );
    }
}

#[tokio::test]
async fn in_process_beside_an_all_in_one_mybnb_on_its_embedded_log() {
    let (mybnb_dir, insights_dir) = (
        tempfile::tempdir().expect("a dir"),
        tempfile::tempdir().expect("a dir"),
    );
    let (mybnb, shutdown) = start_mybnb(mybnb_dir.path(), None).await;
    let client = reqwest::Client::new();
    let (room_id, host_id) = book_and_cancel(&client, mybnb).await;

    let open = async |path: std::path::PathBuf, migrations| {
        let database =
            Database::connect_lazy(&DatabaseLocation::Sqlite { path }, 4).expect("a database");
        database.migrate(&migrations).await.expect("migrated");
        database
    };
    let log = open(
        mybnb_dir.path().join("events.db"),
        EmbeddedLog::migrations(),
    )
    .await;
    let bus: Arc<dyn EventBus> = Arc::new(EmbeddedLog::new(log));
    let database = open(
        insights_dir.path().join("insights.db"),
        host_insights::migrations(),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let insights = listener.local_addr().expect("an address");
    let stop = CancellationToken::new();
    let running = tokio::spawn(host_insights::run(bus, database, listener, stop.clone()));

    await_insight(&client, insights, &room_id, &host_id).await;
    stop.cancel();
    running.await.expect("joined").expect("stopped cleanly");
    shutdown.shutdown();
}

#[tokio::test]
async fn as_its_own_process_on_jetstream() {
    let Some(nats) = NatsServer::start().await else {
        return;
    };
    let (mybnb_dir, insights_dir) = (
        tempfile::tempdir().expect("a dir"),
        tempfile::tempdir().expect("a dir"),
    );
    let (mybnb, shutdown) = start_mybnb(mybnb_dir.path(), Some(nats.url())).await;
    let client = reqwest::Client::new();
    let (room_id, host_id) = book_and_cancel(&client, mybnb).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("an address");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_host-insights"))
        .args([
            "--listen",
            &port.to_string(),
            "--nats-url",
            &nats.url(),
            "--data-dir",
        ])
        .arg(insights_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("host-insights starts");

    await_insight(&client, port, &room_id, &host_id).await;
    child.kill().await.expect("stopped");
    shutdown.shutdown();
}
