"""Each kind of Distributed Map ItemReader through a state machine: `stepwise serve` reading moto's
S3 (MOTO_URL; the Rust harness, e2e_distributed.rs, points the server at it), boto3 running the
state machines. CSV with its header row and with headers given (and other delimiters), JSON with
ItemsPointer, JSON Lines, Parquet (written with pyarrow), an S3 Inventory manifest with its gzipped
CSV files, a listObjectsV2 prefix of 5,000 keys (five pages), and MaxItems.

Each test checks what a user sees: the parent's output (the children's outputs in item order,
computed here from the data the test wrote), the children ListExecutions(mapRunArn) lists, and
DescribeMapRun's item counts."""

import concurrent.futures
import csv
import gzip
import hashlib
import io
import json
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from common import client, moto, run_machine, run_tests, succeeded

sfn = client()
BUCKET = "stepwise-e2e-readers"
PASS = {"Work": {"Type": "Pass", "End": True}}


def s3():
    c = moto("s3", max_pool_connections=32)
    c.create_bucket(Bucket=BUCKET)
    return c


def read_with(reader, processor=None, input=None, timeout=60, **map_fields):
    """Runs a state machine whose one state is a Distributed Map (Standard children) reading with
    `reader`. Returns the parent's output and the Map Run's ARN, after checking that the Map Run
    succeeded and that its children, as ListExecutions(mapRunArn) lists them, are one a result."""
    states = {
        "Read": {
            "Type": "Map",
            "ItemReader": reader,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Work",
                "States": processor or PASS,
            },
            "End": True,
            **map_fields,
        }
    }
    d = run_machine(sfn, states, input, timeout=timeout)
    out = succeeded(d)
    runs = sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"]
    assert len(runs) == 1, runs
    map_run = runs[0]["mapRunArn"]
    children = []
    for page in sfn.get_paginator("list_executions").paginate(mapRunArn=map_run,
                                                            PaginationConfig={"PageSize": 1000}):
        children += page["executions"]
    assert len(children) == len(out), f"{len(children)} children listed for {len(out)} results"
    statuses = {c["status"] for c in children}
    assert statuses <= {"SUCCEEDED"}, statuses
    run = sfn.describe_map_run(mapRunArn=map_run)
    assert run["status"] == "SUCCEEDED", run["status"]
    items = run["itemCounts"]
    assert (items["total"], items["succeeded"], items["pending"], items["failed"]) == (len(out), len(out), 0, 0), items
    assert run["executionCounts"]["total"] == len(out), run["executionCounts"]
    return out, map_run


def get_object(key, **config):
    return {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
            "Parameters": {"Bucket": BUCKET, "Key": key}}


def test_csv_with_its_header_row_in_other_delimiters():
    client_ = s3()
    header = ["id", "city", "note"]
    rows = [[str(i), f"city {i}", f"a;b|c {i}" if i % 3 == 0 else ""] for i in range(40)]
    for name, sep in (("SEMICOLON", ";"), ("PIPE", "|"), ("TAB", "\t")):
        text = io.StringIO()
        csv.writer(text, delimiter=sep, lineterminator="\n").writerows([header] + rows)
        key = f"csv/{name}.csv"
        client_.put_object(Bucket=BUCKET, Key=key, Body=text.getvalue().encode())
        out, _ = read_with(get_object(key, InputType="CSV", CSVHeaderLocation="FIRST_ROW", CSVDelimiter=name))
        want = [dict(zip(header, r)) for r in rows]
        assert out == want, f"{name}: {out[:3]} ... vs {want[:3]} ..."


