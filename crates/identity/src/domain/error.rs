/// What can go wrong with an identity command or query.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A value of the request breaks a rule; names the field.
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the username is taken")]
    UsernameTaken,
    /// Wrong password or unknown user: deliberately indistinguishable.
    #[error("the username or password is wrong")]
    BadCredentials,
    /// A valid token whose user no longer exists.
    #[error("the token's user does not exist")]
    UnknownUser,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl IdentityError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        IdentityError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
