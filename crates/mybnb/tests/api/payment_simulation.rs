//! The simulated provider as the `mybnb` binary is told about it, in every form the contract
//! gives: `MYBNB_PAYMENT_LATENCY_MS` as `0`, `500` or a range `400..620`, and the rates.

use reqwest::StatusCode;

use crate::helpers::{Backend, Storage, assert_problem};
use crate::process::MybnbProcess;

/// Starts `mybnb` with `variables` on fresh SQLite storage; it must become ready.
async fn started_with(variables: &[(&str, &str)]) -> MybnbProcess {
    let storage = Storage::create(Backend::Sqlite)
        .await
        .expect("SQLite storage");
    MybnbProcess::start(&storage, variables).await
}

#[tokio::test]
async fn every_documented_latency_form_is_accepted() {
    for latency in ["0", "500", "400..620"] {
        let process = started_with(&[("MYBNB_PAYMENT_LATENCY_MS", latency)]).await;
        assert!(
            process
                .log()
                .contains(&format!("payment_latency_ms={latency}")),
            "the effective latency is logged: {}",
            process.log()
        );
    }
}

/// The README's tour: `MYBNB_PAYMENT_FAILURE_RATE=1` makes every booking a 503.
#[tokio::test]
async fn a_failure_rate_of_one_fails_every_booking() {
    let process = started_with(&[("MYBNB_PAYMENT_FAILURE_RATE", "1")]).await;
    let listing = process.listing(10_000).await;
    let guest = process.new_user("guest").await;
    let response = process
        .book_raw(&guest.token, &listing.stay(3, 1), None)
        .await;
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
}
