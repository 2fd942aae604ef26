//! The HTTP Task, `arn:aws:states:::http:invoke`.

use std::time::Instant;

use serde_json::Value;

use crate::{Integrations, Outcome};

/// An OAuth access token and when it stops being good.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub access_token: String,
    pub expires: Instant,
}

impl Integrations {
    /// Calls the HTTP endpoint the parameters describe (`ApiEndpoint`, `Method`,
    /// `Authentication`, `Headers`, `QueryParameters`, `RequestBody`, `Transform`).
    pub async fn http_invoke(&self, parameters: &Value) -> Outcome {
        let _ = (parameters, &self.client, &self.oauth_tokens);
        Outcome::failed("States.Runtime", "the HTTP Task is not built yet")
    }
}
