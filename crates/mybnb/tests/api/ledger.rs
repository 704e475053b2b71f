//! Invariant I1, read off the databases themselves: after quiescence every CONFIRMED booking has
//! exactly one APPROVED payment of its total, and every APPROVED payment belongs to a CONFIRMED
//! booking (a cancelled booking's payment is refunded by event: CANCELLED).
//! With it, what a settled booking store holds: no booking left PENDING, no rejected booking
//! whose charge is still unsure, and nights held by exactly the CONFIRMED bookings.

use chrono::NaiveDate;
use mybnb_testkit::eventually::eventually;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::storage::Storage;

/// A row of `bookings`.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: String,
    pub room_id: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub total_price: i64,
    pub status: String,
    pub payment_id: Option<String>,
    pub payment_settled: bool,
}

/// A row of `payments`.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: String,
    pub booking_id: String,
    pub amount: i64,
    pub status: String,
}

/// A row of `booking_nights`: a room-night and the booking holding it.
#[derive(Debug, Clone)]
pub struct NightRow {
    pub room_id: String,
    pub night: NaiveDate,
    pub booking_id: String,
}

/// Every booking, night and payment, read at one moment.
#[derive(Debug)]
pub struct Ledger {
    pub bookings: Vec<BookingRow>,
    pub nights: Vec<NightRow>,
    pub payments: Vec<PaymentRow>,
}

fn text(row: &AnyRow, column: &str) -> String {
    row.try_get(column)
        .unwrap_or_else(|error| panic!("{column} as text: {error}"))
}

fn number(row: &AnyRow, column: &str) -> i64 {
    row.try_get(column)
        .unwrap_or_else(|error| panic!("{column} as a number: {error}"))
}

fn date(row: &AnyRow, column: &str) -> NaiveDate {
    text(row, column).parse().expect("a stored date")
}

async fn rows(connection: &mut AnyConnection, query: &'static str) -> Vec<AnyRow> {
    sqlx::query(query)
        .fetch_all(connection)
        .await
        .unwrap_or_else(|error| panic!("{query}: {error}"))
}

impl Ledger {
    /// Reads the bookings and nights kept in `bookings` and the payments kept in `payments`
    /// (the same storage when one process runs both contexts).
    pub async fn read(bookings: &Storage, payments: &Storage) -> Ledger {
        let mut connection = bookings.connect("booking").await;
        let booking_rows = rows(
            &mut connection,
            "SELECT id, room_id, check_in, check_out, total_price, status, payment_id, \
             payment_settled FROM bookings ORDER BY id",
        )
        .await;
        let night_rows = rows(
            &mut connection,
            "SELECT room_id, night, booking_id FROM booking_nights ORDER BY room_id, night",
        )
        .await;
        let mut connection = payments.connect("payment").await;
        let payment_rows = rows(
            &mut connection,
            "SELECT id, booking_id, amount, status FROM payments ORDER BY id",
        )
        .await;
        Ledger {
            bookings: booking_rows.iter().map(booking_row).collect(),
            nights: night_rows
                .iter()
                .map(|row| NightRow {
                    room_id: text(row, "room_id"),
                    night: date(row, "night"),
                    booking_id: text(row, "booking_id"),
                })
                .collect(),
            payments: payment_rows
                .iter()
                .map(|row| PaymentRow {
                    id: text(row, "id"),
                    booking_id: text(row, "booking_id"),
                    amount: number(row, "amount"),
                    status: text(row, "status"),
                })
                .collect(),
        }
    }

    /// The booking with `id`; it must exist.
    /// The booking `id` (a UUID or its text), which must be stored.
    pub fn booking(&self, id: impl std::fmt::Display) -> &BookingRow {
        let id = id.to_string();
        self.bookings
            .iter()
            .find(|booking| booking.id == id)
            .unwrap_or_else(|| panic!("booking {id} is stored: {self:#?}"))
    }

    pub fn bookings_with(&self, status: &str) -> Vec<&BookingRow> {
        self.bookings
            .iter()
            .filter(|booking| booking.status == status)
            .collect()
    }

