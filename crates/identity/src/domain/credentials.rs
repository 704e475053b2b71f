//! Usernames and passwords.

use std::fmt;

use super::IdentityError;

/// A username: 3–32 letters, digits, `.`, `_` or `-`, starting with a letter or digit. Usernames
/// are case-insensitive, so they are kept in lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    pub fn parse(text: &str) -> Result<Username, IdentityError> {
        let text = text.trim();
        let length = text.chars().count();
        if !(Username::MIN_CHARS..=Username::MAX_CHARS).contains(&length) {
            return Err(IdentityError::invalid(
                "username",
                format!(
                    "must be {} to {} characters",
                    Username::MIN_CHARS,
                    Username::MAX_CHARS
                ),
            ));
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !text.chars().all(allowed) || !text.starts_with(char::is_alphanumeric) {
            return Err(IdentityError::invalid(
                "username",
                "may hold letters, digits, `.`, `_` and `-`, and must start with a letter or digit",
            ));
        }
        Ok(Username(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8–128 characters. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(text: String) -> Result<Password, IdentityError> {
        let length = text.chars().count();
        if !(Password::MIN_CHARS..=Password::MAX_CHARS).contains(&length) {
            return Err(IdentityError::invalid(
                "password",
                format!(
                    "must be {} to {} characters",
                    Password::MIN_CHARS,
                    Password::MAX_CHARS
                ),
            ));
        }
        Ok(Password(text))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(
            Username::parse(" Kim.Host ").expect("valid").as_str(),
            "kim.host"
        );
        for bad in ["ab", "-kim", "kim host", "kim@host", &"k".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords_have_bounded_length_and_never_print() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(129)).is_err());
        let password = Password::parse("correct horse".into()).expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }
}
