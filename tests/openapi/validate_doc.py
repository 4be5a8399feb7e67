# SPDX-License-Identifier: MPL-2.0
"""Responses against the OpenAPI documents of docs/openapi/, with jsonschema.

Used by test_openapi_live.py. Checker loads sledagent.json, depot.json and
replicator.json, checks their OpenAPI 3.1 shape (openapi 3.1.x; info; each
operation with an operationId, x-roles and responses; every component schema
and response schema valid JSON Schema 2020-12 by the validator's own
check_schema) and then checks each response it is given: the status must be
one the operation lists (the exact code, else its NXX range, else default),
a response listed without content must have no body, one with content the
Content-Type listed, and a JSON body must validate against the schema,
`$ref`s resolved over the whole document (a RefResolver whose referrer is
the document). It records which statuses each operation was seen with, per
listener ("replicator.json#ui": the status page listener, whose operations
are those whose x-listeners names "ui").

The validator is Debian's python3-jsonschema (Draft202012Validator,
RefResolver); importing this module raises ImportError without it.
"""
import copy
import json
import os
import warnings

import jsonschema  # noqa: F401  (ImportError: the caller skips)
from jsonschema import Draft202012Validator, RefResolver

DOCS = ("sledagent.json", "depot.json", "replicator.json")
METHODS = ("get", "head", "put", "post", "delete")


def response_for(op, status):
    """The response object of op for status, or None."""
    rs = op["responses"]
    for key in (str(status), "%dXX" % (status // 100), "default"):
        if key in rs:
            return key, rs[key]
    return None, None


class Checker:
    def __init__(self, docdir):
        self.docs = {}
        self.seen = {}  # (doc#listener, METHOD, path) -> set of statuses
        self.sample = None  # (doc, schema, body) of a validated JSON body
        for name in DOCS:
            with open(os.path.join(docdir, name), encoding="utf-8") as f:
                doc = json.load(f)
            self._check_shape(name, doc)
            self.docs[name] = doc

    @staticmethod
    def _check_shape(name, doc):
        def bad(why):
            raise AssertionError("docs/openapi/%s: %s" % (name, why))
        if not str(doc.get("openapi", "")).startswith("3.1."):
            bad("openapi is not 3.1.x")
        info = doc.get("info") or {}
        if not isinstance(info.get("title"), str) or \
                not isinstance(info.get("version"), str):
            bad("info needs title and version")
        if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
            bad("no paths")
        schemas = doc.get("components", {}).get("schemas", {})
        for sname, s in schemas.items():
            try:
                Draft202012Validator.check_schema(s)
            except jsonschema.SchemaError as e:
                bad("schema %s: %s" % (sname, e.message))
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method not in METHODS:
                    bad("%s %s is not a method" % (method, path))
                if not isinstance(op.get("x-roles"), list):
                    bad("%s %s has no x-roles" % (method, path))
                if not op.get("responses"):
                    bad("%s %s has no responses" % (method, path))
                for code, r in op["responses"].items():
                    for media in (r.get("content") or {}).values():
                        try:
                            Draft202012Validator.check_schema(media["schema"])
                        except (KeyError, jsonschema.SchemaError) as e:
                            bad("%s %s %s: %s" % (method, path, code, e))

    def _validator(self, doc, schema):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = RefResolver("", doc)
            return Draft202012Validator(schema, resolver=resolver)

    def errors(self, doc, schema, body):
        v = self._validator(doc, schema)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return ["%s at /%s" % (e.message,
                                   "/".join(str(p) for p in e.absolute_path))
                    for e in v.iter_errors(body)]

    def check(self, docname, method, path, status, ctype, data, where):
        """Raise AssertionError when the response breaks the document."""
        name, _, listener = docname.partition("#")
        listener = listener or "api"
        doc = self.docs[name]
        op = doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            raise AssertionError("%s: no operation %s %s in %s" % (
                where, method, path, name))
        if listener not in op.get("x-listeners", ["api"]):
            raise AssertionError("%s: %s %s is not on the %s listener" % (
                where, method, path, listener))
        key, resp = response_for(op, status)
        if resp is None:
            raise AssertionError("%s: status %d is not listed (%s)" % (
                where, status, ", ".join(op["responses"])))
        content = resp.get("content")
        if not content:
            if data:
                raise AssertionError("%s: %d has no body in %s, got %d "
                                     "bytes" % (where, status, name,
                                                len(data)))
        elif method != "HEAD":
            media = (ctype or "").split(";")[0].strip().lower()
            if media not in content:
                raise AssertionError("%s: %d Content-Type %r, %s lists %s" % (
                    where, status, ctype, name, ", ".join(content)))
            if media == "application/json":
                try:
                    body = json.loads(data)
                except ValueError as e:
                    raise AssertionError("%s: %d body is not JSON: %s" % (
                        where, status, e))
                schema = content[media]["schema"]
                errs = self.errors(doc, schema, body)
                if errs:
                    raise AssertionError("%s: %d (%s) breaks %s: %s" % (
                        where, status, key, name, "; ".join(errs)))
                if status < 300 and isinstance(body, dict) and \
                        self.sample is None and "$ref" in schema:
                    self.sample = (doc, schema, body)
        self.seen.setdefault((docname if listener != "api" else name,
                              method.upper(), path), set()).add(status)

    def expect_every_operation(self):
        """Every operation of every listener seen with a success and an
        error."""
        missing = []
        for name, doc in self.docs.items():
            for path, item in doc["paths"].items():
                for method, op in item.items():
                    for listener in op.get("x-listeners", ["api"]):
                        k = (name if listener == "api" else
                             name + "#" + listener, method.upper(), path)
                        got = self.seen.get(k, set())
                        if not any(s < 400 for s in got) or \
                                not any(s >= 400 for s in got):
                            missing.append("%s %s %s (seen: %s)" % (
                                k[0], k[1], k[2], sorted(got) or "none"))
        if missing:
            raise AssertionError("operations without both a success and an "
                                 "error driven:\n  " + "\n  ".join(missing))

    def expect_failure_is_caught(self):
        """A wrong schema rejects a recorded body; an unlisted status is
        refused."""
        if self.sample is None:
            raise AssertionError("no JSON success body was validated")
        doc, schema, body = self.sample
        wrong = copy.deepcopy(doc)
        target = schema["$ref"].rsplit("/", 1)[1]
        s = wrong["components"]["schemas"][target]
        s.setdefault("required", []).append("no_such_member")
        if not self.errors(wrong, schema, body):
            raise AssertionError("a wrong schema accepted %s" % target)
        op = self.docs["depot.json"]["paths"]["/artifact/sha256/{sha256}"]
        if response_for(op["get"], 302)[1] is not None:
            raise AssertionError("an unlisted status was accepted")

    def summary(self):
        n = sum(len(v) for v in self.seen.values())
        return "%d operations, %d (operation, status) pairs valid" % (
            len(self.seen), n)
