//! `scale-out`: bookings/s through the distributed topology with 1, 2 and 4 payment instances,
//! each allowed [`CAP`] card authorizations at once (`MYBNB_PAYMENT_NETWORK_CONCURRENCY`) of
//! 400–620 ms each, so that payment is the bottleneck by construction: the ceiling is
//! instances × [`CAP`] / 0.51 s. The same closed loop of [`CLIENTS`] clients (enough to keep
//! four instances' lanes full, half as many again waiting) books distinct room-nights for the
//! whole run; the timeouts and the breaker are set far above the queueing this causes, so
//! every booking waits its turn instead of being refused.
//!
//! After each run some bookings are cancelled — their `BookingCancelled` events go to the
//! payment instances, which share one durable consumer — and the [`ledger`](crate::ledger)
//! checks that every event was published, handled and acted on once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mybnb::services::Service;
use serde::Serialize;

use crate::api::Api;
use crate::cluster::{Cluster, Target, metric_sum};
use crate::cpu_by_service;
use crate::ledger::{self, Ledger};
use crate::load::room_night;
use crate::stats::Spread;

/// Payment instances of each run, in order; speed-ups are against the first.
pub const PAYMENT_INSTANCES: [usize; 3] = [1, 2, 4];
/// Authorizations one payment instance has in flight at most.
pub const CAP: usize = 16;
/// The mean of the uniform 400–620 ms latency, in seconds.
pub const MEAN_LATENCY_S: f64 = 0.51;
/// Booking instances unless `--booking-instances` says otherwise.
pub const BOOKING_INSTANCES: usize = 2;
/// Notification instances: a second subscriber sharing a durable consumer, for the ledger.
pub const NOTIFICATION_INSTANCES: usize = 2;
/// 4 instances × [`CAP`] × 1.5.
pub const CLIENTS: usize = 96;
/// The clients book as these guests, in turn.
const GUESTS: usize = 24;
const ROOMS: usize = 300;
/// Run before the measured window and left out of it: the loop fills the queues.
const WARM_UP: Duration = Duration::from_secs(3);
/// Bookings cancelled after the run, for the payment instances' shared consumer.
const CANCELLATIONS: usize = 100;
const SETTLE_WITHIN: Duration = Duration::from_secs(60);

