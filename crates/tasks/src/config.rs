//! `stepwise.toml`: the server's settings and what Task states may reach.
//!
//! ```toml
//! [server]
//! port = 8083
//! store = "stepwise.db"
//! mock_config = "mocks.json"          # Step Functions Local's SFN_MOCK_CONFIG file
//!
//! [http]                              # the HTTP Task (arn:aws:states:::http:invoke)
//! allow_hosts = ["127.0.0.1", "*.example.com"]
//! deny_hosts = ["169.254.169.254"]
//!
//! [connections.orders]                # Authentication.ConnectionArn ".../connection/orders/..."
//! auth = "api_key"
//! api_key_name = "x-api-key"
//! api_key_value = "secret"
//!
//! [lambda]
//! endpoint = "http://127.0.0.1:3001"  # a Lambda Invoke API, like LAMBDA_ENDPOINT
//!
//! [lambda.functions.resize]           # a function run as a local command
//! command = ["python3", "resize.py"]
//!
//! [aws]
//! poll_interval_seconds = 5           # how often a `.sync` job (Glue, Batch, ...) is described
//!
//! [aws.endpoints]                     # local stand-ins, by Task service name
//! dynamodb = "http://127.0.0.1:8000"
//! default = "http://127.0.0.1:4566"   # every other service
//!
//! [logging]                           # execution logs (a state machine's loggingConfiguration)
//! directory = "logs"                  # log groups not listed below: logs/<group name>.log
//!
//! [logging.groups]                    # by log group ARN or name: a file, or a folder
//! orders = "orders.log"
//! ```
//!
//! Every table refuses unknown keys, and every error names the file, the line and the key that
//! is wrong, so a typo is found at start rather than when a task first runs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

/// The whole configuration. `Config::default()` is what Stepwise runs with when no file is given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub http: HttpConfig,
    /// Connections for the HTTP Task's `Authentication`, by name.
    #[serde(default)]
    pub connections: IndexMap<String, Connection>,
    #[serde(default)]
    pub lambda: LambdaConfig,
    #[serde(default)]
    pub aws: AwsSection,
    #[serde(default)]
    pub logging: LoggingSection,
    /// Where relative paths in the file are resolved from (the file's folder).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[server]`: what `stepwise serve` listens on and stores into. Command-line flags and
/// environment variables win over these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: Option<String>,
    pub port: Option<u16>,
    /// A SQLite file, or `:memory:`.
    pub store: Option<String>,
    /// Scales every Wait, retry interval and timeout (as Step Functions Local's WAIT_TIME_SCALE).
    pub wait_time_scale: Option<f64>,
    /// Step Functions Local's mock configuration file (as SFN_MOCK_CONFIG).
    pub mock_config: Option<PathBuf>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// The access keys API requests must be signed with, and their policies (a JSON file; see
    /// the README's "Authentication").
    pub keys_file: Option<PathBuf>,
    /// Listen on an address other than loopback with no keys (anyone who can reach the port
    /// can call every action).
    pub allow_anonymous: Option<bool>,
    /// HTTPS: the certificate chain and its private key (PEM files).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// How long closed executions are kept: `90d` (AWS's, the default), `12h`, `30m`, `45s`,
    /// or `forever`.
    pub retention: Option<String>,
}

/// `[http]`: the HTTP Task's reach.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Hosts the HTTP Task may call: exact names or addresses, or `*.suffix`. Empty allows every
    /// host that `deny_hosts` does not deny.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Hosts the HTTP Task must never call, checked before `allow_hosts`.
    #[serde(default)]
    pub deny_hosts: Vec<String>,
    /// How long one HTTP call may take.
    #[serde(default = "default_http_timeout")]
    pub timeout_seconds: u64,
}

fn default_http_timeout() -> u64 {
    60
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allow_hosts: Vec::new(),
            deny_hosts: Vec::new(),
            timeout_seconds: default_http_timeout(),
        }
    }
}

/// How a connection authenticates (EventBridge's `AuthorizationType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    ApiKey,
    Basic,
    OauthClientCredentials,
    /// No authorization added (what a `ConnectionArn` the configuration does not name gets).
    #[default]
    None,
}

/// `[connections.NAME]`: what an EventBridge connection holds, for the HTTP Task.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub auth: AuthKind,
    /// `api_key`: the header to send and its value.
    pub api_key_name: Option<String>,
    pub api_key_value: Option<String>,
    /// `basic`.
    pub username: Option<String>,
    pub password: Option<String>,
    /// `oauth_client_credentials`: the token endpoint, the client, and how to call it.
    pub authorization_endpoint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// GET, POST or PUT (default POST).
    pub http_method: Option<String>,
    /// Extra parameters sent to the token endpoint.
    #[serde(default)]
    pub oauth_body: BTreeMap<String, String>,
    #[serde(default)]
    pub oauth_query: BTreeMap<String, String>,
    #[serde(default)]
    pub oauth_headers: BTreeMap<String, String>,
    /// Invocation parameters: added to every request made with this connection.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Merged into a JSON request body's top level.
    #[serde(default)]
    pub body: BTreeMap<String, String>,
}

