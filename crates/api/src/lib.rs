//! The Step Functions wire protocol (AWS JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Action>`).
//!
//! Owns: the embedded service model and request checking against it ([`model`], [`validate`]),
//! AWS's error shapes ([`error`]), ARNs and names ([`arn`]), pagination tokens ([`paging`]), the
//! API's metrics ([`metrics`]), the control plane — state machines, versions, aliases,
//! activities, tags — on a [`stepwise_store::Store`] ([`control`]), and the axum router
//! ([`router`]).
//!
//! Does not own executions: every execution-plane action (StartExecution, GetActivityTask,
//! SendTask*, …) goes to an [`Executions`] implementation, which the runtime provides.

pub mod arn;
pub mod control;
pub mod error;
pub mod metrics;
pub mod model;
pub mod paging;
pub mod router;
pub mod validate;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

pub use arn::Arns;
pub use control::{Control, StartTarget};
pub use error::ApiError;
pub use metrics::Metrics;
pub use router::router;

/// A boxed future as [`Executions::call`] returns it.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything the router serves.
#[derive(Debug)]
pub struct Api {
    pub control: Arc<Control>,
    pub executions: Arc<dyn Executions>,
    pub metrics: Metrics,
}

impl Api {
    pub fn new(control: Arc<Control>, executions: Arc<dyn Executions>) -> Self {
        Api {
            control,
            executions,
            metrics: Metrics::new(),
        }
    }
}

/// The execution plane, as the runtime implements it.
pub trait Executions: Send + Sync + std::fmt::Debug + 'static {
    /// StartExecution, StartSyncExecution, DescribeExecution, ListExecutions, GetExecutionHistory,
    /// StopExecution, RedriveExecution, GetActivityTask, SendTaskSuccess, SendTaskFailure,
    /// SendTaskHeartbeat, DescribeMapRun, ListMapRuns, UpdateMapRun, TestState.
    ///
    /// `input` has been checked against the model already.
    fn call(&self, action: &str, input: Value) -> BoxFuture<'_, Result<Value, ApiError>>;

    /// Appends the runtime's own series (executions by status, transitions, …) in the Prometheus
    /// text format.
    fn render_metrics(&self, out: &mut String);
}

/// An execution plane that has nothing: every action is answered `UnknownOperationException`.
/// For tests of the control plane and the protocol.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoExecutions;

impl Executions for NoExecutions {
    fn call(&self, action: &str, _input: Value) -> BoxFuture<'_, Result<Value, ApiError>> {
        let err = ApiError::unknown_operation(Some(action));
        Box::pin(async move { Err(err) })
    }

    fn render_metrics(&self, _out: &mut String) {}
}
