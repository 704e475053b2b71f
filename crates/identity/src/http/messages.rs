//! Request and response bodies of the identity API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Email, SignUpDraft, User};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignUpRequest {
    /// 3–32 letters, digits, `.`, `_` or `-`, starting with a letter or digit; case-insensitive.
    #[schema(example = "kim.host")]
    pub username: String,
    /// 8–128 characters.
    #[schema(example = "correct horse battery")]
    pub password: String,
    /// 1–64 characters; the username when absent.
    pub display_name: Option<String>,
    pub email: Option<String>,
}

impl SignUpRequest {
    pub fn into_draft(self) -> SignUpDraft {
        SignUpDraft {
            username: self.username,
            password: self.password,
            display_name: self.display_name,
            email: self.email,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    pub id: Uuid,
    /// Lowercase.
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        UserResponse {
            id: user.id,
            username: user.username.as_str().to_owned(),
            display_name: user.display_name.as_str().to_owned(),
            email: user.email.as_ref().map(Email::as_str).map(str::to_owned),
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}
