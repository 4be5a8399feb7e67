#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# mkseeds: writes the generated seed files of tests/fuzz/corpus (the ones
# that need a signature or a binary layout): TUF envelopes signed with a
# fixed throw-away ed25519 key, artifacts documents for the
# tufaceous-v1-fake targets, zips (Python's zipfile, fixed timestamps, so
# the output is reproducible), HTTP requests, staging manifests and
# replicator config files. Hand-written one-line seeds live in the corpus
# directly. Run from anywhere: python3 tests/fuzz/mkseeds.py
import hashlib
import io
import json
import os
import struct
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def canon(v):
    """OLPC canonical JSON, as common/cjson.c writes it."""
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if v is None:
        return b"null"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, str):
        b = v.encode()
        return b'"' + b.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    if isinstance(v, list):
        return b"[" + b",".join(canon(x) for x in v) + b"]"
    keys = sorted(v.keys(), key=lambda k: k.encode())
    return b"{" + b",".join(canon(k) + b":" + canon(v[k]) for k in keys) + b"}"


# A fixed key made up for these seeds; it signs nothing else.
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"rackdepot fuzz seed key").digest())
PUB = KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw).hex()
KEYOBJ = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": PUB}}
KEYID = hashlib.sha256(canon(KEYOBJ)).hexdigest()


def envelope(signed, sign=True):
    sigs = [{"keyid": KEYID, "sig": KEY.sign(canon(signed)).hex()}] if sign else []
    return json.dumps({"signatures": sigs, "signed": signed}, indent=1)


def root(**over):
    roles = {r: {"keyids": [KEYID], "threshold": 1}
             for r in ("root", "timestamp", "snapshot", "targets")}
    s = {"_type": "root", "spec_version": "1.0.31", "version": 1,
         "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": True,
         "keys": {KEYID: KEYOBJ}, "roles": roles}
    s.update(over)
    return s


def tuf_meta():
    h = "0" * 64
    put("tuf_meta", "root_signed", envelope(root()))
    put("tuf_meta", "root_unsigned", envelope(root(), sign=False))
    put("tuf_meta", "root_bad_keyid", envelope(root(keys={"ab" * 32: KEYOBJ})))
    put("tuf_meta", "root_threshold0", envelope(root(roles={"root": {"keyids": [], "threshold": 0}})))
    put("tuf_meta", "root_ecdsa_hex", envelope(root(keys={"k": {
        "keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256",
        "keyval": {"public": "04" + "11" * 64}}})))
    put("tuf_meta", "root_rsa_pem", envelope(root(keys={"k": {
        "keytype": "rsa", "scheme": "rsassa-pss-sha256",
        "keyval": {"public": "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"}}})))
    put("tuf_meta", "timestamp", envelope({
        "_type": "timestamp", "spec_version": "1.0", "version": 3,
        "expires": "2030-01-01T00:00:00.5+01:00",
        "meta": {"snapshot.json": {"version": 3, "length": 10, "hashes": {"sha256": h}}}}))
    put("tuf_meta", "snapshot", envelope({
        "_type": "snapshot", "spec_version": "1.0.0", "version": 3,
        "expires": "2030-01-01T00:00:00Z",
        "meta": {"targets.json": {"version": 3, "hashes": {"md5": "x", "sha512": "0" * 128}}}}))
    put("tuf_meta", "targets", envelope({
        "_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2030-01-01T00:00:00Z",
        "targets": {"a/b.bin": {"length": 4, "hashes": {"sha256": h}, "custom": {}},
                    "../x": {"length": 1, "hashes": {"sha256": h}}},
        "delegations": {"keys": {}, "roles": []}}))
    put("tuf_meta", "float_version", '{"signed":{"_type":"root","version":1.0},"signatures":[]}')
    put("tuf_meta", "spec2", envelope(root(spec_version="2.0")))
    # Role byte prefix form: 0x03 = targets, strict dates, no keyid check.
    put("tuf_meta", "prefixed_targets", b"\x03" + envelope({
        "_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2030-01-01T00:00:00Z", "targets": {}}).encode())


