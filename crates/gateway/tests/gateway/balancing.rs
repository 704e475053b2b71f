//! Which instances get requests: every ready one, and only those.

use std::collections::BTreeMap;

use crate::support::{Gateway, Instance, assert_unavailable, rooms};

/// Sends `count` GETs and counts the answers by instance.
async fn spread(gateway: &Gateway, count: usize) -> BTreeMap<String, usize> {
    let mut answered = BTreeMap::new();
    for _ in 0..count {
        *answered
            .entry(gateway.answered_by("/rooms").await)
            .or_default() += 1;
    }
    answered
}

#[tokio::test]
async fn requests_are_spread_over_the_ready_instances() {
    let (a, b) = (Instance::start("a").await, Instance::start("b").await);
    let gateway = Gateway::start(vec![rooms(vec![a.url(), b.url()])]).await;

    let answered = spread(&gateway, 40).await;

    assert!(answered.get("a").is_some_and(|&n| n > 0), "{answered:?}");
    assert!(answered.get("b").is_some_and(|&n| n > 0), "{answered:?}");
    assert_eq!((a.served(), b.served()), (answered["a"], answered["b"]));
}

#[tokio::test]
async fn an_instance_gets_no_requests_while_it_is_not_ready() {
    let (a, b) = (Instance::start("a").await, Instance::start("b").await);
    let gateway = Gateway::start(vec![rooms(vec![a.url(), b.url()])]).await;

    a.set_ready(false);
    a.await_checked().await;
    let answered = spread(&gateway, 40).await;
    assert_eq!(answered, BTreeMap::from([("b".to_owned(), 40)]));
    assert_eq!(a.served(), 0);
    assert_eq!(gateway.readiness_of("rooms").await, "ready");

    a.set_ready(true);
    a.await_checked().await;
    let answered = spread(&gateway, 40).await;
    assert!(answered.get("a").is_some_and(|&n| n > 0), "{answered:?}");
}

#[tokio::test]
async fn without_a_ready_instance_the_answer_is_503_at_once() {
    let (a, b) = (Instance::start("a").await, Instance::start("b").await);
    a.set_ready(false);
    b.set_ready(false);
    let gateway = Gateway::start(vec![rooms(vec![a.url(), b.url()])]).await;
    let readiness = gateway.readiness_of("rooms").await;
    assert!(
        readiness.starts_with("degraded: no ready instance"),
        "{readiness}"
    );

    let response = gateway.get("/rooms/abc").send().await.expect("an answer");

    assert_unavailable(response).await;
    assert_eq!((a.served(), b.served()), (0, 0));
}
