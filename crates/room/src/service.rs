//! The room use cases: register, read, delete, search.

use uuid::Uuid;

use crate::domain::{Host, ListingDraft, Room, RoomError, RoomId, SearchDraft, SearchResults};
use crate::ports::RoomRepository;

pub struct RoomService<R> {
    rooms: R,
}

impl<R: RoomRepository> RoomService<R> {
    pub fn new(rooms: R) -> Self {
        RoomService { rooms }
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
        let criteria = draft.parse()?;
        Ok(self.rooms.search(&criteria).await?)
    }
}
