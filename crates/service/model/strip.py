#!/usr/bin/env python3
"""Writes the Step Functions service model without its "documentation" members.

One thing the documentation says is kept, as a Stepwise annotation: a structure member whose
documentation says "Length constraints apply to the payload size, and are expressed as bytes in
UTF-8 encoding" (execution input, task output) gets `"lengthInUtf8Bytes": true`, so its length
is counted in UTF-8 bytes, not in characters as the model's `max` otherwise is.

Usage: strip.py [SOURCE] [DEST]
Defaults: ../../../../shared/aws/stepfunctions-2016-11-23.service.json -> stepfunctions.json
(both relative to this script). The output is what `crates/api` embeds: shapes, operations and
their constraints, and nothing a request check does not need to read.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(
    HERE, "..", "..", "..", "..", "shared", "aws", "stepfunctions-2016-11-23.service.json"
)
DEFAULT_DEST = os.path.join(HERE, "stepfunctions.json")


UTF8_BYTES = "expressed as bytes in UTF-8 encoding"


def strip(node):
    if isinstance(node, dict):
        out = {k: strip(v) for k, v in node.items() if k != "documentation"}
        if "shape" in node and UTF8_BYTES in node.get("documentation", ""):
            out["lengthInUtf8Bytes"] = True
        return out
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main(argv):
    source = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    dest = argv[2] if len(argv) > 2 else DEFAULT_DEST
    with open(source, encoding="utf-8") as f:
        model = json.load(f)
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(strip(model), f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
