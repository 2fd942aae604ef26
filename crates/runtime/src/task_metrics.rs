//! AWS's activity, Lambda and service integration metrics (CloudWatch namespace `AWS/States`)
//! with their names and dimensions, counted from committed history events (so each once, and
//! only what is durable): for each activity (`ActivityArn`), Lambda function called by its ARN
//! (`LambdaFunctionArn`) and service integration (`ServiceIntegrationResourceArn`, such as
//! `arn:aws:states:::http:invoke`), how many were scheduled, started, succeeded, failed and
//! timed out, and the milliseconds from scheduled to started (`*ScheduleTime`), started to
//! closed (`*RunTime`) and scheduled to closed (`*Time`), as Prometheus summaries.
//!
//! An attempt is followed through its events by `previousEventId`; one scheduled before the
//! server restarted is not counted when it closes (its resource is on the event not seen).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;

use serde_json::Value;
use stepwise_engine::EventType;

/// What kind of task an event is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Family {
    Activity,
    Lambda,
    Service,
}

impl Family {
    /// The metric names' stems and the dimension.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Family::Activity => ("Activity", "Activities", "ActivityArn"),
            Family::Lambda => ("LambdaFunction", "LambdaFunctions", "LambdaFunctionArn"),
            Family::Service => (
                "ServiceIntegration",
                "ServiceIntegrations",
                "ServiceIntegrationResourceArn",
            ),
        }
    }
}

/// What an event does to an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Scheduled,
    Started,
    /// Still running (a `.sync` job submitted).
    Progress,
    Succeeded,
    Failed,
    TimedOut,
}

/// What a task event is of and does to its attempt (`None`: not a task event). The traces
/// (`crate::trace`) open and end attempt spans by the same reading.
pub(crate) fn classify(t: EventType) -> Option<(Family, Step)> {
    use EventType as E;
    Some(match t {
        E::ActivityScheduled => (Family::Activity, Step::Scheduled),
        E::ActivityStarted => (Family::Activity, Step::Started),
        E::ActivitySucceeded => (Family::Activity, Step::Succeeded),
        E::ActivityFailed | E::ActivityScheduleFailed => (Family::Activity, Step::Failed),
        E::ActivityTimedOut => (Family::Activity, Step::TimedOut),
        E::LambdaFunctionScheduled => (Family::Lambda, Step::Scheduled),
        E::LambdaFunctionStarted => (Family::Lambda, Step::Started),
        E::LambdaFunctionSucceeded => (Family::Lambda, Step::Succeeded),
        E::LambdaFunctionFailed
        | E::LambdaFunctionScheduleFailed
        | E::LambdaFunctionStartFailed => (Family::Lambda, Step::Failed),
        E::LambdaFunctionTimedOut => (Family::Lambda, Step::TimedOut),
        E::TaskScheduled => (Family::Service, Step::Scheduled),
        E::TaskStarted => (Family::Service, Step::Started),
        E::TaskSubmitted => (Family::Service, Step::Progress),
        E::TaskSucceeded => (Family::Service, Step::Succeeded),
        E::TaskFailed | E::TaskStartFailed | E::TaskSubmitFailed => (Family::Service, Step::Failed),
        E::TaskTimedOut => (Family::Service, Step::TimedOut),
        _ => return None,
    })
}

/// The counts and times of one activity, function or integration.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    scheduled: u64,
    started: u64,
    succeeded: u64,
    failed: u64,
    timed_out: u64,
    heartbeat_timed_out: u64,
    /// (sum of milliseconds, how many) of each time.
    schedule: (u64, u64),
    run: (u64, u64),
    time: (u64, u64),
}

/// An attempt in progress.
#[derive(Debug, Clone)]
struct Attempt {
    family: Family,
    resource: String,
    scheduled_ms: i64,
    started_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Inner {
    series: BTreeMap<(Family, String), Counts>,
    /// Attempts in progress, by execution, then by the id of their latest event.
    open: HashMap<String, HashMap<u64, Attempt>>,
}

/// The counters, fed by the execution log writer with every committed event.
#[derive(Debug, Default)]
pub struct TaskMetrics {
    inner: Mutex<Inner>,
}

impl TaskMetrics {
    /// Whether events of type `t` are counted here (the writer parses only those).
    pub fn counts(t: EventType) -> bool {
        classify(t).is_some()
            || matches!(
                t,
                EventType::ExecutionSucceeded
                    | EventType::ExecutionFailed
                    | EventType::ExecutionTimedOut
                    | EventType::ExecutionAborted
            )
    }

