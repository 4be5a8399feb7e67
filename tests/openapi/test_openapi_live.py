#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""test_openapi_live: the OpenAPI documents of docs/openapi/ against real servers.

Starts a 2-sled rack-sim rack with mutual TLS (--period 3600: the task runs
only when asked) and drives every operation of sledagent.json, depot.json and
replicator.json (the API and the status page listener) with the certificate
of a role it takes: at least one success and one error each (a wrong role,
no certificate, a bad api-version header, or the operation's own errors:
bad hash, wrong generation, unknown version, ...). Every response is checked
against the document with Debian's python3-jsonschema (validate_doc.py): the
status must be one the operation lists (exact, else its NXX range, else
default), the Content-Type the one listed for it, and a JSON body valid
against its schema, `$ref`s resolved over the whole document. The documents'
schemas are themselves checked (check_schema), and a deliberately wrong
schema must reject a recorded body, so the check can fail.
Exit 0 pass, 1 fail, 77 skip (python3-jsonschema missing).
"""
import hashlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import validate_doc
except ImportError as e:  # jsonschema missing
    print("SKIP: %s (scripts/deps.sh installs python3-jsonschema)" % e)
    sys.exit(77)

BIN = os.environ.get("RACKDEPOT_BIN_DIR", "build/bin")
SRC = os.environ.get("RACKDEPOT_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(HERE)))
ZERO = "0" * 64
NOSLED = "aaaaaaaa-0000-4000-8000-00000000000f"


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def run(*argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s\n%s" % (" ".join(argv),
                           p.returncode, p.stdout, p.stderr))
    return p


class Client:
    """Requests to one listener of one document, each response checked."""

    def __init__(self, checker, doc, base, contexts):
        self.checker, self.doc = checker, doc
        scheme, rest = base.split("://", 1)
        self.host, port = rest.rstrip("/").rsplit(":", 1)
        self.port, self.tls = int(port), scheme == "https"
        self.contexts = contexts

    def call(self, method, template, values=None, query="", body=None,
             ctype=None, role="operator", headers=None, want=None):
        path = template
        for k, v in (values or {}).items():
            path = path.replace("{%s}" % k, v)
        if query:
            path += "?" + query
        if self.tls:
            conn = http.client.HTTPSConnection(
                self.host, self.port, context=self.contexts[role], timeout=60)
        else:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=60)
        hdrs = dict(headers or {})
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
                ctype = ctype or "application/json"
            hdrs["Content-Type"] = ctype or "application/octet-stream"
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            status, rtype = resp.status, resp.getheader("Content-Type")
            rid = resp.getheader("x-request-id")
        except (ssl.SSLError, ConnectionError) as e:
            raise AssertionError("%s %s as %s: %s" % (method, path, role, e))
        finally:
            conn.close()
        self.checker.check(self.doc, method, template, status, rtype, data,
                           "%s %s as %s" % (method, path, role))
        if status >= 400 and data and \
                json.loads(data).get("request_id") != rid:
            raise AssertionError("%s %s: the error's request_id is not its "
                                 "x-request-id %s" % (method, path, rid))
        if want is not None and status != want:
            raise AssertionError("%s %s as %s: %d, expected %d: %s" % (
                method, path, role, status, want, data[:300]))
        if rtype and rtype.startswith("application/json") and data:
            return status, json.loads(data)
        return status, data


def contexts(st):
    """An ssl context per role: operator, controller, sled0, sled1, none."""
    pki = st["pki"]
    out = {}

    def ctx(cert=None, key=None):
        c = ssl.create_default_context(cafile=pki["ca"])
        c.check_hostname = False
        if cert:
            c.load_cert_chain(cert, key)
        return c
    out["operator"] = ctx(pki["operator"]["cert"], pki["operator"]["key"])
    r0 = pki["replicators"][0]
    out["controller"] = ctx(r0["cert"], r0["key"])
    for s in pki["sleds"]:
        out["sled%d" % s["index"]] = ctx(s["cert"], s["key"])
    out["none"] = ctx()
    return out


BADV = {"api-version": "1.0"}


def drive_replicator(api, ui, tmp, st):
    """Every replicator operation; returns the artifacts of the repos."""
    U = "/v1/system/update"
    zips = {}
    for v in ("1.0.0", "2.0.0"):
        zp = os.path.join(tmp, "repo-%s.zip" % v)
        run(os.path.join(BIN, "tuf-mkrepo"), "--out", zp, "--system-version",
            v, "--random", "2:70000", "--generate-key",
            os.path.join(tmp, "key-%s.pem" % v))
        with open(zp, "rb") as f:
            zips[v] = f.read()
    R = U + "/repositories"
    api.call("GET", R, want=200)
    api.call("GET", R, role="sled0", want=403)
    _, up = api.call("PUT", R, query="file_name=repo-1.0.0.zip",
                     body=zips["1.0.0"], ctype="application/zip", want=200)
    api.call("PUT", R, query="file_name=repo-2.0.0.zip", body=zips["2.0.0"],
             ctype="application/zip", want=200)
    api.call("PUT", R, query="file_name=bad.zip", body=b"not a zip",
             ctype="application/zip", want=400)
    api.call("GET", R + "/{system_version}", {"system_version": "1.0.0"},
             want=200)
    api.call("GET", R + "/{system_version}", {"system_version": "9.9.9"},
             want=404)
    api.call("GET", R + "/{system_version}", {"system_version": "x"},
             want=400)
    for verb in ("pin", "unpin"):
        t = R + "/{version}/" + verb
        api.call("POST", t, {"version": "1.0.0"}, want=200)
        api.call("POST", t, {"version": "9.9.9"}, want=404)
    P = U + "/prune-policy"
    api.call("GET", P, want=200)
    api.call("GET", P, headers={"api-version": "1.1.0"}, want=404)
    for verb in ("disable", "enable"):
        api.call("POST", P + "/" + verb, body={"reason": "openapi test"},
                 want=200)
        api.call("POST", P + "/" + verb, body={"reason": 5}, want=400)
    api.call("GET", U + "/staged", want=200)
    api.call("GET", U + "/staged", role="controller", want=403)
    T = U + "/trust-roots"
    api.call("GET", T, want=200)
    api.call("GET", T, headers=BADV, want=400)
    root = json.loads(run("unzip", "-p", os.path.join(tmp, "repo-1.0.0.zip"),
                          "repo/metadata/1.root.json").stdout)
    _, added = api.call("POST", T, body=root, want=201)
    api.call("POST", T, body={"signed": {}}, want=400)
    api.call("DELETE", T + "/{id}", {"id": added["id"]}, want=200)
    api.call("DELETE", T + "/{id}", {"id": added["id"]}, want=404)
    api.call("DELETE", T + "/{id}", {"id": "not-a-uuid"}, want=400)
    K = "/background-tasks/tuf_artifact_replication"
    api.call("POST", K + "/activate", query="wait=1", want=200)
    api.call("POST", K + "/activate", want=202)
    api.call("POST", K + "/activate", query="wait=7", want=400)
    for c in (api, ui):
        c.call("GET", K, query="limit=5", want=200)
        c.call("GET", K, query="limit=x", want=400)
    api.call("GET", "/sled-agents", want=200)
    api.call("GET", "/sled-agents", role="sled0", want=403)
    s0 = st["sleds"][0]
    reg = {"api_address": "127.0.0.1:%d" % s0["api_port"],
           "repo_depot_port": s0["depot_port"]}
    api.call("PUT", "/sled-agents/{id}", {"id": s0["id"]}, body=reg,
             role="sled0", want=200)
    api.call("PUT", "/sled-agents/{id}", {"id": s0["id"]}, body=reg,
             role="sled1", want=403)
    api.call("PUT", "/sled-agents/{id}", {"id": s0["id"]},
             body={"api_address": "localhost:1", "repo_depot_port": 1},
             role="sled0", want=400)
    RL = "/sled-agents/{id}/reset-ledger"
    api.call("POST", RL, {"id": s0["id"]}, body={"reason": "openapi test"},
             want=200)
    api.call("POST", RL, {"id": NOSLED}, body={}, want=404)
    api.call("POST", RL, {"id": s0["id"]}, body={"generation": "x"},
             want=400)
    api.call("POST", "/generation/bump-past-fleet", want=200)
    api.call("POST", "/generation/bump-past-fleet", role="sled0", want=403)
    api.call("GET", "/metrics", want=200)
    api.call("GET", "/metrics", role="controller", want=403)
    for p in ("/ui", "/ui/app.css", "/ui/app.js"):
        api.call("GET", p, want=200)
        api.call("GET", p, role="sled1", want=403)
        ui.call("GET", p, want=200)
        ui.call("GET", p, headers=BADV, want=400)
    ui.call("GET", "/", want=200)
    ui.call("GET", "/", headers={"api-version": "9.0.0"}, want=400)
    PC = "/artifact/sha256/{sha256}/pieces"
    h = up["artifacts"][0]["sha256"]
    api.call("GET", PC, {"sha256": h}, role="sled1", want=200)
    api.call("GET", PC, {"sha256": ZERO}, want=404)
    api.call("GET", PC, {"sha256": "ABC"}, want=400)
    return up


def drive_replicator_last(api, st):
    """Prune both repositories (the guard holds), confirm, expunge."""
    R = "/v1/system/update/repositories/{version}/prune"
    K = "/background-tasks/tuf_artifact_replication/activate"
    for v in ("1.0.0", "2.0.0"):
        api.call("POST", R, {"version": v}, want=200)
    api.call("POST", R, {"version": "9.9.9"}, want=404)
    _, run_ = api.call("POST", K, query="wait=1", want=200)
    if not run_["held"]:
        raise AssertionError("pruning every repository was not held: %s"
                             % run_)
    C = "/generation/{generation}/confirm"
    api.call("POST", C, {"generation": "x"}, want=400)
    api.call("POST", C, {"generation": str(run_["generation"])}, want=200)
    X = "/sled-agents/{id}/expunge"
    api.call("POST", X, {"id": st["sleds"][1]["id"]}, want=200)
    api.call("POST", X, {"id": NOSLED}, want=404)
    api.call("POST", X, {"id": "nope"}, want=400)


def settle(api):
    """Until the task is idle after a run of its own: the bump and the
    ledger reset above activate it, and its pushes would race the
    sled's config requests below."""
    K = "/background-tasks/tuf_artifact_replication"
    api.call("POST", K + "/activate", query="wait=1", want=200)
    end = time.monotonic() + 60
    while True:
        _, st = api.call("GET", K, query="limit=1", want=200)
        if st["state"] == "idle":
            return
        if time.monotonic() > end:
            raise AssertionError("the task is still %s after 60 s"
                                 % st["state"])
        time.sleep(0.2)


