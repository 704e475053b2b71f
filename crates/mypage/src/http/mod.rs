//! The my-page HTTP API: `GET /mypage` for the caller.

mod messages;

use std::sync::Arc;

use axum::extract::State;
use mybnb_platform::auth::{Caller, TokenVerifier};
use mybnb_platform::http::{ApiError, ProblemDocument};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::service::MyPageService;
pub use messages::{MyPageView, StayRow};

#[derive(Clone, axum::extract::FromRef)]
struct MyPageState {
    pages: Arc<MyPageService>,
    verifier: TokenVerifier,
}

pub fn router(pages: Arc<MyPageService>, verifier: TokenVerifier) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(my_page))
        .with_state(MyPageState { pages, verifier })
}

/// The caller's stays as guest and as host, newest first (at most 200 each). Built from
/// events, so a booking appears within moments of its confirmation.
#[utoipa::path(get, path = "/mypage", tag = "mypage", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's page", body = MyPageView),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn my_page(
    State(pages): State<Arc<MyPageService>>,
    caller: Caller,
) -> Result<axum::Json<MyPageView>, ApiError> {
    let page = pages
        .page(caller.user_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(page.into()))
}
