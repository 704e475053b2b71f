//! Room as a process runs it: its service on its database, shared with booking when both run
//! in one process, then its API and its consumer of booking's events. It publishes
//! `RoomRegistered` and `RoomDeleted`; it has no settings of its own.

use std::sync::Arc;

use mybnb_bus::wired::{Wired, handler};
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::db::Database;

use crate::http;
use crate::service::{CONSUMER, RoomService, SUBSCRIBES_TO};
use crate::store::SqlRoomRepository;

pub struct RoomContext {
    rooms: Arc<RoomService>,
}

impl RoomContext {
    pub fn new(database: Database) -> Self {
        RoomContext {
            rooms: Arc::new(RoomService::new(SqlRoomRepository::new(database))),
        }
    }

    /// The service, for the contexts that call it in-process.
    pub fn service(&self) -> Arc<RoomService> {
        self.rooms.clone()
    }

    pub fn wire(self, verifier: TokenVerifier) -> Wired {
        let handler = handler(self.rooms.clone(), |rooms, envelope| async move {
            rooms.on_booking_event(&envelope).await
        });
        Wired::serving(http::router(self.rooms, verifier))
            .publishing()
            .consuming(CONSUMER, SUBSCRIBES_TO, handler)
    }
}
