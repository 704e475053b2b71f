//! The key a client sends so that a repeated request books once.

use super::BookingError;

/// An `Idempotency-Key`: 1 to 255 printable ASCII characters, parsed once where the request
/// comes in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(key: &str) -> Result<IdempotencyKey, BookingError> {
        let printable = key.bytes().all(|byte| byte.is_ascii_graphic());
        if key.is_empty() || key.len() > Self::MAX_LEN || !printable {
            return Err(BookingError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 printable ASCII characters",
            ));
        }
        Ok(IdempotencyKey(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("é").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        let key = IdempotencyKey::parse(&"k".repeat(255)).expect("a key");
        assert_eq!(key.as_str().len(), 255);
    }
}
