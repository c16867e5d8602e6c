//! Who may use the records API.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Role;

/// The records API's accounts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Bearer tokens and what each may do. No tokens: the API refuses every request.
    pub tokens: Vec<ApiToken>,
}

/// One API token.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// The secret sent as `Authorization: Bearer <token>`. Never printed.
    pub token: String,
    /// Who uses it (recorded on every event as `api:<user>`).
    pub user: String,
    /// What it may submit.
    pub role: Role,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("token", &"<redacted>")
            .field("user", &self.user)
            .field("role", &self.role)
            .finish()
    }
}
