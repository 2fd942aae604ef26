//! What the run-time half of the language shares: the failure type every evaluator returns
//! (an AWS error name and its cause text), the scope paths resolve against, and the entropy
//! source through which all randomness enters (so that a recorded run replays exactly).

use serde_json::{Map, Value};

use crate::jsonpath::{JsonPath, Root};

/// A run-time failure as AWS reports it: the error name (`States.Runtime`,
/// `States.IntrinsicFailure`, …) and the cause text, word for word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// Variables visible to a state: its own frame's, then those of enclosing frames.
pub trait Variables {
    fn variable(&self, name: &str) -> Option<&Value>;
}

impl Variables for Map<String, Value> {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// No variables at all.
#[derive(Debug)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn variable(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// What JSONPath expressions resolve against: `$` the (effective) input, `$$` the context
/// object, `$name` a variable.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub variables: &'a dyn Variables,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("input", self.input)
            .field("context", self.context)
            .finish_non_exhaustive()
    }
}

impl<'a> Scope<'a> {
    /// The value a path's root names; `None` for an unknown variable.
    pub fn root(&self, path: &JsonPath) -> Option<&'a Value> {
        match &path.root {
            Root::Input => Some(self.input),
            Root::Context => Some(self.context),
            Root::Variable(name) => self.variables.variable(name),
        }
    }

    /// Resolves a definite path to one value; `None` when it does not resolve.
    pub fn get(&self, path: &JsonPath) -> Option<&'a Value> {
        path.get(self.root(path)?)
    }
}

/// Where randomness, and the step's clock, come from. Everything random (`States.UUID`,
/// `States.MathRandom`, `$uuid()`, `$random()`, jitter) draws from here, and JSONata's `$now()`
/// and `$millis()` read the time from here, so a run with the same entropy replays identically.
pub trait Entropy {
    fn next_u64(&mut self) -> u64;

    /// The time of the step being evaluated, in milliseconds since the epoch; `None` leaves
    /// `$now()`/`$millis()` on the system clock.
    fn now_millis(&self) -> Option<i64> {
        None
    }

    /// A random (version 4) UUID in its lowercase hyphenated form.
    fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        uuid_v4(hi, self.next_u64())
    }

    /// A float uniformly drawn from [0, 1).
    fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The version 4 UUID made of these 128 bits (the version and variant bits are set), in its
/// lowercase hyphenated form: the one UUID formatter of the project.
pub fn uuid_v4(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// A small deterministic generator (SplitMix64) seeded from the event that drives a step.
#[derive(Debug, Clone)]
pub struct SeededEntropy {
    state: u64,
    now_millis: Option<i64>,
}

impl SeededEntropy {
    pub fn new(seed: u64) -> Self {
        SeededEntropy {
            state: seed,
            now_millis: None,
        }
    }

    /// The same generator, with the step's time for `$now()` and `$millis()`.
    pub fn at(mut self, now_millis: i64) -> Self {
        self.now_millis = Some(now_millis);
        self
    }
}

impl Entropy for SeededEntropy {
    fn now_millis(&self) -> Option<i64> {
        self.now_millis
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_repeat_with_the_seed() {
        let a = SeededEntropy::new(7).uuid();
        let b = SeededEntropy::new(7).uuid();
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(a, SeededEntropy::new(8).uuid());
    }

    #[test]
    fn unit_floats_stay_in_range() {
        let mut e = SeededEntropy::new(1);
        for _ in 0..1000 {
            let x = e.unit_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
