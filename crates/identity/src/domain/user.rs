//! Users.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{IdentityError, Password, Username};

/// The name shown to others: 1–64 characters; the username when not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(text: &str) -> Result<DisplayName, IdentityError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > DisplayName::MAX_CHARS {
            return Err(IdentityError::invalid(
                "displayName",
                format!("must be 1 to {} characters", DisplayName::MAX_CHARS),
            ));
        }
        // Line and paragraph separators are no control characters, but break lines all the
        // same: a name goes into e-mails.
        if text
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            return Err(IdentityError::invalid(
                "displayName",
                "must not contain control characters or line breaks",
            ));
        }
        Ok(DisplayName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked for the shape RFC 5322 allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// In bytes, as RFC 5321 counts a path.
    pub const MAX_BYTES: usize = 254;

    pub fn parse(text: &str) -> Result<Email, IdentityError> {
        let text = text.trim();
        if text.len() > Email::MAX_BYTES || !email_address::EmailAddress::is_valid(text) {
            return Err(IdentityError::invalid(
                "email",
                "must be a valid e-mail address",
            ));
        }
        Ok(Email(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: Username,
    pub display_name: DisplayName,
    pub email: Option<Email>,
    pub created_at: DateTime<Utc>,
}

/// A sign-up as submitted, not yet checked.
#[derive(Debug, Clone)]
pub struct SignUpDraft {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// A valid sign-up: the user to create and the password to hash.
#[derive(Debug)]
pub struct NewUser {
    pub user: User,
    pub password: Password,
}

impl SignUpDraft {
    pub fn parse(self, id: Uuid, now: DateTime<Utc>) -> Result<NewUser, IdentityError> {
        let username = Username::parse(&self.username)?;
        // The first guess of anyone who knows the name.
        if self.password.trim().to_lowercase() == username.as_str() {
            return Err(IdentityError::invalid(
                "password",
                "must not be the username",
            ));
        }
        let password = Password::parse(self.password)?;
        let display_name = match self.display_name.as_deref() {
            Some(name) => DisplayName::parse(name)?,
            None => DisplayName(username.as_str().to_owned()),
        };
        let email = self
            .email
            .as_deref()
            .filter(|email| !email.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        Ok(NewUser {
            user: User {
                id,
                username,
                display_name,
                email,
                created_at: now,
            },
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> SignUpDraft {
        SignUpDraft {
            username: "Guest1".into(),
            password: "long enough".into(),
            display_name: None,
            email: Some("guest@example.com".into()),
        }
    }

    #[test]
    fn display_name_defaults_to_the_username() {
        let new_user = draft().parse(Uuid::now_v7(), Utc::now()).expect("valid");
        assert_eq!(new_user.user.display_name.as_str(), "guest1");
    }

    #[test]
    fn a_password_that_is_the_username_is_refused_whatever_its_case() {
        for password in ["guest1234", "GUEST1234", " Guest1234 "] {
            let same = SignUpDraft {
                username: "Guest1234".into(),
                password: password.into(),
                ..draft()
            };
            assert!(
                matches!(
                    same.parse(Uuid::now_v7(), Utc::now()),
                    Err(IdentityError::Invalid {
                        field: "password",
                        ..
                    })
                ),
                "{password:?}"
            );
        }
    }

    #[test]
    fn malformed_emails_are_refused() {
        let bad = SignUpDraft {
            email: Some("not-an-address".into()),
            ..draft()
        };
        assert!(matches!(
            bad.parse(Uuid::now_v7(), Utc::now()),
            Err(IdentityError::Invalid { field: "email", .. })
        ));
    }
}
