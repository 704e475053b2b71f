/// What can go wrong with a notification query.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// A value of the request breaks a rule; names the field.
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl NotificationError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        NotificationError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<mybnb_platform::paging::InvalidPage> for NotificationError {
    fn from(invalid: mybnb_platform::paging::InvalidPage) -> Self {
        NotificationError::invalid(invalid.field, invalid.reason)
    }
}
