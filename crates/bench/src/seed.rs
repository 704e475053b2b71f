//! What every scenario starts from, made over the public API: a host with rooms in Seoul and
//! guests, each signed in; and the distinct room-nights the load books (the original's
//! benchmark repeated one body, which here would be a double booking).

use std::future::Future;
use std::time::Duration;

use chrono::{Days, Utc};
use mybnb_client::{ApiResult, Client, Credentials, NewBooking, NewRoom, NewUser, PASSWORD};
use uuid::Uuid;

/// The users and rooms a scenario made.
pub struct Seeded {
    pub host: String,
    pub rooms: Vec<Uuid>,
    /// The guests' access tokens.
    pub guests: Vec<String>,
}

impl Seeded {
    /// Signs up `bench.host` with `rooms` rooms and `bench.guest.<n>` for `guests` guests.
    pub async fn make(api: &Client, rooms: usize, guests: usize) -> anyhow::Result<Seeded> {
        let host = user(api, "bench.host").await?;
        let mut ids = Vec::with_capacity(rooms);
        for index in 0..rooms {
            let (name, address) = (format!("Bench room {index}"), format!("{index} Bench-ro"));
            let room = NewRoom {
                name: &name,
                address: &address,
                price: 50_000 + 100 * i64::try_from(index)?,
                capacity: Some(4),
                city: Some("Seoul"),
                description: None,
            };
            ids.push(patiently(|| api.register_room(&host, &room)).await?.id);
        }
        let mut tokens = Vec::with_capacity(guests);
        for guest in 0..guests {
            tokens.push(user(api, &format!("bench.guest.{guest}")).await?);
        }
        Ok(Seeded {
            host,
            rooms: ids,
            guests: tokens,
        })
    }

    /// Every user's token, the host first.
    pub fn users(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.host).chain(&self.guests)
    }
}

/// Signs up `username` and returns their access token.
async fn user(api: &Client, username: &str) -> anyhow::Result<String> {
    let new = NewUser {
        username,
        password: PASSWORD,
        ..NewUser::default()
    };
    patiently(|| api.sign_up(&new)).await?;
    let credentials = Credentials {
        username,
        password: PASSWORD,
    };
    Ok(patiently(|| api.token(&credentials)).await?.access_token)
}

/// `call`, tried again for up to 10 s while it answers 503 (an instance behind the gateway
/// not taking requests yet).
async fn patiently<T, F: Future<Output = ApiResult<T>>>(call: impl Fn() -> F) -> ApiResult<T> {
    let mut attempts = 0;
    loop {
        match call().await {
            Err(error) if error.status().is_some_and(|s| s == 503) && attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            answer => return answer,
        }
    }
}

/// Nights ahead the API books (its horizon is 365 days).
const NIGHTS_AHEAD: u64 = 364;

/// The `index`-th distinct room-night: rooms in turn, then the next night; after
/// [`NIGHTS_AHEAD`] nights of every room, the first again (only `breaker-open`, which books
/// nothing, sends that many).
pub fn room_night(rooms: &[Uuid], index: u64) -> NewBooking {
    let count = rooms.len().max(1) as u64;
    let room = rooms
        .get((index % count) as usize)
        .copied()
        .unwrap_or_default();
    let night = Utc::now().date_naive() + Days::new(1 + (index / count) % NIGHTS_AHEAD);
    NewBooking {
        room_id: room,
        check_in: night,
        check_out: night + Days::new(1),
        guests: None,
    }
}
