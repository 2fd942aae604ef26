//! Store records for tests, built from the few fields a test cares about; the rest take plain
//! values (a running execution in us-east-1 of account 123456789012, input `{}`, nothing
//! recorded yet), so a test does not spell out every field of the row.

use crate::{ExecutionRecord, ExecutionUpdate};

/// The region and account of the ARNs the builders make.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
/// The role the builders' executions run as.
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/R";

/// The ARN of state machine `name`.
pub fn state_machine_arn(name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}")
}

/// The ARN of execution `name` of state machine `machine`.
pub fn execution_arn(machine: &str, name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}")
}

/// Builds an [`ExecutionRecord`]: `ExecutionRecordBuilder::new("m", "e").start_ms(5).build()`.
#[derive(Debug, Clone)]
pub struct ExecutionRecordBuilder {
    record: ExecutionRecord,
}

impl ExecutionRecordBuilder {
    /// Execution `name` of state machine `machine`: RUNNING, started at 0 ms, input `{}`,
    /// definition hash `h`, no events or steps recorded.
    pub fn new(machine: &str, name: &str) -> ExecutionRecordBuilder {
        ExecutionRecordBuilder {
            record: ExecutionRecord {
                arn: execution_arn(machine, name),
                state_machine_arn: state_machine_arn(machine),
                version_arn: None,
                alias_arn: None,
                name: name.to_owned(),
                status: "RUNNING".into(),
                start_ms: 0,
                stop_ms: None,
                input: "{}".into(),
                output: None,
                error: None,
                cause: None,
                definition_hash: "h".into(),
                role_arn: ROLE_ARN.into(),
                trace_header: None,
                redrive_count: 0,
                redrive_ms: None,
                event_count: 0,
                step_count: 0,
                parent: None,
                test_case: None,
                history_digest: None,
                clock_offset_ms: 0,
                map_run_arn: None,
                map_run_index: None,
            },
        }
    }

    pub fn build(self) -> ExecutionRecord {
        self.record
    }

    /// Any other change: `.with(|r| r.redrive_count = 2)`.
    pub fn with(mut self, change: impl FnOnce(&mut ExecutionRecord)) -> ExecutionRecordBuilder {
        change(&mut self.record);
        self
    }

    pub fn arn(self, arn: impl Into<String>) -> Self {
        self.with(|r| r.arn = arn.into())
    }

    pub fn state_machine_arn(self, arn: impl Into<String>) -> Self {
        self.with(|r| r.state_machine_arn = arn.into())
    }

    pub fn version_arn(self, arn: impl Into<String>) -> Self {
        self.with(|r| r.version_arn = Some(arn.into()))
    }

    pub fn alias_arn(self, arn: impl Into<String>) -> Self {
        self.with(|r| r.alias_arn = Some(arn.into()))
    }

    pub fn status(self, status: impl Into<String>) -> Self {
        self.with(|r| r.status = status.into())
    }

    pub fn start_ms(self, ms: i64) -> Self {
        self.with(|r| r.start_ms = ms)
    }

    pub fn stop_ms(self, ms: i64) -> Self {
        self.with(|r| r.stop_ms = Some(ms))
    }

    pub fn input(self, input: impl Into<String>) -> Self {
        self.with(|r| r.input = input.into())
    }

    pub fn output(self, output: impl Into<String>) -> Self {
        self.with(|r| r.output = Some(output.into()))
    }

    pub fn definition_hash(self, hash: impl Into<String>) -> Self {
        self.with(|r| r.definition_hash = hash.into())
    }

    pub fn role_arn(self, arn: impl Into<String>) -> Self {
        self.with(|r| r.role_arn = arn.into())
    }

    /// Started by a parent's `.sync` task (the runtime's JSON text).
    pub fn parent(self, parent: impl Into<String>) -> Self {
        self.with(|r| r.parent = Some(parent.into()))
    }

    pub fn test_case(self, test_case: impl Into<String>) -> Self {
        self.with(|r| r.test_case = Some(test_case.into()))
    }
}

/// Builds an [`ExecutionUpdate`]: the execution ends (`closed`) with `status` at `stop_ms`,
/// with no output, error or cause and nothing recorded, unless set.
#[derive(Debug, Clone)]
pub struct ExecutionUpdateBuilder {
    update: ExecutionUpdate,
}

impl ExecutionUpdateBuilder {
    pub fn closed(arn: impl Into<String>, status: &str, stop_ms: i64) -> ExecutionUpdateBuilder {
        ExecutionUpdateBuilder {
            update: ExecutionUpdate {
                arn: arn.into(),
                status: status.into(),
                stop_ms: Some(stop_ms),
                output: None,
                error: None,
                cause: None,
                event_count: 0,
                step_count: 0,
                redrive_count: 0,
                redrive_ms: None,
                closed: true,
                history_digest: None,
                clock_offset_ms: 0,
            },
        }
    }

    pub fn build(self) -> ExecutionUpdate {
        self.update
    }

    /// Any other change: `.with(|u| u.closed = false)`.
    pub fn with(mut self, change: impl FnOnce(&mut ExecutionUpdate)) -> ExecutionUpdateBuilder {
        change(&mut self.update);
        self
    }

    pub fn output(self, output: impl Into<String>) -> Self {
        self.with(|u| u.output = Some(output.into()))
    }

    pub fn error(self, error: impl Into<String>, cause: impl Into<String>) -> Self {
        self.with(|u| {
            u.error = Some(error.into());
            u.cause = Some(cause.into());
        })
    }

    /// History events and engine steps recorded so far.
    pub fn counts(self, events: u64, steps: u64) -> Self {
        self.with(|u| {
            u.event_count = events;
            u.step_count = steps;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_has_plain_values_but_what_the_test_sets() {
        let r = ExecutionRecordBuilder::new("m", "e")
            .start_ms(7)
            .input("{\"i\":1}")
            .with(|r| r.redrive_count = 2)
            .build();
        assert_eq!(r.arn, "arn:aws:states:us-east-1:123456789012:execution:m:e");
        assert_eq!(
            r.state_machine_arn,
            "arn:aws:states:us-east-1:123456789012:stateMachine:m"
        );
        assert_eq!((r.status.as_str(), r.start_ms), ("RUNNING", 7));
        assert_eq!((r.input.as_str(), r.redrive_count), ("{\"i\":1}", 2));
        assert_eq!(r.stop_ms, None);

        let u = ExecutionUpdateBuilder::closed(&r.arn, "FAILED", 9)
            .error("E", "why")
            .counts(4, 2)
            .build();
        assert!(u.closed);
        assert_eq!(
            (u.error.as_deref(), u.cause.as_deref()),
            (Some("E"), Some("why"))
        );
        assert_eq!((u.event_count, u.step_count, u.stop_ms), (4, 2, Some(9)));
    }
}