/// `[lambda]`: where Lambda functions run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaConfig {
    /// A Lambda Invoke API (`POST /2015-03-31/functions/NAME/invocations`), for every function
    /// not bound to a command. `LAMBDA_ENDPOINT` wins over it.
    pub endpoint: Option<String>,
    /// Functions run as local commands, by function name.
    #[serde(default)]
    pub functions: IndexMap<String, LocalFunction>,
}

/// `[aws]`: AWS services' integrations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    /// How often the job of a `.sync` task (a Glue job run, a Batch job, ...) is described
    /// (default 5 s). `STEPWISE_SYNC_POLL_SECONDS` wins over it.
    pub poll_interval_seconds: Option<f64>,
    /// `[aws.endpoints]`: where a service's calls go, by Task service name (`dynamodb = "http://localhost:4566"`), `default` for every service. The environment's
    /// variables (`AWS_ENDPOINT_URL[_<SERVICE>]`, Step Functions Local's) win over these.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// Endpoints given on the command line (Step Functions Local's flags): they win over the
    /// environment. Not read from the file.
    #[serde(skip)]
    pub flag_endpoints: BTreeMap<String, String>,
}

/// `[logging]`: where execution logs go. A state machine's `loggingConfiguration` names a
/// CloudWatch Logs log group by ARN (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`); its lines
/// go to the path `groups` gives for that ARN (with or without the `:*`) or for `NAME`, else to
/// `DIRECTORY/NAME.log` (`/` in the name written as `-`), else to stdout. A path that is a
/// folder gets `NAME.log` inside it; files are appended to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    pub directory: Option<PathBuf>,
    #[serde(default)]
    pub groups: BTreeMap<String, PathBuf>,
}

/// `[lambda.functions.NAME]`: a function run as a local command. The event goes to its stdin as
/// JSON; it answers with JSON on stdout and exit status 0, or fails with a non-zero status and
/// `{"errorType": …, "errorMessage": …}` on stdout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalFunction {
    /// The program and its arguments (not run through a shell).
    pub command: Vec<String>,
    /// The working folder, relative to the config file's folder.
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The function's timeout, as Lambda's (default 3 s).
    #[serde(default = "default_function_timeout")]
    pub timeout_seconds: u64,
}

fn default_function_timeout() -> u64 {
    3
}

