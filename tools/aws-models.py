#!/usr/bin/env python3
"""Builds crates/aws/models/bundle.bin: the AWS service API models that `aws-sdk:*` Task states
are driven by, taken from botocore's published models (Apache-2.0), stripped of everything the
wire does not need (documentation, examples, constraints), each compressed on its own so that
Stepwise decompresses only the services a workflow calls.

Usage: tools/aws-models.py [BOTOCORE_WHEEL]   (without one, pip downloads the newest botocore)

Layout of the bundle: b"SWM1", a little-endian u32 N, N bytes of JSON index, then the blobs.
The index: {"botocore": version, "services": {sdk_name: {"model": botocore dir, "offset": o,
"len": n}}, "global": {endpointPrefix: {"hostname": h, "region": r}}}. Each blob is zlib'd JSON:
{"metadata": {...}, "operations": {...}, "shapes": {...}}.

`sdk_name` is how a Task's Resource names the service (`arn:aws:states:::aws-sdk:NAME:action`):
the AWS SDK for Java 2.x client's name, lowercased. It is derived from the model's serviceId
(see `java_client_name`)."""

import gzip
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "aws", "models", "bundle.bin")

KEEP_METADATA = {
    "apiVersion", "endpointPrefix", "globalEndpoint", "jsonVersion", "protocol", "protocols",
    "serviceId", "signatureVersion", "signingName", "targetPrefix", "xmlNamespace",
    "awsQueryCompatible",
}
KEEP_OPERATION = {
    "name", "http", "input", "output", "errors", "endpoint", "httpChecksumRequired", "httpChecksum",
}
KEEP_SHAPE = {
    "type", "members", "required", "member", "key", "value", "payload", "error", "exception",
    "timestampFormat", "flattened", "locationName", "xmlNamespace", "streaming", "eventstream",
    "event", "union", "document", "queryName",
}
KEEP_MEMBER = {
    "shape", "location", "locationName", "xmlNamespace", "xmlAttribute", "flattened",
    "timestampFormat", "jsonvalue", "queryName", "streaming", "idempotencyToken", "hostLabel",
    "eventpayload", "ec2QueryName", "resultWrapper",
}


def java_client_name(service_id):
    """The AWS SDK for Java 2.x client name of a service: its serviceId's words, each
    capitalised, acronyms of two or more capitals kept as one word with the rest in lower case
    ("DynamoDB" -> "DynamoDb", "SFN" -> "Sfn", "Secrets Manager" -> "SecretsManager")."""
    out = []
    for word in re.split(r"[^A-Za-z0-9]+", service_id):
        if not word:
            continue
        parts = re.findall(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|$)|[A-Z]{2,}|[A-Z]?[a-z]+|[A-Z]|\d+[A-Za-z]*", word)
        for p in parts:
            out.append(p[0].upper() + p[1:].lower() if p.isupper() and len(p) > 1 else p[0].upper() + p[1:])
    return "".join(out)


def strip(model):
    meta = {k: v for k, v in model["metadata"].items() if k in KEEP_METADATA}
    meta["javaName"] = java_client_name(model["metadata"]["serviceId"])
    ops = {}
    for name, op in model["operations"].items():
        ops[name] = {k: v for k, v in op.items() if k in KEEP_OPERATION}
        for k in ("input", "output"):
            if k in ops[name]:
                ops[name][k] = {kk: vv for kk, vv in ops[name][k].items() if kk in KEEP_MEMBER}
    shapes = {}
    for name, shape in model["shapes"].items():
        s = {k: v for k, v in shape.items() if k in KEEP_SHAPE}
        if "members" in s:
            s["members"] = {m: {k: v for k, v in d.items() if k in KEEP_MEMBER} for m, d in s["members"].items()}
        for k in ("member", "key", "value"):
            if k in s:
                s[k] = {kk: vv for kk, vv in s[k].items() if kk in KEEP_MEMBER}
        shapes[name] = s
    return {"metadata": meta, "operations": ops, "shapes": shapes}


def newest(files, service):
    versions = sorted({f.split("/")[3] for f in files if f.startswith(f"botocore/data/{service}/") and f.count("/") == 4})
    for v in reversed(versions):
        for suffix in ("service-2.json.gz", "service-2.json"):
            path = f"botocore/data/{service}/{v}/{suffix}"
            if path in files:
                return path
    return None


def main():
    if len(sys.argv) > 1:
        wheel = sys.argv[1]
    else:
        tmp = tempfile.mkdtemp()
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "botocore"])
        wheel = os.path.join(tmp, os.listdir(tmp)[0])
    version = re.search(r"botocore-([^-]+)-", os.path.basename(wheel)).group(1)
    z = zipfile.ZipFile(wheel)
    files = set(z.namelist())
    services = sorted({f.split("/")[2] for f in files if f.startswith("botocore/data/") and f.count("/") == 4})
    index = {"botocore": version, "services": {}, "global": {}}
    blobs = io.BytesIO()
    for service in services:
        path = newest(files, service)
        if not path:
            continue
        raw = z.read(path)
        model = json.loads(gzip.decompress(raw) if path.endswith(".gz") else raw)
        stripped = strip(model)
        name = stripped["metadata"]["javaName"].lower()
        if name in index["services"]:
            # Two botocore models for one client name (an old and a new API): keep the first
            # in botocore's own order unless this one is the service's canonical directory.
            if service != name:
                continue
        blob = zlib.compress(json.dumps(stripped, separators=(",", ":")).encode(), 9)
        index["services"][name] = {"model": service, "offset": blobs.tell(), "len": len(blob)}
        blobs.write(blob)
    endpoints = json.loads(z.read("botocore/data/endpoints.json"))
    for part in endpoints["partitions"]:
        if part["partition"] != "aws":
            continue
        for prefix, svc in part["services"].items():
            if svc.get("isRegionalized") is False and "partitionEndpoint" in svc:
                ep = svc["endpoints"].get(svc["partitionEndpoint"], {})
                index["global"][prefix] = {
                    "hostname": ep.get("hostname", f"{prefix}.amazonaws.com"),
                    "region": ep.get("credentialScope", {}).get("region", "us-east-1"),
                }
    head = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
    with open(OUT, "wb") as f:
        f.write(b"SWM1" + struct.pack("<I", len(head)) + head + blobs.getvalue())
    print(f"{len(index['services'])} services from botocore {version}: {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
