//! The notification use cases: handle an event (exactly once), read one's history, follow
//! one's notifications live.

use mybnb_bus::{Rejected, decode};
use mybnb_events::IntegrationEvent;
use mybnb_events::booking::{BookingCancelled, BookingConfirmed};
use mybnb_events::identity::UserRegistered;
use mybnb_events::payment::{PaymentApproved, PaymentCancelled};
use mybnb_platform::outbox::EventEnvelope;
use uuid::Uuid;

use crate::domain::{Incoming, NotificationError, NotificationPage, Page};
use crate::live::{Feed, LiveNotifications};
use crate::ports::{Applied, NotificationRepository};

/// The name this context's subscriber has on the bus and in its inbox.
pub const CONSUMER: &str = "notification";

/// The events this context reads.
pub const SUBSCRIBES_TO: &[&str] = &[
    UserRegistered::TYPE,
    BookingConfirmed::TYPE,
    BookingCancelled::TYPE,
    PaymentApproved::TYPE,
    PaymentCancelled::TYPE,
];

pub struct NotificationService<R> {
    notifications: R,
    /// Whether an SMTP server is configured: without one no e-mail is queued.
    mail_enabled: bool,
    live: LiveNotifications,
}

impl<R: NotificationRepository> NotificationService<R> {
    pub fn new(notifications: R, mail_enabled: bool) -> Self {
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
        let incoming = read(&envelope)?;
        match self
            .notifications
            .apply(envelope.id, incoming, self.mail_enabled)
            .await?
        {
            Applied::Handled(Some(notification)) => {
                tracing::info!(
                    notification_id = %notification.id,
                    recipient = %notification.recipient,
                    kind = notification.kind.as_str(),
                    "notified"
                );
                self.live.publish(notification);
            }
            Applied::Handled(None) => {}
            Applied::AlreadyHandled => tracing::debug!("event handled before; nothing to do"),
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

/// The envelope's event, or why it can never be read.
fn read(envelope: &EventEnvelope) -> Result<Incoming, Rejected> {
    let event_type = envelope.event_type.as_str();
    let incoming = if event_type == UserRegistered::TYPE {
        Incoming::UserRegistered(decode(envelope)?)
    } else if event_type == BookingConfirmed::TYPE {
        Incoming::BookingConfirmed(decode(envelope)?)
    } else if event_type == BookingCancelled::TYPE {
        Incoming::BookingCancelled(decode(envelope)?)
    } else if event_type == PaymentApproved::TYPE {
        Incoming::PaymentApproved(decode(envelope)?)
    } else if event_type == PaymentCancelled::TYPE {
        Incoming::PaymentCancelled(decode(envelope)?)
    } else {
        return Err(Rejected(format!(
            "the notification context does not read {event_type}"
        )));
    };
    Ok(incoming)
}
