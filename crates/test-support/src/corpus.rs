//! The recorded conformance corpus in `../shared/conformance` (see its README): the ASL cases
//! recorded against AWS (`asl/cases.jsonl`, one JSON object a line) and jsonata-js's test suite
//! (`jsonata/cases.jsonl` and its `datasets/`). Each loader returns `None` after
//! [`skip_or_fail`] when the corpus is not there.
//!
//! What a case means (which cases a test runs, how it compares them) is the test's.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::fixtures::{shared_dir, skip_or_fail};

/// Where the ASL cases are (whether or not they are there).
pub fn asl_cases_path() -> PathBuf {
    shared_dir().join("conformance/asl/cases.jsonl")
}

/// The ASL cases file, for a test that hands it to another program; `None` (after
/// [`skip_or_fail`]) when it is not there.
pub fn asl_cases_file() -> Option<PathBuf> {
    let path = asl_cases_path();
    if path.exists() {
        Some(path)
    } else {
        skip_or_fail(format!(
            "conformance corpus not found at {}",
            path.display()
        ));
        None
    }
}

/// Every ASL case, in file order; `None` (after [`skip_or_fail`]) when the corpus is not there.
/// Panics on a line that is not JSON: the corpus is broken, not missing.
pub fn asl_cases() -> Option<Vec<Value>> {
    let path = asl_cases_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        skip_or_fail(format!(
            "conformance corpus not found at {}",
            path.display()
        ));
        return None;
    };
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
            .collect(),
    )
}

/// A case's definition as the recorder sent it: the raw text when the case kept it
/// (`definition_is_raw_text`, e.g. a definition that is not valid JSON), else the JSON written
/// out.
pub fn definition_text(case: &Value) -> String {
    match &case["definition"] {
        Value::String(s) if case["definition_is_raw_text"] == Value::Bool(true) => s.clone(),
        other => other.to_string(),
    }
}

/// The API error a case recorded (`expected.api_error`), as `(code, message)`: either botocore's
/// object (`{"Error": {"Code", "Message"}}`) or its text ("An error occurred (Code) when calling
/// the Op operation: message").
pub fn api_error(case: &Value) -> Option<(String, String)> {
    match &case["expected"]["api_error"] {
        Value::Object(e) => Some((
            e.get("Error")?.get("Code")?.as_str()?.to_owned(),
            e.get("Error")?.get("Message")?.as_str()?.to_owned(),
        )),
        Value::String(text) => {
            let rest = text.strip_prefix("An error occurred (")?;
            let (code, rest) = rest.split_once(')')?;
            let (_, message) = rest.split_once(": ")?;
            Some((code.to_owned(), message.to_owned()))
        }
        _ => None,
    }
}

/// jsonata-js's test suite as the corpus keeps it.
#[derive(Debug)]
pub struct JsonataSuite {
    dir: PathBuf,
    text: String,
}

impl JsonataSuite {
    /// The suite; `None` (after [`skip_or_fail`]) when it is not there.
    pub fn load() -> Option<JsonataSuite> {
        let dir = shared_dir().join("conformance/jsonata");
        let path = dir.join("cases.jsonl");
        let Ok(text) = std::fs::read_to_string(&path) else {
            skip_or_fail(format!(
                "JSONata test suite not found at {}",
                path.display()
            ));
            return None;
        };
        Some(JsonataSuite { dir, text })
    }

    /// Every case, in file order. A line can be valid JSON that no Rust string holds (a lone
    /// surrogate, `\ud800`): that case is an `Err`, for the test to count.
    pub fn cases(&self) -> impl Iterator<Item = Result<Map<String, Value>, serde_json::Error>> {
        self.text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
    }

    /// The data set a case names (`datasets/{name}.json`). Panics when it is missing or not
    /// JSON: the suite is broken.
    pub fn dataset(&self, name: &str) -> Value {
        let path = self.dir.join("datasets").join(format!("{name}.json"));
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_definition_is_its_raw_text_only_when_the_case_kept_it() {
        let raw = json!({"definition": "{\"StartAt\": ", "definition_is_raw_text": true});
        assert_eq!(definition_text(&raw), "{\"StartAt\": ");
        let parsed = json!({"definition": {"StartAt": "A"}});
        assert_eq!(definition_text(&parsed), r#"{"StartAt":"A"}"#);
        let string = json!({"definition": "text"});
        assert_eq!(definition_text(&string), r#""text""#);
    }

    #[test]
    fn an_api_error_reads_from_either_recorded_form() {
        let text = json!({"expected": {"api_error":
            "An error occurred (InvalidDefinition) when calling the TestState operation: Invalid State Machine Definition: 'x: y'"}});
        assert_eq!(
            api_error(&text),
            Some((
                "InvalidDefinition".into(),
                "Invalid State Machine Definition: 'x: y'".into()
            ))
        );
        let object = json!({"expected": {"api_error": {"Error": {"Code": "C", "Message": "m"}}}});
        assert_eq!(api_error(&object), Some(("C".into(), "m".into())));
        assert_eq!(
            api_error(&json!({"expected": {"status": "SUCCEEDED"}})),
            None
        );
    }
}
