//! Items read from, and results written to, moto's S3 (a local AWS from PyPI, in the e2e
//! venv shared with the CLI's tests), through Stepwise's own S3 client.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use stepwise_aws::s3::S3;
use stepwise_aws::{AwsClient, AwsConfig, Caller, Endpoints};
use stepwise_items::write::{ChildResult, ChildStatus};
use stepwise_items::{
    ItemReaderSpec, Items, ObjectStore, ResultWriter, ResultWriterSpec, WriterOutcome,
};
use stepwise_test_support::python::{Moto, venv_python};

fn moto() -> Option<Moto> {
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/e2e/requirements.txt");
    let python = venv_python(Path::new(env!("CARGO_TARGET_TMPDIR")), &requirements)?;
    Some(Moto::start(&python))
}

fn client(moto: &Moto) -> AwsClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = AwsConfig {
        endpoints: Endpoints {
            default: Some(moto.url.clone()),
            ..Endpoints::default()
        },
        credentials: None,
    };
    AwsClient::new(config, reqwest::Client::new())
}

fn s3(client: &AwsClient) -> S3 {
    client.s3(&Caller {
        region: "us-east-1",
        account: None,
        role: None,
        idempotency: None,
    })
}

async fn bucket(client: &AwsClient, name: &str) {
    let caller = Caller {
        region: "us-east-1",
        account: None,
        role: None,
        idempotency: None,
    };
    client
        .call("s3", "CreateBucket", &json!({"Bucket": name}), &caller)
        .await
        .expect("create bucket");
}

async fn put(s3: &S3, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object(bucket, key, body, "application/octet-stream")
        .await
        .expect("put object");
}

fn get_object(key: &str, config: Value) -> ItemReaderSpec {
    let reader = json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config});
    ItemReaderSpec::parse(&reader, &json!({"Bucket": "items", "Key": key}), None).expect("spec")
}

