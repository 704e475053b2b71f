//! The room aggregate: registered by a host, deleted only by that host.

use chrono::{DateTime, Utc};
use mybnb_events::room::{RoomDeleted, RoomRegistered};
use uuid::Uuid;

use super::{Listing, RoomError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomId(pub Uuid);

/// The user who registered a room, with the name they had then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    pub host: Host,
    pub listing: Listing,
    pub registered_at: DateTime<Utc>,
}

impl Room {
    /// A host registers a room: the new room and the event that announces it.
    pub fn register(
        id: RoomId,
        host: Host,
        listing: Listing,
        now: DateTime<Utc>,
    ) -> (Room, RoomRegistered) {
        let room = Room {
            id,
            host,
            listing,
            registered_at: now,
        };
        let event = RoomRegistered {
            room_id: room.id.0,
            host_id: room.host.id,
            name: room.listing.name().to_owned(),
            address: room.listing.address().to_owned(),
            city: room.listing.city().map(str::to_owned),
            price: room.listing.price().won(),
            capacity: room.listing.capacity().guests(),
        };
        (room, event)
    }

    /// A user asks to delete the room: only its host may.
    pub fn delete(&self, requested_by: Uuid) -> Result<RoomDeleted, RoomError> {
        if requested_by != self.host.id {
            return Err(RoomError::NotHost);
        }
        Ok(RoomDeleted {
            room_id: self.id.0,
            host_id: self.host.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ListingDraft;

    fn registered_room(host: Uuid) -> Room {
        let listing = ListingDraft {
            name: "Seaside loft".into(),
            address: "1 Haeundae-ro".into(),
            price: 90_000,
            ..ListingDraft::default()
        }
        .parse()
        .expect("valid listing");
        let host = Host {
            id: host,
            name: "kim".into(),
        };
        Room::register(RoomId(Uuid::now_v7()), host, listing, Utc::now()).0
    }

    #[test]
    fn registering_announces_the_room_with_its_listing() {
        let host = Uuid::now_v7();
        let room = registered_room(host);
        let (_, event) =
            Room::register(room.id, room.host.clone(), room.listing.clone(), Utc::now());
        assert_eq!(event.room_id, room.id.0);
        assert_eq!(event.host_id, host);
        assert_eq!(event.price, 90_000);
    }

    #[test]
    fn only_the_host_may_delete() {
        let host = Uuid::now_v7();
        let room = registered_room(host);
        assert!(matches!(
            room.delete(Uuid::now_v7()),
            Err(RoomError::NotHost)
        ));
        let event = room.delete(host).expect("the host may delete");
        assert_eq!(event.room_id, room.id.0);
    }
}
