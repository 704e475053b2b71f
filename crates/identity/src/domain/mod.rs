//! The identity context's rules: what a valid username, password, display name and e-mail are.

mod credentials;
mod error;
mod user;

pub use credentials::{Password, Username};
pub use error::IdentityError;
pub use user::{DisplayName, Email, NewUser, SignUpDraft, User};
