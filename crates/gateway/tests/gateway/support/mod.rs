//! The harness: real instances ([`Instance`], [`Swallower`]) and a real [`Gateway`] in front of
//! them, all on 127.0.0.1, spoken to over HTTP.

mod gateway;
mod instance;

use std::time::Duration;

use mybnb_platform::auth::{ServiceToken, TokenVerifier, token_keys};
use mybnb_testkit::eventually::eventually_polling;
use secrecy::SecretString;
use uuid::Uuid;

pub use gateway::{Gateway, rooms, users};
pub use instance::{Echo, EchoCaller, Instance, KeepAlive, Swallower};

/// How long a condition the test waits for may take before the test fails.
pub const SETTLE_WITHIN: Duration = Duration::from_secs(10);

const JWT_SECRET: &[u8] = b"the-gateway-tests-token-signing-secret";

/// What the gateway vouches with and the instances believe.
pub const SERVICE_TOKEN: &str = "the-service-token-shared-by-mybnb";

pub fn service_token() -> ServiceToken {
    ServiceToken::new(SecretString::from(SERVICE_TOKEN.to_owned()))
}

pub fn verifier() -> TokenVerifier {
    token_keys(JWT_SECRET, Duration::from_secs(600))
        .expect("a long enough secret")
        .1
}

/// An access token the gateway accepts.
pub fn token_for(user_id: Uuid, username: &str) -> String {
    let (issuer, _) = token_keys(JWT_SECRET, Duration::from_secs(600)).expect("a long secret");
    issuer
        .issue(user_id, username)
        .expect("a token")
        .access_token
}

/// A well-formed token signed with another secret.
pub fn forged_token_for(user_id: Uuid, username: &str) -> String {
    let (issuer, _) = token_keys(
        b"not-the-gateways-signing-secret-at-all",
        Duration::from_secs(600),
    )
    .expect("a long secret");
    issuer
        .issue(user_id, username)
        .expect("a token")
        .access_token
}

/// Polls `probe` every 5 ms until it answers `Ok`, failing the test with its last `Err` after
/// [`SETTLE_WITHIN`].
pub async fn eventually<T>(what: &str, probe: impl AsyncFnMut() -> Result<T, String>) -> T {
    eventually_polling(SETTLE_WITHIN, Duration::from_millis(5), what, probe).await
}

/// The gateway's own 503 — not the request deadline's ("the request took too long"), which
/// would mean the request waited for an instance instead of being answered at once.
pub async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(response.headers().contains_key("retry-after"));
    let problem: serde_json::Value = response.json().await.expect("a problem document");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("is not answering"),
        "{problem}"
    );
}
