//! HTTP plumbing shared by every context: the problem+json error, extractors whose rejections
//! become problems, the middleware stack every router is served behind, and the listener loop
//! that bounds connections.

mod extract;
mod middleware;
mod problem;
mod serve;

pub use extract::{BodyErrors, Json, Path, Query, RequestId};
pub use middleware::{MAX_BODY_BYTES, RequestTimeout, serve_behind_middleware};
pub use problem::{ApiError, ProblemDocument};
pub use serve::{CLIENT_POOL_IDLE, ConnectionLimits, serve};
