//! The e-mail that carries a notification, and when a failed one is tried again.

use std::time::Duration;

use uuid::Uuid;

use super::{Contact, Notification};

/// An e-mail to send: everything the mailer needs, fixed when the notification is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub body: String,
}

impl OutgoingMail {
    /// The e-mail telling `contact` of `notification`; none when they gave no address.
    pub fn for_notification(
        id: Uuid,
        notification: &Notification,
        contact: &Contact,
    ) -> Option<OutgoingMail> {
        let to_address = contact.email.clone()?;
        Some(OutgoingMail {
            id,
            notification_id: notification.id,
            to_address,
            to_name: contact.display_name.clone(),
            subject: notification.kind.subject().to_owned(),
            body: format!(
                "Hello {},\n\n{}\n\nmybnb\n",
                one_line(&contact.display_name),
                one_line(&notification.message)
            ),
        })
    }
}

/// `text` with every line break or other control character as a space: what users wrote (a
/// name, a room's name inside a message) cannot add lines to a mail, whatever was stored
/// before the API refused such names.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The first pause after a failed attempt; each further failure doubles it…
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// …up to this.
const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// How long to wait before trying a mail again after its `attempts`-th failed attempt.
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    FIRST_RETRY
        .saturating_mul(1 << doublings)
        .min(LONGEST_RETRY)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::NotificationKind;

    #[test]
    fn retries_back_off_exponentially_up_to_five_minutes() {
        let delays: Vec<u64> = [1, 2, 3, 4, 9, 10, 1000]
            .into_iter()
            .map(|attempts| retry_delay(attempts).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 256, 300, 300]);
    }

    #[test]
    fn a_mail_greets_by_name_and_carries_the_message() {
        let notification = Notification {
            id: Uuid::now_v7(),
            recipient: Uuid::now_v7(),
            kind: NotificationKind::BookingConfirmed,
            booking_id: Uuid::now_v7(),
            message: "Your room is booked.".into(),
            event_id: Uuid::now_v7(),
            created_at: Utc::now(),
        };
        let mut contact = Contact {
            user_id: notification.recipient,
            display_name: "Kim".into(),
            email: Some("kim@example.com".into()),
        };
        let mail = OutgoingMail::for_notification(Uuid::now_v7(), &notification, &contact)
            .expect("a mail");
        assert_eq!(mail.to_address, "kim@example.com");
        assert_eq!(mail.subject, "mybnb: your room is booked");
        assert_eq!(mail.body, "Hello Kim,\n\nYour room is booked.\n\nmybnb\n");
        contact.email = None;
        assert!(OutgoingMail::for_notification(Uuid::now_v7(), &notification, &contact).is_none());
    }

    #[test]
    fn what_users_wrote_adds_no_line_to_a_mail() {
        let notification = Notification {
            id: Uuid::now_v7(),
            recipient: Uuid::now_v7(),
            kind: NotificationKind::BookingConfirmed,
            booking_id: Uuid::now_v7(),
            message: "\"Loft\r\n\r\nClick http://evil.example\" is booked.".into(),
            event_id: Uuid::now_v7(),
            created_at: Utc::now(),
        };
        let contact = Contact {
            user_id: notification.recipient,
            display_name: "Kim\u{2028}Admin".into(),
            email: Some("kim@example.com".into()),
        };
        let mail = OutgoingMail::for_notification(Uuid::now_v7(), &notification, &contact)
            .expect("a mail");
        let lines: Vec<&str> = mail.body.lines().collect();
        assert_eq!(
            lines.len(),
            5,
            "greeting, blank, message, blank, signature: {lines:?}"
        );
        assert!(lines[2].contains("Click http://evil.example"), "{lines:?}");
        assert!(!mail.body.contains('\u{2028}'), "{:?}", mail.body);
    }
}
