use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use mybnb_platform::auth::Caller;
use mybnb_platform::http::{ApiError, BodyErrors, Json, ProblemDocument, RequestId};

use super::messages::{SignUpRequest, TokenRequest, TokenResponse, UserResponse};
use crate::service::IdentityService;

/// Sign up.
#[utoipa::path(post, path = "/users", tag = "identity", request_body = SignUpRequest,
    responses(
        (status = 201, description = "Signed up", body = UserResponse),
        (status = 409, description = "The username is taken", body = ProblemDocument, content_type = "application/problem+json"),
        BodyErrors,
        (status = 429, description = "Too many attempts from this address", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn sign_up(
    State(identity): State<Arc<IdentityService>>,
    RequestId(request_id): RequestId,
    Json(request): Json<SignUpRequest>,
) -> Result<(StatusCode, axum::Json<UserResponse>), ApiError> {
    let user = identity.sign_up(request.into_draft(), &request_id).await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

/// Exchange a username and password for an access token.
#[utoipa::path(post, path = "/auth/token", tag = "identity", request_body = TokenRequest,
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = ProblemDocument, content_type = "application/problem+json"),
        BodyErrors,
        (status = 429, description = "Too many attempts from this address", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn issue_token(
    State(identity): State<Arc<IdentityService>>,
    Json(request): Json<TokenRequest>,
) -> Result<axum::Json<TokenResponse>, ApiError> {
    let token = identity
        .issue_token(&request.username, request.password)
        .await?;
    Ok(axum::Json(TokenResponse {
        access_token: token.access_token,
        token_type: "Bearer",
        expires_in: token.expires_in.as_secs(),
    }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "identity", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserResponse),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn me(
    State(identity): State<Arc<IdentityService>>,
    caller: Caller,
) -> Result<axum::Json<UserResponse>, ApiError> {
    let user = identity.get(caller.user_id).await?;
    Ok(axum::Json(user.into()))
}
