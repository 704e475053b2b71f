//! Notification latency: how long after a booking is committed its host can read the
//! `BOOKING_CONFIRMED` notification, at a steady open-loop rate, with the events on the
//! embedded log or on NATS JetStream.
//!
//! The host opens their live stream before the load starts. Bookings are sent on a fixed
//! schedule (booking `i` at `start + i / rate`), each from a task of its own, so a slow answer
//! delays nothing after it; every booking takes a room-night of its own. For each booking
//! answered 201, latency = (its notification's arrival on the stream, matched by `bookingId`)
//! − (its 201's arrival). The booking is committed before the answer is sent, so this leaves
//! out the answer's trip back (it slightly underestimates commit → readable); a notification
//! that arrives before the answer is counted as 0.

use crate::buses::BusScenario;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Days, Utc};
use mybnb_testkit::nats::NatsServer;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::backlog::{self, Backlog};
use crate::cpu::{self, CoreUse};
use crate::follower::{Arrivals, Counter, Follower};
use crate::releases::Releases;
use crate::server::Server;
use crate::stages::{self, Stage};
use crate::stats::{Spread, micros_between};

/// Bookings per second offered (whatever the answers) unless `--rate` says otherwise.
pub const RATE: u64 = 500;

/// Sent at the same rate before the measured window, and left out of the figures: the first
/// connections, caches and files warm up.
pub const WARM_UP: Duration = Duration::from_secs(2);

/// The host's rooms; with bookings spread over them in turn, room `r` takes a new night every
/// `ROOMS / rate` seconds, and no two bookings share a room-night.
pub const ROOMS: usize = 500;

/// Guests the bookings are spread over, in turn.
pub const GUESTS: usize = 50;

/// How long to wait after the last answer for the notifications still on their way.
pub const DRAIN: Duration = Duration::from_secs(30);

/// This module's scenarios, one per bus.
pub const SCENARIOS: [BusScenario; 2] = [
    BusScenario {
        name: "notify-embedded",
        description: "booking → host notification, embedded event log (SQLite)",
        jetstream: false,
    },
    BusScenario {
        name: "notify-jetstream",
        description: "booking → host notification, NATS JetStream",
        jetstream: true,
    },
];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyResult {
    pub scenario: String,
    pub description: String,
    pub bus: String,
    pub offered_per_second: u64,
    pub warm_up_seconds: f64,
    /// The measured window: from the first measured booking's schedule to its last answer.
    pub seconds: f64,
    /// Bookings sent in the measured window.
    pub sent: u64,
    /// Of those, answered 201.
    pub booked: u64,
    pub bookings_per_second: f64,
    /// Any answer other than 201, by status, or `no answer` (none within 10 s).
    pub not_booked: BTreeMap<String, u64>,
    /// How late bookings left against their schedule: small means the load was open-loop.
    pub send_lag: Spread,
    /// Booking answer times (send → 201).
    pub answer: Spread,
    /// 201 → notification on the stream, for the measured bookings.
    pub latency: Spread,
    /// Notifications that arrived before their booking's 201 (counted as 0 in `latency`).
    pub before_answer: u64,
    /// Bookings answered 201 (warm-up included) whose notification never arrived.
    pub missing: u64,
    /// How long after the last answer the last notification came (the drain's wait).
    pub drained_after_seconds: f64,
    pub stream_reconnections: u64,
    pub repeated_notifications: u64,
    /// The host's notifications in `GET /notifications` at the end (warm-up included).
    pub history_total: u64,
    /// Bookings answered 201 in all (warm-up included), to compare with `history_total`.
    pub booked_in_all: u64,
    /// Where the time goes, from the timestamps the databases keep.
    pub stages: Vec<Stage>,
    /// How the host's notifications reached the stream: alone or many released at once.
    pub releases: Releases,
    /// Rounds of the booking context's relay, and events per round.
    pub relay_rounds: u64,
    pub events_per_relay_round: f64,
    /// Cores in use while the measured bookings were sent, and by whom.
    pub cores: CoreUse,
    /// How far behind notification's subscriber was, from the measured window to the drain.
    pub backlog: Backlog,
}

