//! The Step Functions API as a Rust service: every one of the 37 actions as a typed method
//! ([`Service::start_execution`], [`Service::describe_state_machine`], …) with the requests
//! and responses of the service model ([`types`]), and one domain error ([`ServiceError`]: AWS's
//! error names as data, no HTTP). The wire protocol, a web console and programs that embed
//! Stepwise all call the same service.
//!
//! Owns: the control plane — state machines, versions, aliases, activities, tags — on a
//! [`stepwise_store::Store`] ([`control`]); the execution plane on the
//! [`stepwise_runtime::Runtime`] ([`executions`]); ARNs and names ([`arn`]); pagination
//! tokens ([`paging`]). Both planes are typed: each action's handler takes the model's input
//! type and returns its output type. JSON is only at the edge: [`Service::call`] (the wire's
//! entry) reads a request into its input type and writes the output back.
//!
//! # Embedding
//!
//! A program can run Stepwise in-process, without a socket:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use stepwise_service::types::{
//!     CreateStateMachineInput, ExecutionStatus, GetExecutionHistoryInput, StartExecutionInput,
//! };
//! use stepwise_service::{Arns, Service};
//! use stepwise_store::{SqliteStore, Store};
//!
//! let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().unwrap());
//! let service = Service::start(store, Arns::default(), Default::default())
//!     .await
//!     .unwrap();
//! let machine = service
//!     .create_state_machine(CreateStateMachineInput::new(
//!         "hello",
//!         r#"{"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "End": true}}}"#,
//!         "arn:aws:iam::123456789012:role/R",
//!     ))
//!     .await
//!     .unwrap();
//! let run = service
//!     .start_execution(StartExecutionInput::new(&machine.state_machine_arn).input(r#"{"n": 1}"#))
//!     .await
//!     .unwrap();
//! let done = service.wait_for_execution(&run.execution_arn).await.unwrap();
//! assert_eq!(done.status, ExecutionStatus::Succeeded);
//! assert_eq!(done.output.as_deref(), Some(r#"{"n":1}"#));
//! let history = service
//!     .get_execution_history(GetExecutionHistoryInput::new(&run.execution_arn))
//!     .await
//!     .unwrap();
//! assert_eq!(history.events.len(), 4);
//! service.shutdown();
//! # });
//! ```

pub mod arn;
pub mod caller;
pub mod control;
pub mod error;
pub mod executions;
pub mod paging;
pub mod time;
pub mod types;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use stepwise_runtime::{Runtime, RuntimeConfig, RuntimeError, Starter};
use stepwise_store::Store;

pub use arn::Arns;
pub use control::{Control, StartTarget};
pub use error::{ErrorClass, ServiceError};
pub use executions::{ExecutionPlane, ExecutionSearch};

include!(concat!(env!("OUT_DIR"), "/model_actions.rs"));

/// An action's request, read from its JSON. The wire has checked it against the model, so
/// this fails only for a caller that did not: a missing member in the wire's words, anything
/// else as the `SerializationException` a JSON body of the wrong shape gets.
fn decode<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, ServiceError> {
    serde_json::from_value(input).map_err(|e| {
        let text = e.to_string();
        match text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
        {
            Some((member, _)) => ServiceError::validation(error::validation_message(&[format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            )])),
            None => ServiceError::serialization(text),
        }
    })
}

/// An action's answer as JSON.
fn encode<T: serde::Serialize>(output: T) -> Result<Value, ServiceError> {
    serde_json::to_value(output).map_err(|e| ServiceError::internal(format!("response: {e}")))
}

/// The Step Functions service model (AWS's, documentation stripped by `model/strip.py`) that
/// [`types`] and [`Action`] are generated from; the wire checks requests against it.
pub const MODEL_JSON: &str = include_str!("../model/stepfunctions.json");

/// A boxed future, as the [`ExecutionActions`] return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The execution plane (StartExecution, GetActivityTask, SendTask*, …): its typed actions
/// ([`ExecutionActions`]) as the runtime answers them, and its metrics. Tests of the control
/// plane use [`NoExecutions`].
pub trait Executions: ExecutionActions {
    /// Appends the runtime's own series (executions by status, transitions, …) in the
    /// Prometheus text format.
    fn render_metrics(&self, out: &mut String);

    /// ListExecutions narrowed by the console's search (name prefix, start-time range); not
    /// an AWS action. A plane without executions refuses it.
    fn list_executions_matching<'a>(
        &'a self,
        input: types::ListExecutionsInput,
        search: &'a ExecutionSearch,
    ) -> BoxFuture<'a, Result<types::ListExecutionsOutput, ServiceError>> {
        let _ = (input, search);
        no_execution_plane(Action::ListExecutions)
    }
}

/// The refusal of an execution action by a service without an execution plane.
fn no_execution_plane<T>(action: Action) -> BoxFuture<'static, Result<T, ServiceError>> {
    let err = ServiceError::internal(format!(
        "{} needs an execution plane, and this service has none",
        action.name()
    ));
    Box::pin(async move { Err(err) })
}

/// An execution plane that has nothing: every execution action is refused. For tests of the
/// control plane.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoExecutions;

impl ExecutionActions for NoExecutions {}

impl Executions for NoExecutions {
    fn render_metrics(&self, _out: &mut String) {}
}

/// The Step Functions service: the control plane and the execution plane behind one set of
/// actions.
#[derive(Debug)]
pub struct Service {
    control: Arc<Control>,
    executions: Arc<dyn Executions>,
    runtime: Option<Arc<Runtime>>,
}

impl Service {
    /// A service of these two planes.
    pub fn new(control: Arc<Control>, executions: Arc<dyn Executions>) -> Service {
        Service {
            control,
            executions,
            runtime: None,
        }
    }