    /// One committed event of `execution` (GetExecutionHistory's JSON).
    pub fn event(&self, execution: &str, t: EventType, event: &Value) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let Some((family, step)) = classify(t) else {
            // The execution ended: what it had in progress will not close.
            inner.open.remove(execution);
            return;
        };
        let number = |key: &str| event.get(key).and_then(Value::as_u64).unwrap_or(0);
        let (id, previous) = (number("id"), number("previousEventId"));
        let at_ms = event
            .get("timestamp")
            .and_then(Value::as_f64)
            .map_or(0, |s| (s * 1000.0).round() as i64);
        let details = t.details_key().and_then(|k| event.get(k));
        let open = inner.open.entry(execution.to_owned()).or_default();
        let attempt = if step == Step::Scheduled {
            let text = |k: &str| details.and_then(|d| d.get(k)).and_then(Value::as_str);
            let resource = match family {
                Family::Service => format!(
                    "arn:aws:states:::{}:{}",
                    text("resourceType").unwrap_or("unknown"),
                    text("resource").unwrap_or("unknown")
                ),
                _ => text("resource").unwrap_or("unknown").to_owned(),
            };
            Some(Attempt {
                family,
                resource,
                scheduled_ms: at_ms,
                started_ms: None,
            })
        } else {
            open.remove(&previous)
        };
        let Some(mut attempt) = attempt else {
            return;
        };
        let heartbeat = details.and_then(|d| d.get("error")).and_then(Value::as_str)
            == Some("States.HeartbeatTimeout");
        match step {
            Step::Scheduled | Step::Progress => {
                open.insert(id, attempt.clone());
            }
            Step::Started => {
                attempt.started_ms = Some(at_ms);
                open.insert(id, attempt.clone());
            }
            Step::Succeeded | Step::Failed | Step::TimedOut => {}
        }
        if open.is_empty() {
            inner.open.remove(execution);
        }
        let c = inner
            .series
            .entry((attempt.family, attempt.resource.clone()))
            .or_default();
        let add = |pair: &mut (u64, u64), ms: i64| {
            pair.0 += ms.max(0) as u64;
            pair.1 += 1;
        };
        match step {
            Step::Scheduled => c.scheduled += 1,
            Step::Started => {
                c.started += 1;
                add(&mut c.schedule, at_ms - attempt.scheduled_ms);
            }
            Step::Progress => {}
            Step::Succeeded | Step::Failed | Step::TimedOut => {
                match step {
                    Step::Succeeded => c.succeeded += 1,
                    Step::Failed => c.failed += 1,
                    _ if heartbeat => c.heartbeat_timed_out += 1,
                    _ => c.timed_out += 1,
                }
                if let Some(started) = attempt.started_ms {
                    add(&mut c.run, at_ms - started);
                }
                add(&mut c.time, at_ms - attempt.scheduled_ms);
            }
        }
    }

