//! Events published by the identity context.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::IntegrationEvent;

/// Someone signed up. Carries what other contexts may show of a user or need to reach them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// Where e-mail notifications go; none when the user gave no address.
    pub email: Option<String>,
}

impl IntegrationEvent for UserRegistered {
    const TYPE: &'static str = "UserRegistered";
    const VERSION: u16 = 1;
    fn aggregate_id(&self) -> crate::AggregateId {
        self.user_id.into()
    }
}
