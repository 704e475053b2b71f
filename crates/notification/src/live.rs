//! Live notifications: each one recorded is handed, after its commit, to the open streams of
//! its recipient.
//!
//! One broadcast channel serves every stream; each stream keeps its own user's notifications.
//! A stream that falls too far behind is ended rather than left with a gap: the client
//! reconnects with the id of the last notification it got (`Last-Event-ID`) and is replayed
//! what it missed from the history.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::Notification;

/// Notifications a slow stream may be behind by before it is ended.
const BACKLOG: usize = 1024;

/// The hub every recorded notification passes through on its way to live streams.
pub struct LiveNotifications {
    sender: broadcast::Sender<Arc<Notification>>,
    ended: CancellationToken,
}

impl Default for LiveNotifications {
    fn default() -> Self {
        LiveNotifications {
            sender: broadcast::Sender::new(BACKLOG),
            ended: CancellationToken::new(),
        }
    }
}

impl LiveNotifications {
    /// Hands the notification to the streams following its recipient, if any.
    pub fn publish(&self, notification: Notification) {
        // No stream open is no error: the history has it.
        let _ = self.sender.send(Arc::new(notification));
    }

    /// A feed of `recipient`'s notifications recorded from now on.
    pub fn follow(&self, recipient: Uuid) -> Feed {
        Feed {
            recipient,
            backlog: VecDeque::new(),
            replayed: HashSet::new(),
            receiver: self.sender.subscribe(),
            ended: self.ended.clone(),
        }
    }

    /// Ends every feed, now and to come: for shutting down, so that open streams do not hold
    /// the server up.
    pub fn end(&self) {
        self.ended.cancel();
    }
}

/// One user's notifications as they come: first a replayed backlog, then live ones.
pub struct Feed {
    recipient: Uuid,
    backlog: VecDeque<Notification>,
    /// Ids of the backlog, so that one also broadcast meanwhile is not told twice.
    replayed: HashSet<Uuid>,
    receiver: broadcast::Receiver<Arc<Notification>>,
    ended: CancellationToken,
}

impl Feed {
    /// Puts notifications recorded before the feed began ahead of the live ones.
    pub fn replay(&mut self, missed: Vec<Notification>) {
        self.replayed
            .extend(missed.iter().map(|notification| notification.id));
        self.backlog.extend(missed);
    }

    /// The next notification; `None` when the feed has ended (shutdown, or too far behind).
    pub async fn next(&mut self) -> Option<Notification> {
        if let Some(missed) = self.backlog.pop_front() {
            return Some(missed);
        }
        loop {
            let received = tokio::select! {
                () = self.ended.cancelled() => return None,
                received = self.receiver.recv() => received,
            };
            match received {
                Ok(notification)
                    if notification.recipient == self.recipient
                        && !self.replayed.contains(&notification.id) =>
                {
                    return Some(Notification::clone(&notification));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(skipped)) => {
                    tracing::info!(
                        recipient = %self.recipient,
                        skipped,
                        "a notification stream fell behind; ending it"
                    );
                    return None;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