    /// Appends the Prometheus text of the counters and summaries.
    pub fn render(&self, out: &mut String) {
        let Ok(inner) = self.inner.lock() else {
            return;
        };
        type Pick = fn(&Counts) -> u64;
        let counters: [(&str, &str, Pick); 6] = [
            ("Scheduled", "scheduled", |c| c.scheduled),
            ("Started", "started", |c| c.started),
            ("Succeeded", "that succeeded", |c| c.succeeded),
            ("Failed", "that failed", |c| c.failed),
            ("TimedOut", "that timed out on close", |c| c.timed_out),
            (
                "HeartbeatTimedOut",
                "that timed out for want of a heartbeat",
                |c| c.heartbeat_timed_out,
            ),
        ];
        type Time = fn(&Counts) -> (u64, u64);
        let times: [(&str, &str, Time); 3] = [
            (
                "ScheduleTime",
                "Milliseconds from scheduled to started",
                |c| c.schedule,
            ),
            ("RunTime", "Milliseconds from started to closed", |c| c.run),
            ("Time", "Milliseconds from scheduled to closed", |c| c.time),
        ];
        for family in [Family::Activity, Family::Lambda, Family::Service] {
            let (one, many, dimension) = family.names();
            let of: Vec<(&String, &Counts)> = inner
                .series
                .iter()
                .filter(|((f, _), _)| *f == family)
                .map(|((_, r), c)| (r, c))
                .collect();
            if of.is_empty() {
                continue;
            }
            for (suffix, help, pick) in counters {
                if family != Family::Activity && suffix == "HeartbeatTimedOut" {
                    continue;
                }
                let name = format!("{many}{suffix}");
                let _ = writeln!(
                    out,
                    "# HELP {name} {many} {help} (AWS/States, by {dimension}).\n# TYPE {name} counter"
                );
                for (resource, c) in &of {
                    let _ = writeln!(out, "{name}{{{dimension}=\"{resource}\"}} {}", pick(c));
                }
            }
            for (suffix, help, pick) in times {
                let name = format!("{one}{suffix}");
                let _ = writeln!(
                    out,
                    "# HELP {name} {help} (AWS/States, by {dimension}).\n# TYPE {name} summary"
                );
                for (resource, c) in &of {
                    let (sum, count) = pick(c);
                    let _ = writeln!(
                        out,
                        "{name}_sum{{{dimension}=\"{resource}\"}} {sum}\n{name}_count{{{dimension}=\"{resource}\"}} {count}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:m:e";
    const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:work";

    fn feed(m: &TaskMetrics, events: &[(u64, u64, &str, f64, Value)]) {
        for (id, previous, kind, at, details) in events {
            let t = EventType::from_name(kind).expect("an event type");
            let mut e =
                json!({"id": id, "previousEventId": previous, "type": kind, "timestamp": at});
            if let Some(key) = t.details_key() {
                e[key] = details.clone();
            }
            if TaskMetrics::counts(t) {
                m.event(ARN, t, &e);
            }
        }
    }

    fn line<'a>(text: &'a str, start: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start} in\n{text}"))
    }

    #[test]
    fn attempts_are_counted_and_timed_by_their_resource() {
        let m = TaskMetrics::default();
        let http = json!({"resourceType": "http", "resource": "invoke"});
        feed(
            &m,
            &[
                (2, 1, "TaskStateEntered", 1.0, json!({"name": "Call"})),
                (3, 2, "TaskScheduled", 1.0, http.clone()),
                (4, 3, "TaskStarted", 1.25, json!({})),
                (
                    5,
                    4,
                    "TaskFailed",
                    1.5,
                    json!({"error": "States.Http.StatusCode.503"}),
                ),
                (6, 5, "TaskScheduled", 2.0, http.clone()),
                (7, 6, "TaskStarted", 2.0, json!({})),
                (8, 7, "TaskSucceeded", 2.5, json!({})),
                (
                    9,
                    8,
                    "ActivityScheduled",
                    3.0,
                    json!({"resource": ACTIVITY}),
                ),
                (10, 9, "ActivityStarted", 4.0, json!({"workerName": "w"})),
                (
                    11,
                    10,
                    "ActivityTimedOut",
                    9.0,
                    json!({"error": "States.HeartbeatTimeout"}),
                ),
                // Closed without its scheduling seen (before a restart): its resource is not
                // known, so it is not counted.
                (12, 99, "TaskSucceeded", 9.5, json!({})),
                (13, 12, "ExecutionSucceeded", 10.0, json!({})),
            ],
        );
        let mut out = String::new();
        m.render(&mut out);
        let http = "ServiceIntegrationResourceArn=\"arn:aws:states:::http:invoke\"";
        assert_eq!(
            line(&out, &format!("ServiceIntegrationsScheduled{{{http}}}")),
            format!("ServiceIntegrationsScheduled{{{http}}} 2")
        );
        assert!(line(&out, &format!("ServiceIntegrationsFailed{{{http}}}")).ends_with(" 1"));
        assert!(line(&out, &format!("ServiceIntegrationsSucceeded{{{http}}}")).ends_with(" 1"));
        assert!(line(&out, &format!("ServiceIntegrationTime_sum{{{http}}}")).ends_with(" 1000"));
        assert!(line(&out, &format!("ServiceIntegrationTime_count{{{http}}}")).ends_with(" 2"));
        assert!(
            line(
                &out,
                &format!("ServiceIntegrationScheduleTime_sum{{{http}}}")
            )
            .ends_with(" 250")
        );
        assert!(line(&out, &format!("ServiceIntegrationRunTime_sum{{{http}}}")).ends_with(" 750"));
        let activity = format!("ActivityArn=\"{ACTIVITY}\"");
        assert!(line(&out, &format!("ActivitiesHeartbeatTimedOut{{{activity}}}")).ends_with(" 1"));
        assert!(line(&out, &format!("ActivitiesTimedOut{{{activity}}}")).ends_with(" 0"));
        assert!(line(&out, &format!("ActivityRunTime_sum{{{activity}}}")).ends_with(" 5000"));
        assert!(line(&out, &format!("ActivityScheduleTime_sum{{{activity}}}")).ends_with(" 1000"));
        assert!(
            !out.contains("LambdaFunctions"),
            "no Lambda function was called"
        );
        assert!(
            m.inner.lock().expect("lock").open.is_empty(),
            "nothing left open"
        );
    }
}
