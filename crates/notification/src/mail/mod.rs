//! E-mail: the mailer sends the queued mails over SMTP, after the transaction that queued them,
//! so that a slow or failing mail server never delays an event's handling or the history.
//!
//! A failed attempt is tried again with exponential backoff (1 s, doubling, at most 5 min)
//! for as long as the failure is temporary; a mail the server refuses for good (a 5xx answer)
//! or whose address is not one is marked FAILED and left in the queue, with why.
//!
//! The server is named by a URL, read as lettre reads it
//! (`AsyncSmtpTransport::from_url`):
//!
//! - `smtp://host[:port]` — plain SMTP, port 25 by default; no TLS (a local relay, a test sink);
//! - `smtp://host[:port]?tls=required` — STARTTLS, which the server must offer; port 587;
//! - `smtp://host[:port]?tls=opportunistic` — STARTTLS when the server offers it; port 587;
//! - `smtps://host[:port]` — TLS from the first byte (implicit TLS); port 465.
//!
//! `user:password@` before the host logs in (percent-encode special characters) and is taken
//! only with `smtps://` or `?tls=required`, never sent where TLS is optional; a path names
//! the client in `EHLO` (`smtp://host/mybnb.example`). Certificates are checked against
//! Mozilla's roots. The password is never logged: the URL is shown with it redacted.

pub(crate) mod queue;

use std::time::Duration;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mybnb_platform::db::{Database, now, redact_url};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use queue::Claimed;

/// Where and as whom to send e-mail.
#[derive(Clone)]
pub struct MailSettings {
    /// The SMTP server, as described in the [module docs](self); it may hold a password.
    pub smtp_url: SecretString,
    /// The sender: `no-reply@example.com` or `mybnb <no-reply@example.com>`.
    pub from: String,
}

impl MailSettings {
    /// The SMTP URL with its password redacted, for logs and messages.
    pub fn describe(&self) -> String {
        redact_url(self.smtp_url.expose_secret())
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MailSettings")
            .field("smtp_url", &self.describe())
            .field("from", &self.from)
            .finish()
    }
}

/// How long one SMTP command may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claimed mail is left to its mailer before another may try it.
const CLAIM_LEASE: Duration = Duration::from_secs(300);
/// Mails claimed at once.
const BATCH: i64 = 16;
/// The queue is looked at this often even when nothing wakes the mailer (another process
/// queued a mail, or the clock moved a retry into the present).
const LONGEST_IDLE: Duration = Duration::from_secs(30);
/// The pause after the queue's database failed.
const AFTER_DATABASE_FAILURE: Duration = Duration::from_secs(1);

/// Sends the queued mails; see the [module docs](self).
pub struct Mailer {
    database: Database,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

/// Why an attempt failed.
enum Failure {
    /// Worth trying again: the server was unreachable or answered 4xx.
    Temporary(String),
    /// Never worth trying again.
    Permanent(String),
}

impl Mailer {
    /// A mailer for the queue in `database`; an error when the URL or the sender is unusable.
    pub fn new(database: Database, settings: MailSettings) -> anyhow::Result<Mailer> {
        let server = settings.describe();
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp_url.expose_secret())
                .map_err(|error| anyhow::anyhow!("the SMTP URL {server} is not usable: {error}"))?
                .timeout(Some(SMTP_TIMEOUT))
                .build();
        let from: Mailbox = settings.from.parse().with_context(|| {
            format!(
                "the sender {:?} is not an e-mail address (`name@host` or `Name <name@host>`)",
                settings.from
            )
        })?;
        Ok(Mailer {
            database,
            transport,
            from,
            server,
        })
    }

    /// Sends due mails until `stop`: woken by every commit to the database (a mail may have
    /// been queued), when the next retry is due, and at least every half minute.
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(smtp = %self.server, "mailer started");
        let committed = self.database.committed();
        loop {
            let woken = committed.notified();
            tokio::pin!(woken);
            // Registered before looking at the queue, so a mail queued meanwhile wakes it.
            woken.as_mut().enable();
            let pause = tokio::select! {
                () = stop.cancelled() => return,
                pause = self.deliver_due() => pause,
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = &mut woken => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Sends every due mail; returns how long to wait before looking again.
    async fn deliver_due(&self) -> Duration {
        match self.try_deliver_due().await {
            Ok(pause) => pause,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the mail queue is unreachable; retrying"
                );
                AFTER_DATABASE_FAILURE
            }
        }
    }

    async fn try_deliver_due(&self) -> anyhow::Result<Duration> {
        loop {
            let claimed = queue::claim_due(&self.database, BATCH, CLAIM_LEASE).await?;
            if claimed.is_empty() {
                break;
            }
            for mail in &claimed {
                self.deliver(mail).await?;
            }
        }
        let pause = match queue::next_due(&self.database).await? {
            Some(due) => (due - now()).to_std().unwrap_or_default(),
            None => LONGEST_IDLE,
        };
        Ok(pause.min(LONGEST_IDLE))
    }

    /// One attempt at one mail, and its outcome recorded.
    #[tracing::instrument(skip_all, fields(mail_id = %claimed.mail.id, notification_id = %claimed.mail.notification_id, attempt = claimed.attempt))]
    async fn deliver(&self, claimed: &Claimed) -> anyhow::Result<()> {
        match self.send(claimed).await {
            Ok(()) => {
                queue::mark_sent(&self.database, claimed.mail.id).await?;
                tracing::info!("mail sent");
            }
            Err(Failure::Temporary(error)) => {
                let pause = queue::reschedule(&self.database, claimed, &error).await?;
                tracing::warn!(
                    error,
                    retry_in_ms = pause.as_millis(),
                    "sending a mail failed; it will be retried"
                );
            }
            Err(Failure::Permanent(error)) => {
                queue::give_up(&self.database, claimed.mail.id, &error).await?;
                tracing::error!(error, "a mail was refused for good; giving it up");
            }
        }
        Ok(())
    }

    async fn send(&self, claimed: &Claimed) -> Result<(), Failure> {
        let mail = &claimed.mail;
        let address = mail.to_address.parse().map_err(|error| {
            Failure::Permanent(format!("the recipient's address is not usable: {error}"))
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(mail.to_name.clone()), address))
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|error| Failure::Permanent(format!("the mail cannot be built: {error}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(Failure::Permanent(error.to_string())),
            Err(error) => Err(Failure::Temporary(error.to_string())),
        }
    }
}