def wait_held(agents, hexes):
    """Until every sled holds every artifact on both datasets (the task's
    copies run on after its run)."""
    end = time.monotonic() + 60
    for ag in agents:
        while True:
            _, ls = ag.call("GET", "/artifacts", want=200)
            if all(ls["list"].get(h, 0) >= 2 for h in hexes):
                break
            if time.monotonic() > end:
                raise AssertionError("artifacts not held after 60 s: %s"
                                     % ls)
            time.sleep(0.2)


def hold(rack, k, ag):
    """Hold sled k for an out-of-band install (`sledagent override set` on
    its datasets) and wait until its agent sees it; the override id."""
    with open(os.path.join(rack, "rack.json")) as f:
        a, b = json.load(f)["sleds"][k]["datasets"]
    out = run(os.path.join(BIN, "sledagent"), "override", "set", "--dataset",
              a, "--dataset", b, "--reason", "openapi test").stdout
    oid = json.loads(out)["override"]["id"]
    end = time.monotonic() + 30
    while True:
        _, ls = ag.call("GET", "/artifacts", want=200)
        if (ls.get("override") or {}).get("id") == oid:
            return oid
        if time.monotonic() > end:
            raise AssertionError("the agent did not see override %s" % oid)
        time.sleep(0.2)


def drive_hold(api, ag, rack, sled_id):
    """The end of a hold, on the sled (DELETE /artifacts-override/{id},
    the controller's) and through the replicator (POST .../resume)."""
    D = "/artifacts-override/{id}"
    oid = hold(rack, 0, ag)
    ag.call("DELETE", D, {"id": NOSLED}, role="controller", want=409)
    ag.call("DELETE", D, {"id": "nope"}, role="controller", want=400)
    ag.call("DELETE", D, {"id": oid}, want=403)
    ag.call("DELETE", D, {"id": oid}, role="controller", want=200)
    ag.call("DELETE", D, {"id": oid}, role="controller", want=404)
    oid = hold(rack, 0, ag)
    K = "/background-tasks/tuf_artifact_replication/activate"
    api.call("POST", K, query="wait=1", want=200)
    R = "/sled-agents/{id}/resume"
    api.call("POST", R, {"id": sled_id}, body={}, want=400)
    api.call("POST", R, {"id": NOSLED}, body={"override": oid}, want=404)
    api.call("POST", R, {"id": sled_id}, body={"override": NOSLED}, want=409)
    api.call("POST", R, {"id": sled_id}, body={"override": oid},
             role="sled0", want=403)
    api.call("POST", R, {"id": sled_id}, body={"override": oid}, want=200)


