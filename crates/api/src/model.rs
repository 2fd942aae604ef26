//! The Step Functions service model (the service crate's `model/stepfunctions.json`, the AWS
//! model with its documentation stripped by `model/strip.py`), embedded in the binary and read
//! once.
//!
//! Owns the typed view of operations and shapes the request checker walks. It does not check
//! anything itself (that is `validate`), and knows nothing of output shapes beyond their names.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use stepwise_service::MODEL_JSON;

/// The shape kinds of the AWS JSON protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
}

impl ShapeKind {
    fn parse(text: &str) -> Option<ShapeKind> {
        Some(match text {
            "structure" => ShapeKind::Structure,
            "list" => ShapeKind::List,
            "map" => ShapeKind::Map,
            "string" => ShapeKind::String,
            "integer" => ShapeKind::Integer,
            "long" => ShapeKind::Long,
            "float" => ShapeKind::Float,
            "double" => ShapeKind::Double,
            "boolean" => ShapeKind::Boolean,
            "timestamp" => ShapeKind::Timestamp,
            "blob" => ShapeKind::Blob,
            _ => return None,
        })
    }
}

/// One shape of the model, with the constraints request checking uses.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub kind: ShapeKind,
    /// Structure members in model order: (member name, target shape name).
    pub members: Vec<(String, String)>,
    pub required: Vec<String>,
    /// List member shape.
    pub member: Option<String>,
    /// Map key and value shapes.
    pub key: Option<String>,
    pub value: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    pub enum_values: Option<Vec<String>>,
    pub sensitive: bool,
    pub exception: bool,
    /// Members whose length AWS documents in UTF-8 bytes ("Length constraints apply to the
    /// payload size, and are expressed as bytes in UTF-8 encoding": execution input, task
    /// output), marked `lengthInUtf8Bytes` by `model/strip.py`. Other strings are counted in
    /// characters.
    pub utf8_byte_members: Vec<String>,
}

impl Shape {
    /// The target shape of a structure member.
    pub fn member_shape(&self, member: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(name, _)| name == member)
            .map(|(_, target)| target.as_str())
    }
}

/// One operation: its input and output shapes and the errors it declares.
#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub errors: Vec<String>,
}

/// The whole model.
#[derive(Debug)]
pub struct ServiceModel {
    pub target_prefix: String,
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

impl ServiceModel {
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// Operation names, sorted.
    pub fn operation_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.operations.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn parse(text: &str) -> Result<ServiceModel, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let target_prefix = root["metadata"]["targetPrefix"]
            .as_str()
            .ok_or("metadata.targetPrefix missing")?
            .to_string();
        let mut operations = HashMap::new();
        for (name, op) in root["operations"].as_object().ok_or("operations missing")? {
            let shape_of = |key: &str| op[key]["shape"].as_str().map(str::to_string);
            let errors = op["errors"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|e| e["shape"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            operations.insert(
                name.clone(),
                Operation {
                    name: name.clone(),
                    input: shape_of("input"),
                    output: shape_of("output"),
                    errors,
                },
            );
        }
        let mut shapes = HashMap::new();
        for (name, shape) in root["shapes"].as_object().ok_or("shapes missing")? {
            let kind_text = shape["type"].as_str().unwrap_or_default();
            let kind = ShapeKind::parse(kind_text)
                .ok_or_else(|| format!("shape {name}: unknown type {kind_text:?}"))?;
            let target = |key: &str| shape[key]["shape"].as_str().map(str::to_string);
            let members = shape["members"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(member, spec)| {
                            spec["shape"]
                                .as_str()
                                .map(|t| (member.clone(), t.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let utf8_byte_members = shape["members"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, spec)| spec["lengthInUtf8Bytes"] == true)
                        .map(|(member, _)| member.clone())
                        .collect()
                })
                .unwrap_or_default();
            let strings = |key: &str| {
                shape[key].as_array().map(|list| {
                    list.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
            };
            shapes.insert(
                name.clone(),
                Shape {
                    name: name.clone(),
                    kind,
                    members,
                    required: strings("required").unwrap_or_default(),
                    member: target("member"),
                    key: target("key"),
                    value: target("value"),
                    min: shape["min"].as_f64(),
                    max: shape["max"].as_f64(),
                    pattern: shape["pattern"].as_str().map(str::to_string),
                    enum_values: strings("enum"),
                    sensitive: shape["sensitive"].as_bool().unwrap_or(false),
                    exception: shape["exception"].as_bool().unwrap_or(false),
                    utf8_byte_members,
                },
            );
        }
        Ok(ServiceModel {
            target_prefix,
            operations,
            shapes,
        })
    }
}

static MODEL: LazyLock<ServiceModel> = LazyLock::new(|| match ServiceModel::parse(MODEL_JSON) {
    Ok(model) => model,
    // The model is compiled in and checked by the tests below: a broken one is a build defect.
    Err(e) => panic!("embedded service model is invalid: {e}"),
});

/// The embedded service model.
pub fn model() -> &'static ServiceModel {
    &MODEL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_parses_and_has_every_operation() {
        let m = model();
        assert_eq!(m.target_prefix, "AWSStepFunctions");
        assert_eq!(m.operations.len(), 37);
        let create = m.operation("CreateStateMachine").unwrap();
        assert_eq!(create.input.as_deref(), Some("CreateStateMachineInput"));
        assert!(create.errors.iter().any(|e| e == "InvalidDefinition"));
        let input = m.shape("CreateStateMachineInput").unwrap();
        assert_eq!(input.required, ["name", "definition", "roleArn"]);
        assert_eq!(input.member_shape("name"), Some("Name"));
        assert_eq!(m.shape("Name").unwrap().max, Some(80.0));
        assert!(m.shape("Definition").unwrap().sensitive);
    }

    #[test]
    fn payload_members_are_counted_in_utf8_bytes() {
        let m = model();
        let members = |shape: &str| m.shape(shape).unwrap().utf8_byte_members.clone();
        assert_eq!(members("StartExecutionInput"), ["input"]);
        assert_eq!(members("StartSyncExecutionInput"), ["input"]);
        assert_eq!(members("SendTaskSuccessInput"), ["output"]);
        assert!(members("CreateStateMachineInput").is_empty());
    }

    #[test]
    fn every_referenced_shape_exists() {
        let m = model();
        for shape in m.shapes.values() {
            let targets = shape
                .members
                .iter()
                .map(|(_, t)| t)
                .chain(shape.member.iter())
                .chain(shape.key.iter())
                .chain(shape.value.iter());
            for t in targets {
                assert!(m.shape(t).is_some(), "{} -> {t}", shape.name);
            }
        }
    }
}
