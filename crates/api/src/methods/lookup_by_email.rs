use serde::{Deserialize, Serialize};

use super::User;
use super::method;
use crate::Scope;

method! {
    /// Find a user by email address.
    LookupByEmail = "users.lookupByEmail" {
        scope: Some(Scope::UsersReadEmail), tier: Tier3, admin: false, writes: false,
        idempotent: true, args: LookupByEmailArgs, response: LookupByEmailResponse,
        errors: [UsersNotFound],
    }
}

/// Arguments of `users.lookupByEmail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LookupByEmailArgs {
    /// The address to look up.
    pub email: String,
}

impl LookupByEmailArgs {
    /// Looks `email` up.
    pub fn new(email: impl Into<String>) -> Self {
        LookupByEmailArgs {
            email: email.into(),
        }
    }
}

/// The body of a `users.lookupByEmail` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LookupByEmailResponse {
    /// The user found.
    pub user: User,
}

impl LookupByEmailResponse {
    /// An answer.
    pub fn new(user: User) -> Self {
        LookupByEmailResponse { user }
    }
}

impl crate::Validate for LookupByEmailArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        if self.email.trim().is_empty() {
            return Err(crate::InvalidArgs::arg("email", "must not be empty"));
        }
        Ok(())
    }
}