def tuf_artifacts():
    v1 = {"system_version": "1.0.0", "artifacts": [
        {"name": "fake-gimlet-sp", "version": "1.0.0", "kind": "gimlet_sp",
         "target": "installinator_document-1.0.0.json"}]}
    put("tuf_artifacts", "v1_one", json.dumps(v1))
    put("tuf_artifacts", "v1_empty", '{"system_version": "1.0.0-rc.1+build.5", "artifacts": []}')
    put("tuf_artifacts", "v1_unknown_target", json.dumps({"system_version": "1.0.0", "artifacts": [
        {"name": "x", "version": "1", "kind": "k", "target": "nope.bin"}]}))
    put("tuf_artifacts", "v1_bad_semver", '{"system_version": "01.0.0", "artifacts": []}')
    put("tuf_artifacts", "v2_one", b"\x01" + json.dumps({"system_version": "2.3.4", "artifacts": [
        {"target_name": "artifacts.json", "version": "a.b_c+d-e", "tags": {"kind": "doc"}}]}).encode())
    put("tuf_artifacts", "v1_unsafe_name", json.dumps({"system_version": "1.0.0", "artifacts": [
        {"name": "x", "version": "1", "kind": "k", "target": "../etc/passwd"}]}))


def zipbytes(entries, **kw):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", **kw) as z:
        for name, data, method in entries:
            zi = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = method
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            z.writestr(zi, data)
    return b.getvalue()


