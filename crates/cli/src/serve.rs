//! `stepwise serve`: the Step Functions API and the web console on a port, durable on an
//! embedded SQLite store.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stepwise_api::wire::duration_ms;
use stepwise_api::{Api, router};
use stepwise_runtime::{Integrations, MockConfig, Runtime, RuntimeConfig};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};
use stepwise_store_postgres::PostgresStore;
use stepwise_tasks::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long)]
    bind: Option<String>,
    /// Port to listen on (0 picks a free one; the log says which) [default: 8083].
    #[arg(long)]
    port: Option<u16>,
    /// Where state machines and executions are kept: a SQLite file, `:memory:` (keeps
    /// nothing), or a PostgreSQL database (`postgres://user@host:5432/db`; to keep the tables
    /// in a schema of their own, made if missing, name it with libpq's options parameter:
    /// `postgres://user@host:5432/db?options=-csearch_path%3Dstepwise`). Also STEPWISE_STORE
    /// [default: stepwise.db].
    #[arg(long, env = "STEPWISE_STORE", value_name = "FILE|URL")]
    store: Option<String>,
    /// The configuration file (stepwise.toml): HTTP Task connections and hosts, Lambda
    /// functions, mocks. Also STEPWISE_CONFIG.
    #[arg(long, env = "STEPWISE_CONFIG")]
    config: Option<PathBuf>,
    /// The account in ARNs (Step Functions Local's option; AWS_ACCOUNT_ID) [default:
    /// 123456789012].
    #[arg(long, value_name = "ACCOUNT")]
    aws_account: Option<String>,
    /// The region in ARNs and of AWS calls (AWS_DEFAULT_REGION) [default: us-east-1].
    #[arg(long, value_name = "REGION")]
    aws_region: Option<String>,
    /// Real seconds per second of Wait and retry interval (WAIT_TIME_SCALE) [default: 1].
    #[arg(long, value_name = "F")]
    wait_time_scale: Option<f64>,
    /// The access keys requests must be signed with (SigV4) and their IAM-style policies: a
    /// JSON file, `{"keys": [{"accessKeyId", "secretAccessKey", "user", "account", "policy"}]}`. Also
    /// STEPWISE_KEYS, or `keys_file` in the configuration file.
    #[arg(long, env = "STEPWISE_KEYS", value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Listen on an address other than loopback with no keys: anyone who reaches the port may
    /// call every action.
    #[arg(long)]
    allow_anonymous: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// With a PostgreSQL store shared by many nodes: this node's name, unique among them
    /// [default: the host name, the process id and a random number]. Also STEPWISE_NODE_ID.
    #[arg(long, env = "STEPWISE_NODE_ID", value_name = "NAME")]
    node_id: Option<String>,
    /// With a PostgreSQL store shared by many nodes: how long a node's hold on its share of
    /// the executions lasts unless renewed (it is renewed every third of it): how soon the
    /// other nodes carry on the work of a node that died. Also STEPWISE_LEASE_MS [default:
    /// 10000].
    #[arg(long, env = "STEPWISE_LEASE_MS", value_name = "MS", value_parser = clap::value_parser!(u64).range(300..=600_000))]
    lease_ms: Option<u64>,
    /// How long closed executions and their history are kept before they are removed: a
    /// number and a unit (`90d`, `12h`, `30m`, `45s`), or `forever`. Also STEPWISE_RETENTION,
    /// or `retention` in the configuration file [default: 90d, as AWS].
    #[arg(long, env = "STEPWISE_RETENTION", value_name = "DURATION")]
    retention: Option<String>,
    #[command(flatten)]
    endpoints: crate::sfn_local::EndpointFlags,
}

