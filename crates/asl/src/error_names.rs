//! AWS's predefined error names (`States.*`), as data in one place.

pub const ALL: &str = "States.ALL";
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
pub const TIMEOUT: &str = "States.Timeout";
pub const TASK_FAILED: &str = "States.TaskFailed";
pub const PERMISSIONS: &str = "States.Permissions";
pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
pub const BRANCH_FAILED: &str = "States.BranchFailed";
pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
pub const RUNTIME: &str = "States.Runtime";
pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";

/// Every `States.*` name AWS defines.
pub const KNOWN: &[&str] = &[
    ALL,
    HEARTBEAT_TIMEOUT,
    TIMEOUT,
    TASK_FAILED,
    PERMISSIONS,
    RESULT_PATH_MATCH_FAILURE,
    PARAMETER_PATH_FAILURE,
    QUERY_EVALUATION_ERROR,
    BRANCH_FAILED,
    NO_CHOICE_MATCHED,
    INTRINSIC_FAILURE,
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    ITEM_READER_FAILED,
    RESULT_WRITER_FAILED,
    RUNTIME,
    DATA_LIMIT_EXCEEDED,
];

/// `States.ALL` matches every error except `States.Runtime`, which only an explicit name
/// catches. (A `States.DataLimitExceeded` that a state raises about its own output is never
/// caught; one that a task's integration reports about its result is, even by `States.ALL`, as
/// AWS's recordings show.)
pub fn caught_by_states_all(name: &str) -> bool {
    name != RUNTIME
}
