//! The shape of a settings section: the part of the one flat settings tree that a context (or
//! the process) owns. A section is written once, in its own crate: its keys are the fields of
//! its [`Section::Raw`] struct (with their defaults in its `Default`), [`Section::validate`]
//! turns them into values usable as they are, and [`Section::describe`] says what they are for
//! the start-up log. The process that runs the contexts reads every section from the same tree,
//! so every key keeps its top-level name (`payment_timeout_ms`, not `booking.payment_timeout_ms`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::db::redact_url;

/// A section of the settings tree.
pub trait Section: Sized {
    /// The section as written: every key a field (serde names it), with its default.
    type Raw: DeserializeOwned + Default;

    /// Checks every value, naming the key of the first that is wrong.
    fn validate(raw: Self::Raw) -> Result<Self, Invalid>;

    /// The effective values as `(key, value)` pairs for the start-up log; secrets are named,
    /// never shown, and URLs lose their passwords.
    fn describe(&self) -> Vec<(String, String)>;

    /// The section's keys, as serde reads them from [`Section::Raw`].
    fn keys() -> &'static [&'static str] {
        keys_of::<Self::Raw>()
    }
}

/// The keys of a settings struct as written: its fields as serde names them.
pub fn keys_of<Raw: DeserializeOwned>() -> &'static [&'static str] {
    serde_aux::serde_introspection::serde_introspect::<Raw>()
}

/// A value that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{key}`: {reason}")]
pub struct Invalid {
    pub key: &'static str,
    pub reason: String,
}

pub fn invalid(key: &'static str, reason: impl Into<String>) -> Invalid {
    Invalid {
        key,
        reason: reason.into(),
    }
}

/// A duration written in milliseconds that must not be zero.
pub fn millis(key: &'static str, millis: u64) -> Result<Duration, Invalid> {
    if millis == 0 {
        return Err(invalid(key, "must be at least 1"));
    }
    Ok(Duration::from_millis(millis))
}

/// A count that must not be zero.
pub fn at_least_one<N: PartialEq + Default>(key: &'static str, count: N) -> Result<N, Invalid> {
    if count == N::default() {
        return Err(invalid(key, "must be at least 1"));
    }
    Ok(count)
}

/// An http:// or https:// URL, shown redacted when it is wrong.
pub fn http_url(key: &'static str, url: &str) -> Result<Url, Invalid> {
    let parsed = Url::parse(url)
        .map_err(|error| invalid(key, format!("`{}` is not a URL: {error}", redact_url(url))))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        scheme => Err(invalid(
            key,
            format!("`{scheme}:` is not supported; use an http:// URL"),
        )),
    }
}

/// A URL that may hold a password, with one of `schemes`: checked, and shown redacted when
/// wrong.
pub fn secret_url(
    key: &'static str,
    url: &SecretString,
    schemes: &[&str],
    expected: &str,
) -> Result<(), Invalid> {
    let url = url.expose_secret();
    let parsed = Url::parse(url)
        .map_err(|error| invalid(key, format!("`{}` is not a URL: {error}", redact_url(url))))?;
    if schemes.contains(&parsed.scheme()) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("`{}:` is not supported; use {expected}", parsed.scheme()),
        ))
    }
}

/// A `(key, value)` pair of [`Section::describe`].
pub fn described(key: &str, value: impl ToString) -> (String, String) {
    (key.to_owned(), value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct RawExample {
        first_ms: u64,
        second_url: Option<String>,
    }

    struct Example;

    impl Section for Example {
        type Raw = RawExample;

        fn validate(raw: RawExample) -> Result<Example, Invalid> {
            millis("first_ms", raw.first_ms)?;
            Ok(Example)
        }

        fn describe(&self) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    #[test]
    fn a_sections_keys_are_its_raw_fields() {
        assert_eq!(Example::keys(), ["first_ms", "second_url"]);
    }

    #[test]
    fn zero_millis_and_foreign_schemes_are_refused() {
        assert_eq!(
            Example::validate(RawExample::default()).err(),
            Some(invalid("first_ms", "must be at least 1"))
        );
        assert!(http_url("key", "ftp://example.com/").is_err());
        let with_password = http_url("key", "not a url with secret");
        assert!(with_password.is_err());
        let refused = secret_url(
            "key",
            &SecretString::from("http://user:hunter22@example.com/"),
            &["nats"],
            "a nats:// URL",
        )
        .err()
        .map(|error| error.to_string());
        assert_eq!(
            refused.as_deref(),
            Some("invalid `key`: `http:` is not supported; use a nats:// URL")
        );
    }
}
