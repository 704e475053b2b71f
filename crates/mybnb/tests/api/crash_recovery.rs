//! What a crash leaves, made right on the next start (I1): a booking PENDING with its nights
//! claimed — its payment approved, or never made — and a rejected booking whose charge was
//! uncertain. The states are staged in the databases as a crash leaves them, then mybnb starts
//! on that storage; and once for real, by killing the `mybnb` binary mid-payment.

use mybnb_payment::domain::PaymentStatus;
use mybnb_payment::http::PaymentRecord;
use mybnb_testkit::eventually::eventually;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use uuid::Uuid;

use crate::booking_client::{Listing, day};
use crate::helpers::{Backend, Storage, TestApp, TestUser, assert_problem, spawn_app_on};
use crate::ledger::{Ledger, await_settled};
use crate::payment_settings::reconcile_quickly;
use crate::process::MybnbProcess;

/// Nights 10 and 11 from today, at 75,000 won.
const FROM: u64 = 10;
const NIGHTS: u64 = 2;
const TOTAL: i64 = 150_000;

fn order(booking_id: Uuid, guest: &TestUser, listing: &Listing) -> Value {
    json!({ "bookingId": booking_id, "guestId": guest.id, "hostId": listing.host.id, "amount": TOTAL })
}

/// Writes a booking of nights [`FROM`]..+[`NIGHTS`] with `status`, made an hour ago and with
/// its payment unsettled, holding its nights when `holds_nights` — as a crash leaves it.
async fn stage_booking(
    storage: &Storage,
    id: Uuid,
    guest: &TestUser,
    listing: &Listing,
    status: &str,
    holds_nights: bool,
) {
    let mut connection = storage.connect("booking").await;
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut transaction = connection.begin().await.expect("a transaction");
    sqlx::query(
        "INSERT INTO bookings (id, room_id, room_name, host_id, guest_id, check_in, check_out, \
         guests, nightly_price, capacity, total_price, status, payment_id, payment_settled, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11, $12, 0, $13, $13)",
    )
    .bind(id.to_string())
    .bind(listing.id.to_string())
    .bind(&listing.name)
    .bind(listing.host.id.to_string())
    .bind(guest.id.to_string())
    .bind(day(FROM).to_string())
    .bind(day(FROM + NIGHTS).to_string())
    .bind(listing.price)
    .bind(i64::from(listing.capacity))
    .bind(TOTAL)
    .bind(status)
    .bind(None::<String>)
    .bind(an_hour_ago)
    .execute(&mut *transaction)
    .await
    .expect("a booking is staged");
    if holds_nights {
        for night in 0..NIGHTS {
            sqlx::query(
                "INSERT INTO booking_nights (room_id, night, booking_id) VALUES ($1, $2, $3)",
            )
            .bind(listing.id.to_string())
            .bind(day(FROM + night).to_string())
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await
            .expect("a night is staged");
        }
    }
    transaction
        .commit()
        .await
        .expect("the staged state is committed");
    connection.close().await.expect("closed");
}

/// mybnb started again after a crash, and what the crash concerned.
struct Recovered {
    app: TestApp,
    listing: Listing,
    guest: TestUser,
    /// The booking the crash left undecided.
    id: Uuid,
    /// Its charge, when one was made before the crash.
    charge: Option<PaymentRecord>,
}

/// Starts mybnb on fresh storage with a host, a room and a guest, charges a booking-to-be
/// when `charged`, stops it, stages the booking with `status`, and starts mybnb again on the
/// same storage. `None` when the test is skipped.
async fn after_a_crash(
    backend: Backend,
    charged: bool,
    status: &str,
    holds_nights: bool,
) -> Option<Recovered> {
    let storage = Storage::create(backend).await?;
    let before = spawn_app_on(&storage, |_| {}).await;
    let listing = before.listing(75_000).await;
    let guest = before.new_user("guest").await;
    let id = Uuid::now_v7();
    let charge = match charged {
        true => Some(before.internal_charge(&order(id, &guest, &listing)).await),
        false => None,
    };
    before.stop().await.expect("a clean stop");
    stage_booking(&storage, id, &guest, &listing, status, holds_nights).await;
    let app = spawn_app_on(&storage, reconcile_quickly).await;
    Some(Recovered {
        app,
        listing,
        guest,
        id,
        charge,
    })
}

