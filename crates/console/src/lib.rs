//! The web console: a single page (HTML, CSS and JavaScript embedded in the binary with
//! `include_str!`, no build step) served at `GET /`, and the JSON it reads under
//! `/console/api/`. Every endpoint calls the typed [`Service`] (the same methods the wire
//! protocol calls), never the wire protocol or the store.
//!
//! Owns: the console's routes, its views of the service's answers (a state machine with its
//! graph, versions and aliases; an execution with its graph coloured by each state's status,
//! its states and its history), and the live stream of an execution's new events
//! (server-sent events). Does not own: the graph and its layout (`stepwise-graph`), the API
//! (`stepwise-api`; its `POST /` does not collide with these `GET`s). Signing in with the
//! server's access keys, when it has some, is [`session`]'s.

mod assets;
mod session;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use stepwise_service::Service;

pub use session::{Access, COOKIE, CSRF_HEADER, SESSION_LIFETIME};

/// The console's routes with no sign-in (a server with no access keys).
pub fn router(service: Arc<Service>) -> Router {
    router_with(service, Access::default())
}

/// The console's routes: `GET /`, `/console/assets/*`, `/console/api/*`. Merge them with the
/// API's router (which has `POST /`). With keys in `access`, every `/console/api/*` call but
/// the sign-in ones needs a session and is authorized by the key's policy.
pub fn router_with(service: Arc<Service>, access: Access) -> Router {
    let console = Arc::new(views::Console::new(service, access));
    let guarded = Router::new()
        .route("/console/api/state-machines", get(views::state_machines))
        .route("/console/api/state-machine", get(views::state_machine))
        .route("/console/api/executions", get(views::executions))
        .route("/console/api/execution", get(views::execution))
        .route("/console/api/execution/statuses", get(views::statuses_at))
        .route("/console/api/map-run", get(views::map_run))
        .route("/console/api/execution/stream", get(views::stream))
        .route("/console/api/execution/stop", post(views::stop))
        .route("/console/api/execution/redrive", post(views::redrive))
        .route("/console/api/execution/start", post(views::start))
        .route("/console/api/validate", post(views::validate))
        .route(
            "/console/api/state-machine/version",
            post(views::save_version),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            console.clone(),
            session::guard,
        ));
    Router::new()
        .route("/", get(assets::index))
        .route("/console/assets/{file}", get(assets::asset))
        .route("/console/api/session", get(session::session))
        .route("/console/api/login", post(session::login))
        .route("/console/api/logout", post(session::logout))
        .merge(guarded)
        .with_state(console)
}
