//! The room use cases: register, read, delete, search, availability.

use mybnb_bus::Rejected;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::{CorrelationId, EventEnvelope, Incoming};
use mybnb_platform::inbox::Handling;
use uuid::Uuid;

use crate::domain::{
    Availability, BookedStay, Host, ListingDraft, NightRange, Room, RoomError, RoomId, SearchDraft,
    SearchResults,
};
use crate::store::SqlRoomRepository;

/// The name room subscribes and records handled events under.
pub const CONSUMER: &str = "room";

mybnb_events::incoming! {
    /// The events room reacts to: those that take and free nights.
    pub enum RoomIncoming {
        Confirmed(BookingConfirmed),
        Cancelled(BookingCancelled),
    }
}

/// What room subscribes to.
pub const SUBSCRIBES_TO: &[&str] = RoomIncoming::EVENT_TYPES;

pub struct RoomService {
    rooms: SqlRoomRepository,
}

impl RoomService {
    pub fn new(rooms: SqlRoomRepository) -> Self {
        RoomService { rooms }
    }

    #[tracing::instrument(skip_all, fields(host_id = %host.id))]
    pub async fn register(
        &self,
        host: Host,
        draft: ListingDraft,
        correlation: &CorrelationId,
    ) -> Result<Room, RoomError> {
        let listing = draft.parse()?;
        let (room, event) = Room::register(
            RoomId(Uuid::now_v7()),
            host,
            listing,
            mybnb_platform::db::now(),
        );
        self.rooms.insert(&room, &event, correlation).await?;
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
        correlation: &CorrelationId,
    ) -> Result<(), RoomError> {
        let room = self.get(id).await?;
        let event = room.delete(requested_by)?;
        if !self
            .rooms
            .delete(id, &event, correlation)
            .await?
            .is_applied()
        {
            return Err(RoomError::NotFound(id.0));
        }
        tracing::info!("room deleted");
        Ok(())
    }

    pub async fn search(&self, draft: SearchDraft) -> Result<SearchResults, RoomError> {
        let criteria = draft.parse()?;
        Ok(self.rooms.search(&criteria).await?)
    }

    /// The nights from `from` up to, not including, `to` that booked stays take in the room,
    /// as far as room's projection of bookings has caught up. The range is checked before the
    /// room is looked up.
    pub async fn availability(
        &self,
        id: RoomId,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Availability, RoomError> {
        let nights = NightRange::parse(from, to)?;
        let room = self.get(id).await?;
        let taken = self.rooms.taken_nights(room.id, nights).await?;
        Ok(Availability {
            room: room.id,
            nights,
            taken,
        })
    }

    /// Keeps the booked-stays projection: a confirmed booking takes its nights, a cancelled
    /// one frees them. Exactly once per event, in any order.
    #[tracing::instrument(skip_all, fields(event_id = %envelope.id))]
    pub async fn on_booking_event(&self, envelope: &EventEnvelope) -> anyhow::Result<()> {
        let stay = match RoomIncoming::decode(envelope).map_err(Rejected::from)? {
            RoomIncoming::Confirmed(confirmed) => BookedStay {
                booking_id: confirmed.booking_id,
                room_id: confirmed.room_id,
                check_in: confirmed.check_in,
                check_out: confirmed.check_out,
                cancelled: false,
            },
            RoomIncoming::Cancelled(cancelled) => BookedStay {
                booking_id: cancelled.booking_id,
                room_id: cancelled.room_id,
                check_in: cancelled.check_in,
                check_out: cancelled.check_out,
                cancelled: true,
            },
        };
        let handling = Handling {
            consumer: CONSUMER,
            event_id: envelope.id,
        };
        self.rooms.record_stay(&stay, &handling).await
    }
}
