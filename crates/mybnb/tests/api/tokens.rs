//! Tokens made by the tests themselves, with the secret the test application was given: to
//! prove what the application accepts and refuses.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// `{"alg":"none","typ":"JWT"}`, base64url-encoded without padding.
pub const ALG_NONE_HEADER: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as mybnb issues them, for `user_id`, expiring at `exp` (seconds since the epoch).
pub fn claims(user_id: &str, username: &str, exp: i64) -> Value {
    json!({ "sub": user_id, "name": username, "iss": "mybnb", "iat": now() - 60, "exp": exp })
}

/// An HS256 token of `claims` signed with `secret`.
pub fn sign(claims: &Value, secret: &str) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("a signed token")
}
