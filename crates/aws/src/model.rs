//! The services' API models, inside the binary.
//!
//! `models/bundle.bin` is built by `tools/aws-models.py` from botocore's published models:
//! only what the wire needs (no documentation, examples or constraints), each service
//! compressed on its own. A service's model is decompressed and parsed the first time a Task
//! calls it, then kept.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

const BUNDLE: &[u8] = include_bytes!("../models/bundle.bin");

/// The bundle's table of contents.
#[derive(Debug, Deserialize)]
struct Index {
    botocore: String,
    services: BTreeMap<String, Entry>,
    global: BTreeMap<String, GlobalEndpoint>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    offset: usize,
    len: usize,
}

/// A service AWS serves from one endpoint for every region (IAM, Route 53, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct GlobalEndpoint {
    pub hostname: String,
    /// The region requests are signed for.
    pub region: String,
}

/// One service's API model.
#[derive(Debug, Deserialize)]
pub struct Model {
    pub metadata: Metadata,
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    pub endpoint_prefix: String,
    #[serde(default)]
    pub json_version: Option<String>,
    /// The protocol requests are made in: after loading, the first of `protocols` Stepwise
    /// speaks (see [`Metadata::choose_protocol`]).
    pub protocol: String,
    /// Every protocol the service answers, the preferred first (newer models list
    /// `smithy-rpc-v2-cbor` first and `json` after it).
    #[serde(default)]
    pub protocols: Vec<String>,
    #[serde(default)]
    pub service_id: String,
    #[serde(default)]
    pub signing_name: Option<String>,
    #[serde(default)]
    pub target_prefix: Option<String>,
    #[serde(default)]
    pub xml_namespace: Option<String>,
    /// Present on services that moved from the query protocol to JSON and still answer as
    /// they did (SQS): their errors and validation are the query protocol's.
    #[serde(default)]
    pub aws_query_compatible: Option<serde_json::Value>,
    /// The AWS SDK for Java 2.x client's name ("DynamoDb", "Sfn", "SecretsManager"): how
    /// Step Functions prefixes the service's errors.
    pub java_name: String,
}

/// The protocols Stepwise speaks.
pub const PROTOCOLS: [&str; 5] = ["json", "rest-json", "rest-xml", "query", "ec2"];

impl Metadata {
    /// Settles `protocol` on the first of the service's `protocols` that Stepwise speaks, as
    /// the SDKs pick the first they support (CloudWatch: `smithy-rpc-v2-cbor`, then `json`).
    /// A service none of whose protocols Stepwise speaks keeps its own, and its calls are
    /// refused (see [`Metadata::speakable`]).
    pub fn choose_protocol(&mut self) {
        if let Some(p) = self
            .protocols
            .iter()
            .find(|p| PROTOCOLS.contains(&p.as_str()))
        {
            self.protocol = p.clone();
        }
    }

    /// Whether Stepwise speaks the service's protocol.
    pub fn speakable(&self) -> bool {
        PROTOCOLS.contains(&self.protocol.as_str())
    }

    /// Whether the service validates and refuses as query-protocol services do
    /// (`MissingParameter`: "The request must contain the parameter X.").
    pub fn query_style_errors(&self) -> bool {
        matches!(self.protocol.as_str(), "query" | "ec2") || self.aws_query_compatible.is_some()
    }

    /// The service name requests are signed for.
    pub fn signing_name(&self) -> &str {
        self.signing_name
            .as_deref()
            .unwrap_or(&self.endpoint_prefix)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub http: Http,
    #[serde(default)]
    pub input: Option<ShapeRef>,
    #[serde(default)]
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    /// A prefix for the host (`{AccountId}.`), filled from input members.
    #[serde(default)]
    pub endpoint: Option<HostPrefix>,
    /// The operation takes a checksum of its body (S3's PutObject, ...).
    #[serde(default)]
    pub http_checksum: Option<HttpChecksum>,
}

/// How an operation's body is checksummed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpChecksum {
    /// The input member that names the algorithm (`ChecksumAlgorithm`).
    #[serde(default)]
    pub request_algorithm_member: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPrefix {
    pub host_prefix: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    #[serde(default = "post")]
    pub method: String,
    #[serde(default = "slash")]
    pub request_uri: String,
    #[serde(default)]
    pub response_code: Option<u16>,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            method: post(),
            request_uri: slash(),
            response_code: None,
        }
    }
}

