//! A Distributed Map's `ItemReader`, read into what to read and how: the S3 action its
//! `Resource` names, the object or prefix its (already evaluated) `Parameters`/`Arguments`
//! name, and its `ReaderConfig`. Refusals are `States.ItemReaderFailed`, with AWS's recorded
//! causes where there are recordings ("field MaxItems must be positive", "CSV headers cannot
//! contain duplicates.").

use serde_json::{Map, Value};

use crate::error::ItemsError;

/// The most items a Map Run reads (`MaxItems` above it reads them all, up to this).
pub const MAX_ITEMS_LIMIT: u64 = 100_000_000;

/// What a Distributed Map reads, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemReaderSpec {
    pub source: ItemSource,
    /// `MaxItems` (0 and absent: all of them).
    pub max_items: Option<u64>,
}

/// Where the items come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSource {
    /// `s3:getObject`: the items in one object (or the objects a manifest lists).
    Object { object: ObjectRef, format: Format },
    /// `s3:listObjectsV2`: one item per object under the prefix.
    Listing {
        bucket: String,
        prefix: Option<String>,
    },
}

/// An S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

/// How an object's bytes become items (`ReaderConfig.InputType`).
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// A JSON array, or the array `ItemsPointer` points to in a JSON object.
    Json { items_pointer: Option<String> },
    /// One JSON value a line.
    JsonLines,
    /// Delimited text, each row an object keyed by the headers.
    Csv(CsvConfig),
    /// Each row of a Parquet file an object keyed by its columns.
    Parquet,
    /// An S3 Inventory `manifest.json`: the rows of the CSV inventory files it lists.
    S3Inventory,
    /// An Athena `UNLOAD` manifest (`ManifestType` `ATHENA_DATA`): the items of the data files
    /// it lists, one S3 URI a line, in `data`'s format.
    AthenaManifest { data: Box<Format> },
}

/// `CSVHeaderLocation`, `CSVHeaders` and `CSVDelimiter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvConfig {
    /// `None`: the first row (`FIRST_ROW`); else the headers given (`GIVEN`).
    pub headers: Option<Vec<String>>,
    pub delimiter: u8,
}

impl Default for CsvConfig {
    fn default() -> CsvConfig {
        CsvConfig {
            headers: None,
            delimiter: b',',
        }
    }
}

fn bad(cause: impl Into<String>) -> ItemsError {
    ItemsError::reader(cause)
}

impl ItemReaderSpec {
    /// Reads a Distributed Map's `ItemReader` field.
    ///
    /// `item_reader` is the field as the definition has it, with its `ReaderConfig` values
    /// evaluated (JSONata); `arguments` its `Parameters` or `Arguments`, evaluated;
    /// `max_items` the number `MaxItems` or `MaxItemsPath` came to, when the engine resolved
    /// one (else a number in `ReaderConfig.MaxItems` is taken).
    pub fn parse(
        item_reader: &Value,
        arguments: &Value,
        max_items: Option<i64>,
    ) -> Result<ItemReaderSpec, ItemsError> {
        let resource = item_reader
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let config = match item_reader.get("ReaderConfig") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(c)) => c.clone(),
            Some(_) => return Err(bad("ReaderConfig must be a JSON object")),
        };
        let max_items = match max_items.or_else(|| config.get("MaxItems").and_then(Value::as_i64)) {
            Some(n) if n < 0 => return Err(bad("field MaxItems must be positive")),
            Some(0) | None => None,
            Some(n) => Some((n as u64).min(MAX_ITEMS_LIMIT)),
        };
        let action = resource
            .strip_prefix("arn:")
            .and_then(|r| r.split_once(":states:::s3:"))
            .map(|(_, action)| action)
            .ok_or_else(|| {
                bad(format!(
                    "The ItemReader's Resource must be arn:aws:states:::s3:getObject or \
                     arn:aws:states:::s3:listObjectsV2, not '{resource}'"
                ))
            })?;
        let text = |name: &str| -> Result<Option<String>, ItemsError> {
            match arguments.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Err(bad(format!(
                    "The ItemReader's {name} must be a string, not {v}"
                ))),
            }
        };
        let required = |name: &str| -> Result<String, ItemsError> {
            text(name)?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("The ItemReader's parameters must include {name}")))
        };
        let source = match action {
            "getObject" => ItemSource::Object {
                object: ObjectRef {
                    bucket: required("Bucket")?,
                    key: required("Key")?,
                    version_id: text("VersionId")?,
                },
                format: format_of(&config)?,
            },
            "listObjectsV2" => ItemSource::Listing {
                bucket: required("Bucket")?,
                prefix: text("Prefix")?,
            },
            other => {
                return Err(bad(format!(
                    "The ItemReader cannot read items with s3:{other}: use s3:getObject or \
                     s3:listObjectsV2"
                )));
            }
        };
        Ok(ItemReaderSpec { source, max_items })
    }
}

