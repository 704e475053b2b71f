//! Booking's race-prone use cases on in-memory ports: the claim's retries around a freed
//! idempotency key, the reconciler's decisions, a request that loses to the reconciler, and a
//! deleted room's bookings cancelled once per event. The SQL store keeps the same rules, which
//! the API suites check on both databases.

mod fakes;

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, Utc};
use fakes::{MemoryBookings, OneRoom, ScriptedPayments};
use mybnb_booking::domain::{
    Booking, BookingError, BookingStatus, DatesDraft, IdempotencyKey, Rejection, StayDates,
};
use mybnb_booking::ports::{BookingRepository, PaymentState};
use mybnb_booking::service::{BookingDraft, BookingPolicy, BookingService, Reconciled};
use mybnb_events::room::RoomDeleted;
use mybnb_events::{CorrelationId, EventEnvelope};
use uuid::Uuid;

struct World {
    bookings: MemoryBookings,
    payments: Arc<ScriptedPayments>,
    room: fakes::OneRoom,
    service: BookingService<MemoryBookings>,
}

/// A service whose reconciler takes every PENDING booking as abandoned.
fn world() -> World {
    let bookings = MemoryBookings::default();
    let payments = Arc::new(ScriptedPayments::default());
    let room = OneRoom::new();
    let service = BookingService::new(
        bookings.clone(),
        Arc::new(OneRoom(room.0.clone())),
        payments.clone(),
        BookingPolicy {
            stale_after: Duration::ZERO,
            horizon_days: 365,
        },
    );
    World {
        bookings,
        payments,
        room,
        service,
    }
}

fn draft(world: &World, from_today: u64, nights: u64) -> BookingDraft {
    let check_in = Utc::now().date_naive() + Days::new(from_today);
    BookingDraft {
        room_id: world.room.0.id,
        dates: DatesDraft {
            check_in: Some(check_in.to_string()),
            check_out: Some((check_in + Days::new(nights)).to_string()),
            usedate: None,
        },
        guests: Some(1),
    }
}

/// A PENDING booking as a request that died after claiming its nights left it.
async fn abandoned(world: &World, from_today: u64) -> Booking {
    let today = Utc::now().date_naive();
    let check_in = today + Days::new(from_today);
    let stay = StayDates::new(check_in, check_in + Days::new(2), today).expect("a stay");
    let booking = Booking::request(
        Uuid::now_v7(),
        Uuid::now_v7(),
        world.room.0.clone(),
        stay,
        None,
        Utc::now() - chrono::TimeDelta::seconds(60),
    )
    .expect("a booking");
    let claim = world.bookings.claim(&booking, None).await.expect("claimed");
    assert!(matches!(claim, mybnb_booking::ports::Claim::Claimed));
    booking
}

fn correlation() -> CorrelationId {
    CorrelationId::new("test")
}

fn approve(world: &World) {
    *world.payments.charge.lock().expect("the script") = Some(PaymentState::Approved {
        payment_id: Uuid::now_v7(),
    });
}

#[tokio::test]
async fn a_key_freed_by_a_rejection_books_again() {
    let world = world();
    let guest = Uuid::now_v7();
    let key = IdempotencyKey::parse("retry-1").expect("a key");
    // First attempt: the provider does not answer; the booking is rejected and frees the key.
    let first = world
        .service
        .book(guest, draft(&world, 10, 2), Some(&key), &correlation())
        .await;
    assert!(matches!(
        first,
        Err(BookingError::PaymentUnavailable { .. })
    ));
    approve(&world);
    let second = world
        .service
        .book(guest, draft(&world, 10, 2), Some(&key), &correlation())
        .await
        .expect("booked with the freed key");
    assert!(matches!(second.status(), BookingStatus::Confirmed { .. }));
    let again = world
        .service
        .book(guest, draft(&world, 10, 2), Some(&key), &correlation())
        .await
        .expect("the same booking");
    assert_eq!(again.id(), second.id(), "a repeat gets the first booking");
}

#[tokio::test]
async fn the_reconciler_confirms_what_was_paid_and_rejects_and_voids_what_may_not_be() {
    let world = world();
    let paid = abandoned(&world, 10).await;
    let unknown = abandoned(&world, 20).await;
    world.payments.status.lock().expect("the script").insert(
        paid.id(),
        PaymentState::Approved {
            payment_id: Uuid::now_v7(),
        },
    );
    let reconciled = world
        .service
        .reconcile(&correlation())
        .await
        .expect("reconciled");
    assert_eq!(
        reconciled,
        Reconciled {
            confirmed: 1,
            rejected: 1,
            voided: 1,
            left_for_later: 0
        }
    );
    let paid = world.bookings.get(paid.id()).expect("stored");
    assert!(matches!(paid.status(), BookingStatus::Confirmed { .. }));
    let unknown_now = world.bookings.get(unknown.id()).expect("stored");
    assert_eq!(
        unknown_now.status(),
        BookingStatus::Rejected {
            payment_settled: false
        }
    );
    assert!(world.bookings.settled(unknown.id()), "its void is recorded");
    assert!(!world.bookings.holds_nights(unknown.id()));
    assert_eq!(
        *world.payments.voided.lock().expect("the script"),
        [unknown.id()]
    );
    let next = world
        .service
        .reconcile(&correlation())
        .await
        .expect("reconciled");
    assert_eq!(next, Reconciled::default(), "nothing is decided twice");
}

#[tokio::test]
async fn a_request_that_loses_to_the_reconciler_answers_what_it_decided() {
    let world = world();
    let mut booking = abandoned(&world, 10).await;
    // The reconciler took it first (no payment known): rejected.
    world
        .service
        .reconcile(&correlation())
        .await
        .expect("reconciled");
    // The late request's confirmation loses the compare-and-set.
    let event = booking
        .confirm(Uuid::now_v7(), Utc::now())
        .expect("pending in the request's copy");
    let written = world
        .bookings
        .confirm(&booking, &event, &correlation())
        .await
        .expect("written");
    assert!(!written.is_applied());
    let stored = world.bookings.get(booking.id()).expect("stored");
    assert!(matches!(stored.status(), BookingStatus::Rejected { .. }));
    assert!(
        stored
            .clone()
            .reject(Rejection::NotCharged, Utc::now())
            .is_err(),
        "a rejected booking is not rejected again"
    );
}

#[tokio::test]
async fn a_deleted_rooms_bookings_are_cancelled_once_per_event() {
    let world = world();
    approve(&world);
    let guest = Uuid::now_v7();
    let booking = world
        .service
        .book(guest, draft(&world, 10, 2), None, &correlation())
        .await
        .expect("booked");
    let deleted = RoomDeleted {
        room_id: world.room.0.id,
        host_id: world.room.0.host_id,
    };
    let envelope = EventEnvelope::wrap(&deleted, Utc::now(), &correlation()).expect("wrapped");
    world
        .service
        .on_room_deleted(&envelope)
        .await
        .expect("handled");
    let cancelled = world.bookings.get(booking.id()).expect("stored");
    assert!(matches!(
        cancelled.status(),
        BookingStatus::Cancelled { .. }
    ));
    assert!(!world.bookings.holds_nights(booking.id()));
    // Redelivered: nothing changes, nothing fails.
    world
        .service
        .on_room_deleted(&envelope)
        .await
        .expect("handled again");
    assert_eq!(world.bookings.get(booking.id()), Some(cancelled));
}
