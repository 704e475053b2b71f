//! Notification's settings: the SMTP server that notifications are also e-mailed through, and
//! the sender they come from. Without `smtp_url` nothing is mailed.

use mybnb_platform::settings::{Invalid, Section, described, invalid, secret_url};
use secrecy::SecretString;
use serde::Deserialize;

use crate::mail::MailSettings;

#[derive(Clone, Default)]
pub struct NotificationSettings {
    /// Notifications are also e-mailed when set.
    pub mail: Option<MailSettings>,
}

#[derive(Deserialize)]
#[serde(default)]
pub struct RawNotificationSettings {
    smtp_url: Option<SecretString>,
    mail_from: String,
}

impl Default for RawNotificationSettings {
    fn default() -> Self {
        RawNotificationSettings {
            smtp_url: None,
            mail_from: "mybnb <noreply@mybnb.localhost>".to_owned(),
        }
    }
}

impl Section for NotificationSettings {
    type Raw = RawNotificationSettings;

    fn validate(raw: RawNotificationSettings) -> Result<NotificationSettings, Invalid> {
        let Some(smtp_url) = raw.smtp_url else {
            return Ok(NotificationSettings { mail: None });
        };
        secret_url("smtp_url", &smtp_url, &["smtp", "smtps"], "an smtp:// URL")?;
        if raw.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "mail_from",
                format!(
                    "`{}` is not a mailbox like `mybnb <noreply@example.com>`",
                    raw.mail_from
                ),
            ));
        }
        Ok(NotificationSettings {
            mail: Some(MailSettings {
                smtp_url,
                from: raw.mail_from,
            }),
        })
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![described(
            "mail",
            match &self.mail {
                Some(mail) => format!("SMTP at {} from {}", mail.describe(), mail.from),
                None => "off (no smtp_url)".to_owned(),
            },
        )]
    }
}
