//! Task tokens: opaque to clients, signed by the server. A token names the execution and the
//! engine task it belongs to, so the server can tell a forged or damaged token (InvalidToken)
//! from a genuine one whose task is over (TaskTimedOut).
//!
//! The form is `base64url(claims) "." base64url(HMAC-SHA256(key, claims))`. The key is made once
//! per store and kept in it, so tokens survive restarts and every node sharing the store
//! accepts them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use stepwise_store::Store;

/// The store's secret the key is kept under.
const KEY_NAME: &str = "task-token-key";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The execution ARN.
    e: String,
    /// The engine's task id.
    t: u64,
    /// Makes every token unique, also across redrives.
    n: String,
}

/// Issues and checks task tokens with one key.
#[derive(Clone)]
pub struct Tokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { key: <secret> }")
    }
}

impl Tokens {
    /// Signs with `key`.
    pub fn new(key: &[u8]) -> Tokens {
        Tokens { key: key.to_vec() }
    }

    /// The store's key, made (from the operating system's randomness) when it has none yet.
    pub async fn load(store: &dyn Store) -> Result<Tokens, String> {
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| format!("no randomness for the token key: {e}"))?;
        let stored = store
            .secret(KEY_NAME, &URL_SAFE_NO_PAD.encode(fresh))
            .await
            .map_err(|e| e.to_string())?;
        let key = URL_SAFE_NO_PAD
            .decode(stored)
            .map_err(|e| format!("the stored token key does not decode: {e}"))?;
        Ok(Tokens { key })
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts every key length"),
        }
    }

    /// A new token for task `task` of `execution`.
    pub fn issue(&self, execution: &str, task: u64, nonce: u64) -> String {
        let claims = Claims {
            e: execution.to_owned(),
            t: task,
            n: format!("{nonce:016x}"),
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{body}.{sig}")
    }

    /// The execution and task a token names, or `None` when this server did not sign it.
    pub fn decode(&self, token: &str) -> Option<(String, u64)> {
        let (body, sig) = token.trim().split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        Some((claims.e, claims.t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXEC: &str = "arn:aws:states:us-east-1:1:execution:m:e";

    #[test]
    fn a_token_names_its_execution_and_task() {
        let tokens = Tokens::new(b"k");
        let t = tokens.issue(EXEC, 7, 42);
        assert_eq!(tokens.decode(&t), Some((EXEC.into(), 7)));
        assert_ne!(t, tokens.issue(EXEC, 7, 43));
        assert_eq!(tokens.decode("not a token"), None);
        assert_eq!(tokens.decode(""), None);
    }

    #[test]
    fn forged_and_tampered_tokens_are_refused() {
        let tokens = Tokens::new(b"the key");
        let t = tokens.issue(EXEC, 7, 42);
        // Another key's token.
        assert_eq!(Tokens::new(b"another key").decode(&t), None);
        // Claims changed, signature kept.
        let (_, sig) = t.split_once('.').expect("two parts");
        let forged = URL_SAFE_NO_PAD.encode(br#"{"e":"arn:x","t":1,"n":"0"}"#);
        assert_eq!(tokens.decode(&format!("{forged}.{sig}")), None);
        // Unsigned claims.
        assert_eq!(tokens.decode(&forged), None);
        // One character of the signature changed.
        let mut bad = t.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(tokens.decode(&String::from_utf8(bad).expect("ascii")), None);
    }

    #[tokio::test]
    async fn the_key_is_kept_by_the_store() {
        let store = stepwise_store::SqliteStore::memory().expect("store");
        let a = Tokens::load(&store).await.expect("key");
        let b = Tokens::load(&store).await.expect("key");
        let t = a.issue(EXEC, 1, 1);
        assert_eq!(b.decode(&t), Some((EXEC.into(), 1)));
    }
}
