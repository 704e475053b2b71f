//! What a listener allows a connection (issue 14's slowloris findings): a request's head must
//! arrive within `http_header_timeout_ms`, counted from when the connection opens or falls idle
//! after a response; and no more than `http_max_connections` are open at once — one more is
//! answered 503 with `Retry-After` and closed, and the listener serves again once one closes.

use std::time::Duration;

use mybnb_client::SETTLED_WITHIN;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, spawn_app_with};

/// Reads what the server sends until it closes the connection; fails if it does not close it
/// within [`SETTLED_WITHIN`].
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(SETTLED_WITHIN, stream.read_to_end(&mut received)).await;
    assert!(
        read.is_ok(),
        "the server keeps the connection open: {received:?}"
    );
    String::from_utf8_lossy(&received).into_owned()
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address).await.expect("a connection")
}

fn quick_header_timeout(settings: &mut mybnb::Settings) {
    settings.connection_limits.header_timeout = Duration::from_millis(300);
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let Some(app) = spawn_app_with(Backend::Sqlite, quick_header_timeout).await else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nhost: mybnb\r\nx-slow: ")
        .await
        .expect("a partial head is sent");
    let answer = until_closed(&mut stream).await;
    assert!(
        !answer.contains("200 OK"),
        "the half-sent request was not served: {answer}"
    );
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let Some(app) = spawn_app_with(Backend::Sqlite, quick_header_timeout).await else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nhost: mybnb\r\n\r\n")
        .await
        .expect("a request is sent");
    let answer = until_closed(&mut stream).await;
    assert!(
        answer.starts_with("HTTP/1.1 200 OK"),
        "served, then closed when idle: {answer}"
    );
}

#[tokio::test]
async fn a_connection_over_the_cap_is_turned_away_with_503() {
    const CAP: usize = 3;
    let Some(app) = spawn_app_with(Backend::Sqlite, |settings| {
        settings.connection_limits.max_connections = CAP;
    })
    .await
    else {
        return;
    };
    // The harness's own pool may hold a connection already: one of CAP + 1 fresh ones is over.
    let mut held = Vec::new();
    let mut turned_away = None;
    for _ in 0..=CAP {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /health/live HTTP/1.1\r\nhost: mybnb\r\n\r\n")
            .await
            .expect("a request is sent");
        let mut head = [0; 12];
        stream.read_exact(&mut head).await.expect("an answer");
        if &head == b"HTTP/1.1 503" {
            turned_away = Some(until_closed(&mut stream).await);
            break;
        }
        held.push(stream);
    }
    let answer = turned_away.expect("a connection over the cap is turned away");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    drop(held);
    mybnb_testkit::eventually::eventually("the listener serves again", async || {
        match app.api.live().await {
            Ok(()) => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    })
    .await;
}
