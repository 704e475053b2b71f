//! HTTP plumbing shared by every context: the problem+json error, extractors whose rejections
//! become problems, and the middleware stack every router is served behind.

mod extract;
mod middleware;
mod problem;

pub use extract::{BodyErrors, Json, Path, Query, RequestId};
pub use middleware::{MAX_BODY_BYTES, RequestTimeout, serve_behind_middleware};
pub use problem::{ApiError, ProblemDocument};
