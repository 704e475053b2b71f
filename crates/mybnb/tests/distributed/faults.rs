//! Faults across processes: a payment instance killed while bookings are being paid, and
//! notification down for a while. Bookings keep being taken; nothing is half-made; nothing
//! anyone should be told is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mybnb::services::Service;
use mybnb_client::{Booking, Payment};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{Answer, Api, Deployment, User, eventually, once_each, stay};

/// Guests booking at once, and bookings each makes one after another.
const GUESTS: usize = 8;
const BOOKINGS_EACH: usize = 5;

/// SIGKILL one of the two payment instances while eight guests book and pay: every request is
/// answered 201 or 503 (try again), and once the reconciler has decided every booking, each
/// CONFIRMED booking has one APPROVED payment of its total and no other booking has an
/// APPROVED payment. Then bookings succeed on the instance left, and on a new one alone.
#[tokio::test]
async fn a_payment_instance_killed_mid_run() {
    let settings = [
        // Charges take a while, so that some are in flight when their instance dies…
        ("MYBNB_PAYMENT_LATENCY_MS", "150..350"),
        // …and none times out only because ten processes share two cores.
        ("MYBNB_PAYMENT_TIMEOUT_MS", "3000"),
        // Whatever a lost answer leaves undecided is decided quickly.
        ("MYBNB_RECONCILE_INTERVAL_MS", "500"),
        ("MYBNB_RECONCILE_STALE_AFTER_MS", "4000"),
    ];
    let Some(mut deployment) = Deployment::start(&settings).await else {
        return;
    };
    let api = deployment.api();
    let host = api.new_user("host").await;
    let room = api
        .register_room(&host.token, &listing("Hanok by the payment desk"))
        .await;
    let mut guests = Vec::new();
    for _ in 0..GUESTS {
        guests.push(api.new_user("guest").await);
    }

    let answered = Arc::new(AtomicUsize::new(0));
    let mut booking = JoinSet::new();
    for (index, guest) in guests.iter().enumerate() {
        let (api, guest, room, answered) = (api.clone(), guest.clone(), room, answered.clone());
        booking.spawn(async move {
            let mut answers = Vec::new();
            for number in 0..BOOKINGS_EACH {
                // Nights of their own: no booking conflicts with another.
                let night = 10 + (index * BOOKINGS_EACH + number) as u64;
                let answer = api.book(&guest.token, &stay(room, night, 1), None).await;
                answered.fetch_add(1, Ordering::SeqCst);
                answers.push(answer);
            }
            answers
        });
    }
    eventually("the first bookings are answered", async || {
        match answered.load(Ordering::SeqCst) {
            count if count >= GUESTS / 2 => Ok(()),
            count => Err(format!("{count} answered")),
        }
    })
    .await;
    let victim = deployment.topology().ports(Service::Payment)[0];
    deployment
        .topology()
        .kill(victim)
        .await
        .expect("the payment instance is killed");
    let at_kill = answered.load(Ordering::SeqCst);
    let answers: Vec<Answer> = booking.join_all().await.into_iter().flatten().collect();
    assert!(
        at_kill < answers.len(),
        "bookings were still being made when payment was killed: {at_kill} of {} answered",
        answers.len()
    );

    let mut made = 0;
    for answer in &answers {
        if answer.status == StatusCode::CREATED {
            let booking: Booking = serde_json::from_value(answer.body.clone()).expect("a booking");
            assert_eq!(booking.status, "CONFIRMED", "{answer:?}");
            made += 1;
        } else {
            assert!(
                answer.is_problem(StatusCode::SERVICE_UNAVAILABLE),
                "a booking is made, or refused with 503 (try again): {answer:?}"
            );
        }
    }
    eprintln!(
        "bookings made while payment was killed: {made} of {}",
        answers.len()
    );
    let ejections = eventually("the gateway takes the killed instance out", async || {
        let metrics = api
            .client
            .metrics()
            .await
            .map_err(|error| error.to_string())?;
        let ejected = metrics
            .lines()
            .any(|line| line.contains("gateway_ejections") && line.contains("service=\"payment\""));
        if ejected {
            Ok(metrics)
        } else {
            Err("no payment ejection counted".to_owned())
        }
    })
    .await;
    let counted: Vec<&str> = ejections
        .lines()
        .filter(|line| line.contains("gateway_") && line.contains("service=\"payment\""))
        .collect();
    eprintln!("the gateway counted: {counted:?}");

    // Once every booking is decided: no CONFIRMED one without its payment, no payment kept
    // for one that is not CONFIRMED — and CONFIRMED are exactly those answered 201.
    eventually(
        "every booking is decided and paid for exactly if confirmed",
        async || {
            let mut confirmed = 0;
            for guest in &guests {
                for booking in api.bookings(&guest.token).await {
                    check_paid_for(&api, guest, &booking).await?;
                    confirmed += usize::from(booking.status == "CONFIRMED");
                }
            }
            if confirmed == made {
                Ok(())
            } else {
                Err(format!(
                    "{confirmed} bookings are CONFIRMED, {made} were answered 201"
                ))
            }
        },
    )
    .await;

    // The instance left takes the bookings; then a new one, alone.
    let survivor = deployment.topology().ports(Service::Payment);
    assert_eq!(
        survivor.len(),
        1,
        "one payment instance is left: {survivor:?}"
    );
    let mut night = 100;
    for _ in 0..3 {
        night += 1;
        let made = api.book_ok(&guests[0].token, &stay(room, night, 1)).await;
        check_paid_for(&api, &guests[0], &made)
            .await
            .expect("paid for");
    }
    let replacement = deployment
        .topology()
        .start_instance(Service::Payment)
        .await
        .expect("a new payment instance starts");
    deployment
        .topology()
        .terminate(survivor[0])
        .await
        .expect("the old instance stops");
    assert_eq!(deployment.topology().ports(Service::Payment), [replacement]);
    for _ in 0..3 {
        night += 1;
        let made = api.book_ok(&guests[1].token, &stay(room, night, 1)).await;
        check_paid_for(&api, &guests[1], &made)
            .await
            .expect("paid for");
    }

    deployment.stop().await;
}