def test_csv_with_headers_given():
    client_ = s3()
    rows = [[str(i), f"user-{i}", f"{i * 1.5}"] for i in range(25)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    client_.put_object(Bucket=BUCKET, Key="csv/given.csv", Body=text.getvalue().encode())
    headers = ["userId", "name", "score"]
    out, _ = read_with(get_object("csv/given.csv", InputType="CSV", CSVHeaderLocation="GIVEN",
                                  CSVHeaders=headers))
    assert out == [dict(zip(headers, r)) for r in rows], out[:3]
    # Given headers with another delimiter: the first row is an item too.
    text = io.StringIO()
    csv.writer(text, delimiter="|", lineterminator="\n").writerows(rows)
    client_.put_object(Bucket=BUCKET, Key="csv/given-pipe.csv", Body=text.getvalue().encode())
    out, _ = read_with(get_object("csv/given-pipe.csv", InputType="CSV", CSVHeaderLocation="GIVEN",
                                  CSVHeaders=headers, CSVDelimiter="PIPE"))
    assert out == [dict(zip(headers, r)) for r in rows], out[:3]
    # With MaxItems, only the first rows; an ItemSelector sees each row as the child's item.
    out, _ = read_with(get_object("csv/given.csv", InputType="CSV", CSVHeaderLocation="GIVEN",
                                  CSVHeaders=headers, MaxItems=7),
                       ItemSelector={"who.$": "$$.Map.Item.Value.name", "at.$": "$$.Map.Item.Index"})
    assert out == [{"who": f"user-{i}", "at": i} for i in range(7)], out


def test_json_with_an_items_pointer():
    client_ = s3()
    items = [{"sku": f"S{i:03}", "qty": i, "tags": ["a"] * (i % 3)} for i in range(60)]
    doc = {"meta": {"count": len(items), "items": "not these"}, "data": {"page": {"items": items}}}
    client_.put_object(Bucket=BUCKET, Key="json/doc.json", Body=json.dumps(doc).encode())
    out, _ = read_with(get_object("json/doc.json", InputType="JSON", ItemsPointer="/data/page/items"))
    assert out == items, out[:2]
    # A plain array, and MaxItems on it.
    client_.put_object(Bucket=BUCKET, Key="json/array.json", Body=json.dumps(items).encode())
    out, _ = read_with(get_object("json/array.json", InputType="JSON", MaxItems=12))
    assert out == items[:12], out


def test_json_lines():
    client_ = s3()
    lines = [{"n": i, "word": "x" * (i % 7)} for i in range(300)]
    body = "\n".join(json.dumps(x) for x in lines) + "\n"
    client_.put_object(Bucket=BUCKET, Key="jsonl/lines.jsonl", Body=body.encode())
    out, _ = read_with(get_object("jsonl/lines.jsonl", InputType="JSONL"),
                       {"Work": {"Type": "Pass", "Parameters": {"n.$": "$.n", "word.$": "$.word", "index.$": "$.index"},
                                 "End": True}},
                       MaxConcurrency=100,
                       ItemSelector={"n.$": "$$.Map.Item.Value.n", "word.$": "$$.Map.Item.Value.word",
                                     "index.$": "$$.Map.Item.Index"})
    assert out == [{**x, "index": i} for i, x in enumerate(lines)], out[:3]


def test_parquet_rows_across_row_groups():
    client_ = s3()
    n = 1000
    table = pa.table({
        "id": pa.array(range(n), type=pa.int64()),
        "name": pa.array([f"row-{i}" for i in range(n)], type=pa.string()),
        "price": pa.array([i / 4 for i in range(n)], type=pa.float64()),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=300, compression="snappy")
    client_.put_object(Bucket=BUCKET, Key="parquet/rows.parquet", Body=sink.getvalue())
    meta = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
    assert meta.num_row_groups == 4, meta.num_row_groups
    out, _ = read_with(get_object("parquet/rows.parquet", InputType="PARQUET"), MaxConcurrency=200, timeout=120)
    assert out == [{"id": i, "name": f"row-{i}", "price": i / 4} for i in range(n)], out[:3]


def inventory(client_, source, objects, files=2):
    """An S3 Inventory report as S3 writes one: gzipped CSV data files (every field quoted, keys
    URL-encoded) under `data/`, and a dated `manifest.json` naming them with the schema.
    Returns the manifest's key."""
    base = f"inventory/{source}/daily"
    schema = ["Bucket", "Key", "Size", "LastModifiedDate", "ETag", "StorageClass"]
    per_file = -(-len(objects) // files)
    listed = []
    for f in range(files):
        chunk = objects[f * per_file:(f + 1) * per_file]
        text = io.StringIO()
        csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            [source, key, str(size), modified, etag, "STANDARD"] for key, size, modified, etag in chunk)
        data = gzip.compress(text.getvalue().encode())
        key = f"{base}/data/{uuid.uuid4()}.csv.gz"
        client_.put_object(Bucket=BUCKET, Key=key, Body=data)
        listed.append({"key": key, "size": len(data), "MD5checksum": hashlib.md5(data).hexdigest()})
    manifest = {
        "sourceBucket": source,
        "destinationBucket": f"arn:aws:s3:::{BUCKET}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(time.time() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": ", ".join(schema),
        "files": listed,
    }
    key = f"{base}/2026-12-01T01-00Z/manifest.json"
    client_.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(manifest).encode())
    return key, schema


def test_an_s3_inventory_manifest():
    client_ = s3()
    objects = [(f"photos/{i:04}.jpg", 1000 + i, f"2026-11-{1 + i % 28:02}T10:00:00.000Z", hashlib.md5(str(i).encode()).hexdigest())
               for i in range(150)]
    key, schema = inventory(client_, "source-bucket", objects, files=3)
    out, _ = read_with(get_object(key, InputType="MANIFEST"))
    want = [dict(zip(schema, ["source-bucket", k, str(s), m, e, "STANDARD"])) for k, s, m, e in objects]
    assert out == want, f"{out[:2]} vs {want[:2]}"
    # MaxItems across the data files.
    out, _ = read_with(get_object(key, InputType="MANIFEST", MaxItems=60),
                       ItemSelector={"key.$": "$$.Map.Item.Value.Key"})
    assert out == [{"key": k} for k, _, _, _ in objects[:60]], out[:3]


def test_a_prefix_of_five_thousand_keys_is_listed_in_pages():
    client_ = s3()
    keys = [f"many/{i:05}.txt" for i in range(5000)]

    def put(k):
        client_.put_object(Bucket=BUCKET, Key=k, Body=b"x" * (len(k) % 7 + 1))

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(put, keys + ["many-not/1.txt", "other/2.txt"]))
    # What S3 itself says of each object: the item a child gets describes it.
    listed = {}
    for page in client_.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="many/"):
        for o in page["Contents"]:
            listed[o["Key"]] = o
    assert len(listed) == 5000
    out, map_run = read_with({"Resource": "arn:aws:states:::s3:listObjectsV2",
                              "Parameters": {"Bucket": BUCKET, "Prefix": "many/"}},
                             {"Work": {"Type": "Pass", "End": True,
                                       "Parameters": {"k.$": "$.Key", "s.$": "$.Size"}}},
                             MaxConcurrency=1000, timeout=300)
    assert out == [{"k": k, "s": len(k) % 7 + 1} for k in keys], out[:3]
    # One child's whole item.
    first = sfn.list_executions(mapRunArn=map_run, maxResults=1)["executions"][0]
    item = json.loads(sfn.describe_execution(executionArn=first["executionArn"])["input"])
    o = listed[item["Key"]]
    assert item == {"Etag": o["ETag"], "Key": o["Key"], "LastModified": int(o["LastModified"].timestamp()),
                    "Size": o["Size"], "StorageClass": o["StorageClass"]}, item
    # MaxItems on a listing: the first keys.
    out, _ = read_with({"Resource": "arn:aws:states:::s3:listObjectsV2", "ReaderConfig": {"MaxItems": 1500},
                        "Parameters": {"Bucket": BUCKET, "Prefix": "many/"}},
                       ItemSelector={"k.$": "$$.Map.Item.Value.Key"}, MaxConcurrency=500, timeout=120)
    assert out == [{"k": k} for k in keys[:1500]], out[-2:]


if __name__ == "__main__":
    run_tests(globals())
