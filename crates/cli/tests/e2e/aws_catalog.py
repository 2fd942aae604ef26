"""Every AWS service moto stands in for, reached through `aws-sdk:SERVICE:action` Task states of
one generated state machine (tests/e2e_aws_catalog.rs points `stepwise serve` at moto's server).

Nothing here names a service. The list comes from data: the services in Stepwise's model bundle
(crates/aws/models/bundle.bin, with each one's botocore model directory) that moto has a backend
for; for each, the read-only actions (List*, Describe*, Get*) with no required members, those
moto's responses implement first. Each candidate is called with boto3 against moto; the first
that succeeds is the service's action, and what boto3 got is the expected result. Services where
no candidate succeeds in moto are skipped (counted and listed). `sfn` is left out: aws-sdk:sfn
reaches Stepwise itself.

One state machine holds a Choice on $.service and a Task per service; one Express execution
per service (StartSyncExecution, in parallel) must succeed with the result boto3 got, read as
Step Functions gives it (PascalCase members, ISO-8601 timestamps, blobs as text).

Usage: aws_catalog.py BUNDLE MIN_SERVICES. Prints the services by protocol and every mismatch;
fails when fewer than MIN_SERVICES match, when any service that moto answers differs, or when a
protocol is not covered."""

import datetime
import importlib
import inspect
import json
import struct
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor


from common import client, create_machine, moto

PROTOCOLS = ["json", "rest-json", "rest-xml", "query", "ec2"]
# Services a Task reaches elsewhere than moto.
NOT_MOTO = {"sfn": "aws-sdk:sfn reaches Stepwise itself"}
# How many actions are tried per service; of those moto answers, the one with the most in its
# result (up to RICHEST_BYTES of JSON) is taken, so that the results exercise the protocols.
CANDIDATES_PER_SERVICE = 6
RICHEST_BYTES = 64 * 1024
# moto stamps some values at each call (an STS session's expiry, a default resource made on
# first use): timestamps this close are the same.
TIMESTAMP_SLACK_SECONDS = 120


def read_bundle(path):
    """The bundle's index and a function that decompresses one service's model."""
    with open(path, "rb") as f:
        raw = f.read()
    assert raw[:4] == b"SWM1", "not a Stepwise model bundle"
    n = struct.unpack("<I", raw[4:8])[0]
    index = json.loads(raw[8 : 8 + n])
    blobs = raw[8 + n :]

    def model(name):
        e = index["services"][name]
        return json.loads(zlib.decompress(blobs[e["offset"] : e["offset"] + e["len"]]))

    return index, model


def stepwise_protocol(metadata):
    """The protocol Stepwise speaks to the service (crates/aws/src/model.rs: the first of
    `protocols` it knows)."""
    for p in metadata.get("protocols") or []:
        if p in PROTOCOLS:
            return p
    return metadata["protocol"]


def moto_backends():
    import moto.backends as mb

    modules = set(mb.list_of_moto_modules())
    alt = getattr(mb, "ALT_SERVICE_NAMES", {})

    def module_of(boto_name):
        m = boto_name.replace("-", "")
        m = alt.get(m, m)
        return m if m in modules else None

    return module_of


def moto_methods(module):
    """The method names of moto's response classes for a backend module: the actions it
    implements, in snake case."""
    try:
        responses = importlib.import_module(f"moto.{module}.responses")
    except Exception:  # noqa: BLE001 - a module without responses implements nothing we can see
        return set()
    names = set()
    for _, cls in inspect.getmembers(responses, inspect.isclass):
        if cls.__module__.startswith("moto.") and hasattr(cls, "dispatch"):
            names.update(n for n in dir(cls) if not n.startswith("_"))
    return names


