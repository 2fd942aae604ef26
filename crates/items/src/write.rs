//! `ResultWriter`: the children's results, written to `s3://Bucket/Prefix/<MapRunId>/` as
//! `SUCCEEDED_n.json`, `FAILED_n.json` and `PENDING_n.json` with a `manifest.json` naming
//! them, or (a `WriterConfig` without `Resource`) given back for the Map state's output.
//!
//! The forms (the guide's "ResultWriter (Map)"): `Resource` (`arn:aws:states:::s3:putObject`)
//! with `Parameters`/`Arguments` `{Bucket, Prefix}` exports without more formatting
//! (Transformation `NONE`); `WriterConfig` alone formats the results for the state's output,
//! exporting nothing; all three format and export.
//!
//! `WriterConfig.Transformation`: `NONE` writes each child's execution record (the default
//! when exporting); `COMPACT` its output alone (the default without a `ResultWriter`);
//! `FLATTEN` its output, an array's elements each in its own place. A child that did not
//! succeed is written as with `NONE` whatever the transformation (the guide's note).
//! `OutputType` `JSON` writes each file as one array, `JSONL` one result a line (the file is
//! still named `.json`).
//!
//! A child's record ([`ChildResult::record`]), its keys in this order: `Cause` and `Error` when
//! it failed, `ExecutionArn`, `Input` (the input as JSON text), `InputDetails`
//! (`{"Included": true}`), `Name`, `Output` (JSON text) and `OutputDetails` when it succeeded,
//! `RedriveCount`, `RedriveStatus`, `RedriveStatusReason` when there is one, `StartDate`,
//! `StateMachineArn`, `Status`, `StopDate` (dates as `2025-02-04T05:19:22.637Z`).
//!
//! `manifest.json`: `{"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED": [...],
//! "PENDING": [...], "SUCCEEDED": [...]}}`, each file `{"Key", "Size"}` (its bytes). Failed,
//! timed out and aborted children go to `FAILED_n.json`, those not ended to `PENDING_n.json`.
//!
//! The Map state's output ([`WriterOutcome`]): exported, `{"MapRunArn": ..., "ResultWriterDetails":
//! {"Bucket": ..., "Key": "Prefix/<MapRunId>/manifest.json"}}`; else the results in item order.
//!
//! A coordinator gives the writer one [`ChildResult`] per child (its index, ARN, name,
//! status, input, output or error and cause, dates), in any order (`add`), then `finish`es.
//!
//! Sources: the forms, the transformations, their defaults and the failed child's `NONE` are
//! the guide's words; the Map state's output and the manifest's and records' fields are as the
//! guide's examples and published results from AWS show them (a manifest quoted in LocalStack's
//! PR 11381, readers' code of `SUCCEEDED_0.json`). Not confirmed: the `.json` name of JSONL
//! files, the order of a record's keys beyond the examples, the 5 GB split.
//!
//! Results are written as they come, a file at a time per status: a file's bytes go up in
//! parts (multipart upload) once they pass a part's size, so memory holds one part a status.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::error::ItemsError;
use crate::store::ObjectStore;

/// The most a result file holds before the next one is started (S3's limit for one PUT).
pub const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// A file's bytes are uploaded in parts of this size (S3's smallest but last is 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// `WriterConfig.Transformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transformation {
    None,
    Compact,
    Flatten,
}

/// `WriterConfig.OutputType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Json,
    JsonLines,
}

/// A Map's `ResultWriter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultWriterSpec {
    /// `Bucket` and `Prefix`, when the results are exported to S3.
    pub destination: Option<(String, String)>,
    pub transformation: Transformation,
    pub output_type: OutputType,
}

