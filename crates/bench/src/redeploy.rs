//! `redeploy`: the standard distributed topology under continuous load while every context
//! instance is replaced, one at a time (`Topology::redeploy`: the replacement starts and becomes
//! ready, then the old one gets SIGTERM and drains). [`CLIENTS`] clients go round a guest's
//! visit through the gateway — search, a room's page, a booking with an `Idempotency-Key`, my
//! page, notifications — from before the redeploy begins until after it ends, and every answer
//! that is not 2xx, and every request without an answer, is a failure.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mybnb::services::Service;
use mybnb_client::{Client, metric_sum};
use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;

use crate::seed::{Seeded, room_night};
use crate::stats::{Spread, failure, micros_between};
use crate::system::{Cluster, Target};

pub const CLIENTS: usize = 20;
const ROOMS: usize = 200;
/// Load before the redeploy starts and after it ends.
const BEFORE: Duration = Duration::from_secs(3);
const AFTER: Duration = Duration::from_secs(3);
/// Failures listed in full.
const LISTED: usize = 10;

/// Settings of every process: the original's payment latency, with a timeout it fits in.
pub fn settings() -> Vec<(&'static str, String)> {
    vec![
        ("MYBNB_PAYMENT_LATENCY_MS", "400..620".to_owned()),
        ("MYBNB_PAYMENT_TIMEOUT_MS", "1000".to_owned()),
    ]
}

/// The steps of a visit, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Search,
    Room,
    Book,
    MyPage,
    Notifications,
}

impl Step {
    const VISIT: [Step; 5] = [
        Step::Search,
        Step::Room,
        Step::Book,
        Step::MyPage,
        Step::Notifications,
    ];

