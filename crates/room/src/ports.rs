//! What the room service needs from the outside world.

use std::future::Future;

use chrono::NaiveDate;

use mybnb_events::CorrelationId;
use mybnb_events::room::{RoomDeleted, RoomRegistered};
use mybnb_platform::db::Written;
use mybnb_platform::inbox::Handling;

use crate::domain::{BookedStay, NightRange, Room, RoomId, SearchCriteria, SearchResults};

/// Where rooms are kept. Every method that changes a room also records the event it caused, in
/// the same transaction, so the event is published if and only if the change is committed.
/// Errors are failures of the store itself; business outcomes are in the return values.
pub trait RoomRepository: Send + Sync + 'static {
    fn insert(
        &self,
        room: &Room,
        event: &RoomRegistered,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The room, unless it does not exist or was deleted.
    fn find(&self, id: RoomId) -> impl Future<Output = anyhow::Result<Option<Room>>> + Send;

    /// Marks the room deleted; [`Written::LostRace`] when it was already gone.
    fn delete(
        &self,
        id: RoomId,
        event: &RoomDeleted,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<Written<()>>> + Send;

    /// Rooms matching the criteria; with free nights, only rooms no uncancelled booked stay
    /// overlaps.
    fn search(
        &self,
        criteria: &SearchCriteria,
    ) -> impl Future<Output = anyhow::Result<SearchResults>> + Send;

    /// The nights of `nights` that an uncancelled booked stay of the room covers, ascending,
    /// each once.
    fn taken_nights(
        &self,
        room: RoomId,
        nights: NightRange,
    ) -> impl Future<Output = anyhow::Result<Vec<NaiveDate>>> + Send;

    /// Records a booked stay or its cancellation (a cancellation is never undone), with
    /// `handling` in the inbox; nothing changes when the event was handled before.
    fn record_stay(
        &self,
        stay: &BookedStay,
        handling: &Handling,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}
