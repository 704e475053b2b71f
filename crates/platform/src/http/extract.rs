//! Extractors whose rejections are problem documents, so that a malformed request is answered
//! in the same shape as every other error.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use mybnb_events::CorrelationId;

use super::{ApiError, ProblemDocument};

/// A JSON request body: bad syntax is a 400, a wrong or missing field a 422, a body that is not
/// `application/json` a 415 and one over [`super::MAX_BODY_BYTES`] a 413.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// The answers [`Json`] gives for a body it cannot take, as the OpenAPI document lists them:
/// every operation with a JSON body names this set in its `responses(...)` once, instead of
/// repeating four entries. Never constructed; it only documents.
#[derive(utoipa::IntoResponses)]
pub enum BodyErrors {
    /// The body is not well-formed JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(ProblemDocument),
    /// The body is larger than 64 KiB (`MAX_BODY_BYTES`).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemDocument),
    /// The body is not sent as `Content-Type: application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(ProblemDocument),
    /// A member is missing or of the wrong type, or a value breaks a rule of the operation
    /// (`detail` names it).
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(ProblemDocument),
}

/// Query-string parameters: values of the wrong type are a 422.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters: a path segment that cannot name a resource (a malformed id) is a 404.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let detail = rejection.body_text();
        match rejection {
            JsonRejection::JsonDataError(_) => ApiError::validation(detail),
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(detail),
            JsonRejection::MissingJsonContentType(_) => ApiError::unsupported_media_type(
                "the request body must be JSON, sent with `Content-Type: application/json`",
            ),
            rejection if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::payload_too_large(format!(
                    "the request body is larger than {} bytes",
                    super::MAX_BODY_BYTES
                ))
            }
            _ => ApiError::bad_request(detail),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::validation(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::not_found("no resource has this id")
    }
}

/// The id of the request being served (`x-request-id`, generated when the client sent none).
/// Events caused by the request carry it as their correlation id.
#[derive(Debug, Clone)]
pub struct RequestId(pub CorrelationId);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map_or_else(CorrelationId::generate, CorrelationId::new);
        Ok(RequestId(id))
    }
}
