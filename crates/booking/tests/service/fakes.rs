//! In-memory stand-ins for booking's ports, keeping the rules the SQL store keeps: a night is
//! claimed once, a key names one booking, and state changes are compare-and-set on the status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use mybnb_booking::domain::{Booking, BookingStatus, IdempotencyKey, Money, RoomSnapshot};
use mybnb_booking::ports::{
    BookingRepository, BoxFuture, Claim, PaymentFailure, PaymentGateway, PaymentOrder,
    PaymentState, RoomCatalog,
};
use mybnb_events::CorrelationId;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_platform::db::Written;
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

#[derive(Default)]
struct Stored {
    bookings: HashMap<Uuid, Booking>,
    nights: HashMap<(Uuid, NaiveDate), Uuid>,
    keys: HashMap<(Uuid, String), Uuid>,
    handled: Vec<Handling>,
    settled: Vec<Uuid>,
}

/// Bookings in memory.
#[derive(Clone, Default)]
pub struct MemoryBookings(Arc<Mutex<Stored>>);

impl MemoryBookings {
    fn with<T>(&self, change: impl FnOnce(&mut Stored) -> T) -> T {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The booking as stored.
    pub fn get(&self, id: Uuid) -> Option<Booking> {
        self.with(|stored| stored.bookings.get(&id).cloned())
    }

    /// Whether the booking's payment was recorded as settled after a void.
    pub fn settled(&self, id: Uuid) -> bool {
        self.with(|stored| stored.settled.contains(&id))
    }

    /// Whether any night of the room is held.
    pub fn holds_nights(&self, booking: Uuid) -> bool {
        self.with(|stored| stored.nights.values().any(|holder| *holder == booking))
    }

    /// Moves the stored booking to `booking`'s status if it is still `from`.
    fn compare_and_set(stored: &mut Stored, booking: &Booking, from: &str) -> bool {
        match stored.bookings.get_mut(&booking.id()) {
            Some(current) if current.status().name() == from => {
                *current = booking.clone();
                true
            }
            _ => false,
        }
    }

    fn release(stored: &mut Stored, booking: Uuid) {
        stored.nights.retain(|_, holder| *holder != booking);
    }
}

fn written(won: bool) -> Written<()> {
    if won {
        Written::Applied(())
    } else {
        Written::LostRace
    }
}

impl BookingRepository for MemoryBookings {
    async fn claim(
        &self,
        booking: &Booking,
        key: Option<&IdempotencyKey>,
    ) -> anyhow::Result<Claim> {
        let used = self.with(|stored| {
            if let Some(key) = key {
                let slot = (booking.guest_id(), key.as_str().to_owned());
                if let Some(first) = stored.keys.get(&slot) {
                    return Some(stored.bookings.get(first).cloned());
                }
            }
            let nights: Vec<_> = booking
                .stay()
                .each_night()
                .map(|night| (booking.room().id, night))
                .collect();
            if nights.iter().any(|night| stored.nights.contains_key(night)) {
                return Some(None);
            }
            for night in nights {
                stored.nights.insert(night, booking.id());
            }
            if let Some(key) = key {
                stored
                    .keys
                    .insert((booking.guest_id(), key.as_str().to_owned()), booking.id());
            }
            stored.bookings.insert(booking.id(), booking.clone());
            None
        });
        Ok(match (used, key) {
            (None, _) => Claim::Claimed,
            (Some(None), _) | (Some(Some(_)), None) => Claim::NightsTaken,
            (Some(Some(first)), Some(_)) => match first.status() {
                BookingStatus::Rejected { .. } => Claim::KeyReleased,
                _ => Claim::KeyUsed(first),
            },
        })
    }

    async fn confirm(
        &self,
        booking: &Booking,
        _event: &BookingConfirmed,
        _correlation: &CorrelationId,
    ) -> anyhow::Result<Written<()>> {
        Ok(written(self.with(|stored| {
            Self::compare_and_set(stored, booking, BookingStatus::PENDING)
        })))
    }

    async fn reject(&self, booking: &Booking) -> anyhow::Result<Written<()>> {
        Ok(written(self.with(|stored| {
            let won = Self::compare_and_set(stored, booking, BookingStatus::PENDING);
            if won {
                Self::release(stored, booking.id());
                stored.keys.retain(|_, id| *id != booking.id());
            }
            won
        })))
    }

    async fn cancel(
        &self,
        booking: &Booking,
        _event: &BookingCancelled,
        _correlation: &CorrelationId,
    ) -> anyhow::Result<Written<()>> {
        Ok(written(self.with(|stored| {
            let won = Self::compare_and_set(stored, booking, BookingStatus::CONFIRMED);
            if won {
                Self::release(stored, booking.id());
            }
            won
        })))
    }