impl ResultWriterSpec {
    /// Reads the `ResultWriter` field; `arguments` its `Parameters`/`Arguments`, evaluated.
    pub fn parse(
        result_writer: &Value,
        arguments: Option<&Value>,
    ) -> Result<ResultWriterSpec, ItemsError> {
        let bad = |cause: String| ItemsError::writer(cause);
        let resource = result_writer.get("Resource").and_then(Value::as_str);
        let config = result_writer.get("WriterConfig");
        let destination = match resource {
            None => None,
            Some(r) if r.starts_with("arn:") && r.ends_with(":states:::s3:putObject") => {
                let args = arguments.unwrap_or(&Value::Null);
                let bucket = args
                    .get("Bucket")
                    .and_then(Value::as_str)
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| {
                        bad("The ResultWriter's parameters must include Bucket".into())
                    })?;
                let prefix = args
                    .get("Prefix")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Some((bucket.to_owned(), prefix.to_owned()))
            }
            Some(r) => {
                return Err(bad(format!(
                    "The ResultWriter's Resource must be arn:aws:states:::s3:putObject, not '{r}'"
                )));
            }
        };
        if destination.is_none() && config.is_none() {
            return Err(bad(
                "The ResultWriter must have a WriterConfig, or a Resource and Parameters".into(),
            ));
        }
        let field = |name: &str| config.and_then(|c| c.get(name)).and_then(Value::as_str);
        let transformation = match field("Transformation") {
            None if destination.is_some() => Transformation::None,
            None | Some("COMPACT") => Transformation::Compact,
            Some("NONE") => Transformation::None,
            Some("FLATTEN") => Transformation::Flatten,
            Some(other) => {
                return Err(bad(format!(
                    "field Transformation must be NONE, COMPACT or FLATTEN, not '{other}'"
                )));
            }
        };
        let output_type = match field("OutputType") {
            None | Some("JSON") => OutputType::Json,
            Some("JSONL") => OutputType::JsonLines,
            Some(other) => {
                return Err(bad(format!(
                    "field OutputType must be JSON or JSONL, not '{other}'"
                )));
            }
        };
        Ok(ResultWriterSpec {
            destination,
            transformation,
            output_type,
        })
    }
}

/// How a child execution ended (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildStatus {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    Running,
    Pending,
}

impl ChildStatus {
    /// A status as Step Functions writes it (`SUCCEEDED`, `TIMED_OUT`, ...), as a store keeps
    /// it; `None` for any other text.
    pub fn parse(status: &str) -> Option<ChildStatus> {
        Some(match status {
            "SUCCEEDED" => ChildStatus::Succeeded,
            "FAILED" => ChildStatus::Failed,
            "TIMED_OUT" => ChildStatus::TimedOut,
            "ABORTED" => ChildStatus::Aborted,
            "RUNNING" => ChildStatus::Running,
            "PENDING" => ChildStatus::Pending,
            _ => return None,
        })
    }

    /// The status as Step Functions writes it in a result's `Status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChildStatus::Succeeded => "SUCCEEDED",
            ChildStatus::Failed => "FAILED",
            ChildStatus::TimedOut => "TIMED_OUT",
            ChildStatus::Aborted => "ABORTED",
            ChildStatus::Running => "RUNNING",
            ChildStatus::Pending => "PENDING",
        }
    }

    /// The file a result goes to.
    fn class(self) -> Class {
        match self {
            ChildStatus::Succeeded => Class::Succeeded,
            ChildStatus::Failed | ChildStatus::TimedOut | ChildStatus::Aborted => Class::Failed,
            ChildStatus::Running | ChildStatus::Pending => Class::Pending,
        }
    }
}

/// One child execution's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildResult {
    /// The child's item (or batch) index: the order of results given back inline.
    pub index: u64,
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub status: ChildStatus,
    /// The child's input, as JSON text.
    pub input: String,
    /// Its output, as JSON text, when it succeeded.
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_date: Option<DateTime<Utc>>,
    pub stop_date: Option<DateTime<Utc>>,
    pub redrive_count: u32,
    /// `NOT_REDRIVABLE`, `REDRIVABLE`, `REDRIVABLE_BY_MAP_RUN`.
    pub redrive_status: String,
    pub redrive_status_reason: Option<String>,
}

