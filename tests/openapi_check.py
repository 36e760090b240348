#!/usr/bin/env python3
"""Checks docs/openapi.yaml with real validators (run by tests/openapi.rs; .ci/run installs them).

usage: openapi_check.py SPEC [RESPONSES.json] [SRC_DIR]

1. SPEC validates as OpenAPI 3.1 (openapi-spec-validator).
2. Every recorded response validates (JSON Schema 2020-12, jsonschema) against the schema SPEC
   gives for its path, method, status and media type; records marked "expect_invalid" must fail
   (the check must be able to fail).
3. Every problem code and verdict error code written as a literal in SRC_DIR is in SPEC's
   ProblemCode / ErrorCode enums, so a new code cannot ship undocumented.
"""
import json
import pathlib
import re
import sys

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate


def pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(spec, node):
    """Follows a $ref to a components/responses entry (a JSON pointer into SPEC)."""
    while isinstance(node, dict) and "$ref" in node:
        cur = spec
        parts = node["$ref"].lstrip("#/").split("/")
        for p in parts:
            cur = cur[p.replace("~1", "/").replace("~0", "~")]
        node = cur
    return node


# What any path answers (info.description): an unknown path 404, a method a path does not take 405.
GENERAL = {404: "NotFound", 405: "MethodNotAllowed"}


def schema_pointer(spec, rec):
    item = spec["paths"].get(rec["path"])
    op = (item or {}).get(rec["method"])
    if op is None:
        general = (item is None and rec["status"] == 404) or (item is not None and rec["status"] == 405)
        if not general:
            return None, f"{rec['method'].upper()} {rec['path']} is not documented"
        op = {"responses": {str(rec["status"]): {"$ref": "#/components/responses/" + GENERAL[rec["status"]]}}}
    resp = op["responses"].get(str(rec["status"]))
    if resp is None:
        return None, f"{rec['method'].upper()} {rec['path']} answered {rec['status']}, not documented"
    base = ["paths", rec["path"], rec["method"], "responses", str(rec["status"])]
    if "$ref" in resp:
        base = resp["$ref"].lstrip("#/").split("/")
        base = [p.replace("~1", "/").replace("~0", "~") for p in base]
        resp = resolve(spec, resp)
    if rec["media"] not in resp.get("content", {}):
        return None, f"{rec['method'].upper()} {rec['path']} {rec['status']}: no schema for {rec['media']}"
    return pointer(*base, "content", rec["media"], "schema"), None


def check_responses(spec, records):
    errors = []
    for rec in records:
        ptr, err = schema_pointer(spec, rec)
        if err:
            errors.append(err)
            continue
        # The whole document as the root schema, so '#/components/...' references resolve; its
        # OpenAPI keys are unknown keywords to JSON Schema and ignored.
        root = dict(spec)
        root["$ref"] = ptr
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        v = Draft202012Validator(root)
        found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(rec["body"])]
        label = f"{rec['method'].upper()} {rec['path']} {rec['status']} ({rec.get('why', 'response')})"
        if rec.get("expect_invalid"):
            if not found:
                errors.append(f"{label}: the validator accepted a body that violates the schema")
        elif found:
            errors.append(f"{label}: {found[:5]}\n  body: {json.dumps(rec['body'])[:400]}")
    return errors


# Literal codes in the source: Problem::new(STATUS, "code", …), Problem::unavailable("code", …),
# and the problem.rs constructors' codes; verdict errors given to fail/with_error/format_failure/
# ErrorEntry::new, or as (SubIndication, "code") pairs of an error mapping.
PROBLEM_RES = [
    re.compile(r'Problem::new\(\s*[A-Za-z_:]+,\s*"([a-z0-9-]+)"'),
    re.compile(r'Problem::unavailable\(\s*"([a-z0-9-]+)"'),
    re.compile(r'Self::new\(\s*[A-Za-z_:]+,\s*"([a-z0-9-]+)"'),
]
ERROR_RES = [
    re.compile(r'(?:\.fail|with_error|format_failure|ErrorEntry::new)\(\s*(?:[A-Za-z_:]+(?:\([^)]*\))?,\s*)?"([a-z0-9-]+)"'),
    re.compile(r'(?:S|SubIndication)::[A-Z_]+,\s*"([a-z0-9-]+)"'),
]


def check_codes(spec, src):
    schemas = spec["components"]["schemas"]
    problem_enum = set(schemas["ProblemCode"]["enum"])
    error_enum = set(schemas["ErrorCode"]["enum"])
    errors = []
    for f in sorted(pathlib.Path(src).rglob("*.rs")):
        text = f.read_text()
        for rx in PROBLEM_RES:
            for m in rx.finditer(text):
                if m.group(1) not in problem_enum:
                    errors.append(f"{f}: problem code {m.group(1)!r} is not in ProblemCode")
        for rx in ERROR_RES:
            for m in rx.finditer(text):
                if m.group(1) not in error_enum:
                    errors.append(f"{f}: error code {m.group(1)!r} is not in ErrorCode")
    return errors


def main():
    spec_path = sys.argv[1]
    spec = yaml.safe_load(pathlib.Path(spec_path).read_text())
    validate(spec)  # raises on an invalid OpenAPI 3.1 document
    print(f"{spec_path}: valid OpenAPI {spec['openapi']}")
    errors = []
    if len(sys.argv) > 2:
        records = json.loads(pathlib.Path(sys.argv[2]).read_text())
        errors += check_responses(spec, records)
        print(f"{len(records)} responses checked")
    if len(sys.argv) > 3:
        errors += check_codes(spec, sys.argv[3])
    for e in errors:
        print("ERROR:", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
