//! Events in, notifications out: to the right user, in the right words, exactly once.

use mybnb_bus::Rejected;
use mybnb_notification::domain::{Notification, NotificationError, NotificationKind};
use mybnb_notification::service::NotificationService;
use uuid::Uuid;

use crate::support::{ROOM_NAME, TestDatabase, Trip, on_both_backends, registered};

on_both_backends!(
    each_event_tells_the_right_user_with_the_details,
    a_redelivered_event_changes_nothing,
    history_pages_are_newest_first_and_count_everything,
    events_out_of_order_are_handled_with_what_is_known,
);

async fn history(notifications: &NotificationService, user: Uuid) -> Vec<Notification> {
    notifications
        .history(user, None, Some(100))
        .await
        .expect("the history")
        .notifications
}

fn kinds(notifications: &[Notification]) -> Vec<NotificationKind> {
    notifications.iter().map(|n| n.kind).collect()
}

async fn each_event_tells_the_right_user_with_the_details(backend: crate::support::Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let notifications = storage.service(false);
    let trip = Trip::new();
    for envelope in [
        trip.approved(),
        trip.confirmed(),
        trip.cancelled(),
        trip.refunded(),
    ] {
        notifications.handle(envelope).await.expect("handled");
    }

    let guest = history(&notifications, trip.guest).await;
    assert_eq!(
        kinds(&guest),
        [
            NotificationKind::PaymentCancelled,
            NotificationKind::PaymentApproved
        ],
        "the guest hears of their payment, newest first"
    );
    let host = history(&notifications, trip.host).await;
    assert_eq!(
        kinds(&host),
        [
            NotificationKind::BookingCancelled,
            NotificationKind::BookingConfirmed
        ],
        "the host hears of the booking, newest first"
    );
    for notification in guest.iter().chain(&host) {
        assert_eq!(notification.booking_id, trip.booking_id);
        assert!(
            notification.message.contains(&trip.booking_id.to_string()),
            "{}",
            notification.message
        );
    }
    let approved = &guest[1].message;
    assert!(approved.contains("360,000 won"), "{approved}");
    assert!(
        approved.contains(&trip.payment_id.to_string()),
        "{approved}"
    );
    let confirmed = &host[1].message;
    assert!(
        confirmed.contains(ROOM_NAME)
            && confirmed.contains("from 2026-12-24 to 2026-12-27")
            && confirmed.contains("3 nights")
            && confirmed.contains("360,000 won"),
        "{confirmed}"
    );
    // Once the booking is known, later notifications about it name its room.
    let cancelled = &host[0].message;
    assert!(
        cancelled.contains(ROOM_NAME) && cancelled.contains("cancelled"),
        "{cancelled}"
    );
    let refunded = &guest[0].message;
    assert!(
        refunded.contains(ROOM_NAME)
            && refunded.contains("360,000 won")
            && refunded.contains("was refunded"),
        "{refunded}"
    );
}

async fn a_redelivered_event_changes_nothing(backend: crate::support::Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let notifications = storage.service(true);
    let trip = Trip::new();
    notifications
        .handle(registered(trip.guest, "Lee", Some("lee@example.com")))
        .await
        .expect("handled");
    let approved = trip.approved();
    notifications
        .handle(approved.clone())
        .await
        .expect("handled");
    notifications.handle(approved).await.expect("handled again");

    let page = notifications
        .history(trip.guest, None, None)
        .await
        .expect("the history");
    assert_eq!(page.total, 1);
    assert_eq!(page.notifications.len(), 1);
    assert_eq!(storage.mail_queue().await.len(), 1, "one mail queued");
}

async fn history_pages_are_newest_first_and_count_everything(backend: crate::support::Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let notifications = storage.service(false);
    let guest = Uuid::now_v7();
    let mut trips = Vec::new();
    for _ in 0..5 {
        let trip = Trip::between(guest, Uuid::now_v7());
        notifications
            .handle(trip.approved())
            .await
            .expect("handled");
        trips.push(trip);
    }
    // Someone else's notification is nobody else's.
    notifications
        .handle(Trip::new().approved())
        .await
        .expect("handled");

    let newest_first: Vec<Uuid> = trips.iter().rev().map(|trip| trip.booking_id).collect();
    let mut seen = Vec::new();
    for number in 1..=3 {
        let page = notifications
            .history(guest, Some(number), Some(2))
            .await
            .expect("a page");
        assert_eq!(
            (page.total, page.page.number(), page.page.size()),
            (5, number, 2)
        );
        seen.extend(page.notifications.iter().map(|n| n.booking_id));
    }
    assert_eq!(seen, newest_first);
    let beyond = notifications
        .history(guest, Some(4), Some(2))
        .await
        .expect("a page");
    assert!(beyond.notifications.is_empty());
    assert_eq!(beyond.total, 5);

    let capped = notifications
        .history(guest, None, Some(1000))
        .await
        .expect("a capped page");
    assert_eq!(capped.page.size(), 100);
    for (page, size) in [(Some(0), None), (None, Some(0))] {
        assert!(matches!(
            notifications.history(guest, page, size).await,
            Err(NotificationError::Invalid { .. })
        ));
    }
}

async fn events_out_of_order_are_handled_with_what_is_known(backend: crate::support::Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let notifications = storage.service(true);
    let trip = Trip::new();
    // The payment arrives before its booking, and the guest signs up (as far as this context
    // knows) only after being notified.
    notifications
        .handle(trip.approved())
        .await
        .expect("handled");
    notifications
        .handle(trip.cancelled())
        .await
        .expect("handled");
    notifications
        .handle(trip.confirmed())
        .await
        .expect("handled");
    notifications
        .handle(registered(trip.guest, "Lee", Some("lee@example.com")))
        .await
        .expect("handled");

    let guest = history(&notifications, trip.guest).await;
    assert_eq!(kinds(&guest), [NotificationKind::PaymentApproved]);
    assert!(
        !guest[0].message.contains(ROOM_NAME),
        "the room was not known yet: {}",
        guest[0].message
    );
    assert!(guest[0].message.contains("360,000 won was approved"));
    let host = history(&notifications, trip.host).await;
    assert_eq!(
        kinds(&host),
        [
            NotificationKind::BookingConfirmed,
            NotificationKind::BookingCancelled
        ]
    );
    assert!(
        storage.mail_queue().await.is_empty(),
        "nobody's address was known in time"
    );
}

#[tokio::test]
async fn unreadable_events_are_rejected_and_change_nothing() {
    let storage = TestDatabase::create(crate::support::Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let notifications = storage.service(false);
    let trip = Trip::new();

    let mut garbled = trip.approved();
    garbled.payload = serde_json::json!({ "bookingId": "not a uuid" });
    let mut newer = trip.approved();
    newer.version = 99;
    let mut foreign = trip.approved();
    foreign.event_type = "RoomRegistered".into();
    for envelope in [garbled, newer, foreign] {
        let error = notifications.handle(envelope).await.expect_err("rejected");
        assert!(
            error.chain().any(|cause| cause.is::<Rejected>()),
            "{error:#}"
        );
    }
    assert!(history(&notifications, trip.guest).await.is_empty());
}