/// What `serve` runs with, from flags, then the environment, then the config file.
struct Settings {
    bind: String,
    port: u16,
    store: StoreAt,
    scale: f64,
    arns: Arns,
    config: Arc<Config>,
    /// The configuration file in use, if any.
    config_path: Option<PathBuf>,
    mocks: Option<Arc<MockConfig>>,
    node_id: Option<String>,
    lease_ms: Option<u64>,
    /// How long closed executions are kept (none: forever).
    retention: Option<Duration>,
    /// The mock configuration file in use, if any.
    mock_path: Option<PathBuf>,
    /// The keys requests are checked against (empty: none are checked).
    keys: stepwise_api::auth::Keys,
    /// HTTPS, when a certificate is given.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

fn settings(args: &Args) -> Result<Settings, String> {
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| format!("invalid configuration: {e}"))?,
        None => Config::default(),
    };
    config.aws.flag_endpoints = args.endpoints.by_service();
    let server = &config.server;
    let scale = match (args.wait_time_scale, std::env::var("WAIT_TIME_SCALE")) {
        (Some(s), _) if s.is_finite() && s >= 0.0 => s,
        (Some(s), _) => return Err(format!("--wait-time-scale must be a number ≥ 0, not {s}")),
        (None, Ok(_)) => wait_time_scale()?,
        (None, Err(_)) => server.wait_time_scale.unwrap_or(1.0),
    };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let arns = Arns::new(
        args.aws_region
            .clone()
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .or_else(|| var("AWS_REGION"))
            .or_else(|| server.region.clone())
            .unwrap_or_else(|| "us-east-1".into()),
        args.aws_account
            .clone()
            .or_else(|| var("AWS_ACCOUNT_ID"))
            .or_else(|| server.account_id.clone())
            .unwrap_or_else(|| "123456789012".into()),
    );
    // Step Functions Local's variable, then the file's setting (relative to the file).
    let mock_path = var("SFN_MOCK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| server.mock_config.as_ref().map(|p| config.resolve(p)));
    let mocks = match &mock_path {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!("cannot read the mock configuration {}: {e}", path.display())
            })?;
            let parsed = MockConfig::parse(&text).map_err(|errors| {
                let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
                format!(
                    "invalid mock configuration {}:\n{}",
                    path.display(),
                    lines.join("\n")
                )
            })?;
            Some(Arc::new(parsed))
        }
    };
    let keys_path = args
        .keys
        .clone()
        .or_else(|| server.keys_file.as_ref().map(|p| config.resolve(p)));
    let keys = match &keys_path {
        None => stepwise_api::auth::Keys::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the keys file {}: {e}", path.display()))?;
            stepwise_api::auth::Keys::parse(&text, &arns.account)
                .map_err(|e| format!("invalid keys file {}: {e}", path.display()))?
        }
    };
    let bind = args
        .bind
        .clone()
        .or_else(|| server.bind.clone())
        .unwrap_or_else(|| "127.0.0.1".into());
    let loopback = match bind.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bind == "localhost",
    };
    let anonymous = args.allow_anonymous || server.allow_anonymous == Some(true);
    if keys.is_empty() && !loopback && !anonymous {
        return Err(format!(
            "refusing to listen on {bind} with no authentication: anyone who reaches the port              could call every action. Give access keys (--keys FILE) or pass --allow-anonymous"
        ));
    }
    let tls = match (
        args.tls_cert
            .clone()
            .or_else(|| server.tls_cert.as_ref().map(|p| config.resolve(p))),
        args.tls_key
            .clone()
            .or_else(|| server.tls_key.as_ref().map(|p| config.resolve(p))),
    ) {
        (Some(cert), Some(key)) => Some(crate::tls::acceptor(&cert, &key)?),
        (None, None) => None,
        _ => return Err("HTTPS needs both a certificate (tls_cert) and its key (tls_key)".into()),
    };
    let retention = match args.retention.as_ref().or(server.retention.as_ref()) {
        Some(given) => parse_retention(given)?,
        None => Some(stepwise_runtime::AWS_RETENTION),
    };
    Ok(Settings {
        retention,
        keys,
        tls,
        bind,
        port: args.port.or(server.port).unwrap_or(8083),
        store: match (&args.store, &server.store) {
            (Some(given), _) => StoreAt::parse(given, |p| p.to_path_buf()),
            // A file named in the configuration is relative to the configuration file.
            (None, Some(given)) => StoreAt::parse(given, |p| config.resolve(p)),
            (None, None) => StoreAt::File(PathBuf::from("stepwise.db")),
        },
        scale,
        arns,
        mocks,
        mock_path,
        config: Arc::new(config),
        config_path: args.config.clone(),
        node_id: args.node_id.clone(),
        lease_ms: args.lease_ms,
    })
}