    async fn mark_payment_settled(&self, booking_id: Uuid) -> anyhow::Result<()> {
        self.with(|stored| stored.settled.push(booking_id));
        Ok(())
    }

    async fn find(&self, id: Uuid) -> anyhow::Result<Option<Booking>> {
        Ok(self.get(id))
    }

    async fn find_by_key(
        &self,
        guest_id: Uuid,
        key: &IdempotencyKey,
    ) -> anyhow::Result<Option<Booking>> {
        Ok(self.with(|stored| {
            let id = stored.keys.get(&(guest_id, key.as_str().to_owned()))?;
            stored.bookings.get(id).cloned()
        }))
    }

    async fn list_for_guest(&self, guest_id: Uuid) -> anyhow::Result<Vec<Booking>> {
        Ok(self.with(|stored| {
            let mut bookings: Vec<_> = stored
                .bookings
                .values()
                .filter(|booking| booking.guest_id() == guest_id)
                .cloned()
                .collect();
            bookings.sort_by_key(|booking| std::cmp::Reverse(booking.id()));
            bookings
        }))
    }

    async fn unsettled(&self, stale_before: DateTime<Utc>) -> anyhow::Result<Vec<Booking>> {
        Ok(self.with(|stored| {
            stored
                .bookings
                .values()
                .filter(|booking| {
                    let settled = booking.status().payment_settled()
                        || stored.settled.contains(&booking.id());
                    let stale = !matches!(booking.status(), BookingStatus::Pending)
                        || booking.created_at() < stale_before;
                    !settled && stale
                })
                .cloned()
                .collect()
        }))
    }

    async fn upcoming_for_room(
        &self,
        room_id: Uuid,
        today: NaiveDate,
    ) -> anyhow::Result<Vec<Booking>> {
        Ok(self.with(|stored| {
            stored
                .bookings
                .values()
                .filter(|booking| {
                    booking.room().id == room_id
                        && matches!(booking.status(), BookingStatus::Confirmed { .. })
                        && booking.stay().check_in() > today
                })
                .cloned()
                .collect()
        }))
    }

    async fn cancel_for_event(
        &self,
        cancellations: &[(Booking, BookingCancelled)],
        handling: &Handling,
        _correlation: &CorrelationId,
    ) -> anyhow::Result<Written<usize>> {
        Ok(self.with(|stored| {
            if stored.handled.contains(handling) {
                return Written::AlreadyHandled;
            }
            stored.handled.push(*handling);
            let mut cancelled = 0;
            for (booking, _) in cancellations {
                if Self::compare_and_set(stored, booking, BookingStatus::CONFIRMED) {
                    Self::release(stored, booking.id());
                    cancelled += 1;
                }
            }
            Written::Applied(cancelled)
        }))
    }
}

/// One room, always there.
pub struct OneRoom(pub RoomSnapshot);

impl OneRoom {
    pub fn new() -> OneRoom {
        OneRoom(RoomSnapshot {
            id: Uuid::now_v7(),
            name: "Hanok".to_owned(),
            host_id: Uuid::now_v7(),
            price: Money::won(100_000).unwrap_or_else(|error| panic!("{error}")),
            capacity: 2,
        })
    }
}

impl RoomCatalog for OneRoom {
    fn snapshot(&self, room_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<RoomSnapshot>>> {
        let room = (room_id == self.0.id).then(|| self.0.clone());
        Box::pin(async move { Ok(room) })
    }
}

/// A payment provider that answers as told and remembers what it was asked.
#[derive(Default)]
pub struct ScriptedPayments {
    /// What a charge answers; `None`: it times out.
    pub charge: Mutex<Option<PaymentState>>,
    /// What the provider says of a booking's payment when asked later.
    pub status: Mutex<HashMap<Uuid, PaymentState>>,
    pub voided: Mutex<Vec<Uuid>>,
}

impl PaymentGateway for ScriptedPayments {
    fn charge(
        &self,
        order: PaymentOrder,
        _correlation: CorrelationId,
    ) -> BoxFuture<'_, Result<PaymentState, PaymentFailure>> {
        let answer = *self.charge.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = answer {
            self.status
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(order.booking_id, state);
        }
        Box::pin(async move {
            answer.ok_or(PaymentFailure::TimedOut(std::time::Duration::from_millis(
                610,
            )))
        })
    }

    fn status(
        &self,
        booking_id: Uuid,
    ) -> BoxFuture<'_, Result<Option<PaymentState>, PaymentFailure>> {
        let state = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&booking_id)
            .copied();
        Box::pin(async move { Ok(state) })
    }

    fn void(
        &self,
        order: PaymentOrder,
        _correlation: CorrelationId,
    ) -> BoxFuture<'_, Result<(), PaymentFailure>> {
        self.voided
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(order.booking_id);
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(order.booking_id, PaymentState::Returned);
        Box::pin(async { Ok(()) })
    }
}
