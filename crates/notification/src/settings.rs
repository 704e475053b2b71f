//! Notification's settings: the SMTP server that notifications are also e-mailed through, and
//! the sender they come from. Without `smtp_url` nothing is mailed.

use mybnb_platform::settings::{Invalid, Section, described, invalid, secret_url};
use secrecy::{ExposeSecret, SecretString};
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

/// A URL that logs in must require TLS: implicit (`smtps://`) or STARTTLS the server must
/// offer (`?tls=required`). `tls=opportunistic` would send the password in clear to a server,
/// or a man in the middle, that offers no STARTTLS.
fn refuse_credentials_in_clear(smtp_url: &SecretString) -> Result<(), Invalid> {
    let Ok(url) = url::Url::parse(smtp_url.expose_secret()) else {
        return Ok(());
    };
    let logs_in = !url.username().is_empty() || url.password().is_some();
    let tls_required = url.scheme() == "smtps"
        || url
            .query_pairs()
            .any(|(key, value)| key == "tls" && value == "required");
    if logs_in && !tls_required {
        return Err(invalid(
            "smtp_url",
            "logs in without requiring TLS: use smtps://, or smtp:// with ?tls=required",
        ));
    }
    Ok(())
}

impl Section for NotificationSettings {
    type Raw = RawNotificationSettings;

    fn validate(raw: RawNotificationSettings) -> Result<NotificationSettings, Invalid> {
        let Some(smtp_url) = raw.smtp_url else {
            return Ok(NotificationSettings { mail: None });
        };
        secret_url("smtp_url", &smtp_url, &["smtp", "smtps"], "an smtp:// URL")?;
        refuse_credentials_in_clear(&smtp_url)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> Result<NotificationSettings, Invalid> {
        NotificationSettings::validate(RawNotificationSettings {
            smtp_url: Some(SecretString::from(url)),
            ..RawNotificationSettings::default()
        })
    }

    #[test]
    fn credentials_go_to_the_mail_server_only_over_tls() {
        for refused in [
            "smtp://mybnb:s3cret@mail.example:587",
            "smtp://mybnb:s3cret@mail.example:587?tls=opportunistic",
            "smtp://token@mail.example",
        ] {
            assert!(with_url(refused).is_err(), "{refused}");
        }
        for accepted in [
            "smtps://mybnb:s3cret@mail.example:465",
            "smtp://mybnb:s3cret@mail.example:587?tls=required",
            "smtp://127.0.0.1:2525",
        ] {
            assert!(with_url(accepted).is_ok(), "{accepted}");
        }
    }
}