async fn read_all(spec: ItemReaderSpec, store: Arc<dyn ObjectStore>, start_at: u64) -> Vec<Value> {
    let mut items = Items::open(spec, store, start_at).await.expect("open");
    let mut out = Vec::new();
    while let Some(item) = items.next().await.expect("item") {
        out.push(item);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_formats_are_read_streamed_and_resumed() {
    let Some(moto) = moto() else { return };
    let client = client(&moto);
    let s3 = s3(&client);
    bucket(&client, "items").await;
    let store: Arc<dyn ObjectStore> = Arc::new(s3.clone());

    // 100,000 JSON Lines, about 12 MB, read while holding less than a megabyte of it.
    let mut jsonl = Vec::new();
    for i in 0..100_000 {
        writeln!(jsonl, r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(100)).expect("write");
    }
    let size = jsonl.len();
    put(&s3, "items", "big.jsonl", jsonl).await;
    let spec = get_object("big.jsonl", json!({"InputType": "JSONL"}));
    let mut items = Items::open(spec.clone(), store.clone(), 0)
        .await
        .expect("open");
    let (mut count, mut most) = (0u64, 0usize);
    while let Some(item) = items.next().await.expect("item") {
        assert_eq!(item["i"], count, "items in order");
        count += 1;
        most = most.max(items.buffered_bytes());
    }
    assert_eq!(count, 100_000);
    assert!(
        most < 1024 * 1024,
        "held {most} bytes of a {size}-byte object"
    );
    // Resumed at item 99,990: the last ten; MaxItems counts from the first item.
    let tail = read_all(spec.clone(), store.clone(), 99_990).await;
    assert_eq!(tail.len(), 10);
    assert_eq!(tail[0]["i"], 99_990);
    let capped = ItemReaderSpec {
        max_items: Some(5),
        ..spec
    };
    assert_eq!(read_all(capped, store.clone(), 3).await.len(), 2);

    // JSON: the array an ItemsPointer points to, resumed at 1.
    let doc = json!({"meta": {"items": ["no"]}, "data": {"items": [{"a": 1}, {"a": 2}, {"a": 3}]}});
    put(&s3, "items", "doc.json", doc.to_string().into_bytes()).await;
    let spec = get_object(
        "doc.json",
        json!({"InputType": "JSON", "ItemsPointer": "/data/items"}),
    );
    assert_eq!(
        read_all(spec, store.clone(), 1).await,
        [json!({"a": 2}), json!({"a": 3})]
    );
    let not_array = get_object("doc.json", json!({"InputType": "JSON"}));
    let e = Items::open(not_array, store.clone(), 0)
        .await
        .expect("open")
        .next()
        .await;
    assert_eq!(
        e.map_err(|e| (e.error, e.cause)),
        Err((
            "States.ItemReaderFailed",
            "Attempting to map over non-iterable node.".into()
        ))
    );

    // CSV: each delimiter, headers from the first row or given, quotes and short rows.
    for (name, d) in [
        ("COMMA", ','),
        ("PIPE", '|'),
        ("SEMICOLON", ';'),
        ("SPACE", ' '),
        ("TAB", '\t'),
    ] {
        let text = format!("0{d}True{d}{{}}\nValue4{d}\"Va{d}l\nue5\"{d}Value6\nonly\n");
        let key = format!("{name}.csv");
        put(&s3, "items", &key, text.into_bytes()).await;
        let rows = read_all(
            get_object(&key, json!({"InputType": "CSV", "CSVDelimiter": name})),
            store.clone(),
            0,
        )
        .await;
        let want = vec![
            json!({"0": "Value4", "{}": "Value6", "True": format!("Va{d}l\nue5")}),
            json!({"0": "only", "{}": "", "True": ""}),
        ];
        assert_eq!(rows, want, "{name}");
        // Keys in AWS's recorded order.
        let keys: Vec<&String> = rows[0]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["0", "{}", "True"]);
        let given = json!({"InputType": "CSV", "CSVDelimiter": name, "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["A", "B"]});
        let rows = read_all(get_object(&key, given), store.clone(), 0).await;
        assert_eq!(rows.len(), 3, "{name}: the first row is an item");
        assert_eq!(rows[0], json!({"A": "0", "B": "True"}));
    }

    // A key that is not there.
    let missing = get_object("nope.json", json!({"InputType": "JSON"}));
    let e = Items::open(missing, store.clone(), 0)
        .await
        .expect("open")
        .next()
        .await
        .expect_err("missing");
    assert_eq!(e.error, "States.ItemReaderFailed");
    assert!(
        e.cause.contains("NoSuchKey") && e.cause.contains("Status Code: 404"),
        "{}",
        e.cause
    );
}

#[cfg(feature = "parquet")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_rows_are_read_a_row_group_at_a_time() {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let Some(moto) = moto() else { return };
    let client = client(&moto);
    let s3 = s3(&client);
    bucket(&client, "items").await;
    let store: Arc<dyn ObjectStore> = Arc::new(s3.clone());

    let schema = Arc::new(
        parse_message_type("message item { required int64 id; required binary name (UTF8); required double score; }")
            .expect("schema"),
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut file = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut file, schema, props).expect("writer");
    for group in 0..5i64 {
        let ids: Vec<i64> = (group * 1000..(group + 1) * 1000).collect();
        let names: Vec<ByteArray> = ids
            .iter()
            .map(|i| ByteArray::from(format!("n{i}").as_str()))
            .collect();
        let scores: Vec<f64> = ids.iter().map(|&i| i as f64 / 2.0).collect();
        let mut rg = writer.next_row_group().expect("row group");
        let mut col = rg.next_column().expect("col").expect("id");
        col.typed::<Int64Type>()
            .write_batch(&ids, None, None)
            .expect("ids");
        col.close().expect("close");
        let mut col = rg.next_column().expect("col").expect("name");
        col.typed::<ByteArrayType>()
            .write_batch(&names, None, None)
            .expect("names");
        col.close().expect("close");
        let mut col = rg.next_column().expect("col").expect("score");
        col.typed::<DoubleType>()
            .write_batch(&scores, None, None)
            .expect("scores");
        col.close().expect("close");
        rg.close().expect("row group");
    }
    writer.close().expect("file");
    put(&s3, "items", "rows.parquet", file).await;

    let spec = get_object("rows.parquet", json!({"InputType": "PARQUET"}));
    let rows = read_all(spec.clone(), store.clone(), 0).await;
    assert_eq!(rows.len(), 5000);
    assert_eq!(rows[0], json!({"id": 0, "name": "n0", "score": 0.0}));
    assert_eq!(
        rows[4999],
        json!({"id": 4999, "name": "n4999", "score": 2499.5})
    );
    // Resumed in the middle of the third row group, and at a group's start.
    let rest = read_all(spec.clone(), store.clone(), 2500).await;
    assert_eq!((rest.len(), &rest[0]["id"]), (2500, &json!(2500)));
    let rest = read_all(spec, store.clone(), 4000).await;
    assert_eq!((rest.len(), &rest[0]["id"]), (1000, &json!(4000)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_manifests() {
    let Some(moto) = moto() else { return };
    let client = client(&moto);
    let s3 = s3(&client);
    bucket(&client, "items").await;
    let store: Arc<dyn ObjectStore> = Arc::new(s3.clone());

    // 5,000 objects under a prefix: five pages of ListObjectsV2.
    let keys: Vec<String> = (0..5000).map(|i| format!("many/{i:05}.txt")).collect();
    for chunk in keys.chunks(50) {
        let puts = chunk.iter().map(|k| {
            let s3 = s3.clone();
            let k = k.clone();
            tokio::spawn(async move { put(&s3, "items", &k, b"abc".to_vec()).await })
        });
        for p in puts.collect::<Vec<_>>() {
            p.await.expect("put task");
        }
    }
    put(&s3, "items", "other.txt", b"x".to_vec()).await;
    let reader = json!({"Resource": "arn:aws:states:::s3:listObjectsV2"});
    let spec = ItemReaderSpec::parse(
        &reader,
        &json!({"Bucket": "items", "Prefix": "many/"}),
        None,
    )
    .expect("spec");
    let listed = read_all(spec.clone(), store.clone(), 0).await;
    assert_eq!(listed.len(), 5000);
    let got: Vec<&str> = listed.iter().filter_map(|i| i["Key"].as_str()).collect();
    assert_eq!(got, keys);
    let first = listed[0].as_object().cloned().unwrap_or_default();
    let names: Vec<&String> = first.keys().collect();
    assert_eq!(
        names,
        ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    );
    assert_eq!(first["Etag"], "\"900150983cd24fb0d6963f7d28e17f72\"");
    assert_eq!(first["Size"], 3);
    assert!(
        first["LastModified"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000)
    );
    assert_eq!(first["StorageClass"], "STANDARD");
    let resumed = read_all(spec, store.clone(), 4321).await;
    assert_eq!(resumed[0]["Key"], "many/04321.txt");

    // An S3 inventory: manifest.json and its gzipped CSV files.
    let gz = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).expect("gzip");
        e.finish().expect("gzip")
    };
    put(&s3, "items", "inv/data/a.csv.gz", gz("\"src\",\"csvDataset/\",\"0\",\"2022-11-16T00:27:19.000Z\"\n\"src\",\"csvDataset/titles.csv\",\"3399671\",\"2022-11-16T00:29:32.000Z\"\n")).await;
    put(
        &s3,
        "items",
        "inv/data/b.csv.gz",
        gz("\"src\",\"img/1.jpg\",\"10\",\"2022-11-17T00:00:00.000Z\"\n"),
    )
    .await;
    let manifest = json!({
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::items",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [{"key": "inv/data/a.csv.gz", "size": 1}, {"key": "inv/data/b.csv.gz", "size": 1}]
    });
    put(
        &s3,
        "items",
        "inv/manifest.json",
        manifest.to_string().into_bytes(),
    )
    .await;
    let rows = read_all(
        get_object("inv/manifest.json", json!({"InputType": "MANIFEST"})),
        store.clone(),
        1,
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        json!({"LastModifiedDate": "2022-11-16T00:29:32.000Z", "Bucket": "src", "Size": "3399671", "Key": "csvDataset/titles.csv"})
    );
    let keys: Vec<&String> = rows[0]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["LastModifiedDate", "Bucket", "Size", "Key"],
        "the guide's example order"
    );
    assert_eq!(rows[1]["Key"], "img/1.jpg");

    // An Athena UNLOAD manifest of JSON Lines files.
    put(
        &s3,
        "items",
        "athena/1.jsonl",
        b"{\"n\":1}\n{\"n\":2}\n".to_vec(),
    )
    .await;
    put(&s3, "items", "athena/2.jsonl", b"{\"n\":3}\n".to_vec()).await;
    put(
        &s3,
        "items",
        "athena/manifest.csv",
        b"s3://items/athena/1.jsonl\ns3://items/athena/2.jsonl\n".to_vec(),
    )
    .await;
    let spec = get_object(
        "athena/manifest.csv",
        json!({"InputType": "JSONL", "ManifestType": "ATHENA_DATA"}),
    );
    assert_eq!(
        read_all(spec, store.clone(), 0).await,
        [json!({"n": 1}), json!({"n": 2}), json!({"n": 3})]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_exported_with_a_manifest() {
    let Some(moto) = moto() else { return };
    let client = client(&moto);
    let s3 = s3(&client);
    bucket(&client, "out").await;
    let store: Arc<dyn ObjectStore> = Arc::new(s3.clone());
    let run =
        "arn:aws:states:us-east-1:123456789012:mapRun:sm/Map:0f5a8d61-4bd4-3f37-a7a1-6b0c64d8d4a1";
    let spec = ResultWriterSpec::parse(
        &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"OutputType": "JSONL"}}),
        Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    )
    .expect("spec");
    // Parts of 5 MiB (S3's least): about 12 MB of results goes up in three parts.
    let mut writer = ResultWriter::new(spec, store, run).with_limits(5 * 1024 * 1024, u64::MAX);
    let big = "y".repeat(1000);
    for i in (0..12_000u64).rev() {
        let ok = i % 1000 != 7;
        let result = ChildResult {
            index: i,
            execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:sm/Map:{i}"),
            name: i.to_string(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm/Map".into(),
            status: if ok {
                ChildStatus::Succeeded
            } else {
                ChildStatus::Failed
            },
            input: format!("{{\"i\":{i}}}"),
            output: ok.then(|| format!("{{\"i\":{i},\"pad\":\"{big}\"}}")),
            error: (!ok).then(|| "Boom".into()),
            cause: (!ok).then(|| "no".into()),
            start_date: chrono::DateTime::from_timestamp(1_700_000_000, 0),
            stop_date: chrono::DateTime::from_timestamp(1_700_000_001, 0),
            redrive_count: 0,
            redrive_status: "NOT_REDRIVABLE".into(),
            redrive_status_reason: None,
        };
        writer.add(&result).await.expect("add");
    }
    let WriterOutcome::Exported { output, manifest } = writer.finish().await.expect("finish")
    else {
        panic!("exported expected");
    };
    let folder = "runs/0f5a8d61-4bd4-3f37-a7a1-6b0c64d8d4a1/";
    assert_eq!(
        output,
        json!({"MapRunArn": run, "ResultWriterDetails": {"Bucket": "out", "Key": format!("{folder}manifest.json")}})
    );
    let read = |key: String| {
        let s3 = s3.clone();
        async move {
            let mut body = s3.get_object("out", &key, None, None).await.expect("get");
            let mut bytes = Vec::new();
            while let Some(c) = body.chunk().await.expect("chunk") {
                bytes.extend_from_slice(&c);
            }
            bytes
        }
    };
    let stored: Value =
        serde_json::from_slice(&read(format!("{folder}manifest.json")).await).expect("manifest");
    assert_eq!(stored, manifest);
    assert_eq!(stored["DestinationBucket"], "out");
    let succeeded = read(format!("{folder}SUCCEEDED_0.json")).await;
    assert!(succeeded.len() > 10 * 1024 * 1024);
    assert_eq!(
        stored["ResultFiles"]["SUCCEEDED"][0]["Size"],
        succeeded.len()
    );
    let lines: Vec<Value> = succeeded
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 11_988);
    assert_eq!(lines[0]["Name"], "11999");
    assert_eq!(lines[0]["Status"], "SUCCEEDED");
    assert_eq!(lines[0]["StartDate"], "2023-11-14T22:13:20.000Z");
    let failed = read(format!("{folder}FAILED_0.json")).await;
    let failed: Vec<Value> = failed
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    assert_eq!(failed.len(), 12);
    assert_eq!(
        (failed[0]["Error"].as_str(), failed[0].get("Output")),
        (Some("Boom"), None)
    );
    assert_eq!(stored["ResultFiles"]["PENDING"], json!([]));
}

/// A child's result as a coordinator hands it over: `ok` children output `output`, the others
/// fail with `Task.Bad`.
fn child(i: u64, ok: bool, output: &str) -> ChildResult {
    ChildResult {
        index: i,
        execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:orders/Map:c-{i}"),
        name: format!("c-{i}"),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:orders/Map".into(),
        status: if ok {
            ChildStatus::Succeeded
        } else {
            ChildStatus::Failed
        },
        input: format!("{{\"order\":{i}}}"),
        output: ok.then(|| output.to_owned()),
        error: (!ok).then(|| "Task.Bad".into()),
        cause: (!ok).then(|| format!("order {i} is bad")),
        start_date: chrono::DateTime::from_timestamp_millis(1_738_646_362_637 + i as i64),
        stop_date: chrono::DateTime::from_timestamp_millis(1_738_646_362_730 + i as i64),
        redrive_count: 0,
        redrive_status: if ok {
            "NOT_REDRIVABLE".into()
        } else {
            "REDRIVABLE_BY_MAP_RUN".into()
        },
        redrive_status_reason: ok.then(|| "Execution is SUCCEEDED and cannot be redriven".into()),
    }
}

async fn object(s3: &S3, bucket: &str, key: &str) -> Vec<u8> {
    let mut body = s3.get_object(bucket, key, None, None).await.expect("get");
    let mut bytes = Vec::new();
    while let Some(c) = body.chunk().await.expect("chunk") {
        bytes.extend_from_slice(&c);
    }
    bytes
}

/// The file shapes the guide's "ResultWriter (Map)" describes, read back from S3 as a user
/// would: the manifest, each status's file, the Map state's output, for each transformation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_files_have_the_documented_shapes() {
    let Some(moto) = moto() else { return };
    let client = client(&moto);
    let s3 = s3(&client);
    bucket(&client, "results").await;
    let store: Arc<dyn ObjectStore> = Arc::new(s3.clone());
    let run = "arn:aws:states:us-east-1:123456789012:mapRun:orders/Map:ad9b5f27-090b-3ac6-9beb-243cd77144a7";
    let id = "ad9b5f27-090b-3ac6-9beb-243cd77144a7";
    // Child 2 fails; the others output an array (FLATTEN spreads it) or an object.
    let outputs = ["[1,2]", "{\"total\":5}", "", "[]", "[{\"x\":true}]"];
    let children: Vec<ChildResult> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| child(i as u64, i != 2, o))
        .collect();
    let write = |writer_config: Option<Value>, prefix: &'static str| {
        let store = store.clone();
        let children = children.clone();
        async move {
            let mut rw = json!({"Resource": "arn:aws:states:::s3:putObject"});
            if let Some(c) = writer_config {
                rw["WriterConfig"] = c;
            }
            let spec =
                ResultWriterSpec::parse(&rw, Some(&json!({"Bucket": "results", "Prefix": prefix})))
                    .expect("spec");
            let mut writer = ResultWriter::new(spec, store, run);
            // In the order the children end, not their items'.
            for i in [4, 2, 0, 3, 1] {
                writer.add(&children[i]).await.expect("add");
            }
            writer.finish().await.expect("finish")
        }
    };

    // Resource and Parameters alone: NONE, each file one JSON array of the children's records.
    let WriterOutcome::Exported { output, manifest } = write(None, "plain").await else {
        panic!("exported expected");
    };
    let folder = format!("plain/{id}/");
    assert_eq!(
        output,
        json!({"MapRunArn": run, "ResultWriterDetails": {"Bucket": "results", "Key": format!("{folder}manifest.json")}})
    );
    let stored: Value =
        serde_json::from_slice(&object(&s3, "results", &format!("{folder}manifest.json")).await)
            .expect("manifest");
    assert_eq!(stored, manifest);
    let succeeded = object(&s3, "results", &format!("{folder}SUCCEEDED_0.json")).await;
    let failed = object(&s3, "results", &format!("{folder}FAILED_0.json")).await;
    assert_eq!(
        stored,
        json!({
            "DestinationBucket": "results",
            "MapRunArn": run,
            "ResultFiles": {
                "FAILED": [{"Key": format!("{folder}FAILED_0.json"), "Size": failed.len()}],
                "PENDING": [],
                "SUCCEEDED": [{"Key": format!("{folder}SUCCEEDED_0.json"), "Size": succeeded.len()}],
            }
        })
    );
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let records: Vec<Value> = serde_json::from_slice(&succeeded).expect("a JSON array");
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[0],
        json!({
            "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:orders/Map:c-4",
            "Input": "{\"order\":4}",
            "InputDetails": {"Included": true},
            "Name": "c-4",
            "Output": "[{\"x\":true}]",
            "OutputDetails": {"Included": true},
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
            "StartDate": "2025-02-04T05:19:22.641Z",
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:orders/Map",
            "Status": "SUCCEEDED",
            "StopDate": "2025-02-04T05:19:22.734Z"
        })
    );
    assert_eq!(
        keys(&records[0]),
        [
            "ExecutionArn",
            "Input",
            "InputDetails",
            "Name",
            "Output",
            "OutputDetails",
            "RedriveCount",
            "RedriveStatus",
            "RedriveStatusReason",
            "StartDate",
            "StateMachineArn",
            "Status",
            "StopDate"
        ]
    );
    let failures: Vec<Value> = serde_json::from_slice(&failed).expect("a JSON array");
    assert_eq!(failures.len(), 1);
    assert_eq!(
        keys(&failures[0]),
        [
            "Cause",
            "Error",
            "ExecutionArn",
            "Input",
            "InputDetails",
            "Name",
            "RedriveCount",
            "RedriveStatus",
            "StartDate",
            "StateMachineArn",
            "Status",
            "StopDate"
        ]
    );
    assert_eq!(
        (
            &failures[0]["Error"],
            &failures[0]["Cause"],
            &failures[0]["Status"]
        ),
        (
            &json!("Task.Bad"),
            &json!("order 2 is bad"),
            &json!("FAILED")
        )
    );

    // COMPACT: each succeeded child's output itself (parsed); the failed one still its record.
    let WriterOutcome::Exported { manifest, .. } =
        write(Some(json!({"Transformation": "COMPACT"})), "compact").await
    else {
        panic!("exported expected");
    };
    let key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let compact: Vec<Value> =
        serde_json::from_slice(&object(&s3, "results", &key).await).expect("array");
    assert_eq!(
        compact,
        [
            json!([{"x": true}]),
            json!([1, 2]),
            json!([]),
            json!({"total": 5})
        ],
        "in the order the results were given"
    );
    let key = manifest["ResultFiles"]["FAILED"][0]["Key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let failures: Vec<Value> =
        serde_json::from_slice(&object(&s3, "results", &key).await).expect("array");
    assert_eq!(failures[0]["Error"], "Task.Bad");

    // FLATTEN as JSON Lines: an array output's elements each on its own line.
    let WriterOutcome::Exported { manifest, .. } = write(
        Some(json!({"Transformation": "FLATTEN", "OutputType": "JSONL"})),
        "flat/",
    )
    .await
    else {
        panic!("exported expected");
    };
    let key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(key, format!("flat/{id}/SUCCEEDED_0.json"));
    let text = String::from_utf8(object(&s3, "results", &key).await).expect("text");
    assert_eq!(text, "{\"x\":true}\n1\n2\n{\"total\":5}\n");

    // WriterConfig alone: nothing exported, the results in item order for the state's output.
    let spec = ResultWriterSpec::parse(&json!({"WriterConfig": {"Transformation": "NONE"}}), None)
        .expect("spec");
    let mut writer = ResultWriter::new(spec, store.clone(), run);
    for i in [4, 2, 0, 3, 1] {
        writer.add(&children[i]).await.expect("add");
    }
    let WriterOutcome::Inline(results) = writer.finish().await.expect("finish") else {
        panic!("inline expected");
    };
    let names: Vec<&str> = results.iter().filter_map(|r| r["Name"].as_str()).collect();
    assert_eq!(names, ["c-0", "c-1", "c-2", "c-3", "c-4"]);
    assert_eq!(results[2]["Status"], "FAILED");
    assert_eq!(results[1]["Output"], "{\"total\":5}");
}
