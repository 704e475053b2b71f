//! The notification API as typed helpers on [`ApiClient`]: a user's history, a page at a time or
//! whole, awaited until it holds exactly what is expected; the live stream read event by event.
//! With them, for the tests of e-mail and of faults: users with an address, what the databases
//! show (whom notification knows, what an outbox still holds), and a gate in front of an SMTP
//! sink that turns the mailer away until it is opened.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

pub use mybnb_client::Notification;
use mybnb_client::fixtures::unique;
use mybnb_client::{Client, NewUser, NotificationPage};
use mybnb_testkit::eventually::{POLL_EVERY, SETTLED_WITHIN, eventually};
use mybnb_testkit::smtp::{Message, SmtpSink};
use mybnb_testkit::told::await_told;
pub use mybnb_testkit::told::{Tally, once_each, tally};
use reqwest::Response;
use serde_json::Value;
use sqlx::Connection;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{ApiClient, PASSWORD, TestUser, header, must};
use crate::storage::Storage;

impl ApiClient {
    /// `GET /notifications` with `query`, as the holder of `token` when given.
    pub async fn notifications_raw(&self, token: Option<&str>, query: &[(&str, &str)]) -> Response {
        let request = self.request(reqwest::Method::GET, "/notifications", token);
        self.send(request.query(query)).await
    }

    /// One page of the history of the holder of `token`; it must be answered 200.
    pub async fn notification_page(&self, token: &str, page: u32, size: u32) -> NotificationPage {
        let found = self.api.notifications(token, Some((page, size))).await;
        must(found, format!("notifications page {page} of {size}"))
    }

    /// The whole history of the holder of `token`, newest first, read a hundred at a time.
    pub async fn all_notifications(&self, token: &str) -> Vec<Notification> {
        must(
            self.api.all_notifications(token).await,
            "the notification history",
        )
    }

    /// Waits until `user`'s history holds exactly `expected` — each `(type, bookingId)` as
    /// often as counted there, nothing else — and returns it, newest first.
    pub async fn await_notifications(
        &self,
        user: &TestUser,
        expected: &Tally,
    ) -> Vec<Notification> {
        self.await_notifications_within(SETTLED_WITHIN, user, expected)
            .await
    }

    /// [`ApiClient::await_notifications`], waiting at most `limit`.
    pub async fn await_notifications_within(
        &self,
        limit: Duration,
        user: &TestUser,
        expected: &Tally,
    ) -> Vec<Notification> {
        await_told(
            &self.api,
            &user.username,
            &user.token,
            expected,
            limit,
            POLL_EVERY,
        )
        .await
    }