    fn name(self) -> &'static str {
        match self {
            Step::Search => "GET /rooms?city=…",
            Step::Room => "GET /rooms/{id}",
            Step::Book => "POST /bookings",
            Step::MyPage => "GET /mypage",
            Step::Notifications => "GET /notifications",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTally {
    pub step: String,
    pub requests: u64,
    pub failures: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedeployResult {
    pub clients: usize,
    pub settings: Vec<(String, String)>,
    /// Context instances replaced, by service.
    pub replaced: BTreeMap<String, usize>,
    pub redeploy_seconds: f64,
    /// How long the load ran: from before the redeploy began to after it ended.
    pub seconds: f64,
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    /// Requests sent while the redeploy ran, and how many of them failed.
    pub during_redeploy: u64,
    pub failures_during_redeploy: u64,
    pub booked: u64,
    pub steps: Vec<StepTally>,
    /// The first failures: when (seconds into the load), which step, what.
    pub first_failures: Vec<String>,
    /// From the gateway's `/metrics`: requests sent once more to another instance, and
    /// instances taken out of a balancer.
    pub gateway_retries: u64,
    pub gateway_ejections: u64,
}

/// One request as its client saw it.
struct Sent {
    step: Step,
    sent: Instant,
    latency_us: i64,
    /// The status, or what went wrong when there was no answer.
    outcome: Result<u16, String>,
}

pub async fn run(target: &Target, duration: Duration) -> anyhow::Result<RedeployResult> {
    let mut cluster = Cluster::start(target, &[], &settings()).await?;
    let measured = measure(&mut cluster, duration).await;
    let stopped = cluster.stop().await;
    let result = measured?;
    stopped?;
    Ok(result)
}

async fn measure(cluster: &mut Cluster, duration: Duration) -> anyhow::Result<RedeployResult> {
    let api = cluster.api.clone();
    let seeded = Seeded::make(&api, ROOMS, CLIENTS).await?;
    let rooms = Arc::new(seeded.rooms);
    let replaced: BTreeMap<String, usize> = Service::ALL_IN_ONE
        .into_iter()
        .map(|service| {
            (
                service.name().to_owned(),
                cluster.topology.ports(service).len(),
            )
        })
        .collect();
    eprintln!(
        "   seeded {ROOMS} rooms, {CLIENTS} guests; replacing {} instances under load",
        replaced.values().sum::<usize>()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: Vec<_> = seeded
        .guests
        .into_iter()
        .map(|token| {
            let (api, rooms, next, stop) = (api.clone(), rooms.clone(), next.clone(), stop.clone());
            tokio::spawn(async move { visit(&api, &token, &rooms, &next, &stop).await })
        })
        .collect();
    tokio::time::sleep(BEFORE).await;
    let redeploy_started = Instant::now();
    eprintln!("   redeploying…");
    let redeployed = cluster.topology.redeploy().await;
    let redeploy_ended = Instant::now();
    let redeploy_seconds = (redeploy_ended - redeploy_started).as_secs_f64();
    eprintln!("   redeployed in {redeploy_seconds:.1} s");
    let end = (redeploy_ended + AFTER).max(started + duration);
    tokio::time::sleep_until(end.into()).await;
    stop.store(true, Ordering::Relaxed);
    let mut sent = Vec::new();
    for client in clients {
        sent.extend(client.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    redeployed?;

    let gateway = api.metrics().await?;
    let failed = |request: &&&Sent| !matches!(request.outcome, Ok(200..=299));
    let during: Vec<&Sent> = sent
        .iter()
        .filter(|request| request.sent >= redeploy_started && request.sent <= redeploy_ended)
        .collect();
    let mut failures: Vec<&Sent> = sent.iter().filter(|request| failed(&request)).collect();
    failures.sort_by_key(|request| request.sent);
    let first_failures = failures
        .iter()
        .take(LISTED)
        .map(|request| {
            let what = match &request.outcome {
                Ok(status) => format!("status {status}"),
                Err(error) => error.clone(),
            };
            let at = micros_between(started, request.sent) as f64 / 1e6;
            format!("{at:.2} s: {}: {what}", request.step.name())
        })
        .collect();
    let steps = Step::VISIT
        .into_iter()
        .map(|step| {
            let of_step: Vec<&Sent> = sent.iter().filter(|request| request.step == step).collect();
            let spread = Spread::of(of_step.iter().map(|request| request.latency_us).collect());
            StepTally {
                step: step.name().to_owned(),
                requests: of_step.len() as u64,
                failures: of_step.iter().filter(failed).count() as u64,
                p50_ms: spread.p50_ms,
                p99_ms: spread.p99_ms,
                max_ms: spread.max_ms,
            }
        })
        .collect();
    Ok(RedeployResult {
        clients: CLIENTS,
        settings: settings()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
        replaced,
        redeploy_seconds,
        seconds,
        requests: sent.len() as u64,
        failures: failures.len() as u64,
        requests_per_second: sent.len() as f64 / seconds,
        during_redeploy: during.len() as u64,
        failures_during_redeploy: during.iter().filter(failed).count() as u64,
        booked: sent
            .iter()
            .filter(|request| request.step == Step::Book && request.outcome == Ok(201))
            .count() as u64,
        steps,
        first_failures,
        gateway_retries: metric_sum(&gateway, "mybnb_gateway_retries_total", &[]),
        gateway_ejections: metric_sum(&gateway, "mybnb_gateway_ejections_total", &[]),
    })
}

/// Goes round a guest's visit until `stop`; every request it sent.
async fn visit(
    api: &Client,
    token: &str,
    rooms: &[Uuid],
    next: &AtomicU64,
    stop: &AtomicBool,
) -> Vec<Sent> {
    let mut sent = Vec::new();
    let pages = rooms.len().div_ceil(20) as u64;
    'visits: loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let body = room_night(rooms, index);
        for step in Step::VISIT {
            if stop.load(Ordering::Relaxed) {
                break 'visits;
            }
            let request = match step {
                Step::Search => api.request(Method::GET, "/rooms", None).query(&[
                    ("city", "Seoul".to_owned()),
                    ("page", (1 + index % pages).to_string()),
                ]),
                Step::Room => api.request(Method::GET, &format!("/rooms/{}", body.room_id), None),
                Step::Book => api
                    .request(Method::POST, "/bookings", Some(token))
                    .header("Idempotency-Key", Uuid::new_v4().to_string())
                    .json(&body),
                Step::MyPage => api.request(Method::GET, "/mypage", Some(token)),
                Step::Notifications => api.request(Method::GET, "/notifications", Some(token)),
            };
            let at = Instant::now();
            // The body is read too: a connection cut mid-answer is a failure.
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    response.bytes().await.map(|_| status)
                }
                Err(error) => Err(error),
            };
            sent.push(Sent {
                step,
                sent: at,
                latency_us: micros_between(at, Instant::now()),
                outcome: outcome.map_err(|error| failure(&error, true)),
            });
        }
    }
    sent
}