/// Starts a nats-server if the scenario needs one, then mybnb, and measures.
pub async fn run(
    mybnb: &Path,
    scenario: &BusScenario,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<NotifyResult> {
    let nats = match scenario.jetstream {
        true => Some(
            NatsServer::start()
                .await
                .context("no nats-server to run against (MYBNB_SKIP_EXTERNAL is set)")?,
        ),
        false => None,
    };
    let settings: Vec<(&str, String)> = nats
        .iter()
        .map(|nats| ("MYBNB_NATS_URL", nats.url()))
        .collect();
    let nats_pid = nats
        .as_ref()
        .and_then(|nats| cpu::process_mentioning(nats.store_dir()));
    let server = Server::start(mybnb, &settings).await?;
    let bus = match &nats {
        Some(nats) => backlog::Bus::JetStream(nats.url()),
        None => backlog::Bus::Embedded(server.data_dir().join("events.db")),
    };
    let measured = measure(&server, nats_pid, bus, scenario, rate, duration).await;
    let stopped = server.stop().await;
    if let Some(mut nats) = nats {
        nats.stop().await;
    }
    let result = measured?;
    stopped?;
    Ok(result)
}

/// One booking as the client saw it.
struct Answer {
    warm_up: bool,
    scheduled: Instant,
    sent: Instant,
    answered: Instant,
    answered_wall: DateTime<Utc>,
    /// The status, or `None` when there was no answer.
    status: Option<u16>,
    booking_id: Option<String>,
}

async fn measure(
    server: &Server,
    nats_pid: Option<u32>,
    bus: backlog::Bus,
    scenario: &BusScenario,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<NotifyResult> {
    let host = server.user("bench.host").await?;
    let rooms = Arc::new(server.rooms(&host, ROOMS).await?);
    let mut guests = Vec::with_capacity(GUESTS);
    for guest in 0..GUESTS {
        guests.push(server.user(&format!("bench.guest.{guest}")).await?);
    }
    let guests = Arc::new(guests);
    let follower = Follower::open(server.url("/notifications/stream"), host.clone()).await?;
    eprintln!(
        "   {ROOMS} rooms, {GUESTS} guests, host following; {rate} bookings/s for {} s + {} s warm-up",
        duration.as_secs(),
        WARM_UP.as_secs()
    );

    let period = Duration::from_secs(1) / u32::try_from(rate.max(1))?;
    let warm_up_bookings = rate * WARM_UP.as_secs();
    let total = warm_up_bookings + rate * duration.as_secs();
    let answered = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(10);
    let progress = tokio::spawn(report_progress(
        answered.clone(),
        follower.counter(),
        start,
        period,
        total,
    ));
    let mut bookings: Vec<JoinHandle<Answer>> = Vec::with_capacity(usize::try_from(total)?);
    let mut window_start = None;
    let mut bus = Some(bus);
    let mut sampler = None;
    for index in 0..total {
        let scheduled = start + period * u32::try_from(index)?;
        tokio::time::sleep_until(scheduled.into()).await;
        if index == warm_up_bookings {
            window_start = Some(cpu::Sample::take(server.pid(), nats_pid));
            sampler = bus.take().map(backlog::Sampler::start);
        }
        let request = server
            .client
            .post(server.url("/bookings"))
            .bearer_auth(&guests[usize::try_from(index)? % guests.len()])
            .json(&room_night(&rooms, index));
        let answered = answered.clone();
        let warm_up = index < warm_up_bookings;
        bookings.push(tokio::spawn(async move {
            let answer = book(request, scheduled, warm_up).await;
            answered.fetch_add(1, Ordering::Relaxed);
            answer
        }));
    }
    let cores = window_start
        .map(|window_start| window_start.until(&cpu::Sample::take(server.pid(), nats_pid)))
        .unwrap_or_default();
    let mut answers = Vec::with_capacity(bookings.len());
    for booking in bookings {
        answers.push(booking.await?);
    }
    progress.abort();

    let booked_ids: Vec<String> = answers
        .iter()
        .filter_map(|answer| answer.booking_id.clone())
        .collect();
    let last_answer = answers
        .iter()
        .map(|answer| answer.answered)
        .max()
        .unwrap_or(start);
    let drain_deadline = Instant::now() + DRAIN;
    while !follower.has_all(booked_ids.iter()) && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let followed = follower.close().await?;
    let backlog = match sampler {
        Some(sampler) => sampler.finish().await?,
        None => Backlog::default(),
    };
    let last_arrival = followed
        .arrivals
        .values()
        .map(|arrival| arrival.at)
        .max()
        .unwrap_or(last_answer);
    let missing = booked_ids
        .iter()
        .filter(|id| !followed.arrivals.contains_key(*id))
        .count() as u64;
    let history_total = history_total(server, &host).await?;
    let measured: Vec<&Answer> = answers.iter().filter(|answer| !answer.warm_up).collect();
    let stages = stages::measure(
        server.data_dir(),
        scenario.jetstream,
        &measured_wall_times(&measured, &followed.arrivals),
    )
    .await?;
    Ok(summarise(
        scenario,
        rate,
        &measured,
        &followed.arrivals,
        Summary {
            missing,
            drained_after: last_arrival.saturating_duration_since(last_answer),
            stream_reconnections: followed.reconnections,
            repeated_notifications: followed.repeats,
            history_total,
            booked_in_all: booked_ids.len() as u64,
            stages,
            cores,
            backlog,
        },
    ))
}

/// Sends one booking and times its answer.
async fn book(request: reqwest::RequestBuilder, scheduled: Instant, warm_up: bool) -> Answer {
    let sent = Instant::now();
    let response = request.send().await;
    let (answered, answered_wall) = (Instant::now(), Utc::now());
    let (status, booking_id) = match response {
        Ok(response) if response.status().as_u16() == 201 => {
            let body: Option<Value> = response.json().await.ok();
            let id = body.and_then(|body| body["id"].as_str().map(str::to_owned));
            (Some(201), id)
        }
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(_) => (None, None),
    };
    Answer {
        warm_up,
        scheduled,
        sent,
        answered,
        answered_wall,
        status,
        booking_id,
    }
}

/// What the end of the run found, beside the answers.
struct Summary {
    missing: u64,
    drained_after: Duration,
    stream_reconnections: u64,
    repeated_notifications: u64,
    history_total: u64,
    booked_in_all: u64,
    stages: stages::Measured,
    cores: CoreUse,
    backlog: Backlog,
}

fn summarise(
    scenario: &BusScenario,
    rate: u64,
    measured: &[&Answer],
    arrivals: &Arrivals,
    summary: Summary,
) -> NotifyResult {
    let mut not_booked = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut before_answer = 0;
    for answer in measured {
        match (answer.status, &answer.booking_id) {
            (Some(201), Some(id)) => {
                if let Some(arrival) = arrivals.get(id) {
                    let latency = micros_between(answer.answered, arrival.at);
                    if latency < 0 {
                        before_answer += 1;
                    }
                    latencies.push(latency.max(0));
                }
            }
            (Some(201), None) => *not_booked.entry("201 without id".to_owned()).or_default() += 1,
            (Some(status), _) => *not_booked.entry(status.to_string()).or_default() += 1,
            (None, _) => *not_booked.entry("no answer".to_owned()).or_default() += 1,
        }
    }
    let booked = measured
        .iter()
        .filter(|answer| answer.booking_id.is_some())
        .count() as u64;
    let first = measured.iter().map(|answer| answer.scheduled).min();
    let last = measured.iter().map(|answer| answer.answered).max();
    let seconds = match (first, last) {
        (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    NotifyResult {
        scenario: scenario.name.to_owned(),
        description: scenario.description.to_owned(),
        bus: if scenario.jetstream {
            "NATS JetStream"
        } else {
            "embedded log"
        }
        .to_owned(),
        offered_per_second: rate,
        warm_up_seconds: WARM_UP.as_secs_f64(),
        seconds,
        sent: measured.len() as u64,
        booked,
        bookings_per_second: booked as f64 / seconds.max(f64::MIN_POSITIVE),
        not_booked,
        send_lag: Spread::of(
            measured
                .iter()
                .map(|answer| micros_between(answer.scheduled, answer.sent))
                .collect(),
        ),
        answer: Spread::of(
            measured
                .iter()
                .filter(|answer| answer.status == Some(201))
                .map(|answer| micros_between(answer.sent, answer.answered))
                .collect(),
        ),
        latency: Spread::of(latencies),
        before_answer,
        missing: summary.missing,
        drained_after_seconds: summary.drained_after.as_secs_f64(),
        stream_reconnections: summary.stream_reconnections,
        repeated_notifications: summary.repeated_notifications,
        history_total: summary.history_total,
        booked_in_all: summary.booked_in_all,
        relay_rounds: summary.stages.relay_rounds,
        events_per_relay_round: summary.stages.events_per_relay_round,
        releases: summary.stages.releases,
        stages: summary.stages.stages,
        cores: summary.cores,
        backlog: summary.backlog,
    }
}

/// For each measured booking with a notification: its id, the 201's and the notification's
/// wall-clock arrival.
fn measured_wall_times(
    measured: &[&Answer],
    arrivals: &Arrivals,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    measured
        .iter()
        .filter_map(|answer| {
            let id = answer.booking_id.as_ref()?;
            let arrival = arrivals.get(id)?;
            Some((id.clone(), answer.answered_wall, arrival.wall))
        })
        .collect()
}

/// The `index`-th room-night: rooms in turn, then the next night.
fn room_night(rooms: &[String], index: u64) -> Value {
    let count = rooms.len() as u64;
    let room = &rooms[(index % count) as usize];
    let night = Utc::now().date_naive() + Days::new(1 + index / count);
    json!({
        "roomId": room,
        "checkIn": night.to_string(),
        "checkOut": (night + Days::new(1)).to_string(),
    })
}

async fn history_total(server: &Server, token: &str) -> anyhow::Result<u64> {
    let response = server
        .client
        .get(server.url("/notifications"))
        .query(&[("size", "1")])
        .bearer_auth(token)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("GET /notifications answered {}", response.status());
    }
    let page: Value = response.json().await?;
    page["total"]
        .as_u64()
        .context("no total in the notification page")
}

async fn report_progress(
    answered: Arc<AtomicU64>,
    notified: Counter,
    start: Instant,
    period: Duration,
    total: u64,
) {
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let elapsed = start.elapsed();
        let scheduled = ((elapsed.as_nanos() / period.as_nanos().max(1)) as u64).min(total);
        let now = answered.load(Ordering::Relaxed);
        eprintln!(
            "   {:>3.0} s  {:>7} sent  {:>7} answered  {:>5} /s  {:>5} in flight  {:>7} notified",
            elapsed.as_secs_f64(),
            scheduled,
            now,
            now - last,
            scheduled.saturating_sub(now),
            notified.count()
        );
        last = now;
    }
}
