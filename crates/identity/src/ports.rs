//! What the identity service needs from the outside world.

use std::future::Future;

use mybnb_events::CorrelationId;
use uuid::Uuid;

use crate::domain::{User, Username};

/// The outcome of inserting a user.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted {
    Created,
    UsernameTaken,
}

/// Where users and their password hashes are kept. Errors are failures of the store itself.
pub trait UserRepository: Send + Sync + 'static {
    fn insert(
        &self,
        user: &User,
        password_hash: &str,
        correlation: &CorrelationId,
    ) -> impl Future<Output = anyhow::Result<Inserted>> + Send;

    /// The user and their password hash.
    fn find_by_username(
        &self,
        username: &Username,
    ) -> impl Future<Output = anyhow::Result<Option<(User, String)>>> + Send;

    fn find(&self, id: Uuid) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;
}
