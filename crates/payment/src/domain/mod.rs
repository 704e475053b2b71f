//! The payment context's rules: one payment per booking, and the moves between its states.

mod error;
mod payment;

pub use error::PaymentError;
pub use payment::{Authorization, Payment, PaymentOrder, PaymentStatus};