impl ChildResult {
    /// The execution's record (Transformation `NONE`), its keys in AWS's (alphabetical) order.
    pub fn record(&self) -> Value {
        let date = |d: &Option<DateTime<Utc>>| {
            d.map(|d| Value::String(d.to_rfc3339_opts(SecondsFormat::Millis, true)))
        };
        let mut r = Map::new();
        if let Some(c) = &self.cause {
            r.insert("Cause".into(), Value::String(c.clone()));
        }
        if let Some(e) = &self.error {
            r.insert("Error".into(), Value::String(e.clone()));
        }
        r.insert(
            "ExecutionArn".into(),
            Value::String(self.execution_arn.clone()),
        );
        r.insert("Input".into(), Value::String(self.input.clone()));
        r.insert("InputDetails".into(), json!({"Included": true}));
        r.insert("Name".into(), Value::String(self.name.clone()));
        if let Some(o) = &self.output {
            r.insert("Output".into(), Value::String(o.clone()));
            r.insert("OutputDetails".into(), json!({"Included": true}));
        }
        r.insert("RedriveCount".into(), Value::from(self.redrive_count));
        r.insert(
            "RedriveStatus".into(),
            Value::String(self.redrive_status.clone()),
        );
        if let Some(reason) = &self.redrive_status_reason {
            r.insert("RedriveStatusReason".into(), Value::String(reason.clone()));
        }
        if let Some(d) = date(&self.start_date) {
            r.insert("StartDate".into(), d);
        }
        r.insert(
            "StateMachineArn".into(),
            Value::String(self.state_machine_arn.clone()),
        );
        r.insert("Status".into(), Value::String(self.status.as_str().into()));
        if let Some(d) = date(&self.stop_date) {
            r.insert("StopDate".into(), d);
        }
        Value::Object(r)
    }

    /// What the result is written as under `transformation`: one value, or (FLATTEN of an
    /// array output) several.
    pub fn entries(&self, transformation: Transformation) -> Result<Vec<Value>, ItemsError> {
        let succeeded = self.status == ChildStatus::Succeeded;
        if transformation == Transformation::None || !succeeded {
            return Ok(vec![self.record()]);
        }
        let output: Value = serde_json::from_str(self.output.as_deref().unwrap_or("null"))
            .map_err(|e| {
                ItemsError::writer(format!("The output of {} is not JSON: {e}", self.name))
            })?;
        Ok(match (transformation, output) {
            (Transformation::Flatten, Value::Array(items)) => items,
            (_, output) => vec![output],
        })
    }
}

/// The three files a result goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Failed,
    Pending,
    Succeeded,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Failed => "FAILED",
            Class::Pending => "PENDING",
            Class::Succeeded => "SUCCEEDED",
        }
    }
}

/// What the writer leaves for the Map state's output.
#[derive(Debug, Clone, PartialEq)]
pub enum WriterOutcome {
    /// Exported: the Map state's output (`MapRunArn`, `ResultWriterDetails`) and the
    /// manifest written.
    Exported { output: Value, manifest: Value },
    /// Not exported: the results in item order, transformed, for the state's output.
    Inline(Vec<Value>),
}

/// Writes a Map Run's results as its children finish, in any order.
#[derive(Debug)]
pub struct ResultWriter {
    spec: ResultWriterSpec,
    store: Arc<dyn ObjectStore>,
    map_run_arn: String,
    /// `Prefix/<MapRunId>/`.
    folder: String,
    files: BTreeMap<Class, ResultFile>,
    /// Files written, by class: key and size.
    written: BTreeMap<Class, Vec<(String, u64)>>,
    inline: BTreeMap<u64, Vec<Value>>,
    part_bytes: usize,
    file_bytes: u64,
}

/// A result file being written.
#[derive(Debug)]
struct ResultFile {
    key: String,
    upload: Option<(String, Vec<String>)>,
    /// Bytes not yet uploaded.
    buf: Vec<u8>,
    size: u64,
    entries: u64,
}

impl ResultWriter {
    /// A writer for the Map Run `map_run_arn` (its id, the ARN's last part, names the folder).
    pub fn new(
        spec: ResultWriterSpec,
        store: Arc<dyn ObjectStore>,
        map_run_arn: &str,
    ) -> ResultWriter {
        let id = map_run_arn.rsplit(':').next().unwrap_or(map_run_arn);
        let folder = match &spec.destination {
            Some((_, prefix)) if !prefix.trim_end_matches('/').is_empty() => {
                format!("{}/{id}/", prefix.trim_end_matches('/'))
            }
            _ => format!("{id}/"),
        };
        ResultWriter {
            spec,
            store,
            map_run_arn: map_run_arn.to_owned(),
            folder,
            files: BTreeMap::new(),
            written: BTreeMap::new(),
            inline: BTreeMap::new(),
            part_bytes: PART_BYTES,
            file_bytes: MAX_FILE_BYTES,
        }
    }

