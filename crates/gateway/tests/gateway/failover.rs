//! Instances that fail: they are taken out at once, put back when they pass a check, and a
//! request they failed is sent to another instance when that is safe.

use std::time::Duration;

use reqwest::{RequestBuilder, Response};

use crate::support::{
    Echo, Gateway, Instance, KeepAlive, Swallower, assert_unavailable, eventually, rooms, users,
};

const EJECTIONS: &str = "mybnb_gateway_ejections_total{service=\"rooms\"}";
const RETRIES: &str = "mybnb_gateway_retries_total{service=\"rooms\"}";

/// Long enough that no check runs after the first during a test: only requests take instances
/// out.
const NO_MORE_CHECKS: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn a_killed_instance_is_taken_out_and_repeatable_requests_go_to_another() {
    let (a, b) = (Instance::start("a").await, Instance::start("b").await);
    let gateway =
        Gateway::start_checking_every(vec![rooms(vec![a.url(), b.url()])], NO_MORE_CHECKS).await;

    a.kill().await;
    // Until a request has found `a` dead, some are sent to it; each is answered by `b`.
    let mut sent = 0;
    eventually("a request to find the killed instance", async || {
        sent += 1;
        let request = if sent % 2 == 0 {
            gateway.get("/rooms/abc")
        } else {
            gateway
                .post("/rooms/abc")
                .header("idempotency-key", format!("key-{sent}"))
                .body(format!("request {sent}"))
        };
        let echo = gateway.echo(request).await;
        assert_eq!(echo.instance, "b");
        if echo.method == "POST" {
            assert_eq!(echo.body, format!("request {sent}"));
        }
        match gateway.metric(EJECTIONS).await {
            0 => Err(format!("no ejection after {sent} requests")),
            ejections => {
                assert_eq!(ejections, 1, "one request found it dead: it is out");
                Ok(())
            }
        }
    })
    .await;
    assert_eq!(gateway.metric(RETRIES).await, 1);
    for _ in 0..10 {
        assert_eq!(gateway.answered_by("/rooms/abc").await, "b");
    }
    assert_eq!(gateway.metric(RETRIES).await, 1, "`a` is out: no retries");

    // The last one: nowhere to send the retry.
    b.kill().await;
    let response = gateway.get("/rooms/abc").send().await.expect("an answer");
    assert_unavailable(response).await;
    assert_eq!(gateway.metric(EJECTIONS).await, 2);
    let readiness = gateway.readiness_of("rooms").await;
    assert!(
        readiness.starts_with("degraded: no ready instance")
            && readiness.contains("request failed"),
        "{readiness}"
    );
}

#[tokio::test]
async fn a_killed_instance_is_taken_out_by_its_check_and_put_back_when_it_passes() {
    let (a, b) = (Instance::start("a").await, Instance::start("b").await);
    let gateway = Gateway::start(vec![rooms(vec![a.url(), b.url()])]).await;

    let address = a.kill().await;
    eventually(
        "the check to take the killed instance out",
        async || match gateway.metric(EJECTIONS).await {
            0 => Err("not taken out".to_owned()),
            _ => Ok(()),
        },
    )
    .await;
    for _ in 0..10 {
        assert_eq!(gateway.answered_by("/rooms").await, "b");
    }

    let a = Instance::restart("a", address).await;
    eventually(
        "the revived instance to get a request",
        async || match gateway.answered_by("/rooms").await.as_str() {
            "a" => Ok(()),
            other => Err(format!("answered by {other}")),
        },
    )
    .await;
    assert!(a.served() > 0);
}

#[tokio::test]
async fn a_post_that_never_reached_a_killed_instance_is_retried_without_a_key() {
    // Without keep-alive the gateway holds no connection to `a`: reaching it fails to connect.
    let a = Instance::start_with("a", KeepAlive::Off).await;
    let b = Instance::start("b").await;
    let gateway =
        Gateway::start_checking_every(vec![rooms(vec![a.url(), b.url()])], NO_MORE_CHECKS).await;

    a.kill().await;
    let mut sent = 0;
    eventually("a request to find the killed instance", async || {
        sent += 1;
        let body = format!("request {sent}");
        let echo = gateway
            .echo(gateway.post("/rooms").body(body.clone()))
            .await;
        assert_eq!((echo.instance.as_str(), echo.body), ("b", body));
        match gateway.metric(EJECTIONS).await {
            0 => Err(format!("no ejection after {sent} requests")),
            _ => Ok(()),
        }
    })
    .await;
    assert_eq!(gateway.metric(RETRIES).await, 1);
}

