use std::sync::Arc;

use axum::extract::State;
use mybnb_platform::auth::Caller;
use mybnb_platform::http::{ApiError, ProblemDocument, Query};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::messages::{PaymentList, PaymentView};
use crate::service::PaymentService;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PaymentsQuery {
    pub booking_id: Uuid,
}

/// The payments of a booking, for its guest or host.
#[utoipa::path(get, path = "/payments", tag = "payments", security(("bearer" = [])),
    params(PaymentsQuery),
    responses(
        (status = 200, description = "The booking's payment", body = PaymentList),
        (status = 401, description = "No valid token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No payment the caller may see", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`bookingId` is missing or not a UUID", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn payments_of_booking(
    State(payments): State<Arc<PaymentService>>,
    caller: Caller,
    Query(query): Query<PaymentsQuery>,
) -> Result<axum::Json<PaymentList>, ApiError> {
    let payment = payments.find_for(caller.user_id, query.booking_id).await?;
    Ok(axum::Json(PaymentList {
        items: vec![PaymentView::from(payment)],
    }))
}
