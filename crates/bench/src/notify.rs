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

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use mybnb_bus::{EmbeddedLog, EventBus, JetStreamBus};
use mybnb_client::{Booking, Client, metric_sum};
use reqwest::Method;
use serde::Serialize;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::backlog::{self, Backlog};
use crate::cpu::{CoreUse, Window, process_mentioning};
use crate::follower::{Arrivals, Follower};
use crate::inprocess::{BusScenario, open};
use crate::seed::{Seeded, room_night};
use crate::stages::{self, Releases, Stage};

use crate::stats::{Spread, booked, every_second, micros_between, tally};
use crate::system::{Server, nats};
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
    /// Where the time goes, from the bus's history and the notifications' own stamps.
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
        true => Some(nats().await?),
        false => None,
    };
    let settings: Vec<(&str, String)> = nats
        .iter()
        .map(|nats| ("MYBNB_NATS_URL", nats.url()))
        .collect();
    let server = Server::start(mybnb, &settings).await?;
    let measured = measure(&server, nats.as_ref(), scenario, rate, duration).await;
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
    /// The status, or the failure when there was no answer.
    status: Result<u16, String>,
    booking_id: Option<Uuid>,
}

async fn measure(
    server: &Server,
    nats: Option<&mybnb_testkit::nats::NatsServer>,
    scenario: &BusScenario,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<NotifyResult> {
    let api = &server.api;
    let seeded = Seeded::make(api, ROOMS, GUESTS).await?;
    let (rooms, guests) = (Arc::new(seeded.rooms), Arc::new(seeded.guests));
    let follower = Follower::open(api.base().as_str(), seeded.host.clone()).await?;
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
    let (counted, seen) = (answered.clone(), follower.seen.clone());
    let mut last = 0;
    let progress = every_second(start, move || {
        let scheduled = ((start.elapsed().as_nanos() / period.as_nanos().max(1)) as u64).min(total);
        let now = counted.load(Ordering::Relaxed);
        let line = format!(
            "{scheduled:>7} sent  {now:>7} answered  {:>5} /s  {:>5} in flight  {:>7} notified",
            now - last,
            scheduled.saturating_sub(now),
            seen.arrivals().len()
        );
        last = now;
        line
    });
    let nats_pid = nats.and_then(|nats| process_mentioning(nats.store_dir()));
    let mut bookings: Vec<JoinHandle<Answer>> = Vec::with_capacity(usize::try_from(total)?);
    let (mut window, mut sampler) = (None, None);
    for index in 0..total {
        let scheduled = start + period * u32::try_from(index)?;
        tokio::time::sleep_until(scheduled.into()).await;
        if index == warm_up_bookings {
            let processes = [("mybnb", server.pid()), ("nats-server", nats_pid)]
                .into_iter()
                .filter_map(|(label, pid)| Some((label.to_owned(), pid?)))
                .collect();
            window = Some(Window::start(processes, server.pid()));
            sampler = Some(backlog::Sampler::start(match nats {
                Some(nats) => backlog::Source::JetStream(nats.url()),
                None => backlog::Source::Metrics(api.clone()),
            }));
        }
        let guest = &guests[usize::try_from(index)? % guests.len()];
        let request = api
            .request(Method::POST, "/bookings", Some(guest))
            .json(&room_night(&rooms, index));
        let (api, answered) = (api.clone(), answered.clone());
        let warm_up = index < warm_up_bookings;
        bookings.push(tokio::spawn(async move {
            let answer = book(&api, request, scheduled, warm_up).await;
            answered.fetch_add(1, Ordering::Relaxed);
            answer
        }));
    }
    let cores = window.as_ref().map(CoreUse::of).unwrap_or_default();
    let mut answers = Vec::with_capacity(bookings.len());
    for booking in bookings {
        answers.push(booking.await?);
    }
    progress.abort();

    let booked_ids: Vec<&Uuid> = answers
        .iter()
        .filter_map(|answer| answer.booking_id.as_ref())
        .collect();
    let last_answer = answers
        .iter()
        .map(|answer| answer.answered)
        .max()
        .unwrap_or(start);
    let drain_deadline = Instant::now() + DRAIN;
    let all_arrived = || {
        let arrived = follower.seen.arrivals();
        booked_ids.iter().all(|id| arrived.contains_key(*id))
    };
    while !all_arrived() && Instant::now() < drain_deadline {
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
        .filter(|id| !followed.arrivals.contains_key(**id))
        .count() as u64;
    let history_total = api.notifications(&seeded.host, Some((1, 1))).await?.total;
    let measured: Vec<&Answer> = answers.iter().filter(|answer| !answer.warm_up).collect();
    let with_arrival: Vec<_> = measured
        .iter()
        .filter_map(|answer| {
            let id = answer.booking_id.as_ref()?;
            Some((
                id.to_string(),
                answer.answered_wall,
                *followed.arrivals.get(id)?,
            ))
        })
        .collect();
    let (bus, stored): (Arc<dyn EventBus>, _) = match nats {
        Some(nats) => (
            Arc::new(JetStreamBus::connect(&nats.url()).await?),
            "stored in the stream (NATS)",
        ),
        None => {
            let log = open(
                &server.data_dir().join("events.db"),
                EmbeddedLog::migrations(),
            )
            .await?;
            (
                Arc::new(EmbeddedLog::new(log)),
                "relay appended it to the log",
            )
        }
    };
    let (stages, releases) =
        stages::measure(&with_arrival, &stages::on_bus(bus.as_ref()).await?, stored);
    let (relay_rounds, relayed) = relay_rounds(api).await?;
    let (not_booked, latency, before_answer) = latencies(&measured, &followed.arrivals);
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
    let spread = |of: &dyn Fn(&Answer) -> Option<i64>| {
        Spread::of(measured.iter().filter_map(|answer| of(answer)).collect())
    };
    let bus = if scenario.jetstream {
        "NATS JetStream"
    } else {
        "embedded log"
    };
    Ok(NotifyResult {
        scenario: scenario.name.to_owned(),
        description: scenario.description.to_owned(),
        bus: bus.to_owned(),
        offered_per_second: rate,
        warm_up_seconds: WARM_UP.as_secs_f64(),
        seconds,
        sent: measured.len() as u64,
        booked,
        bookings_per_second: booked as f64 / seconds.max(f64::MIN_POSITIVE),
        not_booked,
        send_lag: spread(&|answer| Some(micros_between(answer.scheduled, answer.sent))),
        answer: spread(&|answer| {
            let answered = micros_between(answer.sent, answer.answered);
            (answer.status == Ok(201)).then_some(answered)
        }),
        latency,
        before_answer,
        missing,
        drained_after_seconds: (last_arrival.saturating_duration_since(last_answer)).as_secs_f64(),
        stream_reconnections: followed.reconnections,
        repeated_notifications: followed.repeats,
        history_total,
        booked_in_all: booked_ids.len() as u64,
        stages,
        releases,
        relay_rounds,
        events_per_relay_round: relayed as f64 / relay_rounds.max(1) as f64,
        cores,
        backlog,
    })
}

/// The booking context's relay batches and the events in them, from `/metrics`.
async fn relay_rounds(api: &Client) -> anyhow::Result<(u64, u64)> {
    let metrics = api.metrics().await?;
    let booking = ["context=\"booking\""];
    Ok((
        metric_sum(&metrics, "mybnb_relay_batches_total", &booking),
        metric_sum(&metrics, "mybnb_relay_events_published_total", &booking),
    ))
}

/// Sends one booking and times its answer.
async fn book(
    api: &Client,
    request: reqwest::RequestBuilder,
    scheduled: Instant,
    warm_up: bool,
) -> Answer {
    let sent = Instant::now();
    let answer = api.json::<Booking>(request).await;
    let (answered, answered_wall) = (Instant::now(), Utc::now());
    let (status, booking) = booked(answer);
    Answer {
        warm_up,
        scheduled,
        sent,
        answered,
        answered_wall,
        status,
        booking_id: booking.map(|booking| booking.id),
    }
}

/// The measured answers that were not 201, by status; 201 → notification; and how many
/// notifications came before their 201 (counted as 0).
fn latencies(measured: &[&Answer], arrivals: &Arrivals) -> (BTreeMap<String, u64>, Spread, u64) {
    let mut not_booked = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut before_answer = 0;
    for answer in measured {
        match (&answer.status, &answer.booking_id) {
            (Ok(201), Some(id)) => {
                if let Some(arrival) = arrivals.get(id) {
                    let latency = micros_between(answer.answered, arrival.at);
                    before_answer += u64::from(latency < 0);
                    latencies.push(latency.max(0));
                }
            }
            (Ok(201), None) => tally(&mut not_booked, "201 without id"),
            (Ok(status), _) => tally(&mut not_booked, status.to_string()),
            (Err(_), _) => tally(&mut not_booked, "no answer"),
        }
    }
    (not_booked, Spread::of(latencies), before_answer)
}
