//! Zero-downtime redeploy: under continuous load from twenty clients, every context instance is
//! replaced, one at a time, as a rolling update does (a new instance starts and becomes ready,
//! then the old one gets SIGTERM and drains). Not one request fails, and every booking made
//! meanwhile reaches its guest's notifications.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mybnb::services::Service;
use serde_json::json;
use tokio::task::JoinSet;

use reqwest::Method;
use uuid::Uuid;

use crate::helpers::{Api, Deployment, User, eventually, stay};

/// Clients sending requests at once, each as soon as its last one is answered.
const CLIENTS: usize = 20;

/// Failures described in the assertion message, at most.
const SHOWN: usize = 20;

#[derive(Default)]
struct Tally {
    succeeded: AtomicUsize,
    failed: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn answered(&self) -> usize {
        self.succeeded.load(Ordering::SeqCst) + self.failed.load(Ordering::SeqCst)
    }

    fn fail(&self, failure: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() < SHOWN {
            failures.push(failure);
        }
    }
}

#[tokio::test]
async fn rolling_redeploy_under_load_loses_no_request() {
    // A charge may wait for the CPU a while when twenty clients drive ten unoptimised
    // processes on a small machine; the test is about redeploys, not about slow payments.
    let settings = [("MYBNB_PAYMENT_TIMEOUT_MS", "5000")];
    let Some(mut deployment) = Deployment::start(&settings).await else {
        return;
    };
    let api = deployment.api();
    let host = api.new_user("host").await;
    let mut clients = Vec::new();
    for index in 0..CLIENTS {
        let room = json!({ "name": format!("Room {index} near the station"),
                           "address": format!("{index} Sejong-daero"), "city": "Seoul",
                           "price": 10_000 + 1_000 * index, "capacity": 2 });
        let room = api.register_room(&host.token, &room).await;
        clients.push((api.new_user("client").await, room));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut load = JoinSet::new();
    for (index, (guest, room)) in clients.iter().enumerate() {
        let client = Client {
            api: api.clone(),
            guest: guest.clone(),
            room: *room,
            index,
        };
        load.spawn(client.run(stop.clone(), tally.clone()));
    }
    eventually("the load is running", async || match tally.answered() {
        answered if answered >= 2 * CLIENTS => Ok(()),
        answered => Err(format!("{answered} answered")),
    })
    .await;

    let before = context_pids(&deployment);
    let started = tally.answered();
    let redeployed = deployment.topology().redeploy().await;
    let during = tally.answered() - started;
    stop.store(true, Ordering::SeqCst);
    // In the clients' order (tasks end in any order).
    let mut booked = load.join_all().await;
    booked.sort();
    let booked: Vec<usize> = booked.into_iter().map(|(_, count)| count).collect();
    if let Err(error) = redeployed {
        panic!("the redeploy fails: {error:#}");
    }

    let (succeeded, failed) = (
        tally.succeeded.load(Ordering::SeqCst),
        tally.failed.load(Ordering::SeqCst),
    );
    let failures = tally
        .failures
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    eprintln!(
        "{succeeded} requests succeeded, {during} of them during the redeploy; {failed} failed"
    );
    assert!(
        failed == 0,
        "{failed} of {} requests failed during the rolling redeploy; the first ones:\n{}",
        succeeded + failed,
        failures.join("\n")
    );
    assert!(
        succeeded > 0 && during > 0,
        "the load ran during the redeploy: {succeeded} in all, {during} during it"
    );
    let after = context_pids(&deployment);
    for (service, pids) in &before {
        let replaced = &after[service];
        assert_eq!(
            pids.len(),
            replaced.len(),
            "{service} runs as many instances as before"
        );
        assert!(
            pids.iter().all(|pid| !replaced.contains(pid)),
            "every {service} instance was replaced: {pids:?} before, {replaced:?} after"
        );
    }

    // Every booking made meanwhile is confirmed, and its guest told, once.
    assert!(
        booked.iter().sum::<usize>() > 0,
        "bookings were made under load"
    );
    for ((guest, _), count) in clients.iter().zip(&booked) {
        let bookings = api.bookings(&guest.token).await;
        assert_eq!(
            bookings.len(),
            *count,
            "{}'s bookings are those answered 2xx: {bookings:#?}",
            guest.username
        );
        let mut expected = BTreeMap::new();
        for booking in &bookings {
            assert_eq!(booking.status, "CONFIRMED", "{booking:?}");
            expected.insert(("PAYMENT_APPROVED".to_owned(), booking.id), 1);
        }
        api.await_notifications(guest, &expected).await;
    }

    deployment.stop().await;
}

/// The process ids of each context's instances.
fn context_pids(deployment: &Deployment) -> BTreeMap<Service, Vec<u32>> {
    let mut pids: BTreeMap<Service, Vec<u32>> = BTreeMap::new();
    for process in deployment.processes() {
        if process.service != Service::Gateway {
            pids.entry(process.service)
                .or_default()
                .push(process.pid().expect("a running process has an id"));
        }
    }
    pids
}

/// One of the clients: a guest with a room of their own, so that its bookings (each night
/// once) never meet another's.
struct Client {
    api: Api,
    guest: User,
    room: Uuid,
    index: usize,
}

impl Client {
    /// Sends a mix of requests until `stop`, each counted in `tally`; its index and how many
    /// bookings it made.
    async fn run(self, stop: Arc<AtomicBool>, tally: Arc<Tally>) -> (usize, usize) {
        let (api, token) = (&self.api, &self.guest.token);
        let mut booked = 0;
        for round in 0.. {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let booking = round % 5 == 2;
            let request = match round % 5 {
                0 => api.request(Method::GET, "/rooms", None).query(&[
                    ("q", "station"),
                    ("city", "seoul"),
                    ("size", "5"),
                ]),
                1 => api.request(Method::GET, &format!("/rooms/{}", self.room), None),
                2 => api
                    .request(Method::POST, "/bookings", Some(token))
                    .header("idempotency-key", format!("load-{}-{booked}", self.index))
                    .json(&stay(self.room, 1 + booked as u64, 1)),
                3 => api.request(Method::GET, "/mypage", Some(token)),
                _ => api.request(Method::GET, "/notifications", Some(token)),
            };
            let described = match request.try_clone().and_then(|request| request.build().ok()) {
                Some(request) => format!("{} {}", request.method(), request.url()),
                None => "a request".to_owned(),
            };
            match Api::try_send(request).await {
                Ok(answer) if answer.status.is_success() => {
                    tally.succeeded.fetch_add(1, Ordering::SeqCst);
                    booked += usize::from(booking);
                }
                Ok(answer) => tally.fail(format!("{described}: {} {}", answer.status, answer.body)),
                Err(error) => tally.fail(format!("{described}: {error}")),
            }
        }
        (self.index, booked)
    }
}
