//! Each state's status in an execution, read from its history as AWS's console colours it:
//! succeeded, failed, caught (failed, and a catcher took the error), running, cancelled (its
//! branch or execution ended first), or not reached (absent).
//!
//! An event belongs to the state visit its `previousEventId` leads to; a `…StateEntered` event
//! starts a visit, whose parent is the Parallel or Map visit it was entered from. Parallel and
//! Map events (`ParallelStateFailed`, `MapIterationStarted`, …) belong to the nearest visit of
//! that type, since they follow an event of a state inside it. Any prefix of a history is a
//! history, so `statuses(&events[..n])` is how things stood at event `n`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// One history event, as much of it as statuses need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryItem<'a> {
    pub id: u64,
    pub previous: u64,
    /// `TaskStateEntered`, …
    pub kind: &'a str,
    /// The state's name, for `…StateEntered` and `…StateExited`.
    pub state: Option<&'a str>,
    pub timestamp_ms: i64,
    /// A `MapIterationStarted` event's index.
    pub iteration: Option<u64>,
}

impl<'a> HistoryItem<'a> {
    /// An event in GetExecutionHistory's JSON shape (`timestamp` in epoch seconds).
    pub fn from_json(event: &'a serde_json::Value) -> Option<HistoryItem<'a>> {
        let state = event
            .get("stateEnteredEventDetails")
            .or_else(|| event.get("stateExitedEventDetails"))
            .and_then(|d| d.get("name"))
            .and_then(|n| n.as_str());
        Some(HistoryItem {
            id: event.get("id")?.as_u64()?,
            previous: event
                .get("previousEventId")
                .and_then(|p| p.as_u64())
                .unwrap_or(0),
            kind: event.get("type")?.as_str()?,
            state,
            timestamp_ms: event
                .get("timestamp")
                .and_then(|t| t.as_f64())
                .map_or(0, |s| (s * 1000.0).round() as i64),
            iteration: event
                .get("mapIterationStartedEventDetails")
                .and_then(|d| d.get("index"))
                .and_then(|i| i.as_u64()),
        })
    }
}

/// The statuses of the states a history in GetExecutionHistory's JSON shape reached.
pub fn statuses_of_json(events: &[serde_json::Value]) -> Statuses {
    statuses_of_json_in(events, None)
}

/// [`statuses_of_json`], with the states inside a Map seen in one of its iterations only.
pub fn statuses_of_json_in(events: &[serde_json::Value], focus: Option<Focus<'_>>) -> Statuses {
    let items: Vec<HistoryItem<'_>> = events.iter().filter_map(HistoryItem::from_json).collect();
    statuses_in(&items, focus)
}

/// One iteration of a Map state: its name and the iteration's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Focus<'a> {
    pub map: &'a str,
    pub iteration: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateStatus {
    Succeeded,
    Cancelled,
    Caught,
    Failed,
    Running,
}

impl StateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StateStatus::Succeeded => "succeeded",
            StateStatus::Cancelled => "cancelled",
            StateStatus::Caught => "caught",
            StateStatus::Failed => "failed",
            StateStatus::Running => "running",
        }
    }
}

/// A state over all its visits (loops, Map iterations).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateSummary {
    /// Running before failed before caught before cancelled before succeeded.
    pub status: StateStatus,
    /// How many times it was entered.
    pub visits: u32,
    /// Attempts after the first, over all visits.
    pub retries: u32,
    /// From the first entry to the last exit; absent while a visit is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// The last visit's events: entered, exited, and its last failure.
    pub entered_event: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exited_event: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_event: Option<u64>,
}

/// Every state reached, by name.
pub type Statuses = BTreeMap<String, StateSummary>;

#[derive(Debug)]
struct Visit<'a> {
    name: &'a str,
    /// `Task`, `Parallel`, …
    kind: &'a str,
    parent: Option<usize>,
    entered: u64,
    entered_ms: i64,
    exited: Option<(u64, i64)>,
    /// A failure not yet retried.
    failing: bool,
    failed_event: Option<u64>,
    attempts: u32,
    /// The Map iteration it ran in (the Map's visit, the index), if any.
    iteration: Option<(usize, u64)>,
}

