//! The notification use cases: handle an event (exactly once), read one's history, follow
//! one's notifications live.

use mybnb_bus::Rejected;
use mybnb_events::{EventEnvelope, Incoming as _};
use mybnb_platform::db::Written;
use uuid::Uuid;

use crate::domain::{Incoming, NotificationError, NotificationPage, Page};
use crate::live::{Feed, LiveNotifications};
use crate::store::SqlNotificationRepository;

/// The name this context's subscriber has on the bus and in its inbox.
pub const CONSUMER: &str = "notification";

/// The events this context reads: those [`Incoming`] declares.
pub const SUBSCRIBES_TO: &[&str] = Incoming::EVENT_TYPES;

pub struct NotificationService {
    notifications: SqlNotificationRepository,
    /// Whether an SMTP server is configured: without one no e-mail is queued.
    mail_enabled: bool,
    live: LiveNotifications,
}

impl NotificationService {
    pub fn new(notifications: SqlNotificationRepository, mail_enabled: bool) -> Self {
        NotificationService {
            notifications,
            mail_enabled,
            live: LiveNotifications::default(),
        }
    }

    /// Handles one event of [`SUBSCRIBES_TO`]: its effects are committed together with its id
    /// in the inbox, so a redelivered event changes nothing. An event that cannot be read is
    /// [`Rejected`]. The notification goes to its recipient's live streams after the commit;
    /// its e-mail, if any, is the mailer's business from then on.
    #[tracing::instrument(skip_all, fields(event_id = %envelope.id, event_type = %envelope.event_type))]
    pub async fn handle(&self, envelope: EventEnvelope) -> anyhow::Result<()> {
        let incoming = Incoming::decode(&envelope).map_err(Rejected::from)?;
        match self
            .notifications
            .apply(envelope.id, incoming, self.mail_enabled)
            .await?
        {
            Written::Applied(Some(notification)) => {
                tracing::info!(
                    notification_id = %notification.id,
                    recipient = %notification.recipient,
                    kind = notification.kind.as_str(),
                    "notified"
                );
                self.live.publish(notification);
            }
            Written::Applied(None) => {}
            _ => tracing::debug!("event handled before; nothing to do"),
        }
        Ok(())
    }

    /// A page of the recipient's notifications, newest first.
    pub async fn history(
        &self,
        recipient: Uuid,
        page: Option<u32>,
        size: Option<u32>,
    ) -> Result<NotificationPage, NotificationError> {
        let page = Page::parse(page, size)?;
        Ok(self.notifications.page(recipient, page).await?)
    }

    /// The recipient's notifications as they are recorded; with `last_seen`, the id of the
    /// last one they got, first those recorded after it (up to a page's worth; the rest are in
    /// the history).
    pub async fn follow(
        &self,
        recipient: Uuid,
        last_seen: Option<Uuid>,
    ) -> Result<Feed, NotificationError> {
        // Following before reading the backlog: nothing recorded in between is missed.
        let mut feed = self.live.follow(recipient);
        if let Some(last_seen) = last_seen {
            let missed = self
                .notifications
                .after(recipient, last_seen, Page::MAX_SIZE)
                .await?;
            feed.replay(missed);
        }
        Ok(feed)
    }

    /// Ends every live stream, now and to come, so that a server shutting down is not held up
    /// by them. Clients reconnect (to another instance) and lose nothing.
    pub fn end_streams(&self) {
        self.live.end();
    }
}
