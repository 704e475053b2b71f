//! The scenarios and the load they generate: concurrent clients, each booking distinct
//! room-nights (the original's benchmark repeated one body, which here would be a double
//! booking) as fast as answers come, for a fixed time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{Days, Utc};
use serde::Serialize;
use serde_json::json;
use tokio::sync::Mutex;

use crate::server::Server;

pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    pub settings: Vec<(&'static str, String)>,
    pub clients: usize,
    pub rooms: usize,
    pub measure_sqlite_commits: bool,
    /// Trip the breaker before measuring, and keep it open.
    pub open_breaker_first: bool,
}

impl Scenario {
    pub fn named(name: &str) -> anyhow::Result<Scenario> {
        let original = |timeout_ms: u64, name, description| Scenario {
            name,
            description,
            settings: vec![
                ("MYBNB_PAYMENT_LATENCY_MS", "400..620".to_owned()),
                ("MYBNB_PAYMENT_TIMEOUT_MS", timeout_ms.to_string()),
            ],
            clients: 100,
            rooms: 200,
            measure_sqlite_commits: false,
            open_breaker_first: false,
        };
        Ok(match name {
            "original-610" => original(
                610,
                "original-610",
                "payment latency 400–620 ms, 100 clients, payment timeout 610 ms (the original's)",
            ),
            "original-1000" => original(
                1000,
                "original-1000",
                "payment latency 400–620 ms, 100 clients, payment timeout 1,000 ms",
            ),
            "throughput" => Scenario {
                name: "throughput",
                description: "no payment latency, 64 clients, all-in-one on SQLite",
                settings: Vec::new(),
                clients: 64,
                rooms: 1000,
                measure_sqlite_commits: true,
                open_breaker_first: false,
            },
            "breaker-open" => Scenario {
                name: "breaker-open",
                description: "payment failing, circuit breaker open, 64 clients",
                settings: vec![
                    ("MYBNB_PAYMENT_FAILURE_RATE", "1.0".to_owned()),
                    ("MYBNB_PAYMENT_BREAKER_OPEN_MS", "3600000".to_owned()),
                ],
                clients: 64,
                rooms: 200,
                measure_sqlite_commits: false,
                open_breaker_first: true,
            },
            other => bail!("unknown scenario {other}"),
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

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    booked: u64,
    unavailable: u64,
    other: u64,
}

pub async fn run(
    server: &Server,
    scenario: &Scenario,
    duration: Duration,
) -> anyhow::Result<RunResult> {
    let host = server.user("bench.host").await?;
    let rooms = Arc::new(server.rooms(&host, scenario.rooms).await?);
    let mut guests = Vec::with_capacity(scenario.clients);
    for client in 0..scenario.clients {
        guests.push(server.user(&format!("bench.guest.{client}")).await?);
    }
    let next_room_night = Arc::new(AtomicU64::new(0));
    if scenario.open_breaker_first {
        open_breaker(server, &guests[0], &rooms, &next_room_night).await?;
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let deadline = started + duration;
    let mut clients = Vec::new();
    for token in guests {
        let (client, base, rooms, next, tally) = (
            server.client.clone(),
            server.base_url.clone(),
            rooms.clone(),
            next_room_night.clone(),
            tally.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut own = Tally::default();
            while Instant::now() < deadline {
                let body = room_night(&rooms, next.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                let answer = client
                    .post(format!("{base}/bookings"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                own.latencies_us.push(sent.elapsed().as_micros() as u64);
                match answer.map(|response| response.status().as_u16()) {
                    Ok(201) => own.booked += 1,
                    Ok(503) => own.unavailable += 1,
                    _ => own.other += 1,
                }
            }
            let mut shared = tally.lock().await;
            shared.latencies_us.extend(own.latencies_us);
            shared.booked += own.booked;
            shared.unavailable += own.unavailable;
            shared.other += own.other;
        }));
    }
    let progress = tokio::spawn(report_progress(next_room_night.clone(), started, deadline));
    for client in clients {
        client.await?;
    }
    progress.abort();
    let seconds = started.elapsed().as_secs_f64();
    let mut tally = Arc::try_unwrap(tally)
        .map_err(|_| anyhow::anyhow!("a client is still running"))?
        .into_inner();
    tally.latencies_us.sort_unstable();
    let requests = tally.latencies_us.len() as u64;
    let percentile = |p: f64| {
        let index = ((tally.latencies_us.len() as f64 * p).ceil() as usize).saturating_sub(1);
        tally.latencies_us.get(index).copied().unwrap_or_default() as f64 / 1000.0
    };
    Ok(RunResult {
        scenario: scenario.name.to_owned(),
        description: scenario.description.to_owned(),
        clients: scenario.clients,
        seconds,
        requests,
        booked: tally.booked,
        unavailable: tally.unavailable,
        other: tally.other,
        availability_percent: 100.0 * tally.booked as f64 / requests.max(1) as f64,
        bookings_per_second: tally.booked as f64 / seconds,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: percentile(1.0),
        sqlite_commits_per_second: None,
    })
}

/// The `index`-th distinct room-night: rooms in turn, then the next night.
pub fn room_night(rooms: &[String], index: u64) -> serde_json::Value {
    let room = &rooms[(index % rooms.len() as u64) as usize];
    let night = Utc::now().date_naive() + Days::new(1 + index / rooms.len() as u64);
    json!({
        "roomId": room,
        "checkIn": night.to_string(),
        "checkOut": (night + Days::new(1)).to_string(),
    })
}

/// Books until the payment circuit reports open.
async fn open_breaker(
    server: &Server,
    token: &str,
    rooms: &[String],
    next: &AtomicU64,
) -> anyhow::Result<()> {
    for _ in 0..1000 {
        let body = room_night(rooms, next.fetch_add(1, Ordering::Relaxed));
        server
            .client
            .post(server.url("/bookings"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let metrics = server
            .client
            .get(server.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        if metrics
            .lines()
            .any(|line| line == "mybnb_payment_circuit_state 1")
        {
            eprintln!("   breaker open; measuring");
            return Ok(());
        }
    }
    bail!("the payment circuit did not open")
}

async fn report_progress(sent: Arc<AtomicU64>, started: Instant, deadline: Instant) {
    let mut last = sent.load(Ordering::Relaxed);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = sent.load(Ordering::Relaxed);
        eprintln!(
            "   {:>3.0} s  {:>8} requests  {:>6} /s",
            started.elapsed().as_secs_f64(),
            now,
            now - last
        );
        last = now;
    }
}
