//! Fault isolation of the event-driven core, seen through the public API: a consumer that is
//! away, the bus that is away, and a process killed between committing its events and
//! publishing them. Bookings go on regardless; what was missed is delivered afterwards, every
//! notification exactly once (counted by type and booking).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use mybnb_testkit::eventually::{eventually, eventually_within};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;
use tokio::task::JoinSet;

use mybnb_client::{Booking, MyPage, Notification, Stay};
use uuid::Uuid;

use crate::booking_client::stay;
use crate::helpers::{ApiClient, Backend, Storage, TestUser, assert_problem, spawn_app_on};
use crate::ledger::await_settled;
use crate::notification_client::{
    AFTER_A_CRASH, await_outboxes_drained, once_each, tally, unpublished,
};
use crate::process::MybnbProcess;

/// Every context but notification.
fn without_notification(settings: &mut mybnb::Settings) {
    settings.services = "identity,room,payment,booking,mypage"
        .parse()
        .expect("a service list");
}

/// What each user is expected to be told: `(type, bookingId)` pairs, each once.
#[derive(Default)]
struct Expected {
    users: Vec<(TestUser, Vec<(&'static str, Uuid)>)>,
}

impl Expected {
    /// `user` is to be told `kind` about `booking_id`.
    fn add(&mut self, user: &TestUser, kind: &'static str, booking_id: Uuid) {
        let entry = match self.users.iter().position(|(known, _)| known.id == user.id) {
            Some(index) => &mut self.users[index].1,
            None => {
                self.users.push((user.clone(), Vec::new()));
                &mut self.users.last_mut().expect("just pushed").1
            }
        };
        entry.push((kind, booking_id));
    }

    /// A booking that went through: its guest is told the payment, its host the booking.
    fn booked(&mut self, guest: &TestUser, host: &TestUser, booking_id: Uuid) {
        self.add(guest, "PAYMENT_APPROVED", booking_id);
        self.add(host, "BOOKING_CONFIRMED", booking_id);
    }

    /// A booking cancelled by its guest: its host is told, and its guest told of the refund.
    fn cancelled(&mut self, guest: &TestUser, host: &TestUser, booking_id: Uuid) {
        self.add(guest, "PAYMENT_CANCELLED", booking_id);
        self.add(host, "BOOKING_CANCELLED", booking_id);
    }

    /// Waits until every user's history holds exactly what they are to be told.
    async fn arrive_at(&self, api: &ApiClient) {
        for (user, pairs) in &self.users {
            let expected = once_each(pairs.iter().copied());
            api.await_notifications(user, &expected).await;
        }
    }

    /// Books once more and waits for that booking's notifications, then checks again that
    /// every history is exact: whatever was delivered late came before this booking, so a
    /// duplicate of it would be there by now.
    async fn confirm_with_one_more_booking(
        &mut self,
        api: &ApiClient,
        guest: &TestUser,
        host: &TestUser,
        room_id: Uuid,
        from: u64,
    ) {
        let id = api.book(&guest.token, &stay(room_id, from, 1)).await.id;
        self.booked(guest, host, id);
        self.arrive_at(api).await;
    }
}

/// Waits until `user`'s page lists on `side` exactly the bookings of `expected`, each with its
/// `(bookingStatus, paymentStatus)`.
async fn await_my_page(
    api: &ApiClient,
    user: &TestUser,
    side: fn(&MyPage) -> &[Stay],
    expected: &BTreeMap<Uuid, (&str, &str)>,
) {
    eventually("my page follows the delivered events", async || {
        let page = api.my_page(&user.token).await;
        let rows: BTreeMap<Uuid, (&str, &str)> = side(&page)
            .iter()
            .map(|row| (row.booking_id, (&*row.booking_status, &*row.payment_status)))
            .collect();
        if &rows == expected {
            Ok(())
        } else {
            Err(format!("{page:?}"))
        }
    })
    .await;
}

/// The number of bookings with `status` in the booking table.
async fn bookings_with(storage: &Storage, status: &str) -> i64 {
    let mut connection = storage.connect("booking").await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE status = $1")
        .bind(status)
        .fetch_one(&mut connection)
        .await
        .expect("counting bookings");
    connection.close().await.expect("closed");
    count
}

/// A room of `host`'s, named `name`; returns its id.
async fn room_of(api: &ApiClient, host: &TestUser, name: &str) -> Uuid {
    let body = json!({ "name": name, "address": "3 Insadong-gil, Jongno-gu", "city": "Seoul",
                       "price": 20_000, "capacity": 2 });
    api.register_room(&host.token, &body).await.id
}

/// The outboxes of the contexts that publish.
const OUTBOXES: [&str; 4] = ["identity", "room", "payment", "booking"];

api_tests! {
    /// With the notification context away, bookings and a cancellation go through; once it is
    /// back, it tells everyone everything it missed, each exactly once.
    async fn notifications_missed_while_notification_is_away_arrive_once_it_is_back(backend: Backend) {
        let Some(storage) = Storage::create(backend).await else { return };
        let app = spawn_app_on(&storage, |_| {}).await;
        let first_host = app.new_user("host").await;
        let (first, second) = (app.new_user("first").await, app.new_user("second").await);
        let first_room = room_of(&app, &first_host, "Hanok by the wall").await;
        app.stop().await.expect("a clean stop");

        let away = spawn_app_on(&storage, without_notification).await;
        let not_here = away.notifications_raw(Some(&first.token), &[]).await;
        assert_problem(not_here, StatusCode::NOT_FOUND).await;
        let second_host = away.new_user("host").await;
        let second_room = room_of(&away, &second_host, "Loft by the river").await;
        let mut expected = Expected::default();
        let kept = away.book(&first.token, &stay(first_room, 3, 2)).await.id;
        expected.booked(&first, &first_host, kept);
        let dropped = away.book(&second.token, &stay(first_room, 6, 1)).await.id;
        expected.booked(&second, &first_host, dropped);
        let elsewhere = away.book(&first.token, &stay(second_room, 3, 1)).await.id;
        expected.booked(&first, &second_host, elsewhere);
        assert_eq!(away.cancel_raw(&second.token, dropped).await.status(), StatusCode::OK);
        expected.cancelled(&second, &first_host, dropped);
        eventually("the cancelled booking is refunded", async || {
            let payments = away.payments(&second.token, dropped).await;
            if payments[0].status == "CANCELLED" { Ok(()) } else { Err(format!("{payments:?}")) }
        })
        .await;
        away.stop().await.expect("a clean stop");

        let app = spawn_app_on(&storage, |_| {}).await;
        expected.arrive_at(&app).await;
        expected
            .confirm_with_one_more_booking(&app, &second, &second_host, second_room, 9)
            .await;
    }

    /// `mybnb` killed mid-burst — between a commit and the publication of its events, or
    /// anywhere else — and started again: every booking answered 201 is CONFIRMED,
    /// and every CONFIRMED booking is told exactly once to its guest (PAYMENT_APPROVED) and its
    /// host (BOOKING_CONFIRMED); a booking that did not go through is never told confirmed,
    /// and its guest is told a charge only together with its void.
    async fn a_process_killed_mid_burst_tells_every_confirmed_booking_once(backend: Backend) {
        let Some(storage) = Storage::create(backend).await else { return };
        let patient = [("MYBNB_PAYMENT_TIMEOUT_MS", "5000")];
        let process = MybnbProcess::start(&storage, &patient).await;
        let host = process.new_user("host").await;
        let guest = process.new_user("guest").await;
        let mut rooms = Vec::new();
        for index in 0..4 {
            rooms.push(room_of(&process, &host, &format!("Burst room {index}")).await);
        }

        // Four clients book on, night after night, until the process is gone.
        let answered = Arc::new(Mutex::new(Vec::new()));
        let mut clients = JoinSet::new();
        for room in rooms.clone() {
            let client = process.api.clone();
            let (token, answered) = (guest.token.clone(), answered.clone());
            clients.spawn(async move {
                for from in 1..=300 {
                    let request = client.request(Method::POST, "/bookings", Some(&token));
                    let Ok(response) = request.json(&stay(room, from, 1)).send().await else { return };
                    let status = response.status();
                    let Ok(body) = response.text().await else { return };
                    let mut answered = answered.lock().expect("not poisoned");
                    answered.push((status, body));
                }
            });
        }
        eventually("bookings are being confirmed", async || {
            match bookings_with(&storage, "CONFIRMED").await {
                count if count >= 8 => Ok(()),
                count => Err(format!("{count} confirmed")),
            }
        })
        .await;
        let log = process.kill();
        clients.join_all().await;
        let answered = answered.lock().expect("not poisoned").clone();
        let made: Vec<Uuid> = answered
            .iter()
            .filter(|(status, _)| *status == StatusCode::CREATED)
            .map(|(_, body)| {
                let booking: Booking = serde_json::from_str(body).expect("a booking");
                booking.id
            })
            .collect();
        assert!(made.len() >= 4, "bookings were answered before the kill: {answered:?}\n{log}");

        // Started again, it decides what the kill left PENDING within seconds.
        let quick = [
            ("MYBNB_PAYMENT_TIMEOUT_MS", "2000"),
            ("MYBNB_RECONCILE_STALE_AFTER_MS", "2500"),
            ("MYBNB_RECONCILE_INTERVAL_MS", "100"),
        ];
        let restarted = MybnbProcess::start(&storage, &quick).await;
        let ledger = await_settled(&storage, &storage).await;
        for id in &made {
            assert_eq!(ledger.booking(id).status, "CONFIRMED", "a booking answered 201 is kept");
        }
        let (confirmed, others): (BTreeSet<Uuid>, BTreeSet<Uuid>) = ledger
            .bookings
            .iter()
            .map(|booking| Uuid::parse_str(&booking.id).expect("a booking id is a UUID"))
            .partition(|id| ledger.booking(id).status == "CONFIRMED");

        // On JetStream, what the killed process had pulled comes again after its ack wait.
        let mut host_expected = once_each(confirmed.iter().map(|id| ("BOOKING_CONFIRMED", *id)));
        restarted.await_notifications_within(AFTER_A_CRASH, &host, &host_expected).await;
        let what = "the guest is told of every confirmed booking, once";
        eventually_within(AFTER_A_CRASH, what, async || {
            let told = restarted.all_notifications(&guest.token).await;
            guest_told_consistently(&told, &confirmed, &others)
        })
        .await;

        let last = restarted.book(&guest.token, &stay(rooms[0], 301, 1)).await.id;
        host_expected.insert(("BOOKING_CONFIRMED".to_owned(), last), 1);
        restarted.await_notifications(&host, &host_expected).await;
        let confirmed: BTreeSet<Uuid> = confirmed.into_iter().chain([last]).collect();
        eventually("the guest is told of a later booking, and still once each", async || {
            let told = restarted.all_notifications(&guest.token).await;
            guest_told_consistently(&told, &confirmed, &others)
        })
        .await;
    }
}

/// Whether the guest's history is settled and right: one PAYMENT_APPROVED for each of the
/// `confirmed` bookings and nothing else about them; for the `others`, nothing or a charge and
/// its void. Fails at once on a duplicate or a notification about no booking of these.
fn guest_told_consistently(
    told: &[Notification],
    confirmed: &BTreeSet<Uuid>,
    others: &BTreeSet<Uuid>,
) -> Result<(), String> {
    let counts = tally(told);
    let twice: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "notifications told twice: {twice:?}");
    let mut unsettled = Vec::new();
    let kinds_of = |id: &Uuid| -> BTreeSet<&str> {
        counts
            .keys()
            .filter(|(_, booking)| booking == id)
            .map(|(kind, _)| kind.as_str())
            .collect()
    };
    for id in confirmed {
        let kinds = kinds_of(id);
        assert!(
            kinds.is_subset(&BTreeSet::from(["PAYMENT_APPROVED"])),
            "confirmed {id}: {kinds:?}"
        );
        if kinds.is_empty() {
            unsettled.push(format!("{id}: not told yet"));
        }
    }
    for id in others {
        let kinds = kinds_of(id);
        if kinds == BTreeSet::from(["PAYMENT_APPROVED"]) {
            unsettled.push(format!("{id}: its void not told yet"));
        } else {
            let void = BTreeSet::from(["PAYMENT_APPROVED", "PAYMENT_CANCELLED"]);
            assert!(
                kinds.is_empty() || kinds == void,
                "{id}, not confirmed, is told {kinds:?}"
            );
        }
    }
    for (_, booking) in counts.keys() {
        assert!(
            confirmed.contains(booking) || others.contains(booking),
            "told of a booking not in the booking table: {booking}"
        );
    }
    if unsettled.is_empty() {
        Ok(())
    } else {
        Err(unsettled.join("; "))
    }
}

/// The deployment's nats-server; PostgreSQL storage always has one.
fn nats_of(storage: &Storage) -> Arc<tokio::sync::Mutex<mybnb_testkit::nats::NatsServer>> {
    storage
        .nats
        .clone()
        .expect("PostgreSQL storage comes with a nats-server")
}

// The next two need a bus that can go away on its own: NATS JetStream, which the deployments
// on PostgreSQL use. On SQLite the bus is the embedded log, a table in the process's own data
// directory, there and gone with the process; what they prove has no counterpart there.

/// With nats-server stopped, bookings and a cancellation go through and their events wait in
/// the outboxes; once it is back, every one is delivered — notifications exactly once, my page
/// complete — and the outboxes are drained.
#[tokio::test]
async fn bookings_made_while_nats_is_down_are_delivered_once_it_is_back() {
    let Some(storage) = Storage::create(Backend::Postgres).await else {
        return;
    };
    let nats = nats_of(&storage);
    let app = spawn_app_on(&storage, |_| {}).await;
    let (host, first, second) = (
        app.new_user("host").await,
        app.new_user("first").await,
        app.new_user("second").await,
    );
    let room = room_of(&app, &host, "Hanok with a garden").await;
    // The bus works: a booking before the outage is told.
    let mut expected = Expected::default();
    let before = app.book(&first.token, &stay(room, 2, 1)).await.id;
    expected.booked(&first, &host, before);
    expected.arrive_at(&app).await;

    nats.lock().await.stop().await;
    // The process says why, and stays ready: bookings do not need the bus to be taken.
    eventually("readiness to report NATS away", async || {
        let report = app
            .api
            .readiness()
            .await
            .map_err(|error| error.to_string())?;
        let bus = report
            .checks
            .get("events.bus")
            .map(String::as_str)
            .unwrap_or_default();
        if bus.starts_with("degraded: NATS is unreachable") {
            Ok(())
        } else {
            Err(format!("{report:?}"))
        }
    })
    .await;
    let book = async |guest: &TestUser, from: u64, nights: u64| {
        app.book(&guest.token, &stay(room, from, nights)).await.id
    };
    let during = [
        (&first, book(&first, 4, 1).await),
        (&second, book(&second, 6, 2).await),
        (&second, book(&second, 9, 1).await),
    ];
    for (guest, id) in &during {
        expected.booked(guest, &host, *id);
    }
    let cancelled = during[2].1;
    let answer = app.cancel_raw(&second.token, cancelled).await;
    assert_eq!(answer.status(), StatusCode::OK);
    expected.cancelled(&second, &host, cancelled);
    // Three confirmations and a cancellation, none published.
    let waiting = unpublished(&storage, "booking").await;
    assert!(
        waiting >= 4,
        "the booking outbox holds the events: {waiting}"
    );
    let told = app.all_notifications(&first.token).await;
    assert_eq!(
        tally(&told),
        once_each([("PAYMENT_APPROVED", before)]),
        "nothing reaches notification without the bus"
    );

    nats.lock().await.restart().await;
    expected.arrive_at(&app).await;
    let rows = |statuses: &[(Uuid, (&'static str, &'static str))]| {
        let rows: BTreeMap<Uuid, (&str, &str)> = statuses.iter().copied().collect();
        rows
    };
    let paid = ("CONFIRMED", "APPROVED");
    let refunded = ("CANCELLED", "CANCELLED");
    let hosted = rows(&[
        (before, paid),
        (during[0].1, paid),
        (during[1].1, paid),
        (cancelled, refunded),
    ]);
    await_my_page(&app, &host, |page| &page.as_host, &hosted).await;
    await_my_page(
        &app,
        &second,
        |page| &page.as_guest,
        &rows(&[(during[1].1, paid), (cancelled, refunded)]),
    )
    .await;
    await_outboxes_drained(&storage, &OUTBOXES).await;
    expected
        .confirm_with_one_more_booking(&app, &second, &host, room, 12)
        .await;
}

/// A process that committed events it could not publish (nats-server is down) is killed; its
/// successor, started once nats-server is back, publishes them: every notification arrives,
/// exactly once.
#[tokio::test]
async fn events_a_killed_process_left_unpublished_are_published_on_restart() {
    let Some(storage) = Storage::create(Backend::Postgres).await else {
        return;
    };
    let nats = nats_of(&storage);
    nats.lock().await.stop().await;
    let process = MybnbProcess::start(&storage, &[]).await;
    let (host, guest) = (
        process.new_user("host").await,
        process.new_user("guest").await,
    );
    let room = room_of(&process, &host, "Hanok with a garden").await;
    let mut expected = Expected::default();
    for from in [3, 5] {
        let id = process.book(&guest.token, &stay(room, from, 2)).await.id;
        expected.booked(&guest, &host, id);
    }
    let log = process.kill();
    let left = (
        unpublished(&storage, "booking").await,
        unpublished(&storage, "payment").await,
    );
    assert_eq!(
        left,
        (2, 2),
        "the killed process left its events committed and unpublished\n{log}"
    );

    nats.lock().await.restart().await;
    let process = MybnbProcess::start(&storage, &[]).await;
    expected.arrive_at(&process).await;
    await_outboxes_drained(&storage, &OUTBOXES).await;
    expected
        .confirm_with_one_more_booking(&process, &guest, &host, room, 9)
        .await;
}