    /// Opens `GET /notifications/stream` as the holder of `token`, sending `last_event_id`
    /// when given; it must be answered 200 with an event stream. Once this returns, the stream
    /// follows the user: what is recorded from then on comes through it.
    pub async fn open_stream(&self, token: &str, last_event_id: Option<&str>) -> EventStream {
        // The harness's client bounds a whole response, body included; a stream's body has no
        // end, so each read is bounded instead.
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let streaming = Client::with_http(self.api.base().as_str(), http).expect("the same base");
        let opening = streaming.notification_stream(token, last_event_id);
        let response = tokio::time::timeout(SETTLED_WITHIN, opening)
            .await
            .expect("the stream is answered in time");
        let response = must(response, "opening the stream");
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        assert!(
            content_type.starts_with("text/event-stream"),
            "the stream's content type: {content_type}"
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// A new user with a unique name who gave an e-mail address and a display name; returns
    /// them and their address.
    pub async fn new_user_with_email(&self, prefix: &str) -> (TestUser, String) {
        let username = unique(prefix);
        let email = format!("{username}@example.com");
        let display_name = format!("Guest {prefix}");
        let new = NewUser {
            username: &username,
            password: PASSWORD,
            display_name: Some(&display_name),
            email: Some(&email),
        };
        let user = must(
            self.api.sign_up(&new).await,
            format!("signing up {username}"),
        );
        assert_eq!(
            user.email.as_deref(),
            Some(&*email),
            "the address is kept: {user:?}"
        );
        let token = self.token(&username, PASSWORD).await;
        let user = TestUser {
            id: user.id,
            username,
            token,
        };
        (user, email)
    }
}

/// How long to wait for what a killed process left to others: JetStream hands the events a
/// subscriber had pulled, and not acknowledged, to the next one only once their ack wait
/// (10 s) has passed since they were pulled; with a loaded machine's start-up, a minute (as
/// long as [`SETTLED_WITHIN`] is now, kept apart because its reason is its own).
pub const AFTER_A_CRASH: Duration = Duration::from_secs(60);

/// One server-sent event: its name, its id and its data as JSON.
#[derive(Debug, Clone)]
pub struct ServerEvent {
    pub name: String,
    pub id: String,
    pub data: Value,
}

impl ServerEvent {
    /// The data as a notification.
    pub fn notice(&self) -> Notification {
        serde_json::from_value(self.data.clone()).unwrap_or_else(|error| {
            panic!("the event's data is a notification ({error}): {self:?}")
        })
    }
}

/// An open `GET /notifications/stream`, read event by event.
pub struct EventStream {
    response: Response,
    buffer: String,
}

impl EventStream {
    /// The next event with data (keep-alive comments are skipped); fails when none comes
    /// within [`SETTLED_WITHIN`] or the stream ends.
    pub async fn next(&mut self) -> ServerEvent {
        let deadline = tokio::time::Instant::now() + SETTLED_WITHIN;
        loop {
            if let Some(event) = self.take_event() {
                return event;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no server-sent event within {SETTLED_WITHIN:?}; unread: {:?}",
                        self.buffer
                    )
                })
                .expect("the stream is read")
                .expect("the stream goes on");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The first whole event in the buffer that carries data, taken out of it.
    fn take_event(&mut self) -> Option<ServerEvent> {
        loop {
            let normalised = self.buffer.replace("\r\n", "\n");
            self.buffer = normalised;
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut name, mut id, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                let field = |prefix: &str| {
                    line.strip_prefix(prefix)
                        .map(|value| value.strip_prefix(' ').unwrap_or(value).to_owned())
                };
                if let Some(value) = field("event:") {
                    name = value;
                } else if let Some(value) = field("id:") {
                    id = value;
                } else if let Some(value) = field("data:") {
                    data.push_str(&value);
                }
            }
            if !data.is_empty() {
                let data = serde_json::from_str(&data)
                    .unwrap_or_else(|error| panic!("the event's data is JSON ({error}): {block}"));
                return Some(ServerEvent { name, id, data });
            }
        }
    }
}

/// The text of a mail's body, its transfer encoding undone: 7bit as it is, quoted-printable
/// decoded (the mailer picks it for lines longer than 76 characters).
pub fn mail_text(message: &Message) -> String {
    let encoding = message
        .header("Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "7bit" | "8bit" => message.body().to_owned(),
        "quoted-printable" => {
            let joined = message.body().replace("=\r\n", "");
            let mut bytes = Vec::with_capacity(joined.len());
            let mut rest = joined.as_bytes();
            while let Some((&byte, after)) = rest.split_first() {
                let escaped = after
                    .get(..2)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match (byte, escaped) {
                    (b'=', Some(decoded)) => {
                        bytes.push(decoded);
                        rest = &after[2..];
                    }
                    _ => {
                        bytes.push(byte);
                        rest = after;
                    }
                }
            }
            String::from_utf8(bytes).expect("the mail's text is UTF-8")
        }
        other => panic!("a mail body in {other:?}: {message:?}"),
    }
}

/// The events `context`'s outbox holds that the relay has not published yet.
pub async fn unpublished(storage: &Storage, context: &str) -> i64 {
    let mut connection = storage.connect(context).await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(&mut connection)
        .await
        .expect("counting the unpublished events");
    connection.close().await.expect("closed");
    count
}

/// Waits until every outbox of `contexts` is published to the end.
pub async fn await_outboxes_drained(storage: &Storage, contexts: &[&str]) {
    eventually("the outboxes are published to the end", async || {
        let mut left = Vec::new();
        for context in contexts {
            let count = unpublished(storage, context).await;
            if count > 0 {
                left.push(format!("{context}: {count}"));
            }
        }
        if left.is_empty() {
            Ok(())
        } else {
            Err(left.join(", "))
        }
    })
    .await;
}

/// Waits until the notification context knows `user` (their `UserRegistered` is handled): only
/// then can it mail them. Notification tells what it knows when it tells, and an event of
/// another aggregate may come before the registration.
pub async fn await_contact(storage: &Storage, user: &TestUser) {
    eventually("notification knows the user", async || {
        let mut connection = storage.connect("notification").await;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts WHERE user_id = $1")
            .bind(user.id.to_string())
            .fetch_one(&mut connection)
            .await
            .expect("counting contacts");
        connection.close().await.expect("closed");
        if count == 1 {
            Ok(())
        } else {
            Err(format!("{count} contacts for {}", user.id))
        }
    })
    .await;
}

/// The mail queue's rows as `(status, attempts)`, oldest first.
pub async fn mail_queue(storage: &Storage) -> Vec<(String, i64)> {
    let mut connection = storage.connect("notification").await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, attempts FROM mail_queue ORDER BY created_at, id")
            .fetch_all(&mut connection)
            .await
            .expect("reading the mail queue");
    connection.close().await.expect("closed");
    rows
}

/// A gate in front of an [`SmtpSink`]: while closed it greets every client with `421` (a
/// temporary refusal) and hangs up; once opened it passes connections through to the sink.
pub struct MailGate {
    address: SocketAddr,
    open: Arc<AtomicBool>,
    turned_away: Arc<AtomicUsize>,
    acceptor: JoinHandle<()>,
}

impl MailGate {
    /// A closed gate in front of `sink`, on a free loopback port.
    pub async fn closed_before(sink: &SmtpSink) -> MailGate {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("a port for the mail gate");
        let address = listener.local_addr().expect("a bound address");
        let open = Arc::new(AtomicBool::new(false));
        let turned_away = Arc::new(AtomicUsize::new(0));
        let target = sink.address();
        let (is_open, refused) = (open.clone(), Arc::clone(&turned_away));
        let acceptor = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !is_open.load(Ordering::SeqCst) {
                    refused.fetch_add(1, Ordering::SeqCst);
                    // Gone already is as good as turned away.
                    let _ = client.write_all(b"421 4.3.2 closed for now\r\n").await;
                    let _ = client.shutdown().await;
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        // Either side hanging up ends the conversation.
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        MailGate {
            address,
            open,
            turned_away,
            acceptor,
        }
    }

    /// The gate as an SMTP URL, for the mailer.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// How many connections the gate has refused so far.
    pub fn turned_away(&self) -> usize {
        self.turned_away.load(Ordering::SeqCst)
    }

    /// Lets every later connection through to the sink.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for MailGate {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}