fn config_text<'a>(
    config: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ItemsError> {
    match config.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(bad(format!("field {name} must be a string, not {v}"))),
    }
}

fn format_of(config: &Map<String, Value>) -> Result<Format, ItemsError> {
    let input_type = config_text(config, "InputType")?.unwrap_or("JSON");
    let manifest_type = config_text(config, "ManifestType")?;
    let items_pointer = config_text(config, "ItemsPointer")?;
    if items_pointer.is_some() && input_type != "JSON" {
        return Err(bad(
            "field ItemsPointer can only be used with InputType JSON",
        ));
    }
    if let Some(p) = items_pointer {
        if !p.is_empty() && !p.starts_with('/') {
            return Err(bad(format!(
                "field ItemsPointer must be a JSON pointer (empty, or starting with '/'), not '{p}'"
            )));
        }
    }
    let data = |input_type: &str| -> Result<Format, ItemsError> {
        Ok(match input_type {
            "JSON" => Format::Json {
                items_pointer: items_pointer.map(str::to_owned),
            },
            "JSONL" => Format::JsonLines,
            "CSV" => Format::Csv(csv_config(config)?),
            "PARQUET" => Format::Parquet,
            other => {
                return Err(bad(format!(
                    "field InputType must be one of CSV, JSON, JSONL, PARQUET, MANIFEST, not '{other}'"
                )));
            }
        })
    };
    match (input_type, manifest_type) {
        ("MANIFEST", None | Some("S3_INVENTORY")) => Ok(Format::S3Inventory),
        ("MANIFEST", Some(other)) => Err(bad(format!(
            "field ManifestType must be S3_INVENTORY with InputType MANIFEST, not '{other}'"
        ))),
        ("CSV" | "JSONL" | "PARQUET", Some("ATHENA_DATA")) => Ok(Format::AthenaManifest {
            data: Box::new(data(input_type)?),
        }),
        (_, Some(other)) => Err(bad(format!(
            "field ManifestType '{other}' cannot be used with InputType {input_type}"
        ))),
        (_, None) => data(input_type),
    }
}

fn csv_config(config: &Map<String, Value>) -> Result<CsvConfig, ItemsError> {
    let delimiter = match config_text(config, "CSVDelimiter")?.unwrap_or("COMMA") {
        "COMMA" => b',',
        "PIPE" => b'|',
        "SEMICOLON" => b';',
        "SPACE" => b' ',
        "TAB" => b'\t',
        other => {
            return Err(bad(format!(
                "field CSVDelimiter must be one of COMMA, PIPE, SEMICOLON, SPACE, TAB, not '{other}'"
            )));
        }
    };
    let headers = match config_text(config, "CSVHeaderLocation")?.unwrap_or("FIRST_ROW") {
        "FIRST_ROW" => None,
        "GIVEN" => {
            let Some(Value::Array(given)) = config.get("CSVHeaders") else {
                return Err(bad(
                    "field CSVHeaders is required when CSVHeaderLocation is GIVEN",
                ));
            };
            let headers = given
                .iter()
                .map(|h| h.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| bad("field CSVHeaders must be an array of strings"))?;
            check_headers(&headers)?;
            Some(headers)
        }
        other => {
            return Err(bad(format!(
                "field CSVHeaderLocation must be FIRST_ROW or GIVEN, not '{other}'"
            )));
        }
    };
    Ok(CsvConfig { headers, delimiter })
}

