//! The booking scenarios and the load they generate: concurrent clients, each booking distinct
//! room-nights as fast as answers come, for a fixed time, on a fresh all-in-one server. The
//! `throughput` scenario also times SQLite's raw durable commits (WAL, `synchronous=FULL`, one
//! writer), the ceiling for any design that commits each booking on its own.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use mybnb_client::Client;
use reqwest::Method;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

use crate::seed::{Seeded, room_night};
use crate::stats::{Spread, every_second};
use crate::system::Server;

pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    settings: Vec<(&'static str, String)>,
    clients: usize,
    rooms: usize,
    measure_sqlite_commits: bool,
    /// Trip the breaker before measuring, and keep it open.
    open_breaker_first: bool,
}

/// Each scenario's name, description, clients and rooms.
const SCENARIOS: [(&str, &str, usize, usize); 4] = [
    (
        "original-610",
        "payment latency 400–620 ms, 100 clients, payment timeout 610 ms (the original's)",
        100,
        200,
    ),
    (
        "original-1000",
        "payment latency 400–620 ms, 100 clients, payment timeout 1,000 ms",
        100,
        200,
    ),
    (
        "throughput",
        "no payment latency, 64 clients, all-in-one on SQLite",
        64,
        1000,
    ),
    (
        "breaker-open",
        "payment failing, circuit breaker open, 64 clients",
        64,
        200,
    ),
];

impl Scenario {
    pub fn named(name: &str) -> Option<Scenario> {
        let &(name, description, clients, rooms) = SCENARIOS.iter().find(|s| s.0 == name)?;
        let setting = |key, value: &str| (key, value.to_owned());
        let settings = match name {
            "original-610" | "original-1000" => vec![
                setting("MYBNB_PAYMENT_LATENCY_MS", "400..620"),
                setting(
                    "MYBNB_PAYMENT_TIMEOUT_MS",
                    name.trim_start_matches("original-"),
                ),
            ],
            "breaker-open" => vec![
                setting("MYBNB_PAYMENT_FAILURE_RATE", "1.0"),
                setting("MYBNB_PAYMENT_BREAKER_OPEN_MS", "3600000"),
            ],
            _ => Vec::new(),
        };
        Some(Scenario {
            name,
            description,
            settings,
            clients,
            rooms,
            measure_sqlite_commits: name == "throughput",
            open_breaker_first: name == "breaker-open",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub scenario: String,
    pub description: String,
    pub clients: usize,
    pub seconds: f64,
    pub requests: u64,
    /// 201: booked and paid.
    pub booked: u64,
    /// 503 with Retry-After: turned away fast.
    pub unavailable: u64,
    /// Any other answer, or none within 10 s.
    pub other: u64,
    pub availability_percent: f64,
    pub bookings_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub sqlite_commits_per_second: Option<f64>,
}

/// One client's answers: latencies, and counts of 201, 503 and anything else.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<i64>,
    counts: [u64; 3],
}

/// Starts the server with the scenario's settings, seeds it, loads it for `duration`.
pub async fn run(
    mybnb: &Path,
    scenario: &Scenario,
    duration: Duration,
) -> anyhow::Result<RunResult> {
    let server = Server::start(mybnb, &scenario.settings).await?;
    let mut result = load(&server.api, scenario, duration).await?;
    if scenario.measure_sqlite_commits {
        result.sqlite_commits_per_second = Some(sqlite_commits(Duration::from_secs(5)).await?);
    }
    server.stop().await?;
    Ok(result)
}

async fn load(api: &Client, scenario: &Scenario, duration: Duration) -> anyhow::Result<RunResult> {
    let seeded = Seeded::make(api, scenario.rooms, scenario.clients).await?;
    let rooms = Arc::new(seeded.rooms);
    let next = Arc::new(AtomicU64::new(0));
    if scenario.open_breaker_first {
        open_breaker(api, &seeded.guests[0], &rooms, &next).await?;
    }
    let started = Instant::now();
    let deadline = started + duration;
    let clients: Vec<_> = seeded
        .guests
        .into_iter()
        .map(|token| {
            let (api, rooms, next) = (api.clone(), rooms.clone(), next.clone());
            tokio::spawn(async move {
                let mut own = Tally::default();
                while Instant::now() < deadline {
                    let body = room_night(&rooms, next.fetch_add(1, Ordering::Relaxed));
                    let request = api
                        .request(Method::POST, "/bookings", Some(&token))
                        .json(&body);
                    let sent = Instant::now();
                    let answer = request.send().await;
                    own.latencies_us.push(sent.elapsed().as_micros() as i64);
                    let kind = match answer.map(|response| response.status().as_u16()) {
                        Ok(201) => 0,
                        Ok(503) => 1,
                        _ => 2,
                    };
                    own.counts[kind] += 1;
                }
                own
            })
        })
        .collect();
    let sent = next.clone();
    let mut last = sent.load(Ordering::Relaxed);
    let progress = every_second(started, move || {
        let now = sent.load(Ordering::Relaxed);
        let line = format!("{now:>8} requests  {:>6} /s", now - last);
        last = now;
        line
    });
    let mut tally = Tally::default();
    for client in clients {
        let own = client.await?;
        tally.latencies_us.extend(own.latencies_us);
        for (total, count) in tally.counts.iter_mut().zip(own.counts) {
            *total += count;
        }
    }
    progress.abort();
    let seconds = started.elapsed().as_secs_f64();
    let requests = tally.latencies_us.len() as u64;
    let latency = Spread::of(tally.latencies_us);
    let [booked, unavailable, other] = tally.counts;
    Ok(RunResult {
        scenario: scenario.name.to_owned(),
        description: scenario.description.to_owned(),
        clients: scenario.clients,
        seconds,
        requests,
        booked,
        unavailable,
        other,
        availability_percent: 100.0 * booked as f64 / requests.max(1) as f64,
        bookings_per_second: booked as f64 / seconds,
        p50_ms: latency.p50_ms,
        p99_ms: latency.p99_ms,
        max_ms: latency.max_ms,
        sqlite_commits_per_second: None,
    })
}

/// Books until `/metrics` reports the payment circuit open.
async fn open_breaker(
    api: &Client,
    token: &str,
    rooms: &[uuid::Uuid],
    next: &AtomicU64,
) -> anyhow::Result<()> {
    for _ in 0..1000 {
        // Refused while payment fails: only the breaker's state matters.
        let _ = api
            .book(
                token,
                &room_night(rooms, next.fetch_add(1, Ordering::Relaxed)),
                None,
            )
            .await;
        if mybnb_client::metric(&api.metrics().await?, "mybnb_payment_circuit_state", &[])
            == Some(1.0)
        {
            eprintln!("   breaker open; measuring");
            return Ok(());
        }
    }
    bail!("the payment circuit did not open")
}

/// SQLite's raw durable-commit rate on this machine, one small row per transaction.
async fn sqlite_commits(duration: Duration) -> anyhow::Result<f64> {
    let directory = tempfile::tempdir()?;
    let url = format!("sqlite://{}", directory.path().join("commits.db").display());
    let mut connection = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE commits (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&mut connection)
        .await?;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < duration {
        let mut transaction = connection.begin().await?;
        sqlx::query("INSERT INTO commits (payload) VALUES ('a booking-sized row of text')")
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        commits += 1;
    }
    connection.close().await?;
    Ok(commits as f64 / started.elapsed().as_secs_f64())
}
