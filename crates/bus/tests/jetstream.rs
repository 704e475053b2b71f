//! The JetStream bus against a real nats-server (one per test, from `mybnb-testkit`).

mod support;

use std::sync::Arc;

use async_nats::jetstream::stream::Stream;
use mybnb_bus::{
    Consumer, ConsumerMetrics, EventBus, Handler, HistoryEntry, JetStreamBus, Rejected, Relay,
    Subscription,
};
use mybnb_events::EventEnvelope;
use mybnb_platform::db::{Database, DatabaseLocation};
use mybnb_platform::metrics::Metrics;
use mybnb_platform::outbox;
use mybnb_testkit::nats::NatsServer;
use support::{event, record};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn ids(events: &[EventEnvelope]) -> Vec<Uuid> {
    events.iter().map(|event| event.id).collect()
}

async fn bus(server: &NatsServer) -> JetStreamBus {
    JetStreamBus::connect(&server.url())
        .await
        .expect("a bus on the test server")
}

/// The ids of the next `count` deliveries, each acknowledged.
async fn take_acknowledged(subscription: &dyn Subscription, count: usize) -> Vec<Uuid> {
    let mut received = Vec::new();
    for _ in 0..count {
        let delivery = subscription.next().await.expect("an event");
        subscription
            .ack(std::slice::from_ref(&delivery))
            .await
            .expect("acknowledged");
        received.push(delivery.envelope.id);
    }
    received
}

/// A stream of the test server, read with the plain client.
async fn stream(server: &NatsServer, name: &str) -> Stream {
    let client = async_nats::connect(server.url())
        .await
        .expect("a client of the test server");
    async_nats::jetstream::new(client)
        .get_stream(name)
        .await
        .expect("the stream")
}

#[tokio::test]
async fn subscribers_get_their_types_in_order_once_even_when_published_twice() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let bus = bus(&server).await;
    let events = [
        event("A", "1"),
        event("B", "2"),
        event("A", "3"),
        event("C", "4"),
    ];
    bus.publish(&events).await.expect("published");
    bus.publish(&events).await.expect("published again");
    bus.publish(&events[..1]).await.expect("the first again");
    // Published after the repeats: whatever comes before it was delivered once.
    let last = [event("A", "5"), event("B", "6")];
    bus.publish(&last).await.expect("published");

    let only_a = bus.subscribe("only-a", &["A"]).await.expect("subscribed");
    assert_eq!(
        take_acknowledged(only_a.as_ref(), 3).await,
        vec![events[0].id, events[2].id, last[0].id]
    );

    // Several types: one consumer of every event, skipping the other types (C here).
    let a_and_b = bus
        .subscribe("a-and-b", &["A", "B"])
        .await
        .expect("subscribed");
    assert_eq!(
        take_acknowledged(a_and_b.as_ref(), 5).await,
        vec![
            events[0].id,
            events[1].id,
            events[2].id,
            last[0].id,
            last[1].id
        ]
    );

    let stored = stream(&server, JetStreamBus::EVENTS_STREAM).await;
    let info = stored.get_info().await.expect("the stream's state");
    assert_eq!(info.state.messages, 6, "each event is stored once");
}

#[tokio::test]
async fn a_subscriber_resumes_after_what_it_acknowledged_on_a_new_connection() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let events = [event("A", "1"), event("A", "2"), event("A", "3")];
    {
        let bus = bus(&server).await;
        bus.publish(&events).await.expect("published");
        let subscription = bus.subscribe("worker", &["A"]).await.expect("subscribed");
        assert_eq!(
            take_acknowledged(subscription.as_ref(), 1).await,
            ids(&events[..1])
        );
        // Handed out, never acknowledged: it must come again.
        let unacknowledged = subscription.next().await.expect("an event");
        assert_eq!(unacknowledged.envelope.id, events[1].id);
    }
    let bus = bus(&server).await;
    let subscription = bus
        .subscribe("worker", &["A"])
        .await
        .expect("subscribed again");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 2).await,
        ids(&events[1..])
    );
}

#[tokio::test]
async fn an_unacknowledged_event_comes_again_counted() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let bus = bus(&server).await;
    let published = event("A", "1");
    bus.publish(std::slice::from_ref(&published))
        .await
        .expect("published");

    let first = bus
        .subscribe("forgetful", &["A"])
        .await
        .expect("subscribed");
    let delivery = first.next().await.expect("an event");
    assert_eq!(
        (delivery.envelope.id, delivery.delivered),
        (published.id, 1)
    );
    // Working on it: the server is told, and it is still this subscriber's.
    first.in_progress(&delivery).await.expect("in progress");
    drop(first);

    let second = bus
        .subscribe("forgetful", &["A"])
        .await
        .expect("subscribed");
    let again = second.next().await.expect("the event again");
    assert_eq!((again.envelope.id, again.delivered), (published.id, 2));
    second
        .ack(std::slice::from_ref(&again))
        .await
        .expect("acknowledged");
    assert!(
        second.ack(std::slice::from_ref(&again)).await.is_err(),
        "an acknowledged delivery is no longer in flight"
    );
}

