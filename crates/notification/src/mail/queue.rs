//! The mail queue on SQL: mails are queued with their notification, claimed by a mailer for a
//! while, then marked sent, rescheduled or given up.
//!
//! A claim is a compare-and-set on the mail's attempt count, so two mailers on one database
//! never both claim an attempt; a mailer that dies mid-send leaves its claim to lapse, and the
//! mail is tried again (e-mail is delivered at least once).

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use mybnb_platform::db::{Database, Stop, instant_from_db, instant_to_db, now};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::domain::{OutgoingMail, retry_delay};

/// A mail a mailer has claimed for one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub mail: OutgoingMail,
    /// This attempt's number, from 1.
    pub attempt: u32,
}

/// The longest text of a failure kept with a mail.
const MAX_ERROR_CHARS: usize = 500;

/// Queues a mail in the transaction that records its notification; it is due at once.
pub(crate) async fn enqueue(
    connection: &mut AnyConnection,
    mail: &OutgoingMail,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mail_queue (id, notification_id, to_address, to_name, subject, body, status, \
         attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $7)",
    )
    .bind(mail.id.to_string())
    .bind(mail.notification_id.to_string())
    .bind(&mail.to_address)
    .bind(&mail.to_name)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(instant_to_db(at))
    .execute(connection)
    .await
    .context("queueing a mail")?;
    Ok(())
}

/// Claims up to `limit` due mails, oldest due first, for `lease`: until then no other mailer
/// tries them.
pub(crate) async fn claim_due(
    database: &Database,
    limit: i64,
    lease: Duration,
) -> anyhow::Result<Vec<Claimed>> {
    // Looked at with a read first: every write wakes the mailer, so one that found nothing to
    // claim would wake it again, and again.
    let due: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_queue WHERE status = 'PENDING' AND next_attempt_at <= $1",
    )
    .bind(instant_to_db(now()))
    .fetch_one(database.pool())
    .await
    .context("counting due mails")?;
    if due == 0 {
        return Ok(Vec::new());
    }
    let written = database
        .write(async |unit| {
            let at = now();
            let rows = sqlx::query(
                "SELECT id, notification_id, to_address, to_name, subject, body, attempts \
                 FROM mail_queue WHERE status = 'PENDING' AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at LIMIT $2",
            )
            .bind(instant_to_db(at))
            .bind(limit)
            .fetch_all(unit.connection())
            .await
            .context("reading due mails")?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                let (mail, attempts) = queued_from_row(&row)?;
                let claim = sqlx::query(
                    "UPDATE mail_queue SET attempts = attempts + 1, next_attempt_at = $1 \
                     WHERE id = $2 AND status = 'PENDING' AND attempts = $3",
                )
                .bind(instant_to_db(later(at, lease)))
                .bind(mail.id.to_string())
                .bind(attempts);
                // Another mailer (another process) may have claimed it first.
                if unit.execute("claiming a mail", claim).await? == 1 {
                    claimed.push(Claimed {
                        mail,
                        attempt: u32::try_from(attempts + 1).unwrap_or(u32::MAX),
                    });
                }
            }
            Ok::<_, Stop>(claimed)
        })
        .await?;
    Ok(written.applied().unwrap_or_default())
}

/// The mail was delivered.
pub(crate) async fn mark_sent(database: &Database, mail_id: Uuid) -> anyhow::Result<()> {
    update(
        database,
        "UPDATE mail_queue SET status = 'SENT', sent_at = $1, last_error = NULL WHERE id = $2",
        vec![Some(instant_to_db(now())), Some(mail_id.to_string())],
    )
    .await
}

/// The attempt failed for now: the mail is due again after the attempt's backoff, which is
/// returned.
pub(crate) async fn reschedule(
    database: &Database,
    claimed: &Claimed,
    error: &str,
) -> anyhow::Result<Duration> {
    let pause = retry_delay(claimed.attempt);
    update(
        database,
        "UPDATE mail_queue SET next_attempt_at = $1, last_error = $2 \
         WHERE id = $3 AND status = 'PENDING'",
        vec![
            Some(instant_to_db(later(now(), pause))),
            Some(truncate(error)),
            Some(claimed.mail.id.to_string()),
        ],
    )
    .await?;
    Ok(pause)
}

/// The mail can never be delivered (the server refused it for good, or the address is not
/// one): it stays in the queue as FAILED, with why.
pub(crate) async fn give_up(database: &Database, mail_id: Uuid, error: &str) -> anyhow::Result<()> {
    update(
        database,
        "UPDATE mail_queue SET status = 'FAILED', last_error = $1 WHERE id = $2",
        vec![Some(truncate(error)), Some(mail_id.to_string())],
    )
    .await
}

/// When the next pending mail is due (or its claim lapses); `None` when none is pending.
pub(crate) async fn next_due(database: &Database) -> anyhow::Result<Option<DateTime<Utc>>> {
    let next: Option<String> =
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM mail_queue WHERE status = 'PENDING'")
            .fetch_one(database.pool())
            .await
            .context("reading when the next mail is due")?;
    Ok(next.as_deref().map(instant_from_db).transpose()?)
}

/// Runs one statement on the queue with `values` bound in order.
async fn update(
    database: &Database,
    sql: &'static str,
    values: Vec<Option<String>>,
) -> anyhow::Result<()> {
    let mut statement = sqlx::query(sql);
    for value in values {
        statement = statement.bind(value);
    }
    database
        .write(async |unit| {
            unit.execute("updating a queued mail", statement).await?;
            Ok::<_, Stop>(())
        })
        .await?;
    Ok(())
}

/// A queued mail and how many attempts it has had.
fn queued_from_row(row: &AnyRow) -> anyhow::Result<(OutgoingMail, i64)> {
    let text = |column: &str| -> anyhow::Result<String> { Ok(row.try_get(column)?) };
    let mail = OutgoingMail {
        id: Uuid::parse_str(&text("id")?)?,
        notification_id: Uuid::parse_str(&text("notification_id")?)?,
        to_address: text("to_address")?,
        to_name: text("to_name")?,
        subject: text("subject")?,
        body: text("body")?,
    };
    Ok((mail, row.try_get("attempts")?))
}

fn later(at: DateTime<Utc>, pause: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(pause)
        .ok()
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(at)
}

fn truncate(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}