def zips():
    S, D = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
    put("zipread", "stored_two", zipbytes([("a.txt", b"hello\n", S),
                                           ("dir/b.json", b'{"x":1}', S)]))
    put("zipread", "deflate", zipbytes([("metadata/1.root.json", b"x" * 300, D)]))
    put("zipread", "empty", zipbytes([]))
    put("zipread", "big_entry", zipbytes([("big", bytes(range(256)) * 2, D)]))
    put("zipread", "dir_entry", zipbytes([("d/", b"", S), ("d/f", b"f", S)]))
    put("zipread", "dotdot", zipbytes([("../evil", b"e", S)]))
    with_comment = zipbytes([("a", b"a", S)])
    put("zipread", "comment", with_comment[:-2] + struct.pack("<H", 3) + b"abc")
    put("zipread", "trailing", with_comment + b"junk")
    put("zipread", "truncated", with_comment[:len(with_comment) // 2])
    # Duplicate names: zipfile warns but writes both.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        put("zipread", "duplicate", zipbytes([("x", b"1", S), ("x", b"2", S)]))
    # Symlink entry (Unix mode S_IFLNK).
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        zi = zipfile.ZipInfo("link", date_time=(2026, 1, 1, 0, 0, 0))
        zi.create_system = 3
        zi.external_attr = (0o120777) << 16
        z.writestr(zi, b"target")
    put("zipread", "symlink", b.getvalue())
    # Zip64 extra fields and end records.
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", allowZip64=True) as z:
        zi = zipfile.ZipInfo("z64", date_time=(2026, 1, 1, 0, 0, 0))
        with z.open(zi, "w", force_zip64=True) as f:
            f.write(b"zip64 data")
    put("zipread", "zip64_entry", b.getvalue())
    # Corrupt CRC of a stored entry.
    good = bytearray(zipbytes([("c", b"crc", S)]))
    good[14] ^= 0xFF
    cd = good.find(b"PK\x01\x02")
    good[cd + 16] ^= 0xFF
    put("zipread", "bad_crc", bytes(good))


def http():
    def req(name, text):
        put("httpd", name, text.replace("\n", "\r\n").encode())
    req("get", "GET /sha/%s?generation=5 HTTP/1.1\nHost: x\n\n" % ("ab" * 32))
    req("head_10", "HEAD / HTTP/1.0\nConnection: keep-alive\n\n")
    req("put_body", "PUT /small HTTP/1.1\nContent-Length: 5\n\nhello")
    req("put_too_big", "PUT /small HTTP/1.1\nContent-Length: 17\n\n0123456789abcdefg")
    req("stream", "PUT /stream HTTP/1.1\nContent-Length: 4\nExpect: 100-continue\n\nabcd")
    req("stream_refused", "POST /stream HTTP/1.1\nContent-Length: 3\n\n!ab")
    req("reject", "POST /reject HTTP/1.1\nContent-Length: 3\n\nabc")
    req("pipelined", "GET /a HTTP/1.1\n\nGET /b?x=1 HTTP/1.1\nConnection: close\n\n")
    req("chunked", "POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n0\n\n")
    # Chunked bodies (issue 12): streamed, keep-alive after, refusals.
    req("chunked_stream", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "5;a=b\nhello\nA\n0123456789\n0\nX-T: v\n\nGET /a HTTP/1.1\n\n")
    req("chunked_stream_refused", "POST /stream HTTP/1.1\nTransfer-Encoding: "
        "chunked\n\n3\n!ab\n0\n\n")
    req("chunked_truncated", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "10\nabc")
    req("chunked_bad_size", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "5\nhello\nzz\n")
    req("chunked_overflow", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "00000000000000001\na\n0\n\n")
    req("chunked_over_cap", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "100001\n")
    req("chunked_no_crlf", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "2\nabcd\n0\n\n")
    req("chunked_not_streamed", "PUT /small HTTP/1.1\nTransfer-Encoding: chunked\n\n"
        "2\nab\n0\n\n")
    req("chunked_get", "GET /stream HTTP/1.1\nTransfer-Encoding: chunked\n\n0\n\n")
    req("chunked_clen", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n"
        "Content-Length: 5\n\n0\n\n")
    req("chunked_gzip", "PUT /stream HTTP/1.1\nTransfer-Encoding: gzip, chunked\n\n0\n\n")
    req("chunked_twice", "PUT /stream HTTP/1.1\nTransfer-Encoding: chunked\n"
        "Transfer-Encoding: chunked\n\n0\n\n")
    req("bad_clen", "POST / HTTP/1.1\nContent-Length: -1\n\n")
    req("bad_version", "GET / HTTP/2.0\n\n")
    req("bad_target", "GET http://x/ HTTP/1.1\n\n")
    req("bad_header", "GET / HTTP/1.1\nBad Name: v\nNoColon\n\n")
    req("many_headers", "GET / HTTP/1.1\n" + "".join("H%d: v\n" % i for i in range(70)) + "\n")
    req("body_pending", "PUT / HTTP/1.1\nContent-Length: 100\n\nshort")
    req("bad_generation", "DELETE /x?generation=01 HTTP/1.1\n\n")
    req("dup_clen_same", "PUT / HTTP/1.1\nContent-Length: 2\nContent-Length: 2\n\nab")
    put("httpd", "no_head_end", b"GET / HTTP/1.1\r\nHost: x\r\n")
    put("httpd", "bare_lf", b"GET / HTTP/1.1\nHost: x\n\n")


def http_parse():
    """Request heads for fuzz_httpd_parse: good ones, and one reproducer
    per strict check of common/httpd_parse.c (each must be refused)."""
    def req(name, text):
        put("httpd_parse", name, text.replace("\n", "\r\n").encode())
    req("get", "GET /sha/%s?generation=5 HTTP/1.1\nHost: x\nX-Trim: \t a b \t\n\n" % ("ab" * 32))
    req("head_10", "HEAD /? HTTP/1.0\nConnection: keep-alive\nX-Empty:\n\n")
    req("put_clen", "PUT /a HTTP/1.1\nContent-Length: 18446744073709551615\n\nbody")
    req("other_method", "PATCH /x?a=b?c HTTP/1.1\nX::v:\n\n")
    req("max_headers", "GET / HTTP/1.1\n" + "".join("H%d: v\n" % i for i in range(64)) + "\n")
    req("too_many_headers", "GET / HTTP/1.1\n" + "".join("H%d: v\n" % i for i in range(65)) + "\n")
    req("partial", "GET / HTTP/1.1\nHost: x\n")
    req("trailing_bytes", "GET /a HTTP/1.1\n\nGET /b HTTP/1.1\n\n")
    put("httpd_parse", "nul", b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n")
    put("httpd_parse", "nul_request_line", b"GET /\0 HTTP/1.1\r\n\r\n")
    put("httpd_parse", "bare_cr", b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n")
    put("httpd_parse", "bare_cr_request_line", b"GET /a\rb HTTP/1.1\r\n\r\n")
    put("httpd_parse", "bare_lf", b"GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n")
    put("httpd_parse", "bare_lf_request_line", b"GET / HTTP/1.1\nHost: x\n\n")
    req("dup_clen", "PUT / HTTP/1.1\nContent-Length: 5\ncontent-length: 6\n\n")
    req("dup_clen_same", "PUT / HTTP/1.1\nContent-Length: 5\nContent-Length: 5\n\n")
    req("bad_clen", "PUT / HTTP/1.1\nContent-Length: 01\n\n")
    req("clen_te", "POST / HTTP/1.1\nContent-Length: 5\nTransfer-Encoding: chunked\n\n")
    req("chunked", "POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n0\n\n")
    req("chunked_case", "PUT / HTTP/1.1\ntransfer-encoding:  Chunked \n\n")
    req("chunked_get", "GET / HTTP/1.1\nTransfer-Encoding: chunked\n\n")
    req("chunked_10", "PUT / HTTP/1.0\nTransfer-Encoding: chunked\n\n")
    req("te_clen", "PUT / HTTP/1.1\nTransfer-Encoding: chunked\nContent-Length: 1\n\n")
    req("te_gzip_chunked", "PUT / HTTP/1.1\nTransfer-Encoding: gzip, chunked\n\n")
    req("te_chunked_chunked", "PUT / HTTP/1.1\nTransfer-Encoding: chunked, chunked\n\n")
    req("te_xchunked", "PUT / HTTP/1.1\nTransfer-Encoding: xchunked\n\n")
    req("te_twice", "PUT / HTTP/1.1\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n")
    req("obs_fold", "GET / HTTP/1.1\nX: a\n b\n\n")
    req("obs_fold_tab", "GET / HTTP/1.1\nX: a\n\tY: b\n\n")
    req("bad_header_name", "GET / HTTP/1.1\nBad Name: v\n\n")
    req("no_colon", "GET / HTTP/1.1\nNoColon\n\n")
    req("head_over_16k", "GET / HTTP/1.1\nX-Pad: " + "a" * 16384 + "\n\n")
    req("no_end_over_16k", "GET / HTTP/1.1\nX-Pad: " + "a" * 16384)
    req("bad_request_line", "get /x HTTP/1.1\n\n")
    req("bad_version", "GET / HTTP/2.0\n\n")
    req("absolute_target", "GET http://x/ HTTP/1.1\n\n")
    req("asterisk_target", "OPTIONS * HTTP/1.1\n\n")
    req("extra_space", "GET / x HTTP/1.1\n\n")
    req("empty_line_first", "\nGET / HTTP/1.1\n\n")
    put("httpd_parse", "tab_request_line", b"GET /a\tb HTTP/1.1\r\n\r\n")
    # The two request-smuggling findings of fuzz_httpd (docs/FUZZING.md).
    put("httpd_parse", "smuggle-nul-in-head",
        b"PUT / HTTP/1.1\r\nX: a\0b\r\nContent-Length: 5\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\n\r\n")
    put("httpd_parse", "smuggle-duplicate-content-length",
        b"PUT / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 27\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\n\r\n")
    put("httpd_parse", "smuggle-nul-found-by-libfuzzer",
        b"HEAD / HTTP/1.0\r\nC\r\0- e\r\n\r\n")


def chunked():
    """Bodies for fuzz_httpd_chunked: byte 0 picks the cap (0, 16, 4096,
    1 MiB, none), byte 1 the piece size of the split feeding."""
    def body(name, cap, piece, text):
        if isinstance(text, str):
            text = text.encode()
        put("httpd_chunked", name, bytes([cap, piece]) + text)
    body("empty", 4, 0, "0\r\n\r\n")
    body("two_chunks", 4, 2, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    body("extensions", 4, 3, "5;a=b;c\r\nhello\r\n0 ; q=\"x;y\"\r\n\r\n")
    body("trailers", 4, 5, "1\r\nx\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n")
    body("next_request", 4, 1, "2\r\nab\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    body("upper_hex", 4, 7, "A\r\n0123456789\r\n0\r\n\r\n")
    body("leading_zeros", 4, 4, "0000000000000002\r\nab\r\n0\r\n\r\n")
    body("overflow_17", 4, 4, "00000000000000002\r\nab\r\n0\r\n\r\n")
    body("overflow_value", 4, 9, "ffffffffffffffff\r\n")
    body("over_cap", 1, 2, "10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n")
    body("cap_zero", 0, 1, "1\r\nx\r\n0\r\n\r\n")
    body("no_data_crlf", 4, 3, "2\r\nabc\r\n")
    body("bare_lf", 4, 3, "2\nab\n0\n\n")
    body("size_ws", 4, 2, "2 \r\nab\r\n")
    body("ext_ctl", 4, 2, "2;\x01\r\nab\r\n")
    body("bad_trailer", 4, 2, "0\r\nBad Name: v\r\n\r\n")
    body("final_cr_only", 4, 2, "0\r\n\rX")
    body("truncated", 4, 6, "10\r\nabc")
    body("binary_data", 4, 8, b"4\r\n\r\n\x00\n\r\n0\r\n\r\n")
    body("long_ext", 4, 63, "1;" + "e" * 5000 + "\r\nx\r\n0\r\n\r\n")
    body("many_trailers", 4, 63, "0\r\n" + "".join("T%d: v\r\n" % i for i in range(65)) + "\r\n")


def staging():
    h = "cd" * 32
    art = {"name": "n", "version": "1.0", "kind": "k", "sha256": h, "length": 5,
           "path": "/x/" + h}
    good = {"repo_id": "0123abcd-ef", "system_version": "1.0.0", "archive_sha256": h,
            "artifacts": [art]}
    put("staging_manifest", "good", json.dumps(good))
    put("staging_manifest", "no_artifacts", json.dumps(dict(good, artifacts=[])))
    put("staging_manifest", "long_repo_id", json.dumps(dict(good, repo_id="x" * 40)))
    put("staging_manifest", "bad_sha", json.dumps(dict(good, archive_sha256="zz")))
    put("staging_manifest", "artifact_not_object", json.dumps(dict(good, artifacts=[1, "a", None])))
    put("staging_manifest", "negative_length", json.dumps(dict(good, artifacts=[dict(art, length=-5)])))
    put("staging_manifest", "not_object", "[]")


def config():
    put("replicator_config", "full", json.dumps({
        "db": "postgresql://x/y", "staging": "/var/tmp/s", "listen": "[::1]:0",
        "period_secs": 60, "periodic": False, "min_sled_replication": 2,
        "port_file": "/tmp/p", "workers": 8, "max_upload_bytes": 1024}))
    put("replicator_config", "bad_listen", '{"db": "d", "staging": "s", "listen": "nocolon"}')
    put("replicator_config", "out_of_range", '{"db": "d", "staging": "s", "workers": 0, '
        '"min_sled_replication": 100000, "max_upload_bytes": 0, "period_secs": -1}')
    put("replicator_config", "wrong_types", '{"db": 1, "staging": [], "periodic": "yes"}')
    put("replicator_config", "missing_db", '{"staging": "s"}')
    put("replicator_config", "not_object", '"just a string"')
    put("replicator_config", "too_big", '{"db": "' + "x" * 70000 + '"}')


if __name__ == "__main__":
    tuf_meta()
    tuf_artifacts()
    zips()
    http()
    http_parse()
    chunked()
    staging()
    config()
