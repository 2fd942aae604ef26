//! What the control plane keeps in the store's resource bodies, one record type per resource
//! kind, and the small value types they share (tags, routes, logging and tracing settings).
//!
//! The JSON written here is this crate's own schema: the store only keeps it. Fields added later
//! must default (`#[serde(default)]`) so older rows still read.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepwise_store::{Resource, ResourceKind};

use crate::error::ServiceError;
use crate::types::{
    EncryptionConfiguration, EncryptionType, LogLevel, LoggingConfiguration,
    RoutingConfigurationListItem, StateMachineType, TracingConfiguration,
};

/// A tag as the API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl From<crate::types::Tag> for Tag {
    /// Missing members count as empty strings.
    fn from(t: crate::types::Tag) -> Self {
        Tag {
            key: t.key.unwrap_or_default(),
            value: t.value.unwrap_or_default(),
        }
    }
}

impl From<&Tag> for crate::types::Tag {
    fn from(t: &Tag) -> Self {
        crate::types::Tag::new().key(&*t.key).value(&*t.value)
    }
}

/// A request's `tags`.
pub fn tags_of(tags: Option<Vec<crate::types::Tag>>) -> Vec<Tag> {
    tags.into_iter().flatten().map(Tag::from).collect()
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

/// One entry of an alias's routing configuration, as the API writes it.
pub type Route = RoutingConfigurationListItem;

/// A request's `loggingConfiguration` with AWS's defaults filled in (`level` OFF,
/// `includeExecutionData` false; `destinations` only when given), checked as AWS checks it:
/// at most one destination, and exactly one unless the level is OFF.
pub fn logging_configuration(
    given: Option<LoggingConfiguration>,
) -> Result<LoggingConfiguration, ServiceError> {
    let given = given.unwrap_or_default();
    let level = given.level.unwrap_or(LogLevel::Off);
    let count = given.destinations.as_ref().map_or(0, Vec::len);
    if count > 1 || (level != LogLevel::Off && count != 1) {
        return Err(ServiceError::invalid_logging_configuration(
            "Must specify exactly one Log Destination.",
        ));
    }
    Ok(LoggingConfiguration {
        level: Some(level),
        include_execution_data: Some(given.include_execution_data.unwrap_or(false)),
        destinations: given.destinations,
    })
}

/// A request's `tracingConfiguration` with the default (`enabled` false).
pub fn tracing_configuration(given: Option<TracingConfiguration>) -> TracingConfiguration {
    TracingConfiguration::default().enabled(given.and_then(|t| t.enabled).unwrap_or(false))
}

pub fn default_logging() -> LoggingConfiguration {
    logging_configuration(None).unwrap_or_default()
}

pub fn default_tracing() -> TracingConfiguration {
    tracing_configuration(None)
}

/// A stored encryption configuration, or the one AWS reports when none was asked for.
pub fn encryption_or_default(
    encryption: Option<&EncryptionConfiguration>,
) -> EncryptionConfiguration {
    encryption
        .cloned()
        .unwrap_or_else(|| EncryptionConfiguration::new(EncryptionType::AwsOwnedKey))
}

/// A state machine: its current revision and what the control plane needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub machine_type: StateMachineType,
    pub role_arn: String,
    pub definition_hash: String,
    pub creation_ms: i64,
    pub update_ms: i64,
    pub logging: LoggingConfiguration,
    pub tracing: TracingConfiguration,
    #[serde(default)]
    pub encryption: Option<EncryptionConfiguration>,
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
    pub machine_type: StateMachineType,
    pub role_arn: String,
    pub definition_hash: String,
    pub creation_ms: i64,
    pub logging: LoggingConfiguration,
    pub tracing: TracingConfiguration,
    #[serde(default)]
    pub encryption: Option<EncryptionConfiguration>,
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
    pub encryption: Option<EncryptionConfiguration>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn logging(value: Value) -> Option<LoggingConfiguration> {
        Some(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn logging_defaults_and_checks() {
        let json = |l: LoggingConfiguration| serde_json::to_value(l).unwrap();
        assert_eq!(
            json(logging_configuration(None).unwrap()),
            json!({"includeExecutionData": false, "level": "OFF"})
        );
        assert_eq!(
            json(logging_configuration(logging(json!({"destinations": []}))).unwrap()),
            json!({"destinations": [], "includeExecutionData": false, "level": "OFF"})
        );
        let dest = json!({"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:1:log-group:g:*"}});
        assert_eq!(
            logging_configuration(logging(
                json!({"level": "ALL", "includeExecutionData": true, "destinations": [dest]})
            ))
            .unwrap()
            .level,
            Some(LogLevel::All)
        );
        for bad in [
            json!({"level": "ALL"}),
            json!({"level": "ERROR", "destinations": []}),
            json!({"level": "OFF", "destinations": [dest, dest]}),
        ] {
            let e = logging_configuration(logging(bad)).unwrap_err();
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
        let pairs: Vec<(&str, &str)> = tags.iter().map(|t| (&*t.key, &*t.value)).collect();
        assert_eq!(pairs, [("a", "1"), ("b", "3"), ("c", "")]);
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