/// Settings of every process of the run.
pub fn settings() -> Vec<(&'static str, String)> {
    vec![
        ("MYBNB_PAYMENT_LATENCY_MS", "400..620".to_owned()),
        ("MYBNB_PAYMENT_NETWORK_CONCURRENCY", CAP.to_string()),
        // A booking may queue for its turn at a payment instance for seconds (96 clients on
        // 16 lanes: ~3 s); none of that may count as slow or timed out.
        ("MYBNB_PAYMENT_TIMEOUT_MS", "30000".to_owned()),
        ("MYBNB_PAYMENT_BREAKER_SLOW_CALL_MS", "30000".to_owned()),
        ("MYBNB_PAYMENT_MAX_CONCURRENT", "1024".to_owned()),
        ("MYBNB_REQUEST_TIMEOUT_MS", "60000".to_owned()),
    ]
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleOutRun {
    pub payment_instances: usize,
    pub booking_instances: usize,
    pub notification_instances: usize,
    pub clients: usize,
    /// The measured window (after the warm-up).
    pub seconds: f64,
    /// Answers that arrived in the window.
    pub requests: u64,
    pub booked: u64,
    /// Any answer but 201, or none: by status or error.
    pub failures: u64,
    pub failures_by_kind: BTreeMap<String, u64>,
    pub bookings_per_second: f64,
    /// instances × cap / mean latency.
    pub ceiling_per_second: f64,
    pub of_ceiling_percent: f64,
    /// Against the first run's bookings/s.
    pub speed_up: f64,
    pub latency: Spread,
    /// Charges (`POST /internal/payments`) each payment instance answered, whole run.
    pub charges_by_instance: Vec<u64>,
    /// Cores each kind of process used in the window.
    pub cores: BTreeMap<String, f64>,
    pub cancelled: u64,
    pub ledger: Ledger,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleOutResult {
    pub settings: Vec<(String, String)>,
    pub runs: Vec<ScaleOutRun>,
}

pub async fn run(
    target: &Target,
    duration: Duration,
    booking_instances: usize,
) -> anyhow::Result<ScaleOutResult> {
    let mut runs: Vec<ScaleOutRun> = Vec::new();
    for payment_instances in PAYMENT_INSTANCES {
        eprintln!(
            "\n-- {payment_instances} payment instance(s), {booking_instances} booking, \
             {CLIENTS} clients"
        );
        let instances = [
            (Service::Payment, payment_instances),
            (Service::Booking, booking_instances),
            (Service::Notification, NOTIFICATION_INSTANCES),
        ];
        let cluster = Cluster::start(target, &instances, &settings()).await?;
        let measured = measure(&cluster, payment_instances, booking_instances, duration).await;
        let stopped = cluster.stop().await;
        let mut result = measured?;
        stopped?;
        result.speed_up = match runs.first() {
            Some(first) => result.bookings_per_second / first.bookings_per_second.max(f64::EPSILON),
            None => 1.0,
        };
        eprintln!("{}", one_line(&result));
        runs.push(result);
    }
    Ok(ScaleOutResult {
        settings: settings()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        runs,
    })
}

pub fn one_line(run: &ScaleOutRun) -> String {
    format!(
        "   {} payment: {:.1} bookings/s ({:.0} % of {:.1}), ×{:.2}, p50 {:.0} ms, p99 {:.0} ms, \
         {} failures; each event once in effect: {}",
        run.payment_instances,
        run.bookings_per_second,
        run.of_ceiling_percent,
        run.ceiling_per_second,
        run.speed_up,
        run.latency.p50_ms,
        run.latency.p99_ms,
        run.failures,
        run.ledger.once_in_effect
    )
}

/// One booking as its client saw it.
struct Answer {
    answered: Instant,
    latency_us: i64,
    /// The status, or the error when there was no answer.
    outcome: Result<u16, String>,
    /// The booking and the guest who made it, when booked.
    booking: Option<(String, usize)>,
}

async fn measure(
    cluster: &Cluster,
    payment_instances: usize,
    booking_instances: usize,
    duration: Duration,
) -> anyhow::Result<ScaleOutRun> {
    let api = cluster.api.clone();
    let host = api.user("bench.host").await?;
    let rooms = Arc::new(api.rooms(&host, ROOMS).await?);
    let mut guests = Vec::with_capacity(GUESTS);
    for guest in 0..GUESTS {
        guests.push(api.user(&format!("bench.guest.{guest}")).await?);
    }
    let guests = Arc::new(guests);
    eprintln!(
        "   seeded {ROOMS} rooms, {GUESTS} guests; {} s warm-up, {} s measured",
        WARM_UP.as_secs(),
        duration.as_secs()
    );
    let next = Arc::new(AtomicU64::new(0));
    let booked_so_far = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let window_start = started + WARM_UP;
    let deadline = window_start + duration;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (api, rooms, guests, next, booked) = (
                api.clone(),
                rooms.clone(),
                guests.clone(),
                next.clone(),
                booked_so_far.clone(),
            );
            tokio::spawn(async move {
                let guest = client % guests.len();
                let mut answers = Vec::new();
                while Instant::now() < deadline {
                    let body = room_night(&rooms, next.fetch_add(1, Ordering::Relaxed));
                    let answer = book(&api, &guests[guest], guest, &body).await;
                    if answer.booking.is_some() {
                        booked.fetch_add(1, Ordering::Relaxed);
                    }
                    answers.push(answer);
                }
                answers
            })
        })
        .collect();
    let progress = tokio::spawn(report_progress(booked_so_far, started));
    let pids: Vec<(String, u32)> = cluster
        .pids()
        .into_iter()
        .map(|(service, pid)| (service.name().to_owned(), pid))
        .collect();
    let nats_pid = crate::cpu::process_mentioning(cluster.nats.store_dir());
    tokio::time::sleep_until(window_start.into()).await;
    let window = cpu_by_service::Window::start(pids, nats_pid);
    tokio::time::sleep_until(deadline.into()).await;
    let cores = window.end();
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await?);
    }
    progress.abort();

    let in_window: Vec<&Answer> = answers
        .iter()
        .filter(|answer| answer.answered >= window_start && answer.answered <= deadline)
        .collect();
    let booked = in_window
        .iter()
        .filter(|answer| answer.outcome == Ok(201))
        .count() as u64;
    let mut failures_by_kind = BTreeMap::new();
    for answer in &in_window {
        match &answer.outcome {
            Ok(201) => {}
            Ok(status) => {
                *failures_by_kind
                    .entry(format!("status {status}"))
                    .or_insert(0) += 1
            }
            Err(error) => *failures_by_kind.entry(error.clone()).or_insert(0) += 1,
        }
    }
    let seconds = duration.as_secs_f64();
    let bookings_per_second = booked as f64 / seconds;
    let ceiling_per_second = payment_instances as f64 * CAP as f64 / MEAN_LATENCY_S;
    let mut charges_by_instance = Vec::new();
    for port in cluster.topology.ports(Service::Payment) {
        charges_by_instance.push(metric_sum(
            &cluster.metrics(port).await?,
            "mybnb_http_requests_total",
            &["method=\"POST\"", "route=\"/internal/payments\""],
        ));
    }
    let bookings: Vec<(String, usize)> = answers
        .iter()
        .filter_map(|answer| answer.booking.clone())
        .take(CANCELLATIONS)
        .collect();
    let cancelled = cancel(&api, &guests, bookings).await;
    let ledger = ledger::settle(cluster, SETTLE_WITHIN).await?;
    Ok(ScaleOutRun {
        payment_instances,
        booking_instances,
        notification_instances: NOTIFICATION_INSTANCES,
        clients: CLIENTS,
        seconds,
        requests: in_window.len() as u64,
        booked,
        failures: failures_by_kind.values().sum(),
        failures_by_kind,
        bookings_per_second,
        ceiling_per_second,
        of_ceiling_percent: 100.0 * bookings_per_second / ceiling_per_second,
        speed_up: 1.0,
        latency: Spread::of(
            in_window
                .iter()
                .filter(|answer| answer.outcome == Ok(201))
                .map(|answer| answer.latency_us)
                .collect(),
        ),
        charges_by_instance,
        cores,
        cancelled,
        ledger,
    })
}

