//! Notification as a process runs it: its service on its database, its API (history and live
//! streams), its consumer, and — when an SMTP server is configured — the mailer. It publishes
//! nothing.

use std::sync::Arc;

use mybnb_bus::wired::{Wired, handler, job};
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::db::Database;

use crate::http;
use crate::mail::Mailer;
use crate::service::{CONSUMER, NotificationService, SUBSCRIBES_TO};
use crate::settings::NotificationSettings;
use crate::store::SqlNotificationRepository;

pub struct NotificationContext {
    database: Database,
    settings: NotificationSettings,
}

impl NotificationContext {
    pub fn new(database: Database, settings: &NotificationSettings) -> Self {
        NotificationContext {
            database,
            settings: settings.clone(),
        }
    }

    pub fn wire(self, verifier: TokenVerifier) -> anyhow::Result<Wired> {
        let mail = self.settings.mail;
        let notifications = Arc::new(NotificationService::new(
            SqlNotificationRepository::new(self.database.clone()),
            mail.is_some(),
        ));
        let handler = handler(
            notifications.clone(),
            |notifications, envelope| async move { notifications.handle(envelope).await },
        );
        // Open live streams end when the application stops, so they do not hold up the drain.
        let ending = notifications.clone();
        let mut wired = Wired::serving(http::router(notifications, verifier))
            .consuming(CONSUMER, SUBSCRIBES_TO, handler)
            .running(job(move |stop| async move {
                stop.cancelled().await;
                ending.end_streams();
            }));
        if let Some(mail) = mail {
            let mailer = Mailer::new(self.database, mail)?;
            wired = wired.running(job(move |stop| mailer.run(stop)));
        }
        Ok(wired)
    }
}
