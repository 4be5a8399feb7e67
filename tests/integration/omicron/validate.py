# SPDX-License-Identifier: MPL-2.0
"""Validate recorded requests and responses against the reference's schemas.

Usage: python3 validate.py [--schema-dir DIR] CASES
       python3 validate.py --check

CASES is a JSON Lines file written by test_agent_omicron.c, one exchange a
line: {"op": operationId, "dir": "request"|"response", "status": N (responses),
"content_type": "..." or null, "body": JSON value or null (no body),
"raw": "text" or "raw_len": N (a body that was not JSON, as text when it
was UTF-8, else its size)}. Each line is checked against
operations.json and the <api>.schema.json files of the schema directory
(default: this file's directory): the status must be one the reference lists
for the operation (exact code, else its 4XX/5XX range), a JSON body must be
application/json and valid against the schema named there, "null" means no
body, "binary" any bytes.

The validator is Debian's python3-jsonschema; exits 77 (the ctest skip
code) when it is not installed, 0 when every case passed, 1 when one
failed, 2 on bad usage or data.
"""
import json
import os
import sys

try:
    import jsonschema
    from jsonschema.validators import validator_for
except ImportError:
    print("SKIP: python3-jsonschema is not installed (scripts/deps.sh)")
    sys.exit(77)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def expected_schema(op, status):
    """The schema name for status, or KeyError if the reference has none."""
    responses = op["responses"]
    key = str(status)
    if key in responses:
        return responses[key]
    return responses[key[0] + "XX"]


def check_body(case, want, schemas, api):
    body = case.get("body")
    if want is None:
        if body is not None or case.get("raw") or case.get("raw_len"):
            return "the reference has no body here, got one"
        return None
    if want == "binary":
        return None
    if body is None:
        got = "none"
        if case.get("raw"):
            got = "text %r" % case["raw"][:80]
        elif case.get("raw_len"):
            got = "%d bytes that are not text" % case["raw_len"]
        return "a JSON %s body is expected, got %s" % (want, got)
    ctype = case.get("content_type")
    if case["dir"] == "response" and (
            not ctype or
            ctype.split(";")[0].strip().lower() != "application/json"):
        return "Content-Type %r, not application/json" % ctype
    root = schemas[api]
    if want not in root["$defs"]:
        raise SystemExit("validate.py: no schema %s in %s" % (want, api))
    schema = {"$schema": root["$schema"], "$defs": root["$defs"],
              "$ref": "#/$defs/" + want}
    cls = validator_for(schema)
    errors = sorted(cls(schema).iter_errors(body), key=lambda e: e.path)
    if errors:
        return "; ".join("%s at /%s" % (
            e.message, "/".join(str(p) for p in e.absolute_path))
            for e in errors)
    return None


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    if argv[1:] == ["--check"]:
        from importlib import metadata
        print("jsonschema %s at %s" % (metadata.version("jsonschema"),
                                       jsonschema.__file__))
        return 0
    schema_dir = here
    args = argv[1:]
    if len(args) == 3 and args[0] == "--schema-dir":
        schema_dir = args[1]
        args = args[2:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    ops = load(os.path.join(schema_dir, "operations.json"))["operations"]
    schemas = {}
    for api in sorted({o["api"] for o in ops.values()}):
        root = load(os.path.join(schema_dir, api + ".schema.json"))
        validator_for(root).check_schema(root)
        schemas[api] = root
    failed = 0
    n = 0
    with open(args[0], encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            case = json.loads(line)
            op = ops.get(case["op"])
            where = "%d: %s %s %s" % (lineno, case["op"], case["dir"],
                                      case.get("status", ""))
            if op is None:
                print("FAIL %s: not an operation of the reference" % where)
                failed += 1
                continue
            if case["dir"] == "request":
                want = op["request"]
            else:
                try:
                    want = expected_schema(op, case["status"])
                except KeyError:
                    print("FAIL %s: status %s is not a response the "
                          "reference lists (%s)" % (
                              where, case["status"],
                              ", ".join(op["responses"])))
                    failed += 1
                    continue
            why = check_body(case, want, schemas, op["api"])
            if why:
                print("FAIL %s (%s): %s" % (where, want, why))
                failed += 1
            else:
                print("ok   %s (%s)" % (where, want))
    print("%d of %d exchanges valid" % (n - failed, n))
    return 1 if failed or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