    /// Smaller parts and files (tests).
    pub fn with_limits(mut self, part_bytes: usize, file_bytes: u64) -> ResultWriter {
        self.part_bytes = part_bytes.max(1);
        self.file_bytes = file_bytes.max(1);
        self
    }

    /// Takes one child's result.
    pub async fn add(&mut self, result: &ChildResult) -> Result<(), ItemsError> {
        let entries = result.entries(self.spec.transformation)?;
        if self.spec.destination.is_none() {
            self.inline.entry(result.index).or_default().extend(entries);
            return Ok(());
        }
        let class = result.status.class();
        for entry in entries {
            let text = serde_json::to_vec(&entry).map_err(|e| ItemsError::writer(e.to_string()))?;
            self.append(class, &text).await?;
        }
        Ok(())
    }

    async fn append(&mut self, class: Class, entry: &[u8]) -> Result<(), ItemsError> {
        let full = self
            .files
            .get(&class)
            .is_some_and(|f| f.entries > 0 && f.size + entry.len() as u64 + 2 > self.file_bytes);
        if full {
            self.close(class).await?;
        }
        let json = self.spec.output_type == OutputType::Json;
        let number = self.written.get(&class).map_or(0, Vec::len);
        let key = format!("{}{}_{number}.json", self.folder, class.name());
        let file = self.files.entry(class).or_insert_with(|| ResultFile {
            key,
            upload: None,
            buf: Vec::new(),
            size: 0,
            entries: 0,
        });
        let before = file.buf.len();
        match (json, file.entries) {
            (true, 0) => file.buf.push(b'['),
            (true, _) => file.buf.push(b','),
            (false, _) => {}
        }
        file.buf.extend_from_slice(entry);
        if !json {
            file.buf.push(b'\n');
        }
        file.size += (file.buf.len() - before) as u64;
        file.entries += 1;
        if file.buf.len() >= self.part_bytes {
            self.upload_part(class).await?;
        }
        Ok(())
    }

    async fn upload_part(&mut self, class: Class) -> Result<(), ItemsError> {
        let Some((bucket, _)) = self.spec.destination.clone() else {
            return Ok(());
        };
        let Some(file) = self.files.get_mut(&class) else {
            return Ok(());
        };
        if file.upload.is_none() {
            let id = self
                .store
                .start_upload(&bucket, &file.key)
                .await
                .map_err(ItemsError::writing)?;
            file.upload = Some((id, Vec::new()));
        }
        if let Some((id, etags)) = file.upload.as_mut() {
            let body = std::mem::take(&mut file.buf);
            let number = etags.len() as u32 + 1;
            let etag = self
                .store
                .upload_part(&bucket, &file.key, id, number, body)
                .await
                .map_err(ItemsError::writing)?;
            etags.push(etag);
        }
        Ok(())
    }

