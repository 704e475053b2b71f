//! Events published by the room context.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::IntegrationEvent;

/// A host registered a room; it can be searched and booked from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomRegistered {
    pub room_id: Uuid,
    pub host_id: Uuid,
    pub name: String,
    pub address: String,
    pub city: Option<String>,
    /// Price per night, in whole won.
    pub price: i64,
    pub capacity: u32,
}

/// A host deleted a room; its upcoming bookings are to be cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomDeleted {
    pub room_id: Uuid,
    pub host_id: Uuid,
}

impl IntegrationEvent for RoomRegistered {
    const TYPE: &'static str = "RoomRegistered";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.room_id.into()
    }
}

impl IntegrationEvent for RoomDeleted {
    const TYPE: &'static str = "RoomDeleted";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.room_id.into()
    }
}