/// A configuration file that cannot be used, and where it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    /// 1-based, when the problem is at one place.
    pub line: Option<usize>,
    /// What is wrong, naming the key (`connections.orders.auth: ...`).
    pub message: String,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            message: format!("cannot read it: {e}"),
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(config)
    }

    /// Parses and checks configuration text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let key = e.span().and_then(|s| key_at(text, s.start));
            let message = e.message().trim_end().to_owned();
            ConfigError {
                file: file.to_owned(),
                line,
                message: match key {
                    Some(k) if !message.contains(&format!("`{k}`")) => format!("{k}: {message}"),
                    _ => message,
                },
            }
        })?;
        config.check().map_err(|(path, message)| ConfigError {
            file: file.to_owned(),
            line: find_key_line(text, &path),
            message: format!("{}: {message}", path.join(".")),
        })?;
        Ok(config)
    }

    /// The checks serde cannot make: which fields each kind of connection needs, and values.
    fn check(&self) -> Result<(), (Vec<String>, String)> {
        for (name, c) in &self.connections {
            let at = |field: &str| vec!["connections".to_owned(), name.clone(), field.to_owned()];
            let need: &[(&str, &Option<String>)] = match c.auth {
                AuthKind::ApiKey => &[
                    ("api_key_name", &c.api_key_name),
                    ("api_key_value", &c.api_key_value),
                ],
                AuthKind::Basic => &[("username", &c.username), ("password", &c.password)],
                AuthKind::OauthClientCredentials => &[
                    ("authorization_endpoint", &c.authorization_endpoint),
                    ("client_id", &c.client_id),
                    ("client_secret", &c.client_secret),
                ],
                AuthKind::None => &[],
            };
            for (field, value) in need {
                if value.is_none() {
                    return Err((
                        vec!["connections".to_owned(), name.clone()],
                        format!("missing field `{field}` (needed by auth = {:?})", c.auth),
                    ));
                }
            }
            if let Some(m) = &c.http_method {
                if !["GET", "POST", "PUT"].contains(&m.as_str()) {
                    return Err((at("http_method"), "must be GET, POST or PUT".into()));
                }
            }
        }
        for (name, f) in &self.lambda.functions {
            if f.command.is_empty() || f.command[0].is_empty() {
                return Err((
                    vec![
                        "lambda".into(),
                        "functions".into(),
                        name.clone(),
                        "command".into(),
                    ],
                    "must name a program: command = [\"program\", \"arg\", …]".into(),
                ));
            }
        }
        for (service, url) in &self.aws.endpoints {
            let at = vec!["aws".into(), "endpoints".into(), service.clone()];
            if !stepwise_aws::Endpoints::is_service(service) {
                return Err((
                    at,
                    "not a service of an aws-sdk or optimized integration (use the Task's \
                     service name, such as dynamodb, s3, sqs, sfn, or default)"
                        .into(),
                ));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err((at, "must be an http:// or https:// URL".into()));
            }
        }
        if let Some(s) = self.server.wait_time_scale {
            if !(s.is_finite() && s >= 0.0) {
                return Err((
                    vec!["server".into(), "wait_time_scale".into()],
                    "must be a number ≥ 0".into(),
                ));
            }
        }
        Ok(())
    }

    /// The connection an `Authentication.ConnectionArn` names
    /// (`arn:aws:events:REGION:ACCOUNT:connection/NAME/ID`, or just `NAME`).
    pub fn connection(&self, arn: &str) -> Option<(&str, &Connection)> {
        let name = match arn.split_once(":connection/") {
            Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
            None => arn,
        };
        self.connections
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Resolves a path written in the file against the file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() || self.base_dir.as_os_str().is_empty() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

impl fmt::Display for AuthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthKind::ApiKey => "api_key",
            AuthKind::Basic => "basic",
            AuthKind::OauthClientCredentials => "oauth_client_credentials",
            AuthKind::None => "none",
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The key written on the line holding `offset`, if it is a `key = value` line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[') && !key.starts_with('#')).then(|| key.to_owned())
}

/// The line where the table or key at `path` is written: its own `[a.b]` header, else the
/// `key =` line under its parent's header.
fn find_key_line(text: &str, path: &[String]) -> Option<usize> {
    let header = |p: &[String]| {
        let h = format!("[{}]", p.join("."));
        text.lines().position(|l| l.trim() == h)
    };
    if let Some(i) = header(path) {
        return Some(i + 1);
    }
    let (last, parent) = path.split_last()?;
    let from = header(parent).map_or(0, |i| i + 1);
    let found = text.lines().skip(from).position(|l| {
        l.split_once('=')
            .is_some_and(|(k, _)| k.trim().trim_matches('"') == last)
    });
    found
        .map(|i| from + i + 1)
        .or(header(parent).map(|i| i + 1))
}

/// Settings that come from the environment, as Step Functions Local reads them.
/// How often `.sync` jobs are described: `STEPWISE_SYNC_POLL_SECONDS`, else the file's
/// `[aws] poll_interval_seconds`, else 5 s.
pub fn sync_poll_interval(config: &Config) -> std::time::Duration {
    let seconds = std::env::var("STEPWISE_SYNC_POLL_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .or(config.aws.poll_interval_seconds)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(5.0);
    std::time::Duration::from_secs_f64(seconds.min(86_400.0))
}

pub fn lambda_endpoint_from_env() -> Option<String> {
    std::env::var("LAMBDA_ENDPOINT")
        .ok()
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let c = Config::parse(
            r#"
[server]
port = 9000
[http]
allow_hosts = ["127.0.0.1"]
[connections.orders]
auth = "api_key"
api_key_name = "x-api-key"
api_key_value = "k"
[lambda.functions.resize]
command = ["python3", "resize.py"]
[logging]
directory = "logs"
[logging.groups]
"arn:aws:logs:us-east-1:123456789012:log-group:orders:*" = "orders.log"
"#,
            "stepwise.toml",
        )
        .expect("parses");
        assert_eq!(c.logging.directory.as_deref(), Some(Path::new("logs")));
        assert_eq!(
            c.logging.groups["arn:aws:logs:us-east-1:123456789012:log-group:orders:*"],
            Path::new("orders.log")
        );
        assert_eq!(c.server.port, Some(9000));
        assert_eq!(c.http.timeout_seconds, 60);
        assert_eq!(c.lambda.functions["resize"].timeout_seconds, 3);
        let (name, conn) = c
            .connection("arn:aws:events:us-east-1:111122223333:connection/orders/0f1e")
            .expect("found");
        assert_eq!((name, conn.auth), ("orders", AuthKind::ApiKey));
    }

    #[test]
    fn a_wrong_type_names_the_line_and_key() {
        let e = Config::parse("[server]\nport = \"eighty\"\n", "s.toml").expect_err("refused");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.starts_with("port: "), "{e}");
        assert!(e.to_string().starts_with("s.toml:2: port: "), "{e}");
    }

    #[test]
    fn an_unknown_key_is_refused_where_it_is() {
        let e = Config::parse("[http]\nallow_host = []\n", "s.toml").expect_err("refused");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("allow_host"), "{e}");
    }

    #[test]
    fn a_connection_missing_what_its_auth_needs_is_refused() {
        let e = Config::parse(
            "[connections.c]\nauth = \"basic\"\nusername = \"u\"\n",
            "s.toml",
        )
        .expect_err("refused");
        assert_eq!(e.line, Some(1), "{e}");
        assert!(
            e.message.contains("connections.c") && e.message.contains("password"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_auth_kind_is_refused() {
        let e =
            Config::parse("[connections.c]\nauth = \"digest\"\n", "s.toml").expect_err("refused");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("auth"), "{e}");
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = Config::parse("[server\nport = 1\n", "s.toml").expect_err("refused");
        assert_eq!(e.line, Some(1), "{e}");
    }
}
