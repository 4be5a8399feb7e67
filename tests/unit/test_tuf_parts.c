/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of the TUF verifier's parts: tuf_time, tuf_key (keyids and
 * every key type on real metadata), tuf_meta (canonical JSON of signed,
 * thresholds, floats, duplicate keys, threshold 0), tuf_target (the
 * length-enforcing streaming check) and the artifacts document parser.
 * Vector-based cases skip with a message when the vectors are absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/tuf_artifacts.h"
#include "common/tuf_key.h"
#include "common/tuf_meta.h"
#include "common/tuf_repo.h"
#include "common/tuf_target.h"
#include "common/tuf_time.h"
#include "common/tuf_verify.h"
#include "tests/support/tuf_dir.h"
#include "tests/support/testutil.h"

static char vdir[4096];

static const char *vpath(const char *rel)
{
    static char bufs[4][8192];
    static int next;
    const char *env = getenv("TUF_VECTORS_DIR");
    const char *src = getenv("RACKDEPOT_SOURCE_DIR");
    char *b = bufs[next++ % 4];

    if (env && env[0])
        snprintf(vdir, sizeof(vdir), "%s", env);
    else
        snprintf(vdir, sizeof(vdir), "%s/../shared/tuf-vectors",
                 src ? src : ".");
    snprintf(b, sizeof(bufs[0]), "%s/%s", vdir, rel);
    return b;
}

#define NEED_VECTORS()                                                        \
    do {                                                                      \
        if (access(vpath("README.md"), R_OK) != 0) {                          \
            TESTUTIL_SKIP("tuf vectors absent at %s", vdir);                 \
        }                                                                     \
    } while (0)

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char chunk[8192];
    size_t n;

    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(buf_append(&b, chunk, n), 0);
    fclose(f);
    *len = b.len;
    return buf_take(&b);
}

static struct tuf_meta_root *load_root(const char *rel, bool check_keyid,
                                       bool lenient)
{
    struct tuf_meta *m = NULL;
    struct tuf_meta_root *r = NULL;
    struct err e = ERR_INIT;
    size_t len = 0;
    char *data = slurp(vpath(rel), &len);

    assert_int_equal(tuf_meta_parse(&m, rel, data, len, TUF_ROLE_ROOT, lenient,
                                     &e), 0);
    assert_int_equal(tuf_meta_root_new(&r, m, check_keyid, &e), 0);
    mem_free(data);
    return r;
}

/* ---- time ---- */

static void test_tuf_time__strict_and_lenient(void **state)
{
    int64_t t = 0;
    char s[TUF_TIME_STR_LEN];

    (void)state;
    assert_int_equal(tuf_time_parse(&t, "1970-01-01T00:00:00Z", false), 0);
    assert_int_equal(t, 0);
    assert_int_equal(tuf_time_parse(&t, "2026-02-11T22:10:26Z", false), 0);
    assert_int_equal(t, 1770847826);
    tuf_time_format(s, t);
    assert_string_equal(s, "2026-02-11T22:10:26Z");
    assert_int_equal(tuf_time_parse(&t, "2024-02-29T00:00:00Z", false), 0);
    assert_int_equal(tuf_time_parse(&t, "2023-02-29T00:00:00Z", false),
                     ERR_INVAL);
    assert_int_equal(tuf_time_parse(&t, "2023-13-01T00:00:00Z", false),
                     ERR_INVAL);
    assert_int_equal(tuf_time_parse(&t, "2023-01-01 00:00:00Z", false),
                     ERR_INVAL);
    assert_int_equal(tuf_time_parse(&t, "2023-01-01T00:00:00", false),
                     ERR_INVAL);
    assert_int_equal(tuf_time_parse(&t, "2023-01-01T00:00:00Zx", true),
                     ERR_INVAL);
    /* Fractions and offsets only when lenient. */
    assert_int_equal(
        tuf_time_parse(&t, "2021-12-18T13:28:12.99008-06:00", false),
        ERR_INVAL);
    assert_int_equal(
        tuf_time_parse(&t, "2021-12-18T13:28:12.99008-06:00", true), 0);
    tuf_time_format(s, t);
    assert_string_equal(s, "2021-12-18T19:28:12Z");
    assert_int_equal(tuf_time_parse(&t, "2021-12-18T13:28:12.5Z", true), 0);
    tuf_time_format(s, t);
    assert_string_equal(s, "2021-12-18T13:28:12Z");
    assert_int_equal(tuf_time_parse(&t, "2021-12-18T13:28:12.Z", true),
                     ERR_INVAL);
}

