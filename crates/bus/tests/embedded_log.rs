//! The embedded log and the relay, on real SQLite files.

mod support;

use std::sync::Arc;

use mybnb_bus::{EmbeddedLog, EventBus, Relay};
use mybnb_platform::db::{Database, DatabaseLocation, Migrations, Stop};
use mybnb_platform::outbox;
use support::{event, record};

async fn database(directory: &tempfile::TempDir, name: &str, migrations: Migrations) -> Database {
    let location = DatabaseLocation::Sqlite {
        path: directory.path().join(format!("{name}.db")),
    };
    let database = Database::connect_lazy(&location, 4).expect("a database");
    database.migrate(&migrations).await.expect("migrated");
    database
}

async fn log(directory: &tempfile::TempDir) -> EmbeddedLog {
    EmbeddedLog::new(database(directory, "events", EmbeddedLog::migrations()).await)
}

#[tokio::test]
async fn subscribers_get_their_types_in_order_once() {
    let directory = tempfile::tempdir().expect("a directory");
    let log = log(&directory).await;
    let events = [event("A", "1"), event("B", "2"), event("A", "3")];
    log.publish(&events).await.expect("published");
    log.publish(&events[..1]).await.expect("published again");

    let subscription = log.subscribe("only-a", &["A"]).await.expect("subscribed");
    let first = subscription.next().await.expect("an event");
    let second = subscription.next().await.expect("an event");
    assert_eq!(
        (first.envelope.id, second.envelope.id),
        (events[0].id, events[2].id)
    );

    let everything = log.subscribe("all", &["A", "B"]).await.expect("subscribed");
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(everything.next().await.expect("an event").envelope.id);
    }
    assert_eq!(ids, events.iter().map(|event| event.id).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_subscriber_resumes_after_what_it_acknowledged_even_after_a_restart() {
    let directory = tempfile::tempdir().expect("a directory");
    let events = [event("A", "1"), event("A", "2"), event("A", "3")];
    {
        let log = log(&directory).await;
        log.publish(&events).await.expect("published");
        let subscription = log.subscribe("worker", &["A"]).await.expect("subscribed");
        let first = subscription.next().await.expect("an event");
        subscription
            .ack(std::slice::from_ref(&first))
            .await
            .expect("acknowledged");
        // The second is delivered but not acknowledged: it must come again.
        subscription.next().await.expect("an event");
    }
    let log = log(&directory).await;
    let subscription = log
        .subscribe("worker", &["A"])
        .await
        .expect("subscribed again");
    let next = subscription.next().await.expect("an event");
    assert_eq!(next.envelope.id, events[1].id);
}

#[tokio::test]
async fn a_waiting_subscriber_wakes_when_an_event_is_published() {
    let directory = tempfile::tempdir().expect("a directory");
    let log = log(&directory).await;
    let subscription = log.subscribe("waiter", &["A"]).await.expect("subscribed");
    let waiting = tokio::spawn(async move {
        subscription
            .next()
            .await
            .map(|delivery| delivery.envelope.id)
    });
    let published = event("A", "1");
    log.publish(std::slice::from_ref(&published))
        .await
        .expect("published");
    let received = waiting
        .await
        .expect("the subscriber ran")
        .expect("an event");
    assert_eq!(received, published.id);
}

#[tokio::test]
async fn the_relay_publishes_the_outbox_in_order_and_marks_it() {
    let directory = tempfile::tempdir().expect("a directory");
    let outbox_database = database(&directory, "context", outbox::migrations()).await;
    let log = Arc::new(log(&directory).await);
    let events = [event("A", "1"), event("A", "1"), event("A", "2")];
    for envelope in &events {
        record(&outbox_database, envelope).await;
    }
    let relay = Relay::new("context", outbox_database.clone(), log.clone());
    assert_eq!(relay.relay_pending().await.expect("relayed"), 3);
    assert_eq!(relay.relay_pending().await.expect("relayed"), 0);
    assert!(
        outbox::pending(&outbox_database, 10)
            .await
            .expect("read")
            .is_empty()
    );

    let subscription = log.subscribe("reader", &["A"]).await.expect("subscribed");
    for expected in &events {
        let delivery = subscription.next().await.expect("an event");
        assert_eq!(delivery.envelope, *expected);
    }
}

#[tokio::test]
async fn a_crash_between_publishing_and_marking_publishes_nothing_twice() {
    let directory = tempfile::tempdir().expect("a directory");
    let outbox_database = database(&directory, "context", outbox::migrations()).await;
    let log = Arc::new(log(&directory).await);
    let recorded = event("A", "1");
    record(&outbox_database, &recorded).await;
    // The bus got the event, then the process died before marking it.
    let pending = outbox::pending(&outbox_database, 10).await.expect("read");
    log.publish(&pending).await.expect("published");

    let relay = Relay::new("context", outbox_database.clone(), log.clone());
    assert_eq!(relay.relay_pending().await.expect("relayed again"), 1);
    let later = event("A", "2");
    log.publish(std::slice::from_ref(&later))
        .await
        .expect("published");
    let subscription = log.subscribe("reader", &["A"]).await.expect("subscribed");
    let first = subscription.next().await.expect("an event");
    let second = subscription.next().await.expect("an event");
    assert_eq!(
        (first.envelope.id, second.envelope.id),
        (recorded.id, later.id)
    );
}

/// An event whose envelope cannot be read (written by a broken producer, say) is set aside in
/// the dead letters, and the subscriber goes on with the next one; the history refuses it.
#[tokio::test]
async fn an_unreadable_event_is_dead_lettered_and_the_subscriber_goes_on() {
    let directory = tempfile::tempdir().expect("a directory");
    let log_database = database(&directory, "events", EmbeddedLog::migrations()).await;
    let log = EmbeddedLog::new(log_database.clone());
    let broken = sqlx::query(
        "INSERT INTO events (event_id, event_type, envelope, published_at) \
         VALUES ('broken-1', 'A', '{not json', '2026-11-24T00:00:00Z')",
    );
    log_database
        .write(async |unit| {
            unit.execute("writing a broken row", broken).await?;
            Ok::<_, Stop>(())
        })
        .await
        .expect("a broken row");
    let good = event("A", "after");
    log.publish(std::slice::from_ref(&good))
        .await
        .expect("published");

    let subscription = log.subscribe("reader", &["A"]).await.expect("subscribed");
    let delivery = subscription.next().await.expect("the next readable event");
    assert_eq!(delivery.envelope.id, good.id);
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM dead_letters WHERE subscriber = 'reader' AND event_id = 'broken-1'",
    )
    .fetch_one(log_database.pool())
    .await
    .expect("a dead letter");
    assert!(reason.contains("unreadable"), "{reason}");
    assert!(log.history(&["A"], 0, 10).await.is_err());
}
