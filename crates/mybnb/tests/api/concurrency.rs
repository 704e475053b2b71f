//! I2 under concurrency: many guests book overlapping stays of one room at the same moment;
//! whichever win, no two CONFIRMED bookings share a night, and every loser is told so.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

use crate::booking_client::BookingRequest;
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
            match (*status, body) {
                (StatusCode::CREATED, Ok(booking)) => created.push(booking.id),
                (StatusCode::CONFLICT, Err(problem)) => {
                    assert!(content_type.starts_with("application/problem+json"), "seed {seed}: {content_type}");
                    assert_eq!(problem.status, 409, "seed {seed}: {problem}");
                }
                (other, body) => panic!("seed {seed}: a booking answered {other}: {body:?}"),
            }
        }
        assert!(!created.is_empty(), "seed {seed}: some booking wins");

        let mut confirmed = Vec::new();
        for guest in &guests {
            for booking in app.bookings(&guest.token).await {
                if booking.status == "CONFIRMED" {
                    confirmed.push(booking);
                }
            }
        }
        let mut confirmed_ids: Vec<_> = confirmed.iter().map(|booking| booking.id).collect();
        confirmed_ids.sort();
        created.sort();
        assert_eq!(confirmed_ids, created, "seed {seed}: the 201s are exactly the CONFIRMED bookings");

        let mut holder_of_night = BTreeMap::new();
        for booking in &confirmed {
            for night in booking.check_in.iter_days().take_while(|night| *night < booking.check_out) {
                if let Some(other) = holder_of_night.insert(night, booking.id) {
                    panic!("seed {seed}: {night} is held by {other} and {}", booking.id);
                }
            }
        }
        let ledger = await_settled(&app.storage(), &app.storage()).await;
        assert_eq!(ledger.bookings_with("CONFIRMED").len(), created.len(), "seed {seed}");
        assert_eq!(ledger.nights.len(), holder_of_night.len(), "seed {seed}: the nights held are the CONFIRMED ones");
    }
}