/* ---- canonical JSON, keyids ---- */

static void test_tuf_meta__cjson_tufjs(void **state)
{
    struct buf b = BUF_INIT;
    struct err e = ERR_INIT;
    json_t *v = json_loads("{\"escape\":\"\\\"foo\\\"\\\\bar\\nbaz\"}", 0,
                           NULL);

    (void)state;
    assert_int_equal(cjson_encode(&b, v, &e), 0);
    assert_string_equal(b.data, "{\"escape\":\"\\\"foo\\\"\\\\bar\nbaz\"}");
    json_decref(v);
    buf_release(&b);
}

static void test_tuf_key__keyids_whole_object(void **state)
{
    struct tuf_meta_root *r;
    const char *keyid;
    json_t *key, *keys;
    char id[65];
    int mismatched = 0;

    (void)state;
    NEED_VECTORS();
    r = load_root("tuf-conformance/sigstore-root-signing/metadata/11.root.json",
                  false, false);
    keys = json_object_get(r->meta->signed_obj, "keys");
    json_object_foreach(keys, keyid, key) {
        json_t *three = json_pack("{s:O,s:O,s:O}", "keytype",
                                  json_object_get(key, "keytype"), "scheme",
                                  json_object_get(key, "scheme"), "keyval",
                                  json_object_get(key, "keyval"));

        assert_int_equal(tuf_key_id(id, key, NULL), 0);
        if (strcmp(id, keyid) != 0) {
            mismatched++;
            assert_true(strncmp(keyid, "7247f0db", 8) == 0);
            assert_true(strncmp(id, "0c87432c", 8) == 0);
        }
        /* The 3-field form is never what was hashed (extra fields). */
        assert_int_equal(tuf_key_id(id, three, NULL), 0);
        assert_string_not_equal(id, keyid);
        json_decref(three);
    }
    assert_int_equal(mismatched, 1);
    tuf_meta_root_free(r);
}

/* Valid signatures of role on m under root, with an assertion. */
static void assert_sigs(const char *signer, const char *signee, int want,
                        bool lenient)
{
    struct tuf_meta_root *a = load_root(signer, true, lenient);
    struct tuf_meta_root *b = load_root(signee, true, lenient);

    assert_int_equal(tuf_meta_count_sigs(b->meta, a->keys, a->nkeys,
                                         &a->roles[TUF_ROLE_ROOT]), want);
    tuf_meta_root_free(a);
    tuf_meta_root_free(b);
}

static void test_tuf_key__each_type(void **state)
{
    (void)state;
    NEED_VECTORS();
    /* ed25519 (tufaceous), self-signed. */
    assert_sigs("tufaceous-v1-fake/repo/metadata/1.root.json",
                "tufaceous-v1-fake/repo/metadata/1.root.json", 1, false);
    /* ecdsa PEM (sigstore v12: 3 valid, 2 empty). */
    assert_sigs("tuf-conformance/sigstore-root-signing/metadata/12.root.json",
                "tuf-conformance/sigstore-root-signing/metadata/12.root.json",
                3, false);
    /* ecdsa hex points (sigstore v1 -> v2 -> v3 -> v4). */
    assert_sigs("tuf-conformance/sigstore-root-signing/metadata/1.root.json",
                "tuf-conformance/sigstore-root-signing/metadata/2.root.json",
                5, true);
    assert_sigs("tuf-conformance/sigstore-root-signing/metadata/3.root.json",
                "tuf-conformance/sigstore-root-signing/metadata/4.root.json",
                4, true); /* v4's fifth signer is a new key */
    /* rsassa-pss-sha256 (tough). */
    assert_sigs("tough/simple-rsa/root.json", "tough/simple-rsa/root.json", 1,
                false);
    /* The same root never verifies under another's keys. */
    assert_sigs("tough/simple-rsa/root.json",
                "tufaceous-v1-fake/repo/metadata/1.root.json", 0, false);
}