def candidates(model, boto, implemented):
    """Read-only actions without required members, those moto implements first, then List
    before Describe before Get, shorter names first."""
    out = []
    for name, op in model["operations"].items():
        kind = next((i for i, p in enumerate(("List", "Describe", "Get")) if name.startswith(p)), None)
        if kind is None:
            continue
        inp = op.get("input")
        if inp and model["shapes"][inp["shape"]].get("required"):
            continue
        outp = op.get("output")
        if outp:
            members = model["shapes"][outp["shape"]].get("members", {})
            if any(
                model["shapes"][m["shape"]].get("streaming") or model["shapes"][m["shape"]].get("eventstream")
                for m in members.values()
            ):
                continue
        if name not in boto.meta.service_model.operation_names:
            continue
        py = boto.meta.service_model.operation_model(name)
        method = next(k for k, v in boto.meta.method_to_api_mapping.items() if v == name)
        out.append((method not in implemented, kind, len(name), name, method, py))
    return [c[3:] for c in sorted(out, key=lambda c: c[:4])]


# ----- the expected result: boto3's, read as Step Functions gives it ---------------------------


def pascal(name):
    return name[:1].upper() + name[1:]


def as_step_functions(shape, value):
    """boto3's parsed value as Step Functions' result: structure members in PascalCase, map keys
    as they are, timestamps as instants, blobs as text."""
    t = shape.type_name
    if t == "structure":
        return {
            pascal(k): as_step_functions(shape.members[k], v)
            for k, v in value.items()
            if k in shape.members
        }
    if t == "list":
        return [as_step_functions(shape.member, v) for v in value]
    if t == "map":
        return {k: as_step_functions(shape.value, v) for k, v in value.items()}
    if t == "timestamp" and isinstance(value, datetime.datetime):
        return value.timestamp()
    if t == "blob" and isinstance(value, (bytes, bytearray)):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return base64.b64encode(value).decode()
    return value