/// A retention: a whole number and a unit (`90d`, `12h`, `30m`, `45s`), or `forever`.
fn parse_retention(given: &str) -> Result<Option<Duration>, String> {
    let given = given.trim();
    if given.eq_ignore_ascii_case("forever") {
        return Ok(None);
    }
    let wrong = || {
        format!(
            "invalid retention {given:?}: give a number and a unit (90d, 12h, 30m, 45s) or forever"
        )
    };
    let unit_at = given
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(wrong)?;
    let (number, unit) = given.split_at(unit_at);
    let number: u64 = number.parse().map_err(|_| wrong())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(wrong()),
    };
    match number.checked_mul(seconds) {
        Some(0) => Err(format!(
            "invalid retention {given:?}: it must be longer than nothing (or forever)"
        )),
        Some(s) => Ok(Some(Duration::from_secs(s))),
        None => Err(wrong()),
    }
}

/// The endpoints AWS calls go to other than AWS's own (flags, then the environment, then the
/// file): `dynamodb=http://…,default=http://…`, or `aws`.
fn endpoints_shown(config: &Config) -> String {
    let e = stepwise_aws::AwsConfig::layered(&config.aws.endpoints, &config.aws.flag_endpoints)
        .endpoints;
    let mut shown: Vec<String> = e.services.iter().map(|(s, u)| format!("{s}={u}")).collect();
    if let Some(d) = &e.default {
        shown.push(format!("default={d}"));
    }
    if shown.is_empty() {
        "aws".into()
    } else {
        shown.join(",")
    }
}

/// Logs go to stderr, coloured only when it is a terminal (a file or a pipe gets plain text).
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("STEPWISE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("STEPWISE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Step Functions Local's WAIT_TIME_SCALE: 0.5 waits half as long, 0 not at all.
fn wait_time_scale() -> Result<f64, String> {
    match std::env::var("WAIT_TIME_SCALE") {
        Err(_) => Ok(1.0),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(format!(
                "WAIT_TIME_SCALE must be a non-negative number, not '{text}'"
            )),
        },
    }
}

