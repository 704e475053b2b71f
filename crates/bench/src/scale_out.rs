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
use mybnb_client::{Client, metric_sum};
use serde::Serialize;
use uuid::Uuid;

use crate::cpu::{Window, postgres_pids, process_mentioning};
use crate::ledger::{self, Ledger};
use crate::seed::{Seeded, room_night};
use crate::stats::{Spread, booked, every_second, tally};
use crate::system::{Cluster, Target};

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
        eprintln!("{}", crate::report::line(&result));
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

/// One booking as its client saw it.
struct Answer {
    answered: Instant,
    latency_us: i64,
    /// The status, or the error when there was no answer.
    outcome: Result<u16, String>,
    /// The booking and the guest who made it, when booked.
    booking: Option<(Uuid, usize)>,
}

async fn measure(
    cluster: &Cluster,
    payment_instances: usize,
    booking_instances: usize,
    duration: Duration,
) -> anyhow::Result<ScaleOutRun> {
    let api = &cluster.api;
    let seeded = Seeded::make(api, ROOMS, GUESTS).await?;
    let (rooms, guests) = (
        Arc::new(seeded.rooms.clone()),
        Arc::new(seeded.guests.clone()),
    );
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
            let (api, rooms, guests, next, booked_so_far) = (
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
                    let sent = Instant::now();
                    let (outcome, booking) = booked(api.book(&guests[guest], &body, None).await);
                    let answered = Instant::now();
                    if booking.is_some() {
                        booked_so_far.fetch_add(1, Ordering::Relaxed);
                    }
                    answers.push(Answer {
                        answered,
                        latency_us: i64::try_from((answered - sent).as_micros())
                            .unwrap_or(i64::MAX),
                        outcome,
                        booking: booking.map(|booking| (booking.id, guest)),
                    });
                }
                answers
            })
        })
        .collect();
    let mut last = 0;
    let progress = every_second(started, move || {
        let now = booked_so_far.load(Ordering::Relaxed);
        let line = format!("{now:>7} booked  {:>5} /s", now - last);
        last = now;
        line
    });
    let mut processes = cluster.pids();
    processes.extend(
        process_mentioning(cluster.nats.store_dir()).map(|pid| ("nats-server".to_owned(), pid)),
    );
    tokio::time::sleep_until(window_start.into()).await;
    processes.extend(
        postgres_pids()
            .into_iter()
            .map(|pid| ("postgres".to_owned(), pid)),
    );
    let window = Window::start(processes, None);
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
    let mut failures_by_kind = BTreeMap::new();
    for answer in &in_window {
        match &answer.outcome {
            Ok(201) => {}
            Ok(status) => tally(&mut failures_by_kind, format!("status {status}")),
            Err(error) => tally(&mut failures_by_kind, error.clone()),
        }
    }
    let latencies: Vec<i64> = in_window
        .iter()
        .filter(|answer| answer.outcome == Ok(201))
        .map(|answer| answer.latency_us)
        .collect();
    let booked = latencies.len() as u64;
    let seconds = duration.as_secs_f64();
    let bookings_per_second = booked as f64 / seconds;
    let ceiling_per_second = payment_instances as f64 * CAP as f64 / MEAN_LATENCY_S;
    let charges_by_instance = cluster
        .metrics(Service::Payment)
        .await?
        .iter()
        .map(|text| {
            let labels = ["method=\"POST\"", "route=\"/internal/payments\""];
            metric_sum(text, "mybnb_http_requests_total", &labels)
        })
        .collect();
    let bookings: Vec<(Uuid, usize)> = answers
        .iter()
        .filter_map(|answer| answer.booking)
        .take(CANCELLATIONS)
        .collect();
    let cancelled = cancel(api, &guests, bookings).await;
    let ledger = ledger::settle(cluster, &seeded, mybnb_client::SETTLED_WITHIN).await?;
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
        latency: Spread::of(latencies),
        charges_by_instance,
        cores,
        cancelled,
        ledger,
    })
}

/// Cancels the bookings as their guests, a few at a time; how many were cancelled.
async fn cancel(api: &Client, guests: &[String], bookings: Vec<(Uuid, usize)>) -> u64 {
    futures_util::stream::iter(bookings)
        .map(|(booking, guest)| async move { api.cancel(&guests[guest], booking).await.is_ok() })
        .buffer_unordered(8)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await as u64
}