#[tokio::test]
async fn a_waiting_subscriber_wakes_when_an_event_is_published() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let bus = bus(&server).await;
    let subscription = bus.subscribe("waiter", &["A"]).await.expect("subscribed");
    let waiting = tokio::spawn(async move {
        subscription
            .next()
            .await
            .map(|delivery| delivery.envelope.id)
    });
    let published = event("A", "1");
    bus.publish(std::slice::from_ref(&published))
        .await
        .expect("published");
    let received = waiting
        .await
        .expect("the subscriber ran")
        .expect("an event");
    assert_eq!(received, published.id);
}

#[tokio::test]
async fn the_consumer_dead_letters_a_poison_event_and_goes_on() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let bus = Arc::new(bus(&server).await);
    let poison = event("A", "poison");
    let good = event("A", "good");
    bus.publish(&[poison.clone(), good.clone()])
        .await
        .expect("published");

    let (handled_tx, mut handled) = mpsc::unbounded_channel();
    let handler: Handler = Arc::new(move |envelope: EventEnvelope| {
        let handled_tx = handled_tx.clone();
        Box::pin(async move {
            if envelope.aggregate_id.as_str() == "poison" {
                return Err(Rejected("this one can never be handled".to_owned()).into());
            }
            let _ = handled_tx.send(envelope.id);
            Ok(())
        })
    });
    let consumer = Consumer {
        name: "picky",
        event_types: &["A"],
        handler,
    };
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(
        bus.clone(),
        ConsumerMetrics::register(&Metrics::new()),
        stop.clone(),
    ));
    // Handlers run side by side: the good event does not wait for the poison's retries.
    assert_eq!(handled.recv().await, Some(good.id));
    let dead_letters = stream(&server, JetStreamBus::DEAD_LETTER_STREAM).await;
    let set_aside = async {
        let mut poll = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            poll.tick().await;
            if let Ok(letter) = dead_letters
                .get_last_raw_message_by_subject("mybnb.dead.picky")
                .await
            {
                return letter;
            }
        }
    };
    let letter = tokio::time::timeout(std::time::Duration::from_secs(30), set_aside)
        .await
        .expect("the poison is dead-lettered");
    stop.cancel();
    running.await.expect("the consumer stopped");

    let header = |name: &str| {
        letter
            .headers
            .get(name)
            .map(|value| value.as_str().to_owned())
    };
    assert_eq!(
        header(JetStreamBus::EVENT_ID_HEADER),
        Some(poison.id.to_string())
    );
    assert!(
        header(JetStreamBus::REASON_HEADER)
            .is_some_and(|reason| reason.contains("this one can never be handled")),
        "the reason is kept"
    );
    let stored: EventEnvelope = serde_json::from_slice(&letter.payload).expect("an envelope");
    assert_eq!(stored, poison);

    // Neither comes again to the subscriber.
    let after = event("A", "after");
    bus.publish(std::slice::from_ref(&after))
        .await
        .expect("published");
    let subscription = bus.subscribe("picky", &["A"]).await.expect("subscribed");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 1).await,
        vec![after.id]
    );
}

#[tokio::test]
async fn the_bus_starts_without_the_server_and_works_once_it_is_up() {
    let Some(mut server) = NatsServer::start().await else {
        return;
    };
    server.stop().await;
    let bus = bus(&server).await;
    let waiting = event("A", "1");
    assert!(
        bus.publish(std::slice::from_ref(&waiting)).await.is_err(),
        "no server, no publishing"
    );
    assert!(bus.subscribe("early", &["A"]).await.is_err());

    server.restart().await;
    bus.publish(std::slice::from_ref(&waiting))
        .await
        .expect("published once the server is up");
    let subscription = bus.subscribe("early", &["A"]).await.expect("subscribed");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 1).await,
        vec![waiting.id]
    );
}