/// A booking's payments agree with it: a CONFIRMED booking has exactly one payment, APPROVED,
/// of its total; any other booking has none APPROVED (none, or DECLINED, VOIDED). `Err` while
/// that is not so, or while the booking is PENDING.
async fn check_paid_for(api: &Api, guest: &User, booking: &Booking) -> Result<(), String> {
    let payments = api
        .payments(&guest.token, booking.id)
        .await
        .unwrap_or_default();
    let approved: Vec<&Payment> = payments
        .iter()
        .filter(|payment| payment.status == "APPROVED")
        .collect();
    let agrees = match booking.status.as_str() {
        "CONFIRMED" => {
            payments.len() == 1
                && approved.len() == 1
                && approved[0].amount == booking.total_price
                && Some(approved[0].id) == booking.payment_id
        }
        "REJECTED" | "CANCELLED" => approved.is_empty(),
        _ => false,
    };
    if agrees {
        Ok(())
    } else {
        Err(format!("booking {booking:?} has the payments {payments:?}"))
    }
}

/// With notification stopped, bookings and cancellations are still taken (only
/// `/notifications` answers 503); once a notification instance is back, every notification
/// arrives, each once, from its durable JetStream consumer.
#[tokio::test]
async fn notification_down_and_back() {
    let Some(mut deployment) = Deployment::start(&[]).await else {
        return;
    };
    let api = deployment.api();
    let host = api.new_user("host").await;
    let room = api
        .register_room(&host.token, &listing("Hanok without a phone"))
        .await;
    let guest = api.new_user("guest").await;
    let first = api.book_ok(&guest.token, &stay(room, 5, 2)).await.id;
    api.await_notifications(&guest, &once_each([("PAYMENT_APPROVED", first)]))
        .await;

    let port = deployment.topology().ports(Service::Notification)[0];
    deployment
        .topology()
        .terminate(port)
        .await
        .expect("notification stops");
    let request = api.request(Method::GET, "/notifications", Some(&guest.token));
    let away = api.send(request).await;
    assert!(
        away.is_problem(StatusCode::SERVICE_UNAVAILABLE),
        "notification is away: {away:?}"
    );

    let second = api.book_ok(&guest.token, &stay(room, 10, 2)).await.id;
    let third = api.book_ok(&guest.token, &stay(room, 15, 1)).await.id;
    let cancelled = api.cancel(&guest.token, second).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    api.await_payment(&guest.token, second, "CANCELLED").await;
    eventually("my page follows meanwhile", async || {
        let page = api.my_page(&guest.token).await;
        if page.as_guest.len() == 3 {
            Ok(())
        } else {
            Err(format!("{page:?}"))
        }
    })
    .await;

    deployment
        .topology()
        .start_instance(Service::Notification)
        .await
        .expect("notification starts again");
    // The gateway finds the new instance at its next readiness check.
    eventually("the gateway routes to notification again", async || {
        let request = api.request(Method::GET, "/notifications", Some(&guest.token));
        match api.send(request).await {
            answer if answer.status == StatusCode::OK => Ok(()),
            answer => Err(format!("{answer:?}")),
        }
    })
    .await;
    let guest_told = once_each([
        ("PAYMENT_APPROVED", first),
        ("PAYMENT_APPROVED", second),
        ("PAYMENT_APPROVED", third),
        ("PAYMENT_CANCELLED", second),
    ]);
    api.await_notifications(&guest, &guest_told).await;
    let host_told = once_each([
        ("BOOKING_CONFIRMED", first),
        ("BOOKING_CONFIRMED", second),
        ("BOOKING_CONFIRMED", third),
        ("BOOKING_CANCELLED", second),
    ]);
    api.await_notifications(&host, &host_told).await;

    deployment.stop().await;
}

fn listing(name: &str) -> Value {
    json!({ "name": name, "address": "7 Insadong-gil", "city": "Seoul", "price": 50_000,
            "capacity": 2 })
}