fn post() -> String {
    "POST".into()
}

fn slash() -> String {
    "/".into()
}

/// A reference to a shape, with how the member is bound to the wire.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// `uri`, `querystring`, `header`, `headers`, `statusCode`; none: the body.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub location_name: Option<String>,
    #[serde(default)]
    pub xml_attribute: bool,
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    #[serde(default)]
    pub flattened: bool,
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// A header that carries JSON text (base64).
    #[serde(default)]
    pub jsonvalue: bool,
    #[serde(default)]
    pub query_name: Option<String>,
    #[serde(default)]
    pub idempotency_token: bool,
    #[serde(default)]
    pub host_label: bool,
    #[serde(default)]
    pub streaming: bool,
    /// EC2's name for a member in a query.
    #[serde(default)]
    pub ec2_query_name: Option<String>,
    /// Query protocol: the element that wraps an operation's result.
    #[serde(default)]
    pub result_wrapper: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum XmlNamespace {
    Uri(String),
    Full {
        #[serde(default)]
        prefix: Option<String>,
        uri: String,
    },
}

/// A shape: a structure, list, map or scalar.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub members: indexmap::IndexMap<String, ShapeRef>,
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub member: Option<ShapeRef>,
    #[serde(default)]
    pub key: Option<ShapeRef>,
    #[serde(default)]
    pub value: Option<ShapeRef>,
    /// The member that is the whole body (REST protocols).
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorTrait>,
    #[serde(default)]
    pub exception: bool,
    #[serde(default)]
    pub timestamp_format: Option<String>,
    #[serde(default)]
    pub flattened: bool,
    #[serde(default)]
    pub location_name: Option<String>,
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub eventstream: bool,
    #[serde(default)]
    pub document: bool,
}

/// How an error shape appears on the wire.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    /// The error code, where it differs from the shape's name.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub http_status_code: Option<u16>,
}

impl Model {
    /// The shape `name` (models are closed: every reference resolves).
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// The operation whose name is `action` (`getItem`, `GetItem`: Step Functions writes the
    /// action in camelCase).
    pub fn operation(&self, action: &str) -> Option<&Operation> {
        if let Some(op) = self.operations.get(action) {
            return Some(op);
        }
        let mut chars = action.chars();
        let first = chars.next()?;
        let pascal: String = first.to_uppercase().chain(chars).collect();
        self.operations.get(&pascal).or_else(|| {
            self.operations
                .values()
                .find(|op| op.name.eq_ignore_ascii_case(action))
        })
    }
}

/// The models in the binary.
#[derive(Debug)]
pub struct Models {
    index: Index,
    blobs: &'static [u8],
    parsed: Mutex<HashMap<String, Arc<Model>>>,
}

