//! OAuth client credentials for connections with `auth = "oauth_client_credentials"`: what
//! EventBridge does for such a connection. The token is fetched from `authorization_endpoint`,
//! kept per connection until it is within 60 seconds of expiring (EventBridge refreshes "if the
//! token expires within 60 seconds"), and fetched again when the API answers 401 or 407.
//!
//! The token request carries `Authorization: Basic base64(client_id:client_secret)`, the
//! connection's `oauth_headers`, `oauth_query` and `oauth_body`, and `grant_type=client_credentials`
//! unless the connection names a grant type itself. With `http_method = "GET"` the body
//! parameters go in the query string; otherwise they are a form body. The answer must be JSON
//! with `access_token`, and may have `expires_in` (seconds; without it the token is kept for a
//! day, or until the API refuses it).

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::form::query_string;
use super::{CachedToken, Failure, errors};
use crate::Integrations;
use crate::config::Connection;

/// How long before its expiry a token is replaced.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How long a token without `expires_in` is kept.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

impl Integrations {
    /// A usable access token for connection `name`. `stale` is a token the API just refused:
    /// if the cache still holds it, a new one is fetched; if another call already replaced it,
    /// the replacement is used.
    pub(super) async fn oauth_token(
        &self,
        name: &str,
        connection: &Connection,
        stale: Option<&str>,
    ) -> Result<String, Failure> {
        let mut tokens = self.oauth_tokens.lock().await;
        if let Some(cached) = tokens.get(name) {
            let fresh = cached
                .expires
                .checked_duration_since(Instant::now())
                .is_some_and(|left| left > REFRESH_MARGIN);
            if fresh && stale != Some(cached.access_token.as_str()) {
                return Ok(cached.access_token.clone());
            }
        }
        // The lock is held while fetching, so concurrent calls wait for one token request.
        let token = self.oauth_fetch_token(name, connection).await?;
        let access_token = token.access_token.clone();
        tokens.insert(name.to_owned(), token);
        Ok(access_token)
    }

    async fn oauth_fetch_token(&self, name: &str, c: &Connection) -> Result<CachedToken, Failure> {
        let endpoint = c.authorization_endpoint.as_deref().unwrap_or_default();
        let failed = |why: String| Failure {
            error: errors::INVALID_CONNECTION_STATE.into(),
            cause: format!(
                "The connection '{name}' could not get an OAuth token from '{endpoint}': {why}"
            ),
        };
        let mut url = reqwest::Url::parse(endpoint).map_err(|e| failed(e.to_string()))?;
        let method = c.http_method.as_deref().unwrap_or("POST");
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| failed(format!("'{method}' is not an HTTP method")))?;

        let mut params: Vec<(String, String)> = Vec::new();
        if !c.oauth_body.contains_key("grant_type") && !c.oauth_query.contains_key("grant_type") {
            params.push(("grant_type".into(), "client_credentials".into()));
        }
        params.extend(c.oauth_body.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut query: Vec<(String, String)> = c
            .oauth_query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let body = if method == reqwest::Method::GET {
            query.append(&mut params);
            None
        } else {
            Some(query_string(&params))
        };
        if !query.is_empty() {
            let joined = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{}", query_string(&query)),
                _ => query_string(&query),
            };
            url.set_query(Some(&joined));
        }

        let credentials = format!(
            "{}:{}",
            c.client_id.as_deref().unwrap_or_default(),
            c.client_secret.as_deref().unwrap_or_default()
        );
        let mut request = self
            .client
            .request(method, url)
            .timeout(Duration::from_secs(self.config.http.timeout_seconds))
            .header(
                reqwest::header::AUTHORIZATION,
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(credentials)
                ),
            )
            .header(reqwest::header::ACCEPT, "application/json");
        for (k, v) in &c.oauth_headers {
            request = request.header(k.as_str(), v.as_str());
        }
        if let Some(body) = body {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| failed(super::error_chain(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| failed(super::error_chain(&e)))?;
        if !status.is_success() {
            return Err(failed(format!(
                "the authorization endpoint answered {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or_default()
            )));
        }
        let answer: Value = serde_json::from_str(&text)
            .map_err(|_| failed("the authorization endpoint did not answer JSON".into()))?;
        let access_token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| failed("the answer has no access_token".into()))?
            .to_owned();
        let lifetime = match answer.get("expires_in") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(DEFAULT_LIFETIME.as_secs_f64() * 365.0)))
        .unwrap_or(DEFAULT_LIFETIME);
        let now = Instant::now();
        Ok(CachedToken {
            access_token,
            expires: now.checked_add(lifetime).unwrap_or(now),
        })
    }
}