#[tokio::test]
async fn a_request_that_reached_an_instance_is_retried_only_if_repeatable() {
    let swallower = Swallower::start().await;
    let b = Instance::start("b").await;
    let gateway = Gateway::start(vec![rooms(vec![swallower.url(), b.url()])]).await;

    // Without a key a POST may have done its work before the connection broke: not repeated.
    let (response, also_served) = until_swallowed(&swallower, &b, || {
        gateway.post("/rooms").body("without a key")
    })
    .await;
    assert_unavailable(response).await;
    assert!(!also_served, "`b` got the POST that the swallower took");
    assert_eq!(gateway.metric(RETRIES).await, 0);
    assert_eq!(gateway.metric(EJECTIONS).await, 1);

    // With an Idempotency-Key it is safe to send again.
    let (response, also_served) = until_swallowed(&swallower, &b, || {
        gateway
            .post("/rooms")
            .header("idempotency-key", "a-key")
            .body("with a key")
    })
    .await;
    assert!(also_served);
    assert_eq!(response.status(), 200);
    let echo: Echo = response.json().await.expect("an echo");
    assert_eq!(
        (echo.instance.as_str(), echo.body.as_str()),
        ("b", "with a key")
    );
    assert_eq!(gateway.metric(RETRIES).await, 1);
    assert_eq!(gateway.metric(EJECTIONS).await, 2);
}

#[tokio::test]
async fn a_key_makes_a_post_repeatable_only_for_a_service_that_honours_keys() {
    let swallower = Swallower::start().await;
    let b = Instance::start("b").await;
    // `users` ignores Idempotency-Key (as identity does): a key proves nothing there.
    let gateway = Gateway::start(vec![users(vec![swallower.url(), b.url()])]).await;

    let (response, also_served) = until_swallowed(&swallower, &b, || {
        gateway
            .post("/users")
            .header("idempotency-key", "a-key")
            .body("with a key")
    })
    .await;
    assert_unavailable(response).await;
    assert!(!also_served, "`b` got the POST that the swallower took");
    assert_eq!(
        gateway
            .metric("mybnb_gateway_retries_total{service=\"users\"}")
            .await,
        0
    );
}

/// Sends requests until one reaches the swallower (put back after each by its next check); the
/// others must be answered by `other`. Gives the answer to that one, and whether `other` got it
/// too.
async fn until_swallowed(
    swallower: &Swallower,
    other: &Instance,
    request: impl Fn() -> RequestBuilder,
) -> (Response, bool) {
    eventually("a request to reach the swallowing instance", async || {
        let (swallowed, served) = (swallower.swallowed(), other.served());
        let response = request().send().await.expect("an answer");
        if swallower.swallowed() > swallowed {
            return Ok((response, other.served() > served));
        }
        assert_eq!(response.status(), 200);
        let echo: Echo = response.json().await.expect("an echo");
        assert_eq!(echo.instance, other.name);
        Err("every request so far went to the other instance".to_owned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_last_instance_dies_every_request_in_flight_is_answered_at_once() {
    let a = Instance::start_with("a", KeepAlive::Off).await;
    let gateway = Gateway::start_checking_every(vec![rooms(vec![a.url()])], NO_MORE_CHECKS).await;

    a.kill().await;
    let answers = futures_util::future::join_all(
        (0..100).map(|n| gateway.get(&format!("/rooms/{n}")).send()),
    )
    .await;

    for answer in answers {
        assert_unavailable(answer.expect("an answer")).await;
    }
}

/// A service given as one address (on Kubernetes, its Service) is a balancer itself: a failed
/// check — say, one that reached a pod as it drains — must not cut every request off.
#[tokio::test]
async fn a_service_given_as_one_address_is_never_taken_out() {
    let only = Instance::start("only").await;
    let gateway = Gateway::start(vec![rooms(vec![only.url()])]).await;
    assert_eq!(gateway.readiness_of("rooms").await, "ready");

    only.set_ready(false);
    eventually("the failed check to be reported", async || {
        let readiness = gateway.readiness_of("rooms").await;
        if readiness.starts_with("degraded:") && readiness.contains("not ready (503") {
            Ok(())
        } else {
            Err(readiness)
        }
    })
    .await;
    for _ in 0..10 {
        assert_eq!(gateway.answered_by("/rooms/abc").await, "only");
    }
    assert_eq!(gateway.metric(EJECTIONS).await, 0);

    only.set_ready(true);
    eventually("the passing check to be reported", async || {
        let readiness = gateway.readiness_of("rooms").await;
        if readiness == "ready" {
            Ok(())
        } else {
            Err(readiness)
        }
    })
    .await;
}