impl Models {
    /// The models compiled into this binary (parsed once).
    pub fn bundled() -> &'static Models {
        static MODELS: OnceLock<Models> = OnceLock::new();
        MODELS.get_or_init(|| Models::parse(BUNDLE).expect("the bundled models are well formed"))
    }

    fn parse(bytes: &'static [u8]) -> Result<Models, String> {
        let rest = bytes
            .strip_prefix(b"SWM1")
            .ok_or("not a Stepwise model bundle")?;
        let len = rest
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
            .ok_or("truncated bundle")? as usize;
        let head = rest.get(4..4 + len).ok_or("truncated bundle")?;
        let index: Index = serde_json::from_slice(head).map_err(|e| e.to_string())?;
        Ok(Models {
            index,
            blobs: &rest[4 + len..],
            parsed: Mutex::new(HashMap::new()),
        })
    }

    /// The botocore release the models come from.
    pub fn source(&self) -> &str {
        &self.index.botocore
    }

    /// Every service name a Task can call (`aws-sdk:NAME:action`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.services.keys().map(String::as_str)
    }

    /// The model of the service a Task names (`dynamodb`, `s3`, `sfn`, `eventbridge`).
    pub fn get(&self, name: &str) -> Option<Arc<Model>> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = parsed.get(name) {
            return Some(m.clone());
        }
        let entry = self.index.services.get(name)?;
        let blob = self.blobs.get(entry.offset..entry.offset + entry.len)?;
        let mut text = Vec::new();
        flate2::read::ZlibDecoder::new(blob)
            .read_to_end(&mut text)
            .ok()?;
        let mut model: Model = match serde_json::from_slice(&text) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(service = name, error = %e, "a bundled model does not parse");
                return None;
            }
        };
        model.metadata.choose_protocol();
        let model = Arc::new(model);
        parsed.insert(name.to_owned(), model.clone());
        Some(model)
    }

    /// The global endpoint of a service that has one (by endpoint prefix).
    pub fn global_endpoint(&self, endpoint_prefix: &str) -> Option<&GlobalEndpoint> {
        self.index.global.get(endpoint_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_model_parses_and_names_its_protocol() {
        let models = Models::bundled();
        let mut protocols = std::collections::BTreeSet::new();
        let mut count = 0;
        let mut unspeakable = Vec::new();
        for name in models.names().map(str::to_owned).collect::<Vec<_>>() {
            let model = models.get(&name).unwrap_or_else(|| panic!("{name} parses"));
            protocols.insert(model.metadata.protocol.clone());
            if !model.metadata.speakable() {
                unspeakable.push(name.clone());
            }
            assert!(!model.operations.is_empty(), "{name} has operations");
            count += 1;
        }
        assert!(count > 400, "{count} services");
        for p in PROTOCOLS {
            assert!(protocols.contains(p), "{p} in {protocols:?}");
        }
        // Only services whose one protocol is Smithy's CBOR are left without one.
        assert!(unspeakable.len() < 10, "{unspeakable:?}");
    }

    #[test]
    fn the_first_protocol_stepwise_speaks_is_chosen() {
        let models = Models::bundled();
        let cloudwatch = models.get("cloudwatch").expect("cloudwatch");
        assert_eq!(cloudwatch.metadata.protocols[0], "smithy-rpc-v2-cbor");
        assert_eq!(cloudwatch.metadata.protocol, "json");
        let codebuild = models.get("codebuild").expect("codebuild");
        assert_eq!(codebuild.metadata.protocol, "json");
        let mut meta: Metadata = serde_json::from_value(serde_json::json!({
            "apiVersion": "1", "endpointPrefix": "x", "javaName": "X",
            "protocol": "smithy-rpc-v2-cbor", "protocols": ["smithy-rpc-v2-cbor", "query"],
        }))
        .expect("metadata");
        meta.choose_protocol();
        assert_eq!(meta.protocol, "query");
        meta.protocols = vec!["smithy-rpc-v2-cbor".into()];
        meta.protocol = "smithy-rpc-v2-cbor".into();
        meta.choose_protocol();
        assert!(!meta.speakable());
    }

    #[test]
    fn services_are_named_as_step_functions_names_them() {
        let models = Models::bundled();
        for (name, java) in [
            ("dynamodb", "DynamoDb"),
            ("sfn", "Sfn"),
            ("s3", "S3"),
            ("secretsmanager", "SecretsManager"),
            ("eventbridge", "EventBridge"),
            ("sqs", "Sqs"),
            ("cloudwatchlogs", "CloudWatchLogs"),
            ("ec2", "Ec2"),
        ] {
            let model = models.get(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(model.metadata.java_name, java);
        }
        let ddb = models.get("dynamodb").expect("dynamodb");
        assert_eq!(
            ddb.operation("putItem").map(|o| o.name.as_str()),
            Some("PutItem")
        );
        assert!(ddb.operation("noSuchThing").is_none());
    }
}
