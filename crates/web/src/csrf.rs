//! Cross-site request forgery protection for every form: a signed double-submit token.
//!
//! Each browser gets a random nonce in a cookie. A form carries a token that is the HMAC of that
//! nonce and of the session it is for (none before logging in), under a key only mybnb's web
//! instances know. A forged request from another site cannot read the cookie to copy it, and a
//! cookie planted by someone else does not match a token they could not sign; a token from
//! before logging in or out no longer matches either.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The key the tokens are signed with.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    /// Derives the key from a secret every web instance shares (the service token), so that a
    /// form rendered by one instance is accepted by another.
    pub fn derive(secret: &[u8]) -> CsrfKey {
        CsrfKey(sign(secret, &[b"mybnb web forms"]))
    }

    /// The token a form carries for this nonce and session.
    pub fn token(&self, nonce: &str, session: Option<&str>) -> String {
        hex(&sign(
            &self.0,
            &[nonce.as_bytes(), b"\0", session.unwrap_or("").as_bytes()],
        ))
    }

    /// Whether `presented` is the token for this nonce and session.
    pub fn admits(&self, nonce: &str, session: Option<&str>, presented: &str) -> bool {
        !nonce.is_empty()
            && bool::from(
                self.token(nonce, session)
                    .as_bytes()
                    .ct_eq(presented.as_bytes()),
            )
    }
}

/// A new random nonce for a browser's cookie.
pub fn fresh_nonce() -> String {
    hex(&rand::random::<[u8; 32]>())
}

fn sign(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_bound_to_its_nonce_its_session_and_the_key() {
        let key = CsrfKey::derive(b"shared");
        let nonce = fresh_nonce();
        let token = key.token(&nonce, Some("session-a"));
        assert!(key.admits(&nonce, Some("session-a"), &token));
        assert!(!key.admits(&nonce, Some("session-b"), &token));
        assert!(!key.admits(&nonce, None, &token));
        assert!(!key.admits(&fresh_nonce(), Some("session-a"), &token));
        assert!(!CsrfKey::derive(b"other").admits(&nonce, Some("session-a"), &token));
        assert!(!key.admits("", None, &key.token("", None)));
        assert!(!key.admits(&nonce, None, ""));
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(fresh_nonce(), fresh_nonce());
        assert_eq!(fresh_nonce().len(), 64);
    }
}
