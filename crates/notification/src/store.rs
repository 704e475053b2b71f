//! The notification repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use chrono::NaiveDate;
use mybnb_platform::db::{Database, Stop, Written, instant_from_db, instant_to_db, now};
use mybnb_platform::inbox::Handling;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::domain::{
    Contact, Incoming, Notification, NotificationKind, NotificationPage, OutgoingMail, Page, Stay,
};
use crate::mail::queue;
use crate::service::CONSUMER;

const NOTIFICATION_COLUMNS: &str =
    "id, recipient_id, kind, booking_id, message, event_id, created_at";

/// Where notifications, what they are worded from, and the e-mails to send are kept. Errors are
/// failures of the store itself.
#[derive(Clone)]
pub struct SqlNotificationRepository {
    database: Database,
}

impl SqlNotificationRepository {
    pub fn new(database: Database) -> Self {
        SqlNotificationRepository { database }
    }

    /// Applies an event once, in one transaction: records its id in the inbox; remembers the
    /// contact or stay it brings; records the notification it causes, worded with the stay
    /// remembered for its booking; and with `queue_mail`, queues the e-mail to a recipient
    /// whose address is known. The notification it caused, if any, or
    /// [`Written::AlreadyHandled`] when the inbox already had the id.
    pub async fn apply(
        &self,
        event_id: Uuid,
        incoming: Incoming,
        queue_mail: bool,
    ) -> anyhow::Result<Written<Option<Notification>>> {
        let handling = Handling {
            consumer: CONSUMER,
            event_id,
        };
        self.database
            .write(async |unit| {
                unit.first_time(&handling).await?;
                let connection = unit.connection();
                if let Some(contact) = incoming.contact() {
                    remember_contact(connection, &contact).await?;
                }
                let known_stay = match (incoming.stay(), incoming.booking_id()) {
                    (Some(stay), _) => {
                        remember_stay(connection, &stay).await?;
                        Some(stay)
                    }
                    (None, Some(booking_id)) => find_stay(connection, booking_id).await?,
                    (None, None) => None,
                };
                let at = now();
                let Some(notification) =
                    incoming.notification(known_stay.as_ref(), Uuid::now_v7(), event_id, at)
                else {
                    return Ok(None);
                };
                insert_notification(connection, &notification).await?;
                if queue_mail
                    && let Some(contact) = find_contact(connection, notification.recipient).await?
                    && let Some(mail) =
                        OutgoingMail::for_notification(Uuid::now_v7(), &notification, &contact)
                {
                    queue::enqueue(connection, &mail, at).await?;
                }
                Ok::<_, Stop>(Some(notification))
            })
            .await
    }

    /// A page of the recipient's notifications, newest first.
    pub async fn page(&self, recipient: Uuid, page: Page) -> anyhow::Result<NotificationPage> {
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE recipient_id = $1")
                .bind(recipient.to_string())
                .fetch_one(self.database.pool())
                .await
                .context("counting notifications")?;
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE recipient_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(recipient.to_string())
            .bind(i64::from(page.size()))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(self.database.pool())
            .await
            .context("reading notifications")?;
        Ok(NotificationPage {
            notifications: rows
                .iter()
                .map(notification_from_row)
                .collect::<anyhow::Result<_>>()?,
            total: u64::try_from(total).unwrap_or_default(),
            page,
        })
    }

    /// The recipient's notifications made after the one with id `after`, oldest first, at most
    /// `limit`.
    pub async fn after(
        &self,
        recipient: Uuid,
        after: Uuid,
        limit: u32,
    ) -> anyhow::Result<Vec<Notification>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE recipient_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(recipient.to_string())
            .bind(after.to_string())
            .bind(i64::from(limit))
            .fetch_all(self.database.pool())
            .await
            .context("reading recent notifications")?;
        rows.iter().map(notification_from_row).collect()
    }
}

async fn remember_contact(connection: &mut AnyConnection, contact: &Contact) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO contacts (user_id, display_name, email) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, \
         email = excluded.email",
    )
    .bind(contact.user_id.to_string())
    .bind(&contact.display_name)
    .bind(contact.email.as_deref())
    .execute(connection)
    .await
    .context("remembering a contact")?;
    Ok(())
}

async fn find_contact(
    connection: &mut AnyConnection,
    user_id: Uuid,
) -> anyhow::Result<Option<Contact>> {
    let row = sqlx::query("SELECT display_name, email FROM contacts WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_optional(connection)
        .await
        .context("reading a contact")?;
    row.map(|row| {
        Ok(Contact {
            user_id,
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
        })
    })
    .transpose()
}

async fn remember_stay(connection: &mut AnyConnection, stay: &Stay) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO stays (booking_id, room_id, room_name, check_in, check_out, nights, \
         total_price) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (booking_id) DO NOTHING",
    )
    .bind(stay.booking_id.to_string())
    .bind(stay.room_id.to_string())
    .bind(&stay.room_name)
    .bind(stay.check_in.to_string())
    .bind(stay.check_out.to_string())
    .bind(i64::from(stay.nights))
    .bind(stay.total_price)
    .execute(connection)
    .await
    .context("remembering a stay")?;
    Ok(())
}

async fn find_stay(
    connection: &mut AnyConnection,
    booking_id: Uuid,
) -> anyhow::Result<Option<Stay>> {
    let row = sqlx::query(
        "SELECT room_id, room_name, check_in, check_out, nights, total_price FROM stays \
         WHERE booking_id = $1",
    )
    .bind(booking_id.to_string())
    .fetch_optional(connection)
    .await
    .context("reading a stay")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let date = |column: &str| -> anyhow::Result<NaiveDate> {
        let text: String = row.try_get(column)?;
        Ok(NaiveDate::parse_from_str(&text, "%Y-%m-%d")?)
    };
    let room_id: String = row.try_get("room_id")?;
    let nights: i64 = row.try_get("nights")?;
    Ok(Some(Stay {
        booking_id,
        room_id: Uuid::parse_str(&room_id)?,
        room_name: row.try_get("room_name")?,
        check_in: date("check_in")?,
        check_out: date("check_out")?,
        nights: u32::try_from(nights)?,
        total_price: row.try_get("total_price")?,
    }))
}

async fn insert_notification(
    connection: &mut AnyConnection,
    notification: &Notification,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, recipient_id, kind, booking_id, message, event_id, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(notification.id.to_string())
    .bind(notification.recipient.to_string())
    .bind(notification.kind.as_str())
    .bind(notification.booking_id.to_string())
    .bind(&notification.message)
    .bind(notification.event_id.to_string())
    .bind(instant_to_db(notification.created_at))
    .execute(connection)
    .await
    .context("recording a notification")?;
    Ok(())
}

fn notification_from_row(row: &AnyRow) -> anyhow::Result<Notification> {
    let uuid = |column: &str| -> anyhow::Result<Uuid> {
        let text: String = row.try_get(column)?;
        Ok(Uuid::parse_str(&text)?)
    };
    let kind: String = row.try_get("kind")?;
    let created_at: String = row.try_get("created_at")?;
    Ok(Notification {
        id: uuid("id")?,
        recipient: uuid("recipient_id")?,
        kind: NotificationKind::parse(&kind)
            .with_context(|| format!("unknown notification kind {kind}"))?,
        booking_id: uuid("booking_id")?,
        message: row.try_get("message")?,
        event_id: uuid("event_id")?,
        created_at: instant_from_db(&created_at)?,
    })
}