    /// The whole service on `store`: the runtime is started (open executions carry on), the
    /// control plane and the execution plane built on it. Must be called on a tokio runtime.
    pub async fn start(
        store: Arc<dyn Store>,
        arns: Arns,
        config: RuntimeConfig,
    ) -> Result<Arc<Service>, RuntimeError> {
        let runtime = Runtime::start(store.clone(), config).await?;
        Ok(Arc::new(Service::on_runtime(runtime, store, arns)))
    }

    /// The service on a runtime already started on `store`.
    pub fn on_runtime(runtime: Arc<Runtime>, store: Arc<dyn Store>, arns: Arns) -> Service {
        let control = Arc::new(Control::new(store, arns).with_clock(runtime.clock().clone()));
        let plane = Arc::new(ExecutionPlane::new(runtime.clone(), control.clone()));
        let starter: Arc<dyn Starter> = plane.clone();
        runtime.set_starter(Arc::downgrade(&starter));
        let source: Arc<dyn stepwise_runtime::exec_log::SettingsSource> = plane.clone();
        runtime.execution_logs().set_source(Arc::downgrade(&source));
        Service {
            control,
            executions: plane,
            runtime: Some(runtime),
        }
    }

    /// Replaces the execution plane (tests shorten GetActivityTask's long poll this way).
    pub fn with_executions(mut self, executions: Arc<dyn Executions>) -> Service {
        self.executions = executions;
        self
    }

    pub fn control(&self) -> &Arc<Control> {
        &self.control
    }

    /// The runtime under the execution plane, when the service has one.
    pub fn runtime(&self) -> Option<&Arc<Runtime>> {
        self.runtime.as_ref()
    }

    /// A control-plane action that is CPU work with no IO (validating a definition), on a
    /// blocking thread.
    async fn on_control<O: Send + 'static>(
        &self,
        action: Action,
        handler: impl FnOnce(&Control) -> Result<O, ServiceError> + Send + 'static,
    ) -> Result<O, ServiceError> {
        let control = Arc::clone(&self.control);
        tokio::task::spawn_blocking(move || handler(&control))
            .await
            .map_err(|e| ServiceError::internal(format!("{} failed: {e}", action.name())))?
    }

    /// DescribeExecution until the execution is no longer RUNNING.
    pub async fn wait_for_execution(
        &self,
        execution_arn: &str,
    ) -> Result<types::DescribeExecutionOutput, ServiceError> {
        let mut delay = Duration::from_millis(1);
        loop {
            let d = self
                .describe_execution(types::DescribeExecutionInput::new(execution_arn))
                .await?;
            if d.status != types::ExecutionStatus::Running {
                return Ok(d);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(100));
        }
    }

    /// A fresh request id (`x-amzn-RequestId`), from the service's clock.
    pub fn request_id(&self) -> String {
        self.control.clock().uuid()
    }

    /// The Prometheus text of the execution plane's series.
    pub fn render_metrics(&self, out: &mut String) {
        self.executions.render_metrics(out);
        if let Some(runtime) = &self.runtime {
            runtime.render_node_metrics(out);
        }
    }

    /// What `GET /health` shows: whether the store answers and, with many nodes sharing it,
    /// this node and the partitions it drives. `false`: unhealthy (the store does not answer).
    pub async fn health(&self) -> (bool, serde_json::Value) {
        let Some(runtime) = &self.runtime else {
            return (true, serde_json::json!({"status": "ok"}));
        };
        let store = match runtime.store().get_definition("health-probe").await {
            Ok(_) => serde_json::json!("ok"),
            Err(e) => serde_json::json!({"error": e.to_string()}),
        };
        let ok = store == "ok";
        let mut body = serde_json::json!({
            "status": if ok { "ok" } else { "unavailable" },
            "store": store,
        });
        if let Some((node, leases)) = runtime.node() {
            body["node"] = serde_json::json!({
                "id": node,
                "partitions": leases.keys().collect::<Vec<_>>(),
            });
        }
        (ok, body)
    }

    /// Many nodes: hands this node's partitions back to the others at once (on SIGTERM,
    /// before the work in hand is finished). Nothing with one node.
    pub async fn leave(&self) {
        if let Some(runtime) = &self.runtime {
            runtime.leave().await;
        }
    }

    /// ListExecutions with the console's extra filters ([`ExecutionSearch`]: a name prefix, a
    /// start-time range), still paged by the store's keyset. Not an AWS action: the API's
    /// ListExecutions has no such filters and is unchanged.
    pub async fn list_executions_matching(
        &self,
        input: types::ListExecutionsInput,
        search: &ExecutionSearch,
    ) -> Result<types::ListExecutionsOutput, ServiceError> {
        self.executions
            .list_executions_matching(input, search)
            .await
    }

    /// Finishes the work in hand and stops the runtime (blocks until it has).
    pub fn shutdown(&self) {
        if let Some(runtime) = &self.runtime {
            runtime.shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_that_do_not_read_are_refused_in_the_wires_words() {
        let missing = decode::<types::DescribeActivityInput>(json!({})).unwrap_err();
        assert_eq!(missing.code, "ValidationException");
        assert_eq!(
            missing.message,
            "1 validation error detected: Value null at 'activityArn' failed to satisfy constraint: Member must not be null"
        );
        let wrong = decode::<types::DescribeActivityInput>(json!({"activityArn": 1})).unwrap_err();
        assert_eq!(wrong.code, "SerializationException");
        let read: types::DescribeActivityInput =
            decode(json!({"activityArn": "a", "unknown": true})).unwrap();
        assert_eq!(read.activity_arn, "a");
    }
}
