//! Setting an event aside: a message on `mybnb.dead.<subscriber>` in the dead-letter stream,
//! the envelope as its body, why and what in its headers.

use anyhow::Context;
use async_nats::HeaderValue;
use async_nats::jetstream::{self, message::PublishMessage};

use super::JetStreamBus;
use super::streams::DEAD_LETTER_SUBJECT_PREFIX;

/// Reasons are cut to this many bytes: they travel in a header.
const LONGEST_REASON: usize = 2048;

pub(super) struct DeadLetter {
    /// `<subscriber>:<event id>`: setting the same event aside twice keeps one letter.
    pub message_id: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub body: Vec<u8>,
    pub reason: String,
}

/// Publishes `letter` to the dead-letter stream and waits until it is stored.
pub(super) async fn set_aside(
    jetstream: &jetstream::Context,
    subscriber: &str,
    letter: DeadLetter,
) -> anyhow::Result<()> {
    let mut message = PublishMessage::build()
        .payload(letter.body.into())
        .message_id(&letter.message_id)
        .header(JetStreamBus::REASON_HEADER, header_value(&letter.reason));
    if let Some(event_id) = letter.event_id {
        message = message.header(JetStreamBus::EVENT_ID_HEADER, header_value(&event_id));
    }
    if let Some(event_type) = letter.event_type {
        message = message.header(JetStreamBus::EVENT_TYPE_HEADER, header_value(&event_type));
    }
    jetstream
        .send_publish(format!("{DEAD_LETTER_SUBJECT_PREFIX}{subscriber}"), message)
        .await
        .context("publishing a dead letter")?
        .await
        .context("NATS did not store a dead letter")?;
    Ok(())
}

/// `text` as a header value: one line, at most [`LONGEST_REASON`] bytes.
fn header_value(text: &str) -> HeaderValue {
    let mut line: String = text
        .chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect();
    if line.len() > LONGEST_REASON {
        let mut end = LONGEST_REASON;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    // Without control characters ('\r' and '\n' among them) the value is valid.
    line.parse().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_value_is_one_bounded_line() {
        let reason = format!("first\r\nsecond\t{}", "é".repeat(LONGEST_REASON));
        let value = header_value(&reason);
        assert!(value.as_str().starts_with("first  second "));
        assert!(value.as_str().len() <= LONGEST_REASON);
        assert!(!value.as_str().contains(['\r', '\n']));
    }
}
