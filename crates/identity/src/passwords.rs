//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes), off the async
//! threads because each hash takes tens of milliseconds of CPU.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;

/// A hash of no real password, checked when the username is unknown so that a wrong username
/// takes as long to refuse as a wrong password.
static DECOY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"decoy password")
        .ok()
        .map(|hash| hash.to_string())
});

pub async fn hash(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))
    })
    .await
    .context("the hashing task failed")?
}

/// Whether the password matches the stored hash; `None` checks against a decoy and is false.
pub async fn verify(password: String, stored_hash: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let is_decoy = stored_hash.is_none();
        let Some(hash) = stored_hash.or_else(|| DECOY_HASH.clone()) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        matches && !is_decoy
    })
    .await
    .context("the verification task failed")
}
