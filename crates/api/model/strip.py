#!/usr/bin/env python3
"""Writes the Step Functions service model without its "documentation" members.

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


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "documentation"}
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
