//! The identity use cases: sign up, issue a token, read the current user.

use mybnb_events::CorrelationId;
use mybnb_platform::auth::{IssuedToken, TokenIssuer};
use uuid::Uuid;

use crate::domain::{IdentityError, SignUpDraft, User, Username};
use crate::passwords;
use crate::store::{Inserted, SqlUserRepository};

pub struct IdentityService {
    users: SqlUserRepository,
    issuer: TokenIssuer,
}

impl IdentityService {
    pub fn new(users: SqlUserRepository, issuer: TokenIssuer) -> Self {
        IdentityService { users, issuer }
    }

    #[tracing::instrument(skip_all)]
    pub async fn sign_up(
        &self,
        draft: SignUpDraft,
        correlation: &CorrelationId,
    ) -> Result<User, IdentityError> {
        let new_user = draft.parse(Uuid::now_v7(), mybnb_platform::db::now())?;
        let password_hash = passwords::hash(new_user.password).await?;
        match self
            .users
            .insert(&new_user.user, &password_hash, correlation)
            .await?
        {
            Inserted::Created => {
                tracing::info!(user_id = %new_user.user.id, "user signed up");
                Ok(new_user.user)
            }
            Inserted::UsernameTaken => Err(IdentityError::UsernameTaken),
        }
    }

    /// A token for the user whose password this is.
    pub async fn issue_token(
        &self,
        username: &str,
        password: String,
    ) -> Result<IssuedToken, IdentityError> {
        // A malformed username names nobody: check the password against the decoy all the same.
        let found = match Username::parse(username) {
            Ok(username) => self.users.find_by_username(&username).await?,
            Err(_) => None,
        };
        let (user, stored_hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let password_matches = passwords::verify(password, stored_hash).await?;
        let Some(user) = user.filter(|_| password_matches) else {
            return Err(IdentityError::BadCredentials);
        };
        self.issuer
            .issue(user.id, user.username.as_str())
            .map_err(|error| IdentityError::Unexpected(error.into()))
    }

    pub async fn get(&self, id: Uuid) -> Result<User, IdentityError> {
        self.users.find(id).await?.ok_or(IdentityError::UnknownUser)
    }
}
