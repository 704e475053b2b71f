//! I2 under concurrency: many guests book overlapping stays of one room at the same moment;
//! whichever win, no two CONFIRMED bookings share a night, and every loser is told so.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

use crate::booking_client::{BookingRequest, id_of};
use crate::ledger::await_settled;

const GUESTS: usize = 5;
const REQUESTS: usize = 40;

api_tests! {
    async fn overlapping_concurrent_bookings_never_share_a_night(app) {
        let listing = app.listing(25_000).await;
        let mut guests = Vec::new();
        for _ in 0..GUESTS {
            guests.push(app.new_user("guest").await);
        }
        let seed: u64 = rand::rng().random();
        let mut random = StdRng::seed_from_u64(seed);
        let requests: Vec<BookingRequest> = (0..REQUESTS)
            .map(|number| {
                let (from, nights) = (random.random_range(30..50), random.random_range(1..=5));
                BookingRequest {
                    token: guests[number % GUESTS].token.clone(),
                    body: listing.stay(from, nights),
                    key: None,
                }
            })
            .collect();

        let answers = app.book_all_at_once(requests).await;
        let mut created = Vec::new();
        for (status, content_type, body) in &answers {
            match *status {
                StatusCode::CREATED => created.push(id_of(body)),
                StatusCode::CONFLICT => {
                    assert!(content_type.starts_with("application/problem+json"), "seed {seed}: {content_type}");
                    assert_eq!(body["status"], 409, "seed {seed}: {body}");
                }
                other => panic!("seed {seed}: a booking answered {other}: {body}"),
            }
        }
        assert!(!created.is_empty(), "seed {seed}: some booking wins");

        let mut confirmed = Vec::new();
        for guest in &guests {
            for booking in app.bookings(&guest.token).await {
                if booking["status"] == "CONFIRMED" {
                    confirmed.push(booking);
                }
            }
        }
        let mut confirmed_ids: Vec<String> = confirmed.iter().map(id_of).collect();
        confirmed_ids.sort();
        created.sort();
        assert_eq!(confirmed_ids, created, "seed {seed}: the 201s are exactly the CONFIRMED bookings");

        let mut holder_of_night = BTreeMap::new();
        for booking in &confirmed {
            let check_in: chrono::NaiveDate = booking["checkIn"].as_str().expect("checkIn").parse().expect("a date");
            let check_out: chrono::NaiveDate = booking["checkOut"].as_str().expect("checkOut").parse().expect("a date");
            for night in check_in.iter_days().take_while(|night| *night < check_out) {
                if let Some(other) = holder_of_night.insert(night, id_of(booking)) {
                    panic!("seed {seed}: {night} is held by {other} and {}", id_of(booking));
                }
            }
        }
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.bookings_with("CONFIRMED").len(), created.len(), "seed {seed}");
        assert_eq!(ledger.nights.len(), holder_of_night.len(), "seed {seed}: the nights held are the CONFIRMED ones");
    }
}