/// The statuses of the states `events` reached.
pub fn statuses(events: &[HistoryItem<'_>]) -> Statuses {
    statuses_in(events, None)
}

/// [`statuses`], where the states inside the Map `focus` names count only in the iteration it
/// names: the path that one item took.
pub fn statuses_in(events: &[HistoryItem<'_>], focus: Option<Focus<'_>>) -> Statuses {
    let mut iteration_of: HashMap<u64, u64> = HashMap::new();
    let mut owner: HashMap<u64, usize> = HashMap::new();
    let mut kind_of: HashMap<u64, &str> = HashMap::new();
    let mut visits: Vec<Visit<'_>> = Vec::new();
    let mut ended = false;
    for ev in events {
        kind_of.insert(ev.id, ev.kind);
        if let Some(i) = ev.iteration {
            iteration_of.insert(ev.id, i);
        }
        let before = owner.get(&ev.previous).copied();
        if let Some(kind) = ev.kind.strip_suffix("StateEntered") {
            let parent = match before {
                Some(v)
                    if kind_of
                        .get(&ev.previous)
                        .is_some_and(|k| k.ends_with("StateExited")) =>
                {
                    visits[v].parent
                }
                other => other,
            };
            // Entered from an iteration's start, after a state of the same iteration, or
            // inside a state that is in one.
            let iteration = match (before, iteration_of.get(&ev.previous)) {
                (Some(v), Some(&index)) => Some((v, index)),
                (Some(v), None) => visits[v].iteration,
                (None, _) => None,
            };
            owner.insert(ev.id, visits.len());
            visits.push(Visit {
                name: ev.state.unwrap_or_default(),
                kind,
                parent,
                entered: ev.id,
                entered_ms: ev.timestamp_ms,
                exited: None,
                failing: kind == "Fail",
                failed_event: (kind == "Fail").then_some(ev.id),
                attempts: 0,
                iteration,
            });
            continue;
        }
        if ev.kind.starts_with("Execution") {
            match ev.kind {
                "ExecutionStarted" | "ExecutionRedriven" => ended = false,
                "ExecutionSucceeded" | "ExecutionAborted" | "ExecutionTimedOut" => ended = true,
                "ExecutionFailed" => {
                    ended = true;
                    // A failure the state's own events did not show (States.Runtime).
                    if let Some(v) = before
                        && visits[v].exited.is_none()
                        && visits[v].failed_event.is_none()
                    {
                        visits[v].failing = true;
                        visits[v].failed_event = Some(ev.id);
                    }
                }
                _ => {}
            }
            continue;
        }
        // Parallel and Map events follow events of states inside them.
        let container = ["Parallel", "Map"]
            .into_iter()
            .find(|k| ev.kind.starts_with(k) && !ev.kind.starts_with("MapRun"));
        let mut v = before;
        if let Some(k) = container {
            while let Some(i) = v {
                if visits[i].kind == k {
                    break;
                }
                v = visits[i].parent;
            }
        }
        let Some(v) = v else { continue };
        owner.insert(ev.id, v);
        let visit = &mut visits[v];
        if ev.kind.ends_with("StateExited") {
            visit.exited = Some((ev.id, ev.timestamp_ms));
        } else if ev.kind.ends_with("Scheduled")
            || ev.kind == "ParallelStateStarted"
            || ev.kind == "MapStateStarted"
        {
            visit.attempts += 1;
            visit.failing = false;
        } else if (ev.kind.ends_with("Failed") || ev.kind.ends_with("TimedOut"))
            && !ev.kind.starts_with("MapIteration")
        {
            visit.failing = true;
            visit.failed_event = Some(ev.id);
        }
    }
    let closed = |v: &Visit<'_>| v.exited.is_some() || v.failing;
    let mut out = Statuses::new();
    // Per state: when it was first entered, and whether every visit has exited.
    let mut span: HashMap<&str, (i64, bool)> = HashMap::new();
    // A visit in another iteration of the focused Map does not count.
    let elsewhere = |i: usize| {
        let Some(f) = focus else { return false };
        let mut at = visits[i].iteration;
        while let Some((m, index)) = at {
            if visits[m].name == f.map && index != f.iteration {
                return true;
            }
            at = visits[m].iteration;
        }
        false
    };
    for (i, visit) in visits.iter().enumerate() {
        if elsewhere(i) {
            continue;
        }
        let status = if visit.exited.is_some() {
            if visit.failing {
                StateStatus::Caught
            } else {
                StateStatus::Succeeded
            }
        } else if visit.failing {
            StateStatus::Failed
        } else {
            let mut up = visits[i].parent;
            let mut open = !ended;
            while let Some(p) = up {
                open &= !closed(&visits[p]);
                up = visits[p].parent;
            }
            if open {
                StateStatus::Running
            } else {
                StateStatus::Cancelled
            }
        };
        let (first_ms, all_exited) = span.entry(visit.name).or_insert((visit.entered_ms, true));
        *all_exited &= visit.exited.is_some();
        let duration_ms = match visit.exited {
            Some((_, ms)) if *all_exited => Some(ms - *first_ms),
            _ => None,
        };
        let retries = visit.attempts.saturating_sub(1);
        let s = out.entry(visit.name.to_owned()).or_insert(StateSummary {
            status,
            visits: 0,
            retries: 0,
            duration_ms: None,
            entered_event: visit.entered,
            exited_event: None,
            failed_event: None,
        });
        s.status = s.status.max(status);
        s.visits += 1;
        s.retries += retries;
        s.duration_ms = duration_ms;
        s.entered_event = visit.entered;
        s.exited_event = visit.exited.map(|(id, _)| id);
        s.failed_event = visit.failed_event.or(s.failed_event);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ev(id: u64, prev: u64, kind: &str, name: Option<&str>) -> Value {
        let mut e =
            json!({"id": id, "previousEventId": prev, "type": kind, "timestamp": id as f64});
        if let Some(n) = name {
            let key = if kind.ends_with("Entered") {
                "stateEnteredEventDetails"
            } else {
                "stateExitedEventDetails"
            };
            e[key] = json!({ "name": n });
        }
        e
    }

    fn status(s: &Statuses, name: &str) -> StateStatus {
        s[name].status
    }

    #[test]
    fn a_failed_branch_caught_by_its_parallel_then_a_failure_the_state_did_not_show() {
        // As the engine records it: branch B fails, the Parallel catches it, M then fails.
        let h = [
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 0, "ParallelStateEntered", Some("P")),
            ev(3, 2, "ParallelStateStarted", None),
            ev(4, 3, "PassStateEntered", Some("A")),
            ev(5, 4, "PassStateExited", Some("A")),
            ev(6, 3, "FailStateEntered", Some("B")),
            ev(7, 6, "ParallelStateFailed", None),
            ev(8, 7, "ParallelStateExited", Some("P")),
            ev(9, 8, "MapStateEntered", Some("M")),
            ev(10, 9, "ExecutionFailed", None),
        ];
        let s = statuses_of_json(&h);
        assert_eq!(status(&s, "A"), StateStatus::Succeeded);
        assert_eq!(status(&s, "B"), StateStatus::Failed);
        assert_eq!(status(&s, "P"), StateStatus::Caught);
        assert_eq!(status(&s, "M"), StateStatus::Failed);
        assert_eq!(s["M"].failed_event, Some(10));
        // Replay: at event 6 the Parallel and B are both open.
        let at6 = statuses_of_json(&h[..6]);
        assert_eq!(status(&at6, "P"), StateStatus::Running);
        assert_eq!(status(&at6, "B"), StateStatus::Failed);
        assert!(!at6.contains_key("M"));
    }

    #[test]
    fn one_iteration_of_a_map_shows_the_path_its_item_took() {
        let iter = |id: u64, prev: u64, index: u64| {
            json!({"id": id, "previousEventId": prev, "type": "MapIterationStarted", "timestamp": 0,
                   "mapIterationStartedEventDetails": {"index": index, "name": "M"}})
        };
        // Item 0 goes I -> Small; item 1 goes I -> Big, which fails (caught by nothing yet).
        let h = [
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 0, "MapStateEntered", Some("M")),
            ev(3, 2, "MapStateStarted", None),
            iter(4, 3, 0),
            ev(5, 4, "ChoiceStateEntered", Some("I")),
            ev(6, 5, "ChoiceStateExited", Some("I")),
            ev(7, 6, "PassStateEntered", Some("Small")),
            ev(8, 7, "PassStateExited", Some("Small")),
            iter(9, 3, 1),
            ev(10, 9, "ChoiceStateEntered", Some("I")),
            ev(11, 10, "ChoiceStateExited", Some("I")),
            ev(12, 11, "PassStateEntered", Some("Big")),
        ];
        let all = statuses_of_json(&h);
        assert_eq!(status(&all, "Small"), StateStatus::Succeeded);
        assert_eq!(status(&all, "Big"), StateStatus::Running);
        assert_eq!(all["I"].visits, 2);
        let first = statuses_of_json_in(
            &h,
            Some(Focus {
                map: "M",
                iteration: 0,
            }),
        );
        assert_eq!(status(&first, "Small"), StateStatus::Succeeded);
        assert!(!first.contains_key("Big"), "item 0 never went to Big");
        assert_eq!(first["I"].visits, 1);
        assert_eq!(
            status(&first, "M"),
            StateStatus::Running,
            "the Map itself is whole"
        );
        let second = statuses_of_json_in(
            &h,
            Some(Focus {
                map: "M",
                iteration: 1,
            }),
        );
        assert!(!second.contains_key("Small"));
        assert_eq!(status(&second, "Big"), StateStatus::Running);
    }

    #[test]
    fn retries_are_counted_and_a_stop_cancels_what_was_running() {
        let h = [
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 0, "TaskStateEntered", Some("T")),
            ev(3, 2, "TaskScheduled", None),
            ev(4, 3, "TaskFailed", None),
            ev(5, 4, "TaskScheduled", None),
            ev(6, 5, "TaskSucceeded", None),
            ev(7, 6, "TaskStateExited", Some("T")),
            ev(8, 7, "WaitStateEntered", Some("W")),
        ];
        let s = statuses_of_json(&h);
        assert_eq!(status(&s, "T"), StateStatus::Succeeded);
        assert_eq!(s["T"].retries, 1);
        assert_eq!(s["T"].duration_ms, Some(5000));
        assert_eq!(status(&s, "W"), StateStatus::Running);
        let mut stopped = h.to_vec();
        stopped.push(ev(9, 8, "ExecutionAborted", None));
        assert_eq!(
            status(&statuses_of_json(&stopped), "W"),
            StateStatus::Cancelled
        );
    }
}
