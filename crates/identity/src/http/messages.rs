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
    /// Surrounding spaces are ignored.
    #[schema(
        example = "kim.host",
        min_length = 3,
        max_length = 32,
        pattern = "^[\\p{L}\\p{N}][\\p{L}\\p{N}._-]*$"
    )]
    pub username: String,
    /// 8–128 characters.
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
    /// 1–64 characters, not all spaces, no control characters; the username when absent.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub display_name: Option<String>,
    /// Where notifications are e-mailed, if given.
    #[schema(format = Email, max_length = 254, example = "kim@example.com")]
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

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;
    use crate::domain::{DisplayName, Email, Password, Username};

    /// The limits the document states are the ones the domain enforces (utoipa takes only
    /// literals in its attributes, so this keeps the two from drifting apart).
    #[test]
    fn the_sign_up_schema_states_the_domains_limits() {
        let schema = serde_json::to_value(SignUpRequest::schema()).expect("a schema");
        let bounds = |member: &str| {
            let property = &schema["properties"][member];
            (
                property["minLength"].as_u64(),
                property["maxLength"].as_u64(),
            )
        };
        let limit = |chars: usize| u64::try_from(chars).ok();
        assert_eq!(
            bounds("username"),
            (limit(Username::MIN_CHARS), limit(Username::MAX_CHARS))
        );
        assert_eq!(
            bounds("password"),
            (limit(Password::MIN_CHARS), limit(Password::MAX_CHARS))
        );
        assert_eq!(
            bounds("displayName"),
            (Some(1), limit(DisplayName::MAX_CHARS))
        );
        assert_eq!(bounds("email"), (None, limit(Email::MAX_BYTES)));
        assert_eq!(schema["properties"]["email"]["format"], "email");
    }
}