def drive_depot(dp, h, length):
    """Returns the artifact's bytes."""
    A = "/artifact/sha256/{sha256}"
    _, data = dp.call("GET", A, {"sha256": h}, role="sled1", want=200)
    if hashlib.sha256(data).hexdigest() != h or len(data) != length:
        raise AssertionError("depot served other bytes for %s" % h)
    dp.call("GET", A, {"sha256": h}, role="controller",
            headers={"Range": "bytes=0-9"}, want=206)
    dp.call("GET", A, {"sha256": h}, role="sled1",
            headers={"Range": "bytes=%d-" % (length + 10)}, want=416)
    dp.call("GET", A, {"sha256": ZERO}, role="sled1", want=404)
    dp.call("HEAD", A, {"sha256": h}, role="sled1", want=200)
    dp.call("HEAD", A, {"sha256": ZERO}, role="sled1", want=404)
    dp.call("GET", A + "/pieces", {"sha256": h}, role="sled1", want=200)
    dp.call("GET", A + "/pieces", {"sha256": h}, query="piece_size=3",
            role="sled1", want=400)
    dp.call("GET", A + "/pieces", {"sha256": ZERO}, role="sled1", want=404)
    dp.call("GET", A + "/have", {"sha256": h}, role="sled1", want=200)
    dp.call("GET", A + "/have", {"sha256": ZERO}, role="sled1", want=404)
    dp.call("GET", A + "/have", {"sha256": h}, role="operator", want=403)
    return data