static void test_tuf_key__unusable(void **state)
{
    struct tuf_key *k = NULL;
    struct err e = ERR_INIT;
    json_t *rsa;
    json_t *obj;
    struct tuf_meta_root *r;

    (void)state;
    NEED_VECTORS();
    r = load_root("tough/simple-rsa/root.json", true, false);
    rsa = json_deep_copy(r->keys[0].key ? json_object_get(json_object_get(
        r->meta->signed_obj, "keys"), r->keys[0].keyid) : NULL);
    assert_non_null(rsa);
    json_object_set_new(rsa, "keytype", json_string("ecdsa"));
    json_object_set_new(rsa, "scheme", json_string("ecdsa-sha2-nistp256"));
    assert_int_equal(tuf_key_parse(&k, "x", rsa, false, &e), 0);
    assert_string_equal(tuf_key_usable(k), "ecdsa public key is not a P-256 key");
    assert_false(tuf_key_verify(k, (const uint8_t *)"ab", 2, "m", 1));
    tuf_key_free(k);
    json_object_set_new(rsa, "keytype", json_string("dsa"));
    assert_int_equal(tuf_key_parse(&k, "x", rsa, false, &e), 0);
    assert_string_equal(tuf_key_usable(k), "unsupported keytype and scheme");
    tuf_key_free(k);
    obj = json_pack("{s:s,s:s}", "keytype", "ed25519", "scheme", "ed25519");
    assert_int_equal(tuf_key_parse(&k, "abcd", obj, false, &e), ERR_INVAL);
    assert_string_equal(e.msg, "key abcd: needs string keytype, scheme and "
                               "keyval.public");
    assert_null(k);
    json_decref(obj);
    json_decref(rsa);
    tuf_meta_root_free(r);
}

/* ---- metadata structure ---- */

static int parse_text(const char *text, enum tuf_role role, struct err *e)
{
    struct tuf_meta *m = NULL;
    struct tuf_meta_root *r = NULL;
    int rc = tuf_meta_parse(&m, "x.json", text, strlen(text), role, false, e);

    if (rc == 0 && role == TUF_ROLE_ROOT) {
        rc = tuf_meta_root_new(&r, m, true, e);
        tuf_meta_root_free(r);
    } else {
        tuf_meta_free(m);
    }
    return rc;
}

