//! Answers stream through the gateway as the service sends them.

use std::time::Duration;

use crate::support::{Gateway, Instance, rooms};

/// Far longer than passing an event along takes; a buffered answer would never arrive.
const AN_EVENT_ARRIVES_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test]
async fn each_event_reaches_the_client_before_the_next_is_sent() {
    let instance = Instance::start("a").await;
    let gateway = Gateway::start(vec![rooms(vec![instance.url()])]).await;

    let mut response = gateway
        .get("/rooms/stream")
        .send()
        .await
        .expect("the answer's head");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    // The instance holds the second event until it is released.
    let first = tokio::time::timeout(AN_EVENT_ARRIVES_WITHIN, response.chunk())
        .await
        .expect("the first event before the second is sent")
        .expect("a readable stream")
        .expect("an event");
    assert_eq!(first, "data: first\n\n");

    instance.release_stream();
    let second = tokio::time::timeout(AN_EVENT_ARRIVES_WITHIN, response.chunk())
        .await
        .expect("the second event once released")
        .expect("a readable stream")
        .expect("an event");
    assert_eq!(second, "data: second\n\n");
    let end = tokio::time::timeout(AN_EVENT_ARRIVES_WITHIN, response.chunk())
        .await
        .expect("the end of the stream")
        .expect("a readable stream");
    assert_eq!(end, None);
}