#[tokio::test]
async fn a_server_restart_loses_and_doubles_nothing() {
    let Some(mut server) = NatsServer::start().await else {
        return;
    };
    let bus = bus(&server).await;
    let events = [event("A", "1"), event("A", "2"), event("A", "3")];
    bus.publish(&events[..1]).await.expect("published");
    let subscription = bus.subscribe("steady", &["A"]).await.expect("subscribed");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 1).await,
        ids(&events[..1])
    );

    server.stop().await;
    assert!(
        bus.publish(&events[1..2]).await.is_err(),
        "publishing fails while the server is down"
    );
    assert!(subscription.next().await.is_err(), "the subscription fails");
    drop(subscription);

    server.restart().await;
    // The relay publishes the batch again; the failed attempt may have reached the server too.
    bus.publish(&events[1..])
        .await
        .expect("published after the restart");
    bus.publish(&events[1..]).await.expect("and again");
    let subscription = bus
        .subscribe("steady", &["A"])
        .await
        .expect("subscribed again");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 2).await,
        ids(&events[1..])
    );

    let marker = event("A", "marker");
    bus.publish(std::slice::from_ref(&marker))
        .await
        .expect("published");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 1).await,
        vec![marker.id],
        "nothing came twice"
    );
    let everything = bus.history(&["A"], 0, 100).await.expect("the history");
    let mut expected = ids(&events);
    expected.push(marker.id);
    assert_eq!(
        everything
            .iter()
            .map(|recorded| recorded.envelope.id)
            .collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn history_pages_through_the_stream_and_ends() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let bus = bus(&server).await;
    assert!(
        bus.history(&["A"], 0, 10)
            .await
            .expect("an empty history")
            .is_empty()
    );
    let events: Vec<EventEnvelope> = (0..8)
        .map(|index| event(if index % 3 == 1 { "B" } else { "A" }, &index.to_string()))
        .collect();
    bus.publish(&events).await.expect("published");
    let of_a: Vec<Uuid> = events
        .iter()
        .filter(|event| event.event_type == "A")
        .map(|event| event.id)
        .collect();

    let mut pages: Vec<Vec<HistoryEntry>> = Vec::new();
    let mut after = 0;
    loop {
        let page = bus.history(&["A"], after, 2).await.expect("a page");
        let full = page.len() == 2;
        if let Some(last) = page.last() {
            after = last.position;
        }
        pages.push(page);
        if !full {
            break;
        }
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 2, 1],
        "five events of A in pages of two"
    );
    let read: Vec<Uuid> = pages
        .iter()
        .flatten()
        .map(|recorded| recorded.envelope.id)
        .collect();
    assert_eq!(read, of_a);
    let positions: Vec<u64> = pages
        .iter()
        .flatten()
        .map(|recorded| recorded.position)
        .collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));

    let both = bus.history(&["A", "B"], 0, 100).await.expect("everything");
    assert_eq!(
        both.iter()
            .map(|recorded| recorded.envelope.id)
            .collect::<Vec<_>>(),
        ids(&events)
    );
    let tail = bus
        .history(&["A", "B"], both[5].position, 100)
        .await
        .expect("the tail");
    assert_eq!(
        tail.iter()
            .map(|recorded| recorded.envelope.id)
            .collect::<Vec<_>>(),
        ids(&events[6..])
    );
}

#[tokio::test]
async fn the_relay_moves_a_sqlite_outbox_onto_jetstream() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let directory = tempfile::tempdir().expect("a directory");
    let location = DatabaseLocation::Sqlite {
        path: directory.path().join("context.db"),
    };
    let outbox_database = Database::connect_lazy(&location, 4).expect("a database");
    outbox_database
        .migrate(&outbox::migrations())
        .await
        .expect("migrated");
    let events = [event("A", "1"), event("B", "1"), event("A", "2")];
    for envelope in &events {
        record(&outbox_database, envelope).await;
    }

    let bus = Arc::new(bus(&server).await);
    let relay = Relay::new("context", outbox_database.clone(), bus.clone());
    assert_eq!(relay.relay_pending().await.expect("relayed"), 3);
    assert_eq!(relay.relay_pending().await.expect("relayed"), 0);
    assert!(
        outbox::pending(&outbox_database, 10)
            .await
            .expect("read")
            .is_empty()
    );

    let subscription = bus
        .subscribe("reader", &["A", "B"])
        .await
        .expect("subscribed");
    for expected in &events {
        let delivery = subscription.next().await.expect("an event");
        assert_eq!(delivery.envelope, *expected);
        subscription
            .ack(std::slice::from_ref(&delivery))
            .await
            .expect("acknowledged");
    }
}

/// A server that wants credentials gets those of the URL — user and password, percent-encoded
/// as URLs have them — and the bus works as it does without.
#[tokio::test]
async fn credentials_in_the_url_log_in_to_a_server_that_wants_them() {
    let Some(server) = NatsServer::start_with(&["--user", "mybnb", "--pass", "s3cret/+"]).await
    else {
        return;
    };
    let url = server
        .url()
        .replace("nats://", "nats://mybnb:s3cret%2F%2B@");
    let bus = JetStreamBus::connect(&url).await.expect("a bus");
    let published = event("A", "1");
    bus.publish(std::slice::from_ref(&published))
        .await
        .expect("published with credentials");
    let subscription = bus
        .subscribe("authenticated", &["A"])
        .await
        .expect("subscribed");
    assert_eq!(
        take_acknowledged(subscription.as_ref(), 1).await,
        [published.id]
    );

    let wrong = server.url().replace("nats://", "nats://mybnb:wrong@");
    let refused = JetStreamBus::connect(&wrong)
        .await
        .expect("a bus, not yet connected");
    assert!(
        refused.publish(&[event("A", "2")]).await.is_err(),
        "a wrong password is refused"
    );
}
