use uuid::Uuid;

/// What can go wrong with a room command or query.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// A value of the request breaks a rule; names the field.
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("room {0} does not exist")]
    NotFound(Uuid),
    #[error("only the room's host may delete it")]
    NotHost,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl RoomError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        RoomError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<mybnb_platform::paging::InvalidPage> for RoomError {
    fn from(invalid: mybnb_platform::paging::InvalidPage) -> Self {
        RoomError::invalid(invalid.field, invalid.reason)
    }
}
