//! What the control plane keeps in the store's resource bodies, one record type per resource
//! kind, and the small value types they share (tags, routes, logging and tracing settings).
//!
//! The JSON written here is this crate's own schema: the store only keeps it. Fields added later
//! must default (`#[serde(default)]`) so older rows still read.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use stepwise_store::{Resource, ResourceKind};

use crate::error::ServiceError;
use crate::time;

/// A tag as the API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// Reads a request's `tags` list (missing members count as empty strings; the model checked
/// the types).
pub fn tags_of(input: &Value) -> Vec<Tag> {
    input
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| Tag {
                    key: t["key"].as_str().unwrap_or_default().to_string(),
                    value: t["value"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds tags, replacing the value of keys already there and keeping first-seen order.
pub fn merge_tags(existing: &mut Vec<Tag>, new: &[Tag]) {
    for tag in new {
        match existing.iter_mut().find(|t| t.key == tag.key) {
            Some(t) => t.value.clone_from(&tag.value),
            None => existing.push(tag.clone()),
        }
    }
}

pub fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"key": t.key, "value": t.value}))
            .collect(),
    )
}

/// One entry of an alias's routing configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub state_machine_version_arn: String,
    pub weight: u64,
}

pub fn routes_of(input: &Value) -> Option<Vec<Route>> {
    input
        .get("routingConfiguration")
        .and_then(Value::as_array)
        .map(|routes| {
            routes
                .iter()
                .map(|r| Route {
                    state_machine_version_arn: r["stateMachineVersionArn"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    weight: r["weight"].as_u64().unwrap_or_default(),
                })
                .collect()
        })
}

pub fn routes_json(routes: &[Route]) -> Value {
    Value::Array(
        routes
            .iter()
            .map(|r| json!({"stateMachineVersionArn": r.state_machine_version_arn, "weight": r.weight}))
            .collect(),
    )
}

/// A request's `loggingConfiguration` with AWS's defaults filled in (`level` OFF,
/// `includeExecutionData` false; `destinations` only when given), checked as AWS checks it:
/// at most one destination, and exactly one unless the level is OFF.
pub fn logging_configuration(input: Option<&Value>) -> Result<Value, ServiceError> {
    let given = input.and_then(Value::as_object);
    let level = given
        .and_then(|g| g.get("level"))
        .and_then(Value::as_str)
        .unwrap_or("OFF");
    let include = given
        .and_then(|g| g.get("includeExecutionData"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let destinations = given
        .and_then(|g| g.get("destinations"))
        .and_then(Value::as_array);
    let count = destinations.map_or(0, Vec::len);
    if count > 1 || (level != "OFF" && count != 1) {
        return Err(ServiceError::invalid_logging_configuration(
            "Must specify exactly one Log Destination.",
        ));
    }
    let mut out = Map::new();
    if let Some(d) = destinations {
        out.insert("destinations".into(), Value::Array(d.clone()));
    }
    out.insert("includeExecutionData".into(), Value::Bool(include));
    out.insert("level".into(), Value::String(level.to_string()));
    Ok(Value::Object(out))
}

/// A request's `tracingConfiguration` with the default (`enabled` false).
pub fn tracing_configuration(input: Option<&Value>) -> Value {
    let enabled = input
        .and_then(|t| t.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    json!({ "enabled": enabled })
}

pub fn default_logging() -> Value {
    json!({"includeExecutionData": false, "level": "OFF"})
}

pub fn default_tracing() -> Value {
    json!({"enabled": false})
}

/// The encryption AWS reports when none was asked for.
pub fn default_encryption() -> Value {
    json!({"type": "AWS_OWNED_KEY"})
}

/// A stored encryption configuration, or the default.
pub fn encryption_or_default(encryption: Option<&Value>) -> Value {
    encryption.cloned().unwrap_or_else(default_encryption)
}

/// A state machine: its current revision and what the control plane needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineRecord {
    pub name: String,
    /// STANDARD or EXPRESS.
    #[serde(rename = "type")]
    pub machine_type: String,
    pub role_arn: String,
    pub definition_hash: String,
    pub creation_ms: i64,
    pub update_ms: i64,
    pub logging: Value,
    pub tracing: Value,
    #[serde(default)]
    pub encryption: Option<Value>,
    /// Set by the first UpdateStateMachine that changed something; AWS shows none before.
    #[serde(default)]
    pub revision_id: Option<String>,
    /// The version published from the current revision, if any (PublishStateMachineVersion is
    /// idempotent per revision).
    #[serde(default)]
    pub revision_version: Option<u64>,
    /// Versions are numbered from 1 and never reused.
    pub next_version: u64,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// CreateStateMachine's `publish` and `versionDescription`, part of its idempotency check.
    #[serde(default)]
    pub created_published: bool,
    #[serde(default)]
    pub created_version_description: Option<String>,
}

/// A published version: an immutable copy of a revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    pub state_machine_name: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub machine_type: String,
    pub role_arn: String,
    pub definition_hash: String,
    pub creation_ms: i64,
    pub logging: Value,
    pub tracing: Value,
    #[serde(default)]
    pub encryption: Option<Value>,
    #[serde(default)]
    pub revision_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// An alias: a name routing executions to one or two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasRecord {
    pub name: String,
    pub state_machine_arn: String,
    #[serde(default)]
    pub description: Option<String>,
    pub routing: Vec<Route>,
    pub creation_ms: i64,
    pub update_ms: i64,
}

/// An activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRecord {
    pub name: String,
    pub creation_ms: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub encryption: Option<Value>,
}

/// Reads a resource body into its record type. A body that does not read is a defect of the
/// store's contents: an internal error, never a panic.
pub fn read<T: for<'de> Deserialize<'de>>(resource: &Resource) -> Result<T, ServiceError> {
    serde_json::from_value(resource.body.clone()).map_err(|e| {
        ServiceError::internal(format!(
            "unreadable {} record {}: {e}",
            resource.kind.as_str(),
            resource.arn
        ))
    })
}

/// The body of a record.
pub fn body<T: Serialize>(record: &T) -> Result<Value, ServiceError> {
    serde_json::to_value(record).map_err(|e| ServiceError::internal(e.to_string()))
}

/// Sort keys: the order the List actions answer in.
pub mod sort_key {
    /// State machines and activities: by name.
    pub fn by_name(name: &str) -> String {
        name.to_string()
    }

    /// Versions: newest (highest number) first.
    pub fn version(version: u64) -> String {
        format!("{:020}", u64::MAX - version)
    }

    /// Aliases: in the order they were created (microseconds, so that aliases made within one
    /// millisecond keep their order; the name breaks what ties remain).
    pub fn alias(creation_us: i64, name: &str) -> String {
        format!("{:020}:{name}", creation_us.max(0))
    }
}

/// Makes a resource.
pub fn resource(
    arn: &str,
    kind: ResourceKind,
    parent: Option<&str>,
    sort_key: String,
    body: Value,
) -> Resource {
    Resource {
        arn: arn.to_string(),
        kind,
        parent: parent.map(str::to_string),
        sort_key,
        body,
    }
}

/// A timestamp member.
pub fn ts(ms: i64) -> Value {
    time::timestamp(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_defaults_and_checks() {
        assert_eq!(
            logging_configuration(None).unwrap(),
            json!({"includeExecutionData": false, "level": "OFF"})
        );
        assert_eq!(
            logging_configuration(Some(&json!({"destinations": []}))).unwrap(),
            json!({"destinations": [], "includeExecutionData": false, "level": "OFF"})
        );
        let dest = json!({"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:1:log-group:g:*"}});
        assert_eq!(
            logging_configuration(Some(
                &json!({"level": "ALL", "includeExecutionData": true, "destinations": [dest]})
            ))
            .unwrap()["level"],
            "ALL"
        );
        for bad in [
            json!({"level": "ALL"}),
            json!({"level": "ERROR", "destinations": []}),
            json!({"level": "OFF", "destinations": [dest, dest]}),
        ] {
            let e = logging_configuration(Some(&bad)).unwrap_err();
            assert_eq!(e.code, "InvalidLoggingConfiguration");
            assert_eq!(
                e.message,
                "Invalid Logging Configuration: Must specify exactly one Log Destination."
            );
        }
    }

    #[test]
    fn merging_tags_replaces_values_and_keeps_order() {
        let mut tags = vec![
            Tag {
                key: "a".into(),
                value: "1".into(),
            },
            Tag {
                key: "b".into(),
                value: "2".into(),
            },
        ];
        merge_tags(
            &mut tags,
            &[
                Tag {
                    key: "b".into(),
                    value: "3".into(),
                },
                Tag {
                    key: "c".into(),
                    value: "".into(),
                },
            ],
        );
        assert_eq!(
            tags_json(&tags),
            json!([{"key": "a", "value": "1"}, {"key": "b", "value": "3"}, {"key": "c", "value": ""}])
        );
    }

    #[test]
    fn version_sort_keys_put_the_newest_first() {
        let mut keys = vec![
            sort_key::version(1),
            sort_key::version(10),
            sort_key::version(2),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                sort_key::version(10),
                sort_key::version(2),
                sort_key::version(1)
            ]
        );
    }
}