static void test_tuf_meta__structure(void **state)
{
    struct err e = ERR_INIT;
#define base                                                              \
    "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\","                 \
    "\"spec_version\":\"%s\",\"version\":%s,\"expires\":"                     \
    "\"2030-01-01T00:00:00Z\",\"meta\":{}}}"
    char text[512];

    (void)state;
    snprintf(text, sizeof(text), base, "1.0.31", "1");
    assert_int_equal(parse_text(text, TUF_ROLE_TIMESTAMP, &e), 0);
    snprintf(text, sizeof(text), base, "1.0", "1");
    assert_int_equal(parse_text(text, TUF_ROLE_TIMESTAMP, &e), 0);
    snprintf(text, sizeof(text), base, "2.0.0", "1");
    assert_int_equal(parse_text(text, TUF_ROLE_TIMESTAMP, &e), ERR_INVAL);
    assert_string_equal(e.msg,
                        "x.json: spec_version \"2.0.0\" is not a 1.x version");
    snprintf(text, sizeof(text), base, "1.0.0", "1.5");
    assert_int_equal(parse_text(text, TUF_ROLE_TIMESTAMP, &e), ERR_INVAL);
    assert_string_equal(e.msg,
                        "x.json: canonical JSON: floats are not allowed");
    snprintf(text, sizeof(text), base, "1.0.0", "0");
    assert_int_equal(parse_text(text, TUF_ROLE_TIMESTAMP, &e), ERR_INVAL);
    assert_string_equal(e.msg, "x.json: version must be an integer >= 1");
    snprintf(text, sizeof(text), base, "1.0.0", "1");
    assert_int_equal(parse_text(text, TUF_ROLE_SNAPSHOT, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "x.json: _type is \"timestamp\", expected "
                               "\"snapshot\"");
    assert_int_equal(
        parse_text("{\"signed\":{\"a\":1,\"a\":2},\"signatures\":[]}",
                   TUF_ROLE_TIMESTAMP, &e), ERR_INVAL);
    assert_true(strstr(e.msg, "x.json: invalid JSON") == e.msg);
    assert_non_null(strstr(e.msg, "duplicate object key"));
    assert_int_equal(parse_text("{\"signed\":{}}", TUF_ROLE_TIMESTAMP, &e),
                     ERR_INVAL);
    assert_string_equal(e.msg, "x.json: not a TUF envelope (needs object "
                               "\"signed\" and array \"signatures\")");
}

#undef base
static void test_tuf_meta__threshold_zero(void **state)
{
    size_t len = 0;
    char *data;
    json_t *doc;
    char *text;
    struct err e = ERR_INIT;

    (void)state;
    NEED_VECTORS();
    data = slurp(vpath("tufaceous-v1-fake/repo/metadata/1.root.json"), &len);
    doc = json_loadb(data, len, 0, NULL);
    assert_non_null(doc);
    json_object_set_new(json_object_get(json_object_get(json_object_get(doc,
        "signed"), "roles"), "snapshot"), "threshold", json_integer(0));
    text = json_dumps(doc, 0);
    assert_int_equal(parse_text(text, TUF_ROLE_ROOT, &e), ERR_INVAL);
    assert_string_equal(e.msg, "x.json: role snapshot: threshold must be an "
                               "integer >= 1");
    mem_free(text); /* jansson allocates through mem_* (mem_init) */
    json_decref(doc);
    mem_free(data);
}

/* ---- targets: streaming length and hash checks ---- */

#define ABC_SHA256 \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC_SHA512                                                           \
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"       \
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static void target_from(struct tuf_target *t, json_t **hold, const char *js)
{
    struct err e = ERR_INIT;

    *hold = json_loads(js, 0, NULL);
    assert_non_null(*hold);
    assert_int_equal(tuf_target_parse(t, "t.bin", *hold, true, true, "t.bin",
                                      &e), 0);
}

static void test_tuf_target__checks(void **state)
{
    struct tuf_target t;
    struct tuf_target_check c = TUF_TARGET_CHECK_INIT;
    struct err e = ERR_INIT;
    json_t *j;

    (void)state;
    target_from(&t, &j, "{\"length\":3,\"hashes\":{\"sha256\":\"" ABC_SHA256
                        "\",\"sha512\":\"" ABC_SHA512 "\"}}");
    assert_int_equal(tuf_target_check_bytes(&t, "abc", 3, &e), 0);
    assert_int_equal(tuf_target_check_bytes(&t, "ab", 2, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "t.bin: 2 bytes, shorter than its signed "
                               "length of 3 bytes");
    assert_int_equal(tuf_target_check_bytes(&t, "abcd", 4, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "t.bin: longer than its signed length of 3 "
                               "bytes");
    assert_int_equal(tuf_target_check_bytes(&t, "abd", 3, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "t.bin: sha256 mismatch");
    /* Chunked: the over-long chunk is refused as it arrives. */
    assert_int_equal(tuf_target_check_init(&c, &t, &e), 0);
    assert_int_equal(tuf_target_check_update(&c, "ab", 2, &e), 0);
    assert_int_equal(tuf_target_check_update(&c, "cd", 2, &e), ERR_VERIFY);
    tuf_target_check_release(&c);
    json_decref(j);
    /* sha512 checked too. */
    target_from(&t, &j, "{\"length\":3,\"hashes\":{\"sha256\":\"" ABC_SHA256
                        "\",\"sha512\":\"" ABC_SHA256 ABC_SHA256 "\"}}");
    assert_int_equal(tuf_target_check_bytes(&t, "abc", 3, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "t.bin: sha512 mismatch");
    json_decref(j);
    /* Unknown algorithm: verification fails. */
    target_from(&t, &j, "{\"length\":3,\"hashes\":{\"sha256\":\"" ABC_SHA256
                        "\",\"md5\":\"900150983cd24fb0d6963f7d28e17f72\"}}");
    assert_int_equal(tuf_target_check_bytes(&t, "abc", 3, &e), ERR_VERIFY);
    assert_string_equal(e.msg, "t.bin: unknown hash algorithm \"md5\"");
    json_decref(j);
    /* Malformed entries. */
    j = json_loads("{\"length\":3,\"hashes\":{\"sha256\":\"abcd\"}}", 0, NULL);
    assert_int_equal(tuf_target_parse(&t, "t", j, true, true, "t", &e),
                     ERR_INVAL);
    assert_string_equal(e.msg, "t: sha256 is not 64 hex characters");
    json_decref(j);
    j = json_loads("{\"length\":-1,\"hashes\":{\"sha256\":\"" ABC_SHA256
                   "\"}}", 0, NULL);
    assert_int_equal(tuf_target_parse(&t, "t", j, true, true, "t", &e),
                     ERR_INVAL);
    assert_string_equal(e.msg, "t: length must be a non-negative integer");
    json_decref(j);
}

/* A provider wrapper counting the bytes handed out. */
struct counting {
    struct tuf_provider inner;
    size_t bytes;
};

static int cnt_read_file(void *arg, const char *path, size_t cap,
                         struct buf *out, struct err *err)
{
    struct counting *c = arg;

    return c->inner.ops->read_file(c->inner.arg, path, cap, out, err);
}

static int cnt_open(void *arg, const char *path, void **out, struct err *err)
{
    struct counting *c = arg;

    return c->inner.ops->open(c->inner.arg, path, out, err);
}

static int cnt_read(void *arg, void *stream, void *dst, size_t cap,
                    size_t *got, struct err *err)
{
    struct counting *c = arg;
    int rc = c->inner.ops->read(c->inner.arg, stream, dst, cap, got, err);

    c->bytes += *got;
    return rc;
}

static void cnt_close(void *arg, void *stream)
{
    struct counting *c = arg;

    c->inner.ops->close(c->inner.arg, stream);
}

static const struct tuf_provider_ops cnt_ops = {cnt_read_file, cnt_open,
                                                cnt_read, cnt_close};

static int sum_chunks(const void *data, size_t n, void *arg)
{
    (void)data;
    *(size_t *)arg += n;
    return 0;
}

static void test_tuf_target__read_bounded(void **state)
{
    char dir[] = "/tmp/test_tuf_dir_XXXXXX";
    char file[64];
    struct tuf_dir *d = NULL;
    struct counting c;
    struct tuf_provider p = {&cnt_ops, &c};
    struct tuf_target t;
    struct err e = ERR_INIT;
    size_t seen = 0;
    json_t *j;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/big", dir);
    f = fopen(file, "wb");
    assert_non_null(f);
    for (int i = 0; i < 100000; i++)
        fputs("abc", f);
    fclose(f);
    snprintf(file, sizeof(file), "%s/abc", dir);
    f = fopen(file, "wb");
    fputs("abc", f);
    fclose(f);
    assert_int_equal(tuf_dir_new(&d, dir, dir, &e), 0);
    c.inner = tuf_dir_provider(d);
    c.bytes = 0;
    target_from(&t, &j, "{\"length\":3,\"hashes\":{\"sha256\":\"" ABC_SHA256
                        "\"}}");
    assert_int_equal(tuf_target_read(&p, "targets/abc", &t, sum_chunks, &seen,
                                     &e), 0);
    assert_int_equal(seen, 3);
    /* 300000 bytes on disk, 3 signed: at most 4 bytes are ever read. */
    assert_int_equal(tuf_target_read(&p, "targets/big", &t, NULL, NULL, &e),
                     ERR_VERIFY);
    assert_string_equal(e.msg, "t.bin: longer than its signed length of 3 "
                               "bytes");
    assert_true(c.bytes <= 3 + 4);
    assert_int_equal(tuf_target_read(&p, "targets/none", &t, NULL, NULL, &e),
                     ERR_NOTFOUND);
    assert_int_equal(tuf_target_read(&p, "targets/../x", &t, NULL, NULL, &e),
                     ERR_INVAL);
    json_decref(j);
    tuf_dir_free(d);
    unlink(file);
    snprintf(file, sizeof(file), "%s/big", dir);
    unlink(file);
    rmdir(dir);
}

/* ---- names and the artifacts document ---- */

static void test_tuf_repo__name_ok(void **state)
{
    (void)state;
    assert_true(tuf_repo_name_ok("artifacts.json"));
    assert_true(tuf_repo_name_ok("dir/file2.txt"));
    assert_false(tuf_repo_name_ok(""));
    assert_false(tuf_repo_name_ok("/etc/passwd"));
    assert_false(tuf_repo_name_ok("a/../b"));
    assert_false(tuf_repo_name_ok(".."));
    assert_false(tuf_repo_name_ok("a//b"));
    assert_false(tuf_repo_name_ok("a/"));
    assert_false(tuf_repo_name_ok("a\\b"));
    assert_false(tuf_repo_name_ok("a/./b"));
}

static struct tuf_repo *fake_repo(struct tuf_dir **d)
{
    struct tuf_policy pol = TUF_POLICY_INIT;
    struct tuf_repo *repo = NULL;
    struct tuf_provider p;
    struct err e = ERR_INIT;

    assert_int_equal(tuf_dir_new(d, vpath("tufaceous-v1-fake/repo/metadata"),
                                 vpath("tufaceous-v1-fake/repo/targets"), &e),
                     0);
    p = tuf_dir_provider(*d);
    pol.trust_repo_root = true;
    assert_int_equal(tuf_verify_repo(&repo, &p, NULL, 0, &pol, &e), 0);
    return repo;
}

static int parse_doc(const struct tuf_repo *repo, const char *text, int fmt,
                     struct err *e)
{
    struct tuf_artifacts *a = NULL;
    int rc = tuf_artifacts_parse(&a, repo, text, strlen(text), fmt, e);

    if (rc == 0) {
        assert_int_equal(tuf_artifacts_count(a), 1);
        assert_string_equal(tuf_artifacts_get(a, 0)->kind, "sp");
        assert_string_equal(tuf_artifacts_get(a, 0)->target->name,
                            "artifacts.json");
    }
    tuf_artifacts_free(a);
    return rc;
}

static void test_tuf_artifacts__parse(void **state)
{
    struct tuf_dir *d = NULL;
    struct tuf_repo *repo;
    struct err e = ERR_INIT;

    (void)state;
    NEED_VECTORS();
    repo = fake_repo(&d);
    assert_int_equal(parse_doc(repo,
        "{\"system_version\":\"19.0.0-rc.1+b7\",\"artifacts\":[{\"target_name\":"
        "\"artifacts.json\",\"version\":\"1.0.0\",\"tags\":{\"kind\":\"sp\","
        "\"sp_board\":\"gimlet-e\"}}],\"metadata\":{}}", 2, &e), 0);
    assert_int_equal(parse_doc(repo,
        "{\"system_version\":\"1.0.0\",\"artifacts\":[{\"name\":\"x\","
        "\"version\":\"1.0.0\",\"kind\":\"sp\",\"target\":\"artifacts.json\"}]}",
        1, &e), 0);
    assert_int_equal(parse_doc(repo,
        "{\"system_version\":\"01.0.0\",\"artifacts\":[]}", 1, &e), ERR_INVAL);
    assert_string_equal(e.msg, "artifacts.json: system_version \"01.0.0\" is "
                               "not a semantic version");
    assert_int_equal(parse_doc(repo,
        "{\"system_version\":\"1.0.0\",\"artifacts\":[{\"name\":\"x\","
        "\"version\":\"1.0 beta\",\"kind\":\"sp\",\"target\":\"artifacts.json\""
        "}]}", 1, &e), ERR_INVAL);
    assert_string_equal(e.msg, "artifacts.json: artifact 0 (x): version "
                               "\"1.0 beta\" does not match "
                               "^[a-zA-Z0-9._+-]{1,63}$");
    assert_int_equal(parse_doc(repo,
        "{\"system_version\":\"1.0.0\",\"artifacts\":[{\"name\":\"x\","
        "\"version\":\"1\",\"kind\":\"sp\",\"target\":\"../artifacts.json\"}]}",
        1, &e), ERR_INVAL);
    assert_string_equal(e.msg, "artifacts.json: artifact 0 (x): unsafe target "
                               "name \"../artifacts.json\"");
    assert_int_equal(parse_doc(repo,
        "{\"system_version\":\"1.0.0\",\"artifacts\":[{\"target_name\":"
        "\"missing.bin\",\"version\":\"1\",\"tags\":{\"kind\":\"sp\"}}]}",
        2, &e), ERR_INVAL);
    assert_string_equal(e.msg, "artifacts-v2.json: artifact 0 (missing.bin): "
                               "target \"missing.bin\" is not a signed target");
    tuf_repo_free(repo);
    tuf_dir_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tuf_time__strict_and_lenient),
        cmocka_unit_test(test_tuf_meta__cjson_tufjs),
        cmocka_unit_test(test_tuf_key__keyids_whole_object),
        cmocka_unit_test(test_tuf_key__each_type),
        cmocka_unit_test(test_tuf_key__unusable),
        cmocka_unit_test(test_tuf_meta__structure),
        cmocka_unit_test(test_tuf_meta__threshold_zero),
        cmocka_unit_test(test_tuf_target__checks),
        cmocka_unit_test(test_tuf_target__read_bounded),
        cmocka_unit_test(test_tuf_repo__name_ok),
        cmocka_unit_test(test_tuf_artifacts__parse),
    };

    mem_init();
    return testutil_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