def drive_agent(ag, h, data, peer_depot):
    ag.call("GET", "/artifacts-config", want=200)
    _, cfg = ag.call("GET", "/artifacts-config", role="controller", want=200)
    ag.call("GET", "/artifacts-config", role="sled1", want=403)
    g = cfg["generation"]
    ag.call("PUT", "/artifacts-config", body=cfg, role="controller", want=204)
    ag.call("PUT", "/artifacts-config",
            body={"generation": g - 1, "artifacts": cfg["artifacts"]},
            role="controller", want=409)
    ag.call("PUT", "/artifacts-config", body=cfg, want=403)
    rs = {"generation": g, "artifacts": cfg["artifacts"],
          "reason": "openapi test", "requested_by": "test_openapi_live"}
    ag.call("POST", "/artifacts-config/reset", body=rs, role="controller",
            want=200)
    ag.call("POST", "/artifacts-config/reset", body={"generation": g},
            role="controller", want=400)
    ag.call("GET", "/artifacts", want=200)
    ag.call("GET", "/artifacts", role="none", want=401)
    ag.call("GET", "/artifacts", headers=BADV, want=400)
    P = "/artifacts/{sha256}"
    ag.call("PUT", P, {"sha256": h}, query="generation=%d" % g, body=data,
            role="controller", want=200)
    ag.call("PUT", P, {"sha256": h}, query="generation=%d" % (g + 5),
            body=data, role="controller", want=409)
    ag.call("PUT", P, {"sha256": ZERO}, query="generation=%d" % g,
            body=b"x", role="controller", want=400)
    C = P + "/copy-from-depot"
    ag.call("POST", C, {"sha256": h}, query="generation=%d" % g,
            body={"depot_base_url": peer_depot}, role="controller", want=202)
    ag.call("POST", C, {"sha256": h}, query="generation=%d" % g,
            body={"depot_base_url": "https://localhost:1"},
            role="controller", want=400)
    ag.call("GET", "/copies", want=200)
    ag.call("GET", "/copies", role="sled0", want=403)
    ag.call("GET", "/metrics", role="controller", want=200)
    ag.call("GET", "/metrics", headers=BADV, want=400)
    ag.call("GET", "/tls-revocations", want=200)
    ag.call("GET", "/tls-revocations", role="sled1", want=403)
    _, held = ag.call("GET", "/tls-revocations", role="controller", want=200)
    push = {"version": held["version"] + 1, "revoked": []}
    ag.call("PUT", "/tls-revocations", body=push, role="controller",
            want=204)
    ag.call("PUT", "/tls-revocations", body={"version": 0, "revoked": []},
            role="controller", want=400)


