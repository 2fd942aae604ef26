//! `stepwise serve`: the Step Functions API on a port, durable on an embedded SQLite store.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stepwise_api::{Api, Arns, Control, router};
use stepwise_runtime::actions::ExecutionPlane;
use stepwise_runtime::{Runtime, RuntimeConfig};
use stepwise_store::{SqliteStore, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (0 picks a free one; the log says which).
    #[arg(long, default_value_t = 8083)]
    port: u16,
    /// The SQLite file that keeps state machines and executions (`:memory:` keeps nothing).
    #[arg(long, default_value = "stepwise.db")]
    store: PathBuf,
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("STEPWISE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
    let scale = match wait_time_scale() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let store: Arc<dyn Store> = match if args.store.as_os_str() == ":memory:" {
        SqliteStore::memory()
    } else {
        SqliteStore::open(&args.store)
    } {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: cannot open the store {}: {e}", args.store.display());
            return ExitCode::from(2);
        }
    };
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
    tokio.block_on(async move {
        let addr = format!("{}:{}", args.bind, args.port);
        let listener = match tokio::net::TcpListener::bind(&addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return ExitCode::from(2);
            }
        };
        let local: Option<SocketAddr> = listener.local_addr().ok();
        let runtime = Runtime::start(
            store.clone(),
            RuntimeConfig {
                wait_time_scale: scale,
                ..RuntimeConfig::default()
            },
        );
        let control = Arc::new(Control::new(store.clone(), Arns::from_env()));
        let plane = Arc::new(ExecutionPlane::new(runtime.clone(), control.clone()));
        let api = Arc::new(Api::new(control, plane));
        let app = router(api);
        tracing::info!(
            address = %local.map(|a| a.to_string()).unwrap_or(addr),
            store = %args.store.display(),
            wait_time_scale = scale,
            ready_ms = began.elapsed().as_secs_f64() * 1000.0,
            "stepwise listening"
        );
        // After SIGTERM, open requests get a grace period to finish; long polls
        // (GetActivityTask waits up to 60 s) must not hold the process up.
        let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
        let serving = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                let _ = stopping_tx.send(true);
            })
            .into_future();
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
