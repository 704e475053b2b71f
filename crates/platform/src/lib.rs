//! The shared platform of every mybnb context.
//!
//! It holds no business rules: only what each bounded context needs to plug into one process or
//! run as its own service — HTTP plumbing and RFC 9457 errors ([`http`]), access tokens
//! ([`auth`]), databases with per-context migrations and the one way to write a state change,
//! the write unit ([`db`]), the transactional outbox ([`outbox`]), exactly-once handling of
//! events ([`inbox`]), readiness ([`health`]), Prometheus metrics ([`metrics`]) what the
//! gateway vouches for ([`forwarded`]), the shape of a context's settings ([`settings`]) and
//! files only the process's user reads ([`private`]).

pub mod auth;
pub mod db;
pub mod forwarded;
pub mod health;
pub mod http;
pub mod inbox;
pub mod metrics;
pub mod outbox;
pub mod paging;
pub mod private;
pub mod settings;
pub mod signals;

/// A boxed, sendable future: what object-safe ports return, for adapters chosen at run time.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
