//! What the room service needs from the outside world.

use std::future::Future;

use mybnb_events::room::{RoomDeleted, RoomRegistered};

use chrono::NaiveDate;
use mybnb_platform::BoxFuture;
use uuid::Uuid;

use crate::domain::{Room, RoomId, SearchCriteria, SearchResults};

/// Which rooms are booked when: the booking context, asked at search time. Chosen at run
/// time (in-process when booking runs here), so object-safe.
pub trait Availability: Send + Sync + 'static {
    /// Rooms with at least one night booked in `[from, to)`.
    fn rooms_taken(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> BoxFuture<'_, anyhow::Result<Vec<Uuid>>>;
}

/// Where rooms are kept. Every method that changes a room also records the event it caused, in
/// the same transaction, so the event is published if and only if the change is committed.
/// Errors are failures of the store itself; business outcomes are in the return values.
pub trait RoomRepository: Send + Sync + 'static {
    fn insert(
        &self,
        room: &Room,
        event: &RoomRegistered,
        correlation_id: &str,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The room, unless it does not exist or was deleted.
    fn find(&self, id: RoomId) -> impl Future<Output = anyhow::Result<Option<Room>>> + Send;

    /// Marks the room deleted; `false` when it was already gone.
    fn delete(
        &self,
        id: RoomId,
        event: &RoomDeleted,
        correlation_id: &str,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    fn search(
        &self,
        criteria: &SearchCriteria,
    ) -> impl Future<Output = anyhow::Result<SearchResults>> + Send;
}