def instant(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


def differences(expected, actual, at="$"):
    """Where `actual` (Stepwise's result) differs from `expected` (boto3's, converted)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{at}: expected an object, got {json.dumps(actual)[:100]}"]
        out = []
        for k in sorted(set(expected) | set(actual)):
            if k not in actual:
                out.append(f"{at}.{k}: missing (expected {json.dumps(expected[k], default=str)[:80]})")
            elif k not in expected:
                out.append(f"{at}.{k}: not expected (got {json.dumps(actual[k])[:80]})")
            else:
                out.extend(differences(expected[k], actual[k], f"{at}.{k}"))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{at}: expected {len(expected)} items, got {json.dumps(actual)[:100]}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{at}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, str):
        # A timestamp.
        got = instant(actual)
        return [] if got is not None and abs(got - expected) < TIMESTAMP_SLACK_SECONDS else [f"{at}: expected {expected}, got {actual!r}"]
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(actual, (int, float)):
        return [] if float(expected) == float(actual) else [f"{at}: expected {expected}, got {actual}"]
    return [] if expected == actual else [f"{at}: expected {expected!r}, got {actual!r}"]


# ----- choosing each service's action ----------------------------------------------------------


def boto(service):
    return moto(service, connect_timeout=5, read_timeout=20)


def choose(item):
    """(sdk name, model, botocore name, moto module) -> a plan, or a reason to skip."""
    name, model, boto_name, module = item
    c = boto(boto_name)
    tried, best = [], None
    for op, method, op_model in candidates(model, c, moto_methods(module))[:CANDIDATES_PER_SERVICE]:
        try:
            got = getattr(c, method)()
        except Exception as e:  # noqa: BLE001 - moto does not answer this action: try the next
            tried.append(f"{op}: {type(e).__name__}: {str(e).splitlines()[0][:90]}")
            continue
        got.pop("ResponseMetadata", None)
        expected = as_step_functions(op_model.output_shape, got) if op_model.output_shape else {}
        again = getattr(c, method)()
        again.pop("ResponseMetadata", None)
        if differences(expected, as_step_functions(op_model.output_shape, again) if op_model.output_shape else {}):
            # Not the same answer twice (a random password, a fresh token): nothing to compare.
            tried.append(f"{op}: a different answer each call")
            continue
        size = len(json.dumps(expected, default=str))
        if size <= RICHEST_BYTES and (best is None or size > best[0]):
            best = (size, op, expected)
    if best is None:
        return {"service": name, "skip": "; ".join(tried) or "no read-only action without required members"}
    _, op, expected = best
    action = op[:1].lower() + op[1:]
    return {"service": name, "action": action, "protocol": stepwise_protocol(model["metadata"]),
            "expected": expected}


def main():
    bundle, floor = sys.argv[1], int(sys.argv[2])
    began = time.monotonic()
    index, load = read_bundle(bundle)
    module_of = moto_backends()
    items, skipped = [], {}
    for name, entry in sorted(index["services"].items()):
        if name in NOT_MOTO:
            skipped[name] = NOT_MOTO[name]
            continue
        module = module_of(entry["model"])
        if module is None:
            continue
        model = load(name)
        if stepwise_protocol(model["metadata"]) not in PROTOCOLS:
            skipped[name] = f"Stepwise does not speak {model['metadata']['protocol']}"
            continue
        items.append((name, model, entry["model"], module))
    with ThreadPoolExecutor(max_workers=8) as pool:
        plans = list(pool.map(choose, items))
    chosen = [p for p in plans if "skip" not in p]
    for p in plans:
        if "skip" in p:
            skipped[p["service"]] = "moto: " + p["skip"]
    print(f"{len(index['services'])} services in the bundle; {len(items)} with a moto backend; "
          f"{len(chosen)} answered by moto ({time.monotonic() - began:.1f}s)")

    # The one state machine: a Choice on $.service, a Task per service.
    states = {
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.service", "StringEquals": p["service"], "Next": p["service"]} for p in chosen],
            "Default": "Unknown",
        },
        "Unknown": {"Type": "Fail", "Error": "Unknown"},
    }
    for p in chosen:
        states[p["service"]] = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:{p['service']}:{p['action']}",
            "Parameters": {},
            "End": True,
        }
    sfn = client()
    arn = create_machine(sfn, json.dumps({"StartAt": "Route", "States": states}), prefix="catalog", type="EXPRESS")

    def run(p):
        r = client().start_sync_execution(stateMachineArn=arn, input=json.dumps({"service": p["service"]}))
        if r["status"] != "SUCCEEDED":
            return p, [f"{r['status']}: {r.get('error')}: {r.get('cause', '')[:300]}"]
        return p, differences(p["expected"], json.loads(r["output"]))

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, chosen))

    by_protocol = {}
    failed = []
    for p, diffs in outcomes:
        if diffs:
            failed.append((p, diffs))
        else:
            by_protocol.setdefault(p["protocol"], []).append(f"{p['service']}:{p['action']}")
    for proto in PROTOCOLS:
        names = by_protocol.get(proto, [])
        print(f"{proto} ({len(names)}): {', '.join(names)}")
    print(f"skipped ({len(skipped)}):")
    for name, why in sorted(skipped.items()):
        print(f"  {name}: {why[:200]}")
    for p, diffs in failed:
        print(f"MISMATCH {p['service']}:{p['action']} ({p['protocol']})")
        for d in diffs[:8]:
            print(f"    {d}")
    matched = sum(len(v) for v in by_protocol.values())
    print(f"{matched}/{len(chosen)} services matched boto3 through aws-sdk:* in "
          f"{time.monotonic() - began:.1f}s; protocols: "
          + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_protocol.items())))
    assert not failed, f"{len(failed)} services differ from boto3"
    assert matched >= floor, f"only {matched} services matched (at least {floor} expected)"
    missing = [p for p in PROTOCOLS if not by_protocol.get(p)]
    assert not missing, f"no service covered the protocols {missing}"


if __name__ == "__main__":
    main()
