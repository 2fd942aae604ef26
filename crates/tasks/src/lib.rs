//! What Task states reach beyond the engine: the HTTP Task and Lambda functions, configured by
//! `stepwise.toml` ([`config`]).
//!
//! Each integration is an async function from the task's effective parameters to an
//! [`Outcome`]: the result AWS would hand the state, or the error name and cause AWS would raise.
//! The runtime decides when to call them (once per attempt, again after a crash) and what the
//! execution's history says about it.

pub mod config;
pub mod http;
pub mod lambda;

use std::sync::{Arc, Once};

use serde_json::Value;

pub use config::{Config, ConfigError};

/// How a call ended, in the terms a Task state sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The task's result.
    Succeeded(Value),
    /// The task failed with this error name and cause (both as AWS words them).
    Failed { error: String, cause: String },
}

impl Outcome {
    pub fn failed(error: impl Into<String>, cause: impl Into<String>) -> Outcome {
        Outcome::Failed {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// Who is calling: for ARNs built in results and error causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub region: String,
    pub account: String,
}

/// The integrations, sharing one HTTP client and the configuration.
#[derive(Debug)]
pub struct Integrations {
    config: Arc<Config>,
    client: reqwest::Client,
    /// The Lambda Invoke API to call for functions not bound to a command.
    lambda_endpoint: Option<String>,
    /// OAuth access tokens by connection name, with when they expire.
    oauth_tokens: tokio::sync::Mutex<std::collections::HashMap<String, http::CachedToken>>,
}

impl Integrations {
    /// `LAMBDA_ENDPOINT` (when set) wins over the file's `[lambda] endpoint`.
    pub fn new(config: Arc<Config>) -> Integrations {
        static PROVIDER: Once = Once::new();
        PROVIDER.call_once(|| {
            // Another part of the process may have installed one already: either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(config.http.timeout_seconds))
            .build()
            .unwrap_or_default();
        let lambda_endpoint =
            config::lambda_endpoint_from_env().or_else(|| config.lambda.endpoint.clone());
        Integrations {
            config,
            client,
            lambda_endpoint,
            oauth_tokens: Default::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}