/// Headers must differ (AWS's recorded refusal).
pub(crate) fn check_headers(headers: &[String]) -> Result<(), ItemsError> {
    let mut seen = std::collections::BTreeSet::new();
    if headers.iter().all(|h| seen.insert(h)) {
        Ok(())
    } else {
        Err(bad("CSV headers cannot contain duplicates."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reader(config: Value) -> Value {
        json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config})
    }

    fn args() -> Value {
        json!({"Bucket": "b", "Key": "k"})
    }

    #[test]
    fn max_items_as_aws_recorded_it() {
        let r = reader(json!({"InputType": "CSV"}));
        let e = ItemReaderSpec::parse(&r, &args(), Some(-1)).unwrap_err();
        assert_eq!(
            (e.error, e.cause.as_str()),
            ("States.ItemReaderFailed", "field MaxItems must be positive")
        );
        let max = |n| ItemReaderSpec::parse(&r, &args(), n).map(|s| s.max_items);
        assert_eq!(max(Some(0)), Ok(None));
        assert_eq!(max(Some(2)), Ok(Some(2)));
        assert_eq!(max(Some(100_000_001)), Ok(Some(MAX_ITEMS_LIMIT)));
        let literal = reader(json!({"InputType": "JSON", "MaxItems": 4}));
        assert_eq!(
            ItemReaderSpec::parse(&literal, &args(), None).map(|s| s.max_items),
            Ok(Some(4))
        );
    }

    #[test]
    fn csv_configuration() {
        let r = reader(json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
            "CSVHeaders": ["H1", "H1", "H3"]}));
        let e = ItemReaderSpec::parse(&r, &args(), None).unwrap_err();
        assert_eq!(e.cause, "CSV headers cannot contain duplicates.");
        let r = reader(json!({"InputType": "CSV", "CSVDelimiter": "TAB"}));
        let spec = ItemReaderSpec::parse(&r, &args(), None).expect("spec");
        assert_eq!(
            spec.source,
            ItemSource::Object {
                object: ObjectRef {
                    bucket: "b".into(),
                    key: "k".into(),
                    version_id: None
                },
                format: Format::Csv(CsvConfig {
                    headers: None,
                    delimiter: b'\t'
                })
            }
        );
        let given_without = reader(json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN"}));
        assert!(ItemReaderSpec::parse(&given_without, &args(), None).is_err());
        let bad_delimiter = reader(json!({"InputType": "CSV", "CSVDelimiter": "COLON"}));
        assert!(ItemReaderSpec::parse(&bad_delimiter, &args(), None).is_err());
    }

    #[test]
    fn sources_and_manifests() {
        let listing = json!({"Resource": "arn:aws:states:::s3:listObjectsV2"});
        let spec = ItemReaderSpec::parse(&listing, &json!({"Bucket": "b", "Prefix": "p/"}), None);
        assert_eq!(
            spec.map(|s| s.source),
            Ok(ItemSource::Listing {
                bucket: "b".into(),
                prefix: Some("p/".into())
            })
        );
        let format = |config| match ItemReaderSpec::parse(&reader(config), &args(), None)?.source {
            ItemSource::Object { format, .. } => Ok(format),
            ItemSource::Listing { .. } => Err(bad("listing")),
        };
        assert_eq!(
            format(json!({"InputType": "MANIFEST"})),
            Ok(Format::S3Inventory)
        );
        assert_eq!(
            format(json!({"InputType": "PARQUET", "ManifestType": "ATHENA_DATA"})),
            Ok(Format::AthenaManifest {
                data: Box::new(Format::Parquet)
            })
        );
        assert_eq!(
            format(json!({"InputType": "JSON", "ItemsPointer": "/a/b"})),
            Ok(Format::Json {
                items_pointer: Some("/a/b".into())
            })
        );
        assert!(format(json!({"InputType": "CSV", "ItemsPointer": "/a"})).is_err());
        assert!(format(json!({"InputType": "JSON", "ItemsPointer": "a"})).is_err());
        assert!(format(json!({"InputType": "MANIFEST", "ManifestType": "ATHENA_DATA"})).is_err());
        let no_key = ItemReaderSpec::parse(&reader(json!({})), &json!({"Bucket": "b"}), None);
        assert!(no_key.is_err());
        let put = json!({"Resource": "arn:aws:states:::s3:putObject"});
        assert!(ItemReaderSpec::parse(&put, &args(), None).is_err());
    }
}