api_tests! {
    /// PENDING, and the payment went through: the booking is confirmed with that payment and
    /// keeps its nights.
    async fn a_pending_booking_whose_payment_was_approved_is_confirmed(backend: Backend) {
        let crashed = after_a_crash(backend, true, "PENDING", true).await;
        let Some(Recovered { app, listing, guest, id, charge }) = crashed else { return };
        let charge = charge.expect("a charge");
        assert_eq!(charge.status, PaymentStatus::Approved);
        let booking = eventually("the booking is confirmed", async || {
            let booking = app.booking(&guest.token, id).await;
            if booking.status == "CONFIRMED" { Ok(booking) } else { Err(format!("{booking:?}")) }
        })
        .await;
        assert_eq!((booking.payment_id, booking.total_price), (Some(charge.id), TOTAL));
        await_settled(&app.storage(), &app.storage()).await;
        let other = app.new_user("other").await;
        assert_problem(app.book_raw(&other.token, &listing.stay(FROM, 1), None).await, StatusCode::CONFLICT).await;
    }

    /// PENDING, and no payment: a void is recorded first — a charge arriving late is refused —
    /// then the booking is rejected and its nights are free.
    async fn a_pending_booking_without_a_payment_is_rejected_and_voided(backend: Backend) {
        let crashed = after_a_crash(backend, false, "PENDING", true).await;
        let Some(Recovered { app, listing, guest, id, .. }) = crashed else { return };
        eventually("the booking is rejected", async || {
            let booking = app.booking(&guest.token, id).await;
            if booking.status == "REJECTED" { Ok(()) } else { Err(format!("{booking:?}")) }
        })
        .await;
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        let payments: Vec<&str> = ledger.payments_of(id).iter().map(|payment| payment.status.as_str()).collect();
        assert_eq!(payments, ["VOIDED"]);
        let late = app.internal_charge(&order(id, &guest, &listing)).await;
        assert_eq!(late.status, PaymentStatus::Voided, "a late charge is refused");
        let other = app.new_user("other").await;
        app.book(&other.token, &listing.stay(FROM, NIGHTS)).await;
        await_settled(&app.storage(), &app.storage()).await;
    }

    /// REJECTED after a timeout, while the charge went through: the charge is voided.
    async fn an_approved_charge_of_a_rejected_booking_is_voided(backend: Backend) {
        let crashed = after_a_crash(backend, true, "REJECTED", false).await;
        let Some(Recovered { app, id, charge, .. }) = crashed else { return };
        assert_eq!(charge.expect("a charge").status, PaymentStatus::Approved);
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.booking(id).status, "REJECTED");
        assert_eq!(app.internal_payment(id).await.expect("a payment").status, PaymentStatus::Voided);
    }

    /// The real thing: `mybnb` is killed while the payment of a booking is under way; started
    /// again, it decides the booking, and I1 holds.
    async fn a_process_killed_mid_payment_recovers_on_restart(backend: Backend) {
        let Some(storage) = Storage::create(backend).await else { return };
        let slow = [("MYBNB_PAYMENT_LATENCY_MS", "1900..2000"), ("MYBNB_PAYMENT_TIMEOUT_MS", "5000")];
        let process = MybnbProcess::start(&storage, &slow).await;
        let listing = process.listing(75_000).await;
        let guest = process.new_user("guest").await;
        let request = process.request(Method::POST, "/bookings", Some(&guest.token));
        let in_flight = tokio::spawn(request.json(&listing.stay(FROM, NIGHTS)).send());
        let id = eventually("the booking is PENDING in the database", async || {
            let ledger = Ledger::read(&storage, &storage).await;
            match ledger.bookings_with("PENDING").as_slice() {
                [pending] => Ok(pending.id.clone()),
                _ => Err(format!("{ledger:?}")),
            }
        })
        .await;
        let log = process.kill();
        let answer = in_flight.await.expect("the request task ends");
        assert!(answer.is_err(), "the killed process answered nothing: {answer:?}\n{log}");

        let quick = [("MYBNB_RECONCILE_STALE_AFTER_MS", "1000"), ("MYBNB_RECONCILE_INTERVAL_MS", "100")];
        let restarted = MybnbProcess::start(&storage, &quick).await;
        let ledger = await_settled(&storage, &storage).await;
        let status = ledger.booking(&id).status.clone();
        assert!(matches!(status.as_str(), "CONFIRMED" | "REJECTED"), "{ledger:?}\n{}", restarted.log());
        let id = Uuid::parse_str(&id).expect("a booking id is a UUID");
        assert_eq!(restarted.booking(&guest.token, id).await.status, status.as_str());
        if status == "REJECTED" {
            restarted.book(&guest.token, &listing.stay(FROM, NIGHTS)).await;
            await_settled(&storage, &storage).await;
        }
    }
}
