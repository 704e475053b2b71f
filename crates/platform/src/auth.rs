//! Access tokens: identity issues them, every other context verifies them.
//!
//! Tokens are HS256-signed JWTs. Verification accepts HS256 only (so `alg: none` and algorithm
//! confusion are refused), requires an expiry and the `mybnb` issuer, and allows no leeway.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::http::ApiError;

const ISSUER: &str = "mybnb";

/// The shortest signing secret accepted: 256 bits, the size of HS256's output.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's username.
    pub name: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// A freshly signed access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: Duration,
}

/// Signs access tokens; held by the identity context only.
#[derive(Clone)]
pub struct TokenIssuer {
    key: Arc<EncodingKey>,
    lifetime: Duration,
}

/// Checks access tokens; held by every context that serves authenticated requests.
#[derive(Clone)]
pub struct TokenVerifier {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the signing secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    #[error("the token could not be signed")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Builds the issuer and the verifier that share one signing secret.
pub fn token_keys(
    secret: &[u8],
    lifetime: Duration,
) -> Result<(TokenIssuer, TokenVerifier), TokenError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(TokenError::SecretTooShort);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let issuer = TokenIssuer {
        key: Arc::new(EncodingKey::from_secret(secret)),
        lifetime,
    };
    let verifier = TokenVerifier {
        key: Arc::new(DecodingKey::from_secret(secret)),
        validation: Arc::new(validation),
    };
    Ok((issuer, verifier))
}

impl TokenIssuer {
    pub fn issue(&self, user_id: Uuid, username: &str) -> Result<IssuedToken, TokenError> {
        let issued_at = chrono::Utc::now().timestamp();
        let lifetime_secs = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: user_id,
            name: username.to_owned(),
            iss: ISSUER.to_owned(),
            iat: issued_at,
            exp: issued_at.saturating_add(lifetime_secs),
        };
        let access_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .map_err(TokenError::Signing)?;
        Ok(IssuedToken {
            access_token,
            expires_in: self.lifetime,
        })
    }
}

impl TokenVerifier {
    /// The claims of a valid token, or `None` for a token that is malformed, forged, signed
    /// with another algorithm, or expired.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The user a request's valid bearer token names, if it carries one.
    pub fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        let claims = self.verify(bearer_token(headers).ok()?)?;
        Some(Caller {
            user_id: claims.sub,
            username: claims.name,
        })
    }
}

/// The authenticated user making a request. Extracting it answers 401 when the request carries
/// no valid bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub username: String,
}

impl<S> FromRequestParts<S> for Caller
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Vouched for by the gateway, which verified the token already (see `forwarded`).
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        bearer_token(&parts.headers)?;
        TokenVerifier::from_ref(state)
            .caller(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("the token is invalid or has expired"))
    }
}

/// The shared secret mybnb's services present to each other's internal endpoints, as
/// `Authorization: Bearer <token>`. Users never hold it.
#[derive(Clone)]
pub struct ServiceToken(Arc<SecretString>);

impl ServiceToken {
    pub fn new(secret: SecretString) -> Self {
        ServiceToken(Arc::new(secret))
    }

    /// The `Authorization` header value a client sends.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.0.expose_secret())
    }

    /// The token itself: for the gateway's header ([`crate::forwarded`]), and for deriving keys
    /// every instance of a service shares (the web's anti-forgery key). Never log it.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }

    pub(crate) fn admits(&self, presented: &str) -> bool {
        self.0
            .expose_secret()
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

/// A request made by another mybnb service. Extracting it answers 401 unless the request
/// carries the [`ServiceToken`].
#[derive(Debug, Clone, Copy)]
pub struct ServiceCaller;

impl<S> FromRequestParts<S> for ServiceCaller
where
    ServiceToken: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if ServiceToken::from_ref(state).admits(bearer_token(&parts.headers)?) {
            Ok(ServiceCaller)
        } else {
            Err(ApiError::unauthorized(
                "this endpoint is for mybnb's services only",
            ))
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let header = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("this request needs a bearer token"))?;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))
}
