//! What the notification service needs from the outside world.

use std::future::Future;

use mybnb_platform::db::Written;
use uuid::Uuid;

use crate::domain::{Incoming, Notification, NotificationPage, Page};

/// Where notifications, what they are worded from, and the e-mails to send are kept. Errors are
/// failures of the store itself.
pub trait NotificationRepository: Send + Sync + 'static {
    /// Applies an event once, in one transaction: records its id in the inbox; remembers the
    /// contact or stay it brings; records the notification it causes, worded with the stay
    /// remembered for its booking; and with `queue_mail`, queues the e-mail to a recipient
    /// whose address is known. The notification it caused, if any, or
    /// [`Written::AlreadyHandled`] when the inbox already had the id.
    fn apply(
        &self,
        event_id: Uuid,
        incoming: Incoming,
        queue_mail: bool,
    ) -> impl Future<Output = anyhow::Result<Written<Option<Notification>>>> + Send;

    /// A page of the recipient's notifications, newest first.
    fn page(
        &self,
        recipient: Uuid,
        page: Page,
    ) -> impl Future<Output = anyhow::Result<NotificationPage>> + Send;

    /// The recipient's notifications made after the one with id `after`, oldest first, at most
    /// `limit`.
    fn after(
        &self,
        recipient: Uuid,
        after: Uuid,
        limit: u32,
    ) -> impl Future<Output = anyhow::Result<Vec<Notification>>> + Send;
}
