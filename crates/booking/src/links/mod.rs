//! Outbound adapters to other contexts: HTTP clients for when they run in another process,
//! and the resilience that guards every payment call, whichever adapter carries it.

mod payment_http;
mod resilience;
mod room_http;

pub use payment_http::HttpPayments;
pub use resilience::{BreakerSettings, ResilientPayments};
pub use room_http::HttpRooms;
