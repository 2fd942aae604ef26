//! Task tokens: opaque to clients, but they name the execution and the engine task they belong
//! to, so the server can tell a malformed token (InvalidToken) from one whose task is gone
//! (TaskDoesNotExist).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The execution ARN.
    e: String,
    /// The engine's task id.
    t: u64,
    /// Makes every token unique, also across redrives.
    n: String,
}

/// A new token for task `task` of `execution`.
pub fn issue(execution: &str, task: u64, nonce: u64) -> String {
    let claims = Claims {
        e: execution.to_owned(),
        t: task,
        n: format!("{nonce:016x}"),
    };
    let json = serde_json::to_vec(&claims).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The execution and task a token names, or `None` when it is not one of ours.
pub fn decode(token: &str) -> Option<(String, u64)> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    Some((claims.e, claims.t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_execution_and_task() {
        let t = issue("arn:aws:states:us-east-1:1:execution:m:e", 7, 42);
        assert_eq!(
            decode(&t),
            Some(("arn:aws:states:us-east-1:1:execution:m:e".into(), 7))
        );
        assert_ne!(t, issue("arn:aws:states:us-east-1:1:execution:m:e", 7, 43));
        assert_eq!(decode("not a token"), None);
        assert_eq!(decode(""), None);
    }
}