    /// Ends a class's file: its closing bracket, its last part.
    async fn close(&mut self, class: Class) -> Result<(), ItemsError> {
        let Some((bucket, _)) = self.spec.destination.clone() else {
            return Ok(());
        };
        let Some(mut file) = self.files.remove(&class) else {
            return Ok(());
        };
        if self.spec.output_type == OutputType::Json {
            file.buf.push(b']');
            file.size += 1;
        }
        let store = &self.store;
        let result = match file.upload.take() {
            None => store.put(&bucket, &file.key, file.buf).await,
            Some((id, mut etags)) => {
                let last = async {
                    let number = etags.len() as u32 + 1;
                    etags.push(
                        store
                            .upload_part(&bucket, &file.key, &id, number, file.buf)
                            .await?,
                    );
                    store.complete_upload(&bucket, &file.key, &id, &etags).await
                };
                match last.await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        let _ = store.abort_upload(&bucket, &file.key, &id).await;
                        Err(e)
                    }
                }
            }
        };
        result.map_err(ItemsError::writing)?;
        self.written
            .entry(class)
            .or_default()
            .push((file.key, file.size));
        Ok(())
    }

    /// Writes what is left and the manifest; what the Map state's output is made of.
    pub async fn finish(mut self) -> Result<WriterOutcome, ItemsError> {
        let Some((bucket, _)) = self.spec.destination.clone() else {
            let results = std::mem::take(&mut self.inline)
                .into_values()
                .flatten()
                .collect();
            return Ok(WriterOutcome::Inline(results));
        };
        for class in [Class::Failed, Class::Pending, Class::Succeeded] {
            self.close(class).await?;
        }
        let files = |class: Class| -> Value {
            self.written
                .get(&class)
                .map(|fs| {
                    fs.iter()
                        .map(|(key, size)| json!({"Key": key, "Size": size}))
                        .collect()
                })
                .unwrap_or(Value::Array(Vec::new()))
        };
        let manifest = json!({
            "DestinationBucket": bucket,
            "MapRunArn": self.map_run_arn,
            "ResultFiles": {
                "FAILED": files(Class::Failed),
                "PENDING": files(Class::Pending),
                "SUCCEEDED": files(Class::Succeeded),
            }
        });
        let key = format!("{}manifest.json", self.folder);
        let body = serde_json::to_vec(&manifest).map_err(|e| ItemsError::writer(e.to_string()))?;
        self.store
            .put(&bucket, &key, body)
            .await
            .map_err(ItemsError::writing)?;
        let output = json!({
            "MapRunArn": self.map_run_arn,
            "ResultWriterDetails": {"Bucket": bucket, "Key": key}
        });
        Ok(WriterOutcome::Exported { output, manifest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    const RUN: &str =
        "arn:aws:states:us-east-1:111111111111:mapRun:sm/Map:6c4bb1b3-0c46-3b36-9f1f-2a0e6a0f1b2c";

    fn result(index: u64, status: ChildStatus, output: Option<&str>) -> ChildResult {
        ChildResult {
            index,
            execution_arn: format!(
                "arn:aws:states:us-east-1:111111111111:execution:sm/Map:{index}"
            ),
            name: index.to_string(),
            state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:sm/Map".into(),
            status,
            input: format!("{{\"i\":{index}}}"),
            output: output.map(str::to_owned),
            error: (status != ChildStatus::Succeeded).then(|| "Boom".into()),
            cause: (status != ChildStatus::Succeeded).then(|| "it broke".into()),
            start_date: DateTime::from_timestamp_millis(1_700_000_000_123),
            stop_date: DateTime::from_timestamp_millis(1_700_000_001_456),
            redrive_count: 0,
            redrive_status: "NOT_REDRIVABLE".into(),
            redrive_status_reason: None,
        }
    }

    #[test]
    fn the_record_has_aws_keys_in_order() {
        let r = result(3, ChildStatus::Succeeded, Some("[1]")).record();
        let keys: Vec<&str> = r
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "ExecutionArn",
                "Input",
                "InputDetails",
                "Name",
                "Output",
                "OutputDetails",
                "RedriveCount",
                "RedriveStatus",
                "StartDate",
                "StateMachineArn",
                "Status",
                "StopDate"
            ]
        );
        assert_eq!(r["StartDate"], "2023-11-14T22:13:20.123Z");
        let f = result(4, ChildStatus::TimedOut, None).record();
        assert_eq!(
            (f["Error"].as_str(), f["Status"].as_str()),
            (Some("Boom"), Some("TIMED_OUT"))
        );
        assert!(f.get("Output").is_none());
    }

    #[test]
    fn statuses_read_as_they_are_written() {
        for s in [
            ChildStatus::Succeeded,
            ChildStatus::Failed,
            ChildStatus::TimedOut,
            ChildStatus::Aborted,
            ChildStatus::Running,
            ChildStatus::Pending,
        ] {
            assert_eq!(ChildStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChildStatus::parse("succeeded"), None);
    }

    #[test]
    fn the_spec_defaults_as_the_guide_says() {
        let s3 = json!({"Resource": "arn:aws:states:::s3:putObject"});
        let args = json!({"Bucket": "b", "Prefix": "out"});
        let spec = ResultWriterSpec::parse(&s3, Some(&args)).expect("spec");
        assert_eq!(spec.transformation, Transformation::None);
        let inline = json!({"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSONL"}});
        let spec = ResultWriterSpec::parse(&inline, None).expect("spec");
        assert_eq!(
            (spec.destination, spec.transformation, spec.output_type),
            (None, Transformation::Flatten, OutputType::JsonLines)
        );
        assert!(ResultWriterSpec::parse(&json!({}), None).is_err());
        assert!(ResultWriterSpec::parse(&s3, Some(&json!({}))).is_err());
    }

    #[tokio::test]
    async fn inline_results_come_back_in_item_order_flattened() {
        let spec = ResultWriterSpec::parse(
            &json!({"WriterConfig": {"Transformation": "FLATTEN"}}),
            None,
        )
        .expect("spec");
        let mut w = ResultWriter::new(spec, Arc::new(MemoryStore::new()), RUN);
        w.add(&result(2, ChildStatus::Succeeded, Some("[3, 4]")))
            .await
            .expect("add");
        w.add(&result(0, ChildStatus::Succeeded, Some("[1]")))
            .await
            .expect("add");
        w.add(&result(1, ChildStatus::Succeeded, Some("2")))
            .await
            .expect("add");
        w.add(&result(3, ChildStatus::Failed, None))
            .await
            .expect("add");
        let WriterOutcome::Inline(out) = w.finish().await.expect("finish") else {
            panic!("inline expected");
        };
        assert_eq!(&out[..4], &[json!(1), json!(2), json!(3), json!(4)]);
        assert_eq!(out[4]["Status"], "FAILED");
    }

    #[tokio::test]
    async fn exported_files_split_by_size_and_parts_and_the_manifest_lists_them() {
        let store = Arc::new(MemoryStore::new());
        let spec = ResultWriterSpec::parse(
            &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
            Some(&json!({"Bucket": "b", "Prefix": "out/"})),
        )
        .expect("spec");
        let mut w = ResultWriter::new(spec, store.clone(), RUN).with_limits(64, 300);
        for i in 0..100 {
            w.add(&result(
                i,
                ChildStatus::Succeeded,
                Some(&format!("{{\"n\":{i}}}")),
            ))
            .await
            .expect("add");
        }
        w.add(&result(100, ChildStatus::Failed, None))
            .await
            .expect("add");
        let WriterOutcome::Exported { output, manifest } = w.finish().await.expect("finish") else {
            panic!("exported expected");
        };
        let folder = "out/6c4bb1b3-0c46-3b36-9f1f-2a0e6a0f1b2c/";
        assert_eq!(
            output["ResultWriterDetails"]["Key"],
            format!("{folder}manifest.json")
        );
        assert_eq!(output["MapRunArn"], RUN);
        let succeeded = manifest["ResultFiles"]["SUCCEEDED"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(succeeded.len() > 1, "split into several files: {manifest}");
        let mut all = Vec::new();
        for (n, f) in succeeded.iter().enumerate() {
            let key = f["Key"].as_str().unwrap_or_default();
            assert_eq!(key, format!("{folder}SUCCEEDED_{n}.json"));
            let body = store.object("b", key).expect("file written");
            assert!(body.len() as u64 <= 300);
            assert_eq!(f["Size"], body.len());
            let items: Vec<Value> = serde_json::from_slice(&body).expect("a JSON array");
            all.extend(items);
        }
        let want: Vec<Value> = (0..100).map(|i| json!({"n": i})).collect();
        assert_eq!(all, want);
        let failed = &manifest["ResultFiles"]["FAILED"][0]["Key"];
        let body = store
            .object("b", failed.as_str().unwrap_or_default())
            .expect("failed file");
        let failed: Vec<Value> = serde_json::from_slice(&body).expect("array");
        assert_eq!(failed[0]["Error"], "Boom");
        assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
        assert!(
            store
                .object("b", &format!("{folder}manifest.json"))
                .is_some()
        );
    }
}