    /// The payments recorded for `booking_id` (a UUID or its text).
    pub fn payments_of(&self, booking_id: impl std::fmt::Display) -> Vec<&PaymentRow> {
        let booking_id = booking_id.to_string();
        self.payments
            .iter()
            .filter(|payment| payment.booking_id == booking_id)
            .collect()
    }

    fn nights_of(&self, booking: &BookingRow) -> Vec<NaiveDate> {
        self.nights
            .iter()
            .filter(|night| night.booking_id == booking.id && night.room_id == booking.room_id)
            .map(|night| night.night)
            .collect()
    }

    /// What is not settled yet or breaks I1; empty when all is settled and consistent.
    pub fn violations(&self) -> Vec<String> {
        let mut found = Vec::new();
        for booking in &self.bookings {
            let id = &booking.id;
            let payments = self.payments_of(id);
            let held = self.nights_of(booking);
            let approved = payments.iter().any(|payment| payment.status == "APPROVED");
            match booking.status.as_str() {
                "CONFIRMED" => {
                    let paid = matches!(payments.as_slice(), [payment]
                        if payment.status == "APPROVED"
                            && payment.amount == booking.total_price
                            && booking.payment_id.as_deref() == Some(payment.id.as_str()));
                    if !paid {
                        let total = booking.total_price;
                        found.push(format!(
                            "CONFIRMED {id} (total {total}, payment {:?}) is not paid by exactly \
                             one APPROVED payment of its total: {payments:?}",
                            booking.payment_id
                        ));
                    }
                    let expected: Vec<NaiveDate> = booking
                        .check_in
                        .iter_days()
                        .take_while(|night| *night < booking.check_out)
                        .collect();
                    if held != expected {
                        found.push(format!(
                            "CONFIRMED {id} holds nights {held:?}, not {expected:?}"
                        ));
                    }
                }
                "PENDING" => found.push(format!("{id} is still PENDING")),
                "REJECTED" if !booking.payment_settled => {
                    found.push(format!(
                        "REJECTED {id}'s payment is not settled yet: {payments:?}"
                    ));
                }
                _ => {}
            }
            if matches!(booking.status.as_str(), "REJECTED" | "CANCELLED") && !held.is_empty() {
                found.push(format!(
                    "{} {id} still holds nights {held:?}",
                    booking.status
                ));
            }
            if booking.status == "REJECTED" && approved {
                found.push(format!(
                    "REJECTED {id} has an APPROVED payment: {payments:?}"
                ));
            }
        }
        for payment in self
            .payments
            .iter()
            .filter(|payment| payment.status == "APPROVED")
        {
            let booking = self
                .bookings
                .iter()
                .find(|booking| booking.id == payment.booking_id);
            if booking.is_none_or(|booking| booking.status != "CONFIRMED") {
                found.push(format!(
                    "APPROVED payment {payment:?} belongs to no CONFIRMED booking: {booking:?}"
                ));
            }
        }
        found
    }
}

fn booking_row(row: &AnyRow) -> BookingRow {
    BookingRow {
        id: text(row, "id"),
        room_id: text(row, "room_id"),
        check_in: date(row, "check_in"),
        check_out: date(row, "check_out"),
        total_price: number(row, "total_price"),
        status: text(row, "status"),
        payment_id: row.try_get("payment_id").expect("payment_id as text"),
        payment_settled: number(row, "payment_settled") == 1,
    }
}

/// Waits until the bookings in `bookings` and the payments in `payments` are settled and
/// consistent — I1 holds — and returns them as they are then.
pub async fn await_settled(bookings: &Storage, payments: &Storage) -> Ledger {
    eventually(
        "bookings and payments settle consistently (I1)",
        async || {
            let ledger = Ledger::read(bookings, payments).await;
            let violations = ledger.violations();
            if violations.is_empty() {
                Ok(ledger)
            } else {
                Err(violations.join("\n"))
            }
        },
    )
    .await
}
