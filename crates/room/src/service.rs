//! The room use cases: register, read, delete, search.

use std::sync::{Arc, OnceLock};

use uuid::Uuid;

use crate::domain::{Host, ListingDraft, Room, RoomError, RoomId, SearchDraft, SearchResults};
use crate::ports::{Availability, RoomRepository};

pub struct RoomService<R> {
    rooms: R,
    /// Set once the booking context is wired (it is built after rooms, which it calls).
    availability: OnceLock<Arc<dyn Availability>>,
}

impl<R: RoomRepository> RoomService<R> {
    pub fn new(rooms: R) -> Self {
        RoomService {
            rooms,
            availability: OnceLock::new(),
        }
    }

    /// Lets search filter by dates. Only the first call has an effect.
    pub fn attach_availability(&self, availability: Arc<dyn Availability>) {
        let _first_wins = self.availability.set(availability);
    }

    #[tracing::instrument(skip_all, fields(host_id = %host.id))]
    pub async fn register(
        &self,
        host: Host,
        draft: ListingDraft,
        correlation_id: &str,
    ) -> Result<Room, RoomError> {
        let listing = draft.parse()?;
        let (room, event) = Room::register(
            RoomId(Uuid::now_v7()),
            host,
            listing,
            mybnb_platform::db::now(),
        );
        self.rooms.insert(&room, &event, correlation_id).await?;
        tracing::info!(room_id = %room.id.0, "room registered");
        Ok(room)
    }

    pub async fn get(&self, id: RoomId) -> Result<Room, RoomError> {
        self.rooms.find(id).await?.ok_or(RoomError::NotFound(id.0))
    }

    #[tracing::instrument(skip_all, fields(room_id = %id.0))]
    pub async fn delete(
        &self,
        requested_by: Uuid,
        id: RoomId,
        correlation_id: &str,
    ) -> Result<(), RoomError> {
        let room = self.get(id).await?;
        let event = room.delete(requested_by)?;
        if !self.rooms.delete(id, &event, correlation_id).await? {
            return Err(RoomError::NotFound(id.0));
        }
        tracing::info!("room deleted");
        Ok(())
    }

    pub async fn search(&self, draft: SearchDraft) -> Result<SearchResults, RoomError> {
        let mut criteria = draft.parse()?;
        if let Some(nights) = criteria.free_nights {
            let availability = self
                .availability
                .get()
                .ok_or(RoomError::AvailabilityUnknown(
                    "the booking service does not run in this process",
                ))?;
            criteria.excluded = availability
                .rooms_taken(nights.check_in, nights.check_out)
                .await?;
        }
        Ok(self.rooms.search(&criteria).await?)
    }
}