async fn book(api: &Api, token: &str, guest: usize, body: &serde_json::Value) -> Answer {
    let sent = Instant::now();
    let response = api
        .client
        .post(api.url("/bookings"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await;
    let (outcome, booking) = match response {
        Ok(response) if response.status().as_u16() == 201 => {
            let id = response
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|body| body["id"].as_str().map(str::to_owned));
            (Ok(201), id.map(|id| (id, guest)))
        }
        Ok(response) => (Ok(response.status().as_u16()), None),
        Err(error) => (Err(transport_kind(&error).to_owned()), None),
    };
    let answered = Instant::now();
    Answer {
        answered,
        latency_us: i64::try_from((answered - sent).as_micros()).unwrap_or(i64::MAX),
        outcome,
        booking,
    }
}

/// A transport error's kind, short enough to count by.
pub fn transport_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "broken body"
    } else {
        "transport error"
    }
}

/// A transport error with its causes.
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Cancels the bookings as their guests, a few at a time; how many were cancelled.
async fn cancel(api: &Api, guests: &[String], bookings: Vec<(String, usize)>) -> u64 {
    let cancelled = futures_util::stream::iter(bookings)
        .map(|(booking, guest)| {
            let request = api
                .client
                .post(api.url(&format!("/bookings/{booking}/cancel")))
                .bearer_auth(&guests[guest]);
            async move {
                request
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success())
            }
        })
        .buffer_unordered(8)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    cancelled as u64
}

async fn report_progress(booked: Arc<AtomicU64>, started: Instant) {
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = booked.load(Ordering::Relaxed);
        eprintln!(
            "   {:>3.0} s  {:>7} booked  {:>5} /s",
            started.elapsed().as_secs_f64(),
            now,
            now - last
        );
        last = now;
    }
}
