//! A small Prometheus text-format registry for the API: requests by action and outcome, and a
//! latency histogram by action. The runtime appends its own series through
//! [`crate::Executions::render_metrics`]; this module only owns the API's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Cumulative counts per bucket of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Series {
    /// (action, outcome) -> requests.
    requests: BTreeMap<(String, String), u64>,
    /// action -> latency.
    latency: BTreeMap<String, Histogram>,
}

/// The API's metrics. Cheap to update from every request.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request. `outcome` is `ok` or the error code; `action` must be from a bounded
    /// set (the router passes `unknown` for names that are not operations).
    pub fn observe(&self, action: &str, outcome: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut series = match self.series.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        *series
            .requests
            .entry((action.to_string(), outcome.to_string()))
            .or_default() += 1;
        let h = series.latency.entry(action.to_string()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Appends the API's series in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let series = match self.series.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        out.push_str("# HELP stepwise_api_requests_total API requests by action and outcome.\n");
        out.push_str("# TYPE stepwise_api_requests_total counter\n");
        for ((action, outcome), n) in &series.requests {
            let _ = writeln!(
                out,
                "stepwise_api_requests_total{{action=\"{}\",outcome=\"{}\"}} {n}",
                escape(action),
                escape(outcome)
            );
        }
        out.push_str(
            "# HELP stepwise_api_request_duration_seconds Time to answer an API request.\n",
        );
        out.push_str("# TYPE stepwise_api_request_duration_seconds histogram\n");
        for (action, h) in &series.latency {
            let action = escape(action);
            for (bound, n) in BUCKETS.iter().zip(h.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "stepwise_api_request_duration_seconds_bucket{{action=\"{action}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "stepwise_api_request_duration_seconds_bucket{{action=\"{action}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "stepwise_api_request_duration_seconds_sum{{action=\"{action}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "stepwise_api_request_duration_seconds_count{{action=\"{action}\"}} {}",
                h.count
            );
        }
    }
}

/// Escapes a label value (`\`, `"` and newlines).
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_render_in_text_format() {
        let m = Metrics::new();
        m.observe("ListStateMachines", "ok", Duration::from_millis(3));
        m.observe("ListStateMachines", "ok", Duration::from_millis(30));
        m.observe(
            "DescribeStateMachine",
            "StateMachineDoesNotExist",
            Duration::from_millis(1),
        );
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains(
            "stepwise_api_requests_total{action=\"ListStateMachines\",outcome=\"ok\"} 2\n"
        ));
        assert!(out.contains(
            "stepwise_api_requests_total{action=\"DescribeStateMachine\",outcome=\"StateMachineDoesNotExist\"} 1\n"
        ));
        assert!(out.contains(
            "stepwise_api_request_duration_seconds_bucket{action=\"ListStateMachines\",le=\"0.005\"} 1\n"
        ));
        assert!(out.contains(
            "stepwise_api_request_duration_seconds_bucket{action=\"ListStateMachines\",le=\"0.05\"} 2\n"
        ));
        assert!(out.contains(
            "stepwise_api_request_duration_seconds_count{action=\"ListStateMachines\"} 2\n"
        ));
        assert!(out.contains("# TYPE stepwise_api_request_duration_seconds histogram\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
