//! An SMTP sink for one test: a server on a free loopback port that accepts every message and
//! keeps it, so a test can see what was mailed — and can make the next deliveries fail, to see
//! them retried.
//!
//! Written here, on tokio alone, because nothing else fits a test: the SMTP sinks on crates.io
//! are unmaintained or pull in a whole mail server, and the usual tools (MailHog, Mailpit,
//! smtp4dev) are programs to download and run. A test needs a few commands, not a mail server:
//! it speaks as much SMTP (RFC 5321) as a client such as lettre uses without TLS or login —
//! the greeting; `EHLO` (offering `8BITMIME`, never `STARTTLS` or `AUTH`) and `HELO`;
//! `MAIL FROM`, `RCPT TO`, `DATA` (ended by a lone `.`, dot-stuffing undone); `RSET`, `NOOP`
//! and `QUIT`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The envelope's sender (`MAIL FROM`), without the angle brackets.
    pub from: String,
    /// The envelope's recipients (`RCPT TO`), without the angle brackets.
    pub recipients: Vec<String>,
    /// The message as sent after `DATA`: headers, a blank line, the body (line ends `\r\n`,
    /// the final `.` line left out).
    pub data: String,
}

impl Message {
    /// The first header called `name` (any case), unfolded; `None` when there is none.
    pub fn header(&self, name: &str) -> Option<String> {
        let headers = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut found: Option<String> = None;
        for line in headers.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                // A folded continuation of the previous header.
                if let Some(value) = found.as_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((field, value)) = line.split_once(':')
                && field.trim().eq_ignore_ascii_case(name)
            {
                found = Some(value.trim().to_owned());
            }
        }
        found
    }

    /// What follows the headers, as sent (still in its transfer encoding).
    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

/// A running sink; it stops when dropped.
pub struct SmtpSink {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Message>>,
    /// Woken whenever a message is kept.
    received: Notify,
    /// `DATA` commands still to be refused with a 451.
    failures_to_come: AtomicUsize,
    /// `DATA` commands refused so far.
    refused: AtomicUsize,
}

impl Shared {
    fn messages(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        // A test that panicked while holding the lock left whole messages behind.
        self.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SmtpSink {
    /// Starts a sink on `127.0.0.1` and a free port.
    pub async fn start() -> anyhow::Result<SmtpSink> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the SMTP sink to a loopback port")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = tokio::spawn(accept(listener, shared.clone()));
        Ok(SmtpSink {
            address,
            shared,
            acceptor,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The sink as an SMTP URL: `smtp://127.0.0.1:<port>` (plain SMTP, no TLS, no login).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// Answers the next `count` messages' `DATA` with `451` (a temporary failure) instead of
    /// keeping them.
    pub fn fail_next(&self, count: usize) {
        self.shared
            .failures_to_come
            .fetch_add(count, Ordering::SeqCst);
    }

    /// How many messages were refused by [`SmtpSink::fail_next`] so far.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Every message kept so far, in the order they came.
    pub fn messages(&self) -> Vec<Message> {
        self.shared.messages().clone()
    }

    /// Waits until at least `count` messages have been kept, then returns them all. It waits
    /// as long as it takes: bound it with a timeout in the test.
    pub async fn wait_for(&self, count: usize) -> Vec<Message> {
        loop {
            let received = self.shared.received.notified();
            tokio::pin!(received);
            // Registered before looking, so a message kept in between is not missed.
            received.as_mut().enable();
            {
                let messages = self.shared.messages();
                if messages.len() >= count {
                    return messages.clone();
                }
            }
            received.await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // The acceptor owns the conversations: aborting it ends them too.
        self.acceptor.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut conversations = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conversations.spawn(converse(stream, shared.clone()));
                }
            }
            // Reaps finished conversations; a client that hung up mid-way is no concern here.
            Some(_) = conversations.join_next(), if !conversations.is_empty() => {}
        }
    }
}

/// The envelope being built by one client.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    recipients: Vec<String>,
}

async fn converse(stream: TcpStream, shared: Arc<Shared>) -> anyhow::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    reply(&mut writer, "220 mybnb-smtp-sink ready").await?;
    let mut envelope = Envelope::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply(&mut writer, "250-mybnb-smtp-sink\r\n250 8BITMIME").await?,
            "HELO" => reply(&mut writer, "250 mybnb-smtp-sink").await?,
            "MAIL" => {
                envelope = Envelope {
                    from: Some(address_in(command)),
                    recipients: Vec::new(),
                };
                reply(&mut writer, "250 2.1.0 OK").await?;
            }
            "RCPT" if envelope.from.is_none() => {
                reply(&mut writer, "503 5.5.1 MAIL FROM first").await?;
            }
            "RCPT" => {
                envelope.recipients.push(address_in(command));
                reply(&mut writer, "250 2.1.5 OK").await?;
            }
            "DATA" if envelope.recipients.is_empty() => {
                reply(&mut writer, "503 5.5.1 RCPT TO first").await?;
            }
            "DATA" => {
                reply(&mut writer, "354 end data with <CR><LF>.<CR><LF>").await?;
                let data = read_data(&mut reader).await?;
                let envelope = std::mem::take(&mut envelope);
                if take_failure(&shared.failures_to_come) {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    reply(&mut writer, "451 4.3.0 failing on purpose; try again later").await?;
                    continue;
                }
                shared.messages().push(Message {
                    from: envelope.from.unwrap_or_default(),
                    recipients: envelope.recipients,
                    data,
                });
                shared.received.notify_waiters();
                reply(&mut writer, "250 2.0.0 kept").await?;
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut writer, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut writer, "250 2.0.0 OK").await?,
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(&mut writer, "502 5.5.2 command not implemented").await?,
        }
    }
}

