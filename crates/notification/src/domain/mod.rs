//! The notification context's rules, without I/O: what each event tells whom and in which
//! words ([`Incoming`], [`Notification`]), the e-mail that carries a notification and when a
//! failed one is tried again ([`OutgoingMail`], [`retry_delay`]), and pages of the history
//! ([`Page`]).

mod error;
mod incoming;
mod mail;
mod notification;

pub use error::NotificationError;
pub use incoming::{Contact, Incoming, Stay};
pub use mail::{OutgoingMail, retry_delay};
pub use mybnb_platform::paging::Page;
pub use notification::{Notification, NotificationKind, NotificationPage};