def main():
    checker = validate_doc.Checker(os.path.join(SRC, "docs", "openapi"))
    tmp = tempfile.mkdtemp(prefix="rdtest-openapi-")
    os.chmod(tmp, 0o755)  # the postgres user reaches the rack directory
    rack = os.path.join(tmp, "rack")
    sim = os.path.join(BIN, "rack-sim")
    try:
        run(sim, "up", "--sleds", "2", "--dir", rack, "--tls", "--period",
            "3600")
        st = json.loads(run(sim, "--dir", rack, "status", "--json").stdout)
        ctx = contexts(st)
        r0 = st["replicators"][0]
        api = Client(checker, "replicator.json", r0["url"], ctx)
        ui = Client(checker, "replicator.json#ui", r0["ui_url"][:-3], ctx)
        log("rack up: %s, page %s" % (r0["url"], r0["ui_url"]))
        up = drive_replicator(api, ui, tmp, st)
        settle(api)
        art = up["artifacts"][0]
        s0, s1 = st["sleds"][0], st["sleds"][1]
        ag = Client(checker, "sledagent.json", s0["api_url"], ctx)
        wait_held([ag, Client(checker, "sledagent.json", s1["api_url"], ctx)],
                  [a["sha256"] for a in up["artifacts"]])
        dp = Client(checker, "depot.json", s0["depot_url"], ctx)
        data = drive_depot(dp, art["sha256"], art["length"])
        drive_agent(ag, art["sha256"], data, s1["depot_url"])
        drive_hold(api, ag, rack, s0["id"])
        drive_replicator_last(api, st)
        checker.expect_every_operation()
        checker.expect_failure_is_caught()
        log(checker.summary())
        return 0
    except AssertionError as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        subprocess.run([sim, "--dir", rack, "down"], capture_output=True)
        if sanitizer_reports(rack):
            print("FAIL: a sanitizer reported in the rack's logs")
            return 1  # the servers' errors win
        shutil.rmtree(tmp, ignore_errors=True)


def sanitizer_reports(rack):
    """Sanitizer reports (an ASan build) in the servers' logs, printed."""
    found = False
    for d, _, files in os.walk(rack):
        for fn in files:
            if not fn.endswith(".log"):
                continue
            with open(os.path.join(d, fn), errors="replace") as f:
                for line in f:
                    if "Sanitizer" in line or "runtime error:" in line:
                        print("%s: %s" % (os.path.join(d, fn),
                                          line.rstrip()))
                        found = True
    return found


if __name__ == "__main__":
    sys.exit(main())
