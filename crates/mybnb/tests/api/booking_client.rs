//! The booking and payment APIs as typed helpers on [`ApiClient`], the dates bookings take, and
//! the operator's view (metrics, readiness) that shows the payment circuit.

use chrono::NaiveDate;
use mybnb_client::{Booking, Payment, Problem, Readiness};
pub use mybnb_client::{day, metric};
use mybnb_payment::http::PaymentRecord;
use reqwest::{Method, Response, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use mybnb_testkit::eventually::eventually;
use tokio::task::JoinSet;

use crate::helpers::{ApiClient, TestUser, header, must};

/// A booking request for `nights` nights from `from` days after today, as JSON so that a test
/// can spoil it.
pub fn stay(room_id: Uuid, from: u64, nights: u64) -> Value {
    json!({
        "roomId": room_id,
        "checkIn": day(from).to_string(),
        "checkOut": day(from + nights).to_string(),
    })
}

/// A host and one room of theirs.
pub struct Listing {
    pub host: TestUser,
    pub id: Uuid,
    pub name: String,
    pub price: i64,
    pub capacity: u32,
}

impl Listing {
    /// A request to book this room for `nights` nights from `from` days after today.
    pub fn stay(&self, from: u64, nights: u64) -> Value {
        stay(self.id, from, nights)
    }
}

/// One `POST /bookings` of many sent at once.
pub struct BookingRequest {
    pub token: String,
    pub body: Value,
    /// The `Idempotency-Key`, if any.
    pub key: Option<String>,
}

/// How a request was answered: its status, its content type, and the booking made or the
/// problem why not.
pub type Answer = (StatusCode, String, Result<Booking, Problem>);

impl ApiClient {
    /// A new host with a room of `price` won a night that sleeps 4.
    pub async fn listing(&self, price: i64) -> Listing {
        let host = self.new_user("host").await;
        let name = format!("Hanok at {price}");
        let body = json!({ "name": name, "address": "12 Bukchon-ro, Jongno-gu", "city": "Seoul",
                           "price": price, "capacity": 4 });
        let room = self.register_room(&host.token, &body).await;
        Listing {
            host,
            id: room.id,
            name,
            price,
            capacity: 4,
        }
    }

    pub async fn book_raw(
        &self,
        token: &str,
        body: &impl Serialize,
        key: Option<&str>,
    ) -> Response {
        let mut request = self
            .request(Method::POST, "/bookings", Some(token))
            .json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send(request).await
    }

    /// Books as the holder of `token`; the booking must be made. Returns it.
    pub async fn book(&self, token: &str, body: &Value) -> Booking {
        let response = self.book_raw(token, body, None).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::CREATED, "booking {body}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("a booking ({error}): {text}"))
    }

    /// Sends every request at once; returns the answers in sending order.
    pub async fn book_all_at_once(&self, requests: Vec<BookingRequest>) -> Vec<Answer> {
        let mut flights = JoinSet::new();
        for (index, request) in requests.into_iter().enumerate() {
            let mut sending = self.request(Method::POST, "/bookings", Some(&request.token));
            if let Some(key) = request.key {
                sending = sending.header("idempotency-key", key);
            }
            let sending = sending.json(&request.body).send();
            flights.spawn(async move {
                let response = sending.await.expect("the request is answered");
                let status = response.status();
                let content_type = header(&response, reqwest::header::CONTENT_TYPE);
                let text = response.text().await.expect("a body");
                let body = if status.is_success() {
                    Ok(serde_json::from_str(&text).expect("a booking"))
                } else {
                    Err(serde_json::from_str(&text).expect("a problem document"))
                };
                (index, (status, content_type, body))
            });
        }
        let mut answers = flights.join_all().await;
        answers.sort_by_key(|(index, _)| *index);
        answers.into_iter().map(|(_, answer)| answer).collect()
    }

    pub async fn booking_raw(&self, token: &str, id: impl std::fmt::Display) -> Response {
        let path = format!("/bookings/{id}");
        self.send(self.request(Method::GET, &path, Some(token)))
            .await
    }

    /// The booking as the holder of `token` sees it; it must be visible to them.
    pub async fn booking(&self, token: &str, id: Uuid) -> Booking {
        must(
            self.api.booking(token, id).await,
            format!("reading booking {id}"),
        )
    }

    /// `GET /bookings`: the bookings of the holder of `token`, as guest.
    pub async fn bookings(&self, token: &str) -> Vec<Booking> {
        must(self.api.bookings(token).await, "listing bookings")
    }

    pub async fn cancel_raw(&self, token: &str, id: impl std::fmt::Display) -> Response {
        let path = format!("/bookings/{id}/cancel");
        self.send(self.request(Method::POST, &path, Some(token)))
            .await
    }

    /// `GET /payments?bookingId=`, as the holder of `token`, whatever `booking_id` is.
    pub async fn payments_raw(&self, token: &str, booking_id: impl std::fmt::Display) -> Response {
        let request = self.request(Method::GET, "/payments", Some(token));
        self.send(request.query(&[("bookingId", booking_id.to_string())]))
            .await
    }

    /// The booking's payments as the holder of `token` sees them; they must be visible.
    pub async fn payments(&self, token: &str, booking_id: Uuid) -> Vec<Payment> {
        let payments = self.api.payments(token, booking_id).await;
        must(payments, format!("the payments of {booking_id}"))
    }

    /// A request to the internal payment API with `token` (the service token when `None`).
    pub async fn internal_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Response {
        let token = token.unwrap_or(&self.service_token);
        let mut request = self.request(method, path, Some(token));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    /// The booking's payment as the internal API shows it; `None` when it has none.
    pub async fn internal_payment(&self, booking_id: Uuid) -> Option<PaymentRecord> {
        let path = format!("/internal/payments/{booking_id}");
        let response = self.internal_raw(Method::GET, &path, None, None).await;
        match response.status() {
            StatusCode::NOT_FOUND => None,
            StatusCode::OK => Some(response.json().await.expect("a payment as JSON")),
            status => panic!(
                "the payment of {booking_id}: {status} {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }

    /// Charges `order` through the internal API; the charge must be answered 200.
    pub async fn internal_charge(&self, order: &Value) -> PaymentRecord {
        let response = self
            .internal_raw(Method::POST, "/internal/payments", Some(order), None)
            .await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::OK, "charging {order}: {text}");
        serde_json::from_str(&text).expect("a payment as JSON")
    }

    /// Waits until a search for `[check_in, check_out)` finds exactly the rooms `expected`
    /// free: search follows bookings by event.
    pub async fn await_free_rooms(
        &self,
        check_in: NaiveDate,
        check_out: NaiveDate,
        expected: &[Uuid],
    ) {
        eventually("search follows the bookings", async || {
            let found = self.free_rooms(check_in, check_out).await;
            if found == expected {
                Ok(())
            } else {
                Err(format!("{found:?}"))
            }
        })
        .await;
    }

    /// Ids of the rooms a search finds free on every night of `[check_in, check_out)`.
    pub async fn free_rooms(&self, check_in: NaiveDate, check_out: NaiveDate) -> Vec<Uuid> {
        let (check_in, check_out) = (check_in.to_string(), check_out.to_string());
        let query = [
            ("checkIn", check_in.as_str()),
            ("checkOut", check_out.as_str()),
            ("size", "100"),
        ];
        self.search(&query).await.ids()
    }

    pub async fn metrics(&self) -> String {
        must(self.api.metrics().await, "/metrics")
    }

    /// `/health/ready`'s report; the process must be ready for traffic.
    pub async fn readiness(&self) -> Readiness {
        must(self.api.readiness().await, "/health/ready")
    }
}