async fn reply(writer: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    writer.write_all(text.as_bytes()).await?;
    writer.write_all(b"\r\n").await?;
    writer.flush().await
}

/// The message after `DATA`, up to the line holding a lone `.`, with dot-stuffing undone.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> anyhow::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            anyhow::bail!("the client hung up in the middle of a message");
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

/// Takes one of the failures still to come; false when there are none.
fn take_failure(failures_to_come: &AtomicUsize) -> bool {
    failures_to_come
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok()
}

/// The address between angle brackets in `MAIL FROM:<a@b> BODY=8BITMIME`, or what follows the
/// colon when there are none.
fn address_in(command: &str) -> String {
    let argument = command.split_once(':').map_or("", |(_, rest)| rest).trim();
    match (argument.find('<'), argument.find('>')) {
        (Some(open), Some(close)) if open < close => argument[open + 1..close].to_owned(),
        _ => argument
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_with_or_without_brackets() {
        assert_eq!(
            address_in("MAIL FROM:<a@b.example> BODY=8BITMIME"),
            "a@b.example"
        );
        assert_eq!(address_in("RCPT TO: c@d.example"), "c@d.example");
        assert_eq!(address_in("MAIL FROM:<>"), "");
    }

    #[test]
    fn headers_are_found_in_any_case_and_unfolded() {
        let message = Message {
            from: String::new(),
            recipients: Vec::new(),
            data: "Subject: a long\r\n subject\r\nTo: x@y.example\r\n\r\nSubject: not a header"
                .into(),
        };
        assert_eq!(message.header("subject").as_deref(), Some("a long subject"));
        assert_eq!(message.header("TO").as_deref(), Some("x@y.example"));
        assert_eq!(message.header("From"), None);
        assert_eq!(message.body(), "Subject: not a header");
    }

    #[tokio::test]
    async fn a_message_is_kept_and_a_refused_one_is_not() {
        let sink = SmtpSink::start().await.expect("a sink");
        sink.fail_next(1);
        let stream = TcpStream::connect(sink.address()).await.expect("connected");
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        let mut answers = Vec::new();
        let mut exchange = async |sent: &str, lines: usize| {
            if !sent.is_empty() {
                writer.write_all(sent.as_bytes()).await.expect("sent");
            }
            for _ in 0..lines {
                let mut answer = String::new();
                reader.read_line(&mut answer).await.expect("an answer");
                answers.push(answer[..3].to_owned());
            }
        };
        exchange("", 1).await;
        exchange("EHLO test\r\n", 2).await;
        for _ in 0..2 {
            exchange("MAIL FROM:<a@b.example>\r\n", 1).await;
            exchange("RCPT TO:<c@d.example>\r\n", 1).await;
            exchange("DATA\r\n", 1).await;
            exchange("Subject: hi\r\n\r\n..dotted\r\n.\r\n", 1).await;
        }
        exchange("QUIT\r\n", 1).await;
        assert_eq!(
            answers,
            [
                "220", "250", "250", "250", "250", "354", "451", "250", "250", "354", "250", "221"
            ]
        );
        let messages = sink.wait_for(1).await;
        assert_eq!(sink.refused(), 1);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].from, "a@b.example");
        assert_eq!(messages[0].recipients, ["c@d.example"]);
        assert_eq!(messages[0].body(), ".dotted\r\n");
    }
}
