use std::sync::Arc;

use axum::extract::State;
use mybnb_platform::auth::Caller;
use mybnb_platform::http::{ApiError, ProblemDocument, Query};

use super::messages::{HistoryQuery, NotificationList};
use crate::service::NotificationService;

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", security(("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of the caller's notifications", body = NotificationList),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn list_notifications(
    State(notifications): State<Arc<NotificationService>>,
    caller: Caller,
    Query(query): Query<HistoryQuery>,
) -> Result<axum::Json<NotificationList>, ApiError> {
    let page = notifications
        .history(caller.user_id, query.page, query.size)
        .await?;
    Ok(axum::Json(page.into()))
}