pub fn run(args: &Args) -> ExitCode {
    let began = Instant::now();
    init_logging();
    let mut settings = match settings(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // With keys, this server's executions sign their `aws-sdk:sfn:*` calls to it with a key
    // of its own, acting in their execution's account.
    let own_key = if settings.keys.is_empty() {
        None
    } else {
        match std::mem::take(&mut settings.keys).trust_executions() {
            Ok((keys, secret)) => {
                settings.keys = keys;
                Some(stepwise_aws::client::OwnKey {
                    prefix: stepwise_api::auth::EXECUTION_KEY_PREFIX.to_owned(),
                    secret,
                })
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let scale = settings.scale;
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match tokio.block_on(settings.store.open()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open the store {}: {e}", settings.store);
            return ExitCode::from(2);
        }
    };
    tokio.block_on(async move {
        let addr = format!("{}:{}", settings.bind, settings.port);
        let listener = match tokio::net::TcpListener::bind(&addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return ExitCode::from(2);
            }
        };
        let local: Option<SocketAddr> = listener.local_addr().ok();
        // Over HTTPS, executions' `aws-sdk:sfn:*` calls come in on a plain listener of their
        // own on loopback (the certificate is the clients', not this process's to trust); it
        // serves the API only, with the same keys.
        let internal = match &settings.tls {
            None => None,
            Some(_) => match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(l) => Some(l),
                Err(e) => {
                    eprintln!("error: cannot listen on loopback for executions' calls: {e}");
                    return ExitCode::from(2);
                }
            },
        };
        let own_endpoint = match &internal {
            Some(l) => l.local_addr().ok(),
            None => local,
        };
        let runtime = match Runtime::start(
            store.clone(),
            RuntimeConfig {
                wait_time_scale: scale,
                integrations: Some(Arc::new({
                    let integrations = Integrations::new(settings.config.clone());
                    match own_endpoint {
                        // `aws-sdk:sfn:*` reaches this server (on loopback when bound to all).
                        Some(mut a) => {
                            if a.ip().is_unspecified() {
                                a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                            }
                            integrations.with_step_functions_at(&format!("http://{a}"), own_key)
                        }
                        None => integrations,
                    }
                })),
                mocks: settings.mocks.clone(),
                node_id: settings.node_id.clone(),
                lease_ms: settings
                    .lease_ms
                    .map_or(RuntimeConfig::default().lease_ms, |ms| ms as i64),
                retention: settings.retention,
                ..RuntimeConfig::default()
            },
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot start: {e}");
                return ExitCode::from(2);
            }
        };
        let service = Arc::new(Service::on_runtime(
            runtime.clone(),
            store.clone(),
            settings.arns.clone(),
        ));
        // After SIGTERM, open requests get a grace period to finish (see below).
        let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
        let keys = settings.keys.len();
        let access = stepwise_console::Access::new(settings.keys.clone(), settings.tls.is_some());
        let api = Arc::new(Api::new(service.clone()).with_keys(settings.keys));
        // The API is `POST /`; the console is `GET /` and `/console/...`. With keys, the
        // console asks for one of them (and its secret) and holds each call to its policy.
        let app = router(api.clone()).merge(stepwise_console::router_with(service.clone(), access));
        if let Some(internal) = internal {
            let mut stopping = stopping_rx.clone();
            tokio::spawn(
                axum::serve(internal, router(api))
                    .with_graceful_shutdown(async move {
                        let _ = stopping.wait_for(|s| *s).await;
                    })
                    .into_future(),
            );
        }
        tracing::info!(
            address = %local.map(|a| a.to_string()).unwrap_or(addr),
            account = %settings.arns.account,
            region = %settings.arns.region,
            store = %settings.store,
            config = %shown(settings.config_path.as_deref()),
            mock_config = %shown(settings.mock_path.as_deref()),
            wait_time_scale = scale,
            endpoints = %endpoints_shown(&settings.config),
            auth = %if keys == 0 { "none".to_owned() } else { format!("sigv4 keys={keys}") },
            scheme = if settings.tls.is_some() { "https" } else { "http" },
            console = if keys == 0 { "/" } else { "/ (sign-in with an access key)" },
            ready_ms = duration_ms(began.elapsed()),
            "stepwise listening"
        );
        // After SIGTERM, open requests get a grace period to finish; long polls
        // (GetActivityTask waits up to 60 s) must not hold the process up.
        let mut stopping = stopping_rx;
        let leaving = service.clone();
        let signal = async move {
            shutdown_signal().await;
            let _ = stopping_tx.send(true);
            // Many nodes: the others take this node's executions now, not after its leases.
            leaving.leave().await;
        };
        let serving: std::pin::Pin<
            Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>,
        > = match settings.tls.clone() {
            None => Box::pin(
                axum::serve(listener, app)
                    .with_graceful_shutdown(signal)
                    .into_future(),
            ),
            Some(acceptor) => match crate::tls::TlsListener::new(listener, acceptor) {
                Ok(tls) => Box::pin(
                    axum::serve(tls, app)
                        .with_graceful_shutdown(signal)
                        .into_future(),
                ),
                Err(e) => {
                    eprintln!("error: cannot serve HTTPS: {e}");
                    return ExitCode::from(2);
                }
            },
        };
        let grace = async move {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let served = tokio::select! {
            served = serving => served,
            () = grace => {
                tracing::warn!(
                    grace_seconds = SHUTDOWN_GRACE.as_secs(),
                    "requests still open after the grace period (long polls): closing them"
                );
                Ok(())
            }
        };
        tracing::info!("shutting down: finishing the work in hand");
        let rt = runtime.clone();
        let _ = tokio::task::spawn_blocking(move || rt.shutdown()).await;
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: the server stopped: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// A file named in the start-up line, or `none`.
fn shown(path: Option<&std::path::Path>) -> String {
    path.map_or_else(|| "none".to_owned(), |p| p.display().to_string())
}

/// How long open requests may run on after SIGTERM or Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Where `serve` keeps its state.
#[derive(Debug, Clone, PartialEq)]
enum StoreAt {
    /// SQLite in memory: nothing is kept.
    Memory,
    File(PathBuf),
    /// A PostgreSQL database, by its URL.
    Postgres(String),
}

impl StoreAt {
    /// `:memory:`, a `postgres://` (or `postgresql://`) URL, or a file path (`resolve` places
    /// a relative one).
    fn parse(given: &str, resolve: impl Fn(&std::path::Path) -> PathBuf) -> StoreAt {
        if given == ":memory:" {
            StoreAt::Memory
        } else if given.starts_with("postgres://") || given.starts_with("postgresql://") {
            StoreAt::Postgres(given.to_owned())
        } else {
            StoreAt::File(resolve(std::path::Path::new(given)))
        }
    }

    async fn open(&self) -> Result<Arc<dyn Store>, stepwise_store::StoreError> {
        Ok(match self {
            StoreAt::Memory => Arc::new(SqliteStore::memory()?),
            StoreAt::File(path) => Arc::new(SqliteStore::open(path)?),
            StoreAt::Postgres(url) => Arc::new(PostgresStore::connect(url).await?),
        })
    }
}

impl std::fmt::Display for StoreAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreAt::Memory => f.write_str(":memory:"),
            StoreAt::File(path) => write!(f, "{}", path.display()),
            // Never the password.
            StoreAt::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// A database URL with its password replaced by `***`.
fn without_password(given: &str) -> String {
    match url::Url::parse(given) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => given.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_is_a_number_and_a_unit_or_forever() {
        let secs = |s: &str| parse_retention(s).map(|d| d.map(|d| d.as_secs()));
        assert_eq!(secs("90d"), Ok(Some(90 * 86_400)));
        assert_eq!(secs(" 12h "), Ok(Some(12 * 3600)));
        assert_eq!(secs("1m"), Ok(Some(60)));
        assert_eq!(secs("45s"), Ok(Some(45)));
        assert_eq!(secs("Forever"), Ok(None));
        for wrong in [
            "",
            "90",
            "d",
            "1.5h",
            "-1d",
            "10w",
            "0s",
            "99999999999999999999d",
        ] {
            let err = secs(wrong).expect_err(wrong);
            assert!(err.starts_with("invalid retention"), "{wrong}: {err}");
        }
    }

    #[test]
    fn a_store_is_a_file_memory_or_a_database_and_its_password_is_never_shown() {
        let keep = |p: &std::path::Path| p.to_path_buf();
        assert_eq!(StoreAt::parse(":memory:", keep), StoreAt::Memory);
        assert_eq!(
            StoreAt::parse("data/s.db", keep),
            StoreAt::File(PathBuf::from("data/s.db"))
        );
        let db = StoreAt::parse("postgres://app:s3cret@db.example:5432/sfn", keep);
        assert!(matches!(db, StoreAt::Postgres(_)));
        let shown = db.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(shown, "postgres://app:***@db.example:5432/sfn");
        assert_eq!(
            StoreAt::parse("postgresql://app@h/sfn", keep).to_string(),
            "postgresql://app@h/sfn"
        );
    }
}
