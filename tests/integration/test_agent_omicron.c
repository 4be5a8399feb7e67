/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Parity with the reference controller (issue 12): two real sledagents
 * (plaintext, as the reference's clients run on a trusted underlay) are
 * driven with requests shaped exactly as omicron's nexus sends them
 * (tests/integration/omicron/README.md): the progenitor headers
 * (`api-version` of the reference's sled-agent API, JSON or octet-stream
 * Content-Type, Accept), the sorted JSON config, the chunked artifact PUT
 * with ?generation=N, the copy request naming a peer's depot, and the
 * repo depot GET, plus the errors the controller handles (an older config
 * generation: 409 CONFIG_GENERATION; a wrong generation: 409; bad hashes
 * and bodies: 400; an unknown artifact: 404; a copy whose source lacks the
 * artifact or is down: an error). Every exchange is recorded
 * and checked by tests/integration/omicron/validate.py (Debian's
 * python3-jsonschema) against the schemas we wrote from the reference's
 * OpenAPI documents: the status must be one the reference declares and
 * every body must validate. A second run against a deliberately wrong
 * schema must fail, so the check can fail. And the other direction: a
 * copy from a stand-in for a reference sled's repo depot, which refuses a
 * request without `api-version`. Without the validator the test exits 77
 * (skipped).
 */
#include <ctype.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define SKIP_CODE 77
/* The version of the reference's sled-agent API at b848b6df and of its
 * repo depot API: what its generated clients send in `api-version`. */
#define SLED_AGENT_API "api-version: 48.0.0"
#define REPO_DEPOT_API "api-version: 1.0.0"

static const char *const hdr_get[] = {SLED_AGENT_API,
                                      "Accept: application/json", NULL};
static const char *const hdr_json[] = {SLED_AGENT_API,
                                       "Accept: application/json",
                                       "Content-Type: application/json",
                                       NULL};
/* reqwest::Body::wrap_stream: no length, so chunked. */
static const char *const hdr_put[] = {
    SLED_AGENT_API, "Accept: application/json",
    "Content-Type: application/octet-stream", "Transfer-Encoding: chunked",
    NULL};
static const char *const hdr_depot[] = {REPO_DEPOT_API, NULL};

/* The interpreter with Debian's python3-jsonschema ($RD_PYTHON3 wins). */
static const char *python3(void)
{
    const char *p = getenv("RD_PYTHON3");

    return p && *p ? p : "/usr/bin/python3";
}

/* tests/integration/omicron in the source tree; a new string. */
static char *schema_dir(void)
{
    const char *src = getenv("RACKDEPOT_SOURCE_DIR");
    struct buf b = BUF_INIT;

    assert_int_equal(buf_printf(&b, "%s/tests/integration/omicron",
                                src ? src : "."), 0);
    return buf_take(&b);
}

/* Run validate.py with args (NULL-ended, at most 4); its exit code. The
 * output goes to log (printed when print_log). */
static int run_validator(const char *log, const char *const *args,
                         bool print_log)
{
    char *dir = schema_dir();
    char *script = testutil_join(dir, "validate.py");
    char *argv[8] = {(char *)python3(), script};
    int code = -1, n = 2;

    for (const char *const *a = args; *a && n < 7; a++)
        argv[n++] = (char *)*a;
    argv[n] = NULL;
    if (!testutil_exists(python3()))
        code = SKIP_CODE;
    else
        assert_int_equal(proc_run(&code, python3(), argv, log, 120000), 0);
    if (print_log) {
        char *out = NULL;
        size_t len = 0;

        if (testutil_read_file(&out, &len, log) == 0)
            fprintf(stderr, "%.*s", (int)len, out);
        mem_free(out);
    }
    mem_free(script);
    mem_free(dir);
    return code;
}

/* The recorder: one JSON line per exchange, for validate.py. */
struct rec {
    FILE *f;
    unsigned n;
};

static void rec_write(struct rec *r, json_t *line)
{
    assert_non_null(line);
    assert_int_equal(json_dumpf(line, r->f, JSON_COMPACT), 0);
    assert_int_equal(fputc('\n', r->f), '\n');
    json_decref(line);
    r->n++;
}

static void rec_request(struct rec *r, const char *op, json_t *body)
{
    rec_write(r, json_pack("{s:s, s:s, s:O}", "op", op, "dir", "request",
                           "body", body));
}

/* Record resp (its body parsed as JSON when it is, else kept raw). */
static void rec_response(struct rec *r, const char *op,
                         const struct http_client_resp *resp)
{
    char ctype[128];
    json_t *body = NULL, *line;

    assert_true(resp->status > 0);
    if (resp->body.len > 0)
        body = json_loadb(resp->body.data, resp->body.len, JSON_DECODE_ANY,
                          NULL);
    line = json_pack("{s:s, s:s, s:I}", "op", op, "dir", "response",
                     "status", (json_int_t)resp->status);
    assert_non_null(line);
    if (http_client_header(resp, "Content-Type", ctype, sizeof(ctype)))
        json_object_set_new(line, "content_type", json_string(ctype));
    else
        json_object_set_new(line, "content_type", json_null());
    json_object_set_new(line, "body", body ? body : json_null());
    /* A body that is not JSON: as text when it is UTF-8, else its size. */
    if (!body && resp->body.len > 0) {
        json_t *raw = json_stringn(resp->body.data, resp->body.len);

        json_object_set_new(line, raw ? "raw" : "raw_len",
                            raw ? raw : json_integer((json_int_t)
                                                         resp->body.len));
    }
    rec_write(r, line);
}

static int dump_to_buf(const char *p, size_t n, void *arg)
{
    return buf_append(arg, p, n) == 0 ? 0 : -1;
}

/* One request as the reference's client sends it; the response lands in
 * *resp (released first) and in the record. Returns the status. */
static long call(struct rec *r, struct http_client_resp *resp,
                 const char *op, const char *method, const char *url,
                 const char *const *headers, json_t *json_body)
{
    struct http_client_req req = {0};
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;

    req.method = method;
    req.url = url;
    req.headers = headers;
    if (json_body) {
        rec_request(r, op, json_body);
        /* serde's output: compact, fields in declaration order. */
        assert_int_equal(json_dump_callback(json_body, dump_to_buf, &b,
                                            JSON_COMPACT |
                                                JSON_PRESERVE_ORDER), 0);
        req.body = b.data;
        req.body_len = b.len;
    }
    if (http_client_request(resp, &req, &e) < 0)
        fail_msg("%s %s: %s", method, url, e.msg);
    buf_release(&b);
    rec_response(r, op, resp);
    return resp->status;
}

/* artifact_put: PUT /artifacts/{hex}?generation=gen, a streamed (chunked)
 * body. The agent refuses Content-Length with Transfer-Encoding, so a 200
 * also shows that curl sent no length, as reqwest does not. */
static long put_artifact(struct rec *r, struct http_client_resp *resp,
                         struct agentproc *a, const char *hex, uint64_t gen,
                         const void *data, size_t len)
{
    struct http_client_req req = {0};
    struct http_client_pieces p = {data, len, 64 * 1024 - 7};
    struct err e = ERR_INIT;
    char url[256];

    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=%llu",
             agentproc_api_url(a), hex, (unsigned long long)gen);
    req.method = "PUT";
    req.url = url;
    req.gen = http_client_pieces_gen;
    req.gen_arg = &p;
    req.content_length = len; /* curl's progress only: not sent */
    req.headers = hdr_put;
    if (http_client_request(resp, &req, &e) < 0)
        fail_msg("PUT %s: %s", url, e.msg);
    rec_response(r, "artifact_put", resp);
    return resp->status;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* artifact_put byte for byte as hyper (under reqwest) writes it: lowercase
 * header names, the progenitor headers, host, no length, and the stream's
 * pieces as chunks with lowercase hex sizes. The reply is split into
 * *resp (released first) and recorded. Returns the status. */
static long put_artifact_hyper(struct rec *r, struct http_client_resp *resp,
                               struct agentproc *a, const char *hex,
                               uint64_t gen, const char *data, size_t len)
{
    struct buf req = BUF_INIT, raw = BUF_INIT;
    const char *sep;
    int fd = -1;

    assert_int_equal(buf_printf(&req, "PUT /artifacts/%s?generation=%llu "
                                "HTTP/1.1\r\napi-version: 48.0.0\r\n"
                                "accept: application/json\r\ncontent-type: "
                                "application/octet-stream\r\nhost: "
                                "127.0.0.1:%d\r\ntransfer-encoding: "
                                "chunked\r\n\r\n", hex,
                                (unsigned long long)gen,
                                agentproc_api_port(a)), 0);
    for (size_t off = 0; off < len;) {
        size_t n = len - off < 8192 ? len - off : 8192;

        assert_int_equal(buf_printf(&req, "%zx\r\n", n), 0);
        assert_int_equal(buf_append(&req, data + off, n), 0);
        assert_int_equal(buf_puts(&req, "\r\n"), 0);
        off += n;
    }
    assert_int_equal(buf_puts(&req, "0\r\n\r\n"), 0);
    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(a)), 0);
    assert_int_equal(http_client_raw_send(fd, req.data, req.len), 0);
    (void)http_client_raw_recv(&raw, fd, 30000);
    close(fd);
    http_client_resp_release(resp);
    resp->status = http_client_raw_status(&raw);
    sep = raw.data ? strstr(raw.data, "\r\n\r\n") : NULL;
    assert_non_null(sep);
    assert_int_equal(buf_append(&resp->headers, raw.data,
                                (size_t)(sep - raw.data) + 2), 0);
    assert_int_equal(buf_append(&resp->body, sep + 4,
                                raw.len - (size_t)(sep + 4 - raw.data)), 0);
    rec_response(r, "artifact_put", resp);
    buf_release(&raw);
    buf_release(&req);
    return resp->status;
}

/* ArtifactConfig as nexus builds it: a BTreeSet, so sorted and unique. */
static json_t *config_body(uint64_t gen, const char **hexes, size_t n)
{
    json_t *arr = json_array(), *o;

    assert_non_null(arr);
    qsort(hexes, n, sizeof(*hexes), cmp_str);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(json_array_append_new(arr, json_string(hexes[i])),
                         0);
    o = json_pack("{s:I, s:o}", "generation", (json_int_t)gen, "artifacts",
                  arr);
    assert_non_null(o);
    return o;
}

static long put_config(struct rec *r, struct http_client_resp *resp,
                       struct agentproc *a, uint64_t gen, const char **hexes,
                       size_t n)
{
    json_t *body = config_body(gen, hexes, n);
    char url[256];
    long st;

    snprintf(url, sizeof(url), "%s/artifacts-config", agentproc_api_url(a));
    st = call(r, resp, "artifact_config_put", "PUT", url, hdr_json, body);
    json_decref(body);
    return st;
}

static long copy_from_depot(struct rec *r, struct http_client_resp *resp,
                            struct agentproc *a, const char *hex,
                            uint64_t gen, const char *depot_base_url)
{
    json_t *body = json_pack("{s:s}", "depot_base_url", depot_base_url);
    char url[512];
    long st;

    snprintf(url, sizeof(url),
             "%s/artifacts/%s/copy-from-depot?generation=%llu",
             agentproc_api_url(a), hex, (unsigned long long)gen);
    st = call(r, resp, "artifact_copy_from_depot", "POST", url, hdr_json,
              body);
    json_decref(body);
    return st;
}

static long get(struct rec *r, struct http_client_resp *resp,
                const char *op, const char *base, const char *path)
{
    char url[512];

    snprintf(url, sizeof(url), "%s%s", base, path);
    return call(r, resp, op, "GET", url,
                !strcmp(op, "artifact_get_by_sha256") ? hdr_depot : hdr_get,
                NULL);
}

/* The error code of an error reply, "" when it has none. */
static const char *error_code(json_t *v)
{
    const char *s = json_string_value(json_object_get(v, "error_code"));

    return s ? s : "";
}

/* Wait until GET /artifacts of a lists hex with count copies. */
static void wait_listed(struct agentproc *a, const char *hex, long count)
{
    struct agenttest_count c = {a, hex, count};

    if (!testutil_wait_for(agenttest_count_is, &c, 30000))
        fail_msg("%s not listed %ld times in 30 s", hex, count);
}

/* The whole controller conversation, recorded in r. */
/* Whether GET /artifacts of a names an override. */
static bool listed_held(void *arg)
{
    json_t *v = NULL;
    bool yes = agentproc_list(arg, &v) == 200 &&
               json_object_get(v, "override") != NULL;

    json_decref(v);
    return yes;
}

/* `sledagent override set` on a's datasets, and a holds. */
static void hold_sled(struct agentproc *a)
{
    char *bin = proc_bin_path("sledagent");
    char *log = testutil_join(agentproc_dir(a), "override.log");
    char *argv[] = {bin, "override", "set", "--reason", "omicron test",
                    "--dataset", (char *)agentproc_dataset(a, 0),
                    "--dataset", (char *)agentproc_dataset(a, 1), NULL};
    int code = -1;

    assert_int_equal(proc_run(&code, bin, argv, log, 30000), 0);
    assert_int_equal(code, 0);
    assert_true(testutil_wait_for(listed_held, a, 15000));
    mem_free(log);
    mem_free(bin);
}

static void converse(struct agentproc_fixture *f, struct rec *r)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x, y, z;
    const char *cfg[2];
    const char *a_api, *b_api;
    char path[256], dead[64];
    json_t *v;
    long st;
    int fd = -1;

    agenttest_art_make(&x, 1024u * 1024 + 333);
    agenttest_art_make(&y, 4096);
    agenttest_art_make(&z, 100); /* never in the config */
    a_api = agentproc_api_url(f->a);
    b_api = agentproc_api_url(f->b);

    /* Before any config: 404 on the config, 400 on the list. */
    assert_int_equal(get(r, &resp, "artifact_config_get", a_api,
                         "/artifacts-config"), 404);
    assert_int_equal(get(r, &resp, "artifact_list", a_api, "/artifacts"),
                     400);

    /* The replication run: config to every sled, then list. */
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(put_config(r, &resp, f->a, 2, cfg, 2), 204);
    assert_int_equal(put_config(r, &resp, f->b, 2, cfg, 2), 204);
    /* Identical again: 204. Older: the 409 that ends nexus's run. */
    assert_int_equal(put_config(r, &resp, f->a, 2, cfg, 2), 204);
    assert_int_equal(put_config(r, &resp, f->a, 1, cfg, 2), 409);
    v = http_client_json(&resp);
    assert_string_equal(error_code(v), "CONFIG_GENERATION");
    json_decref(v);
    /* Same generation, another set: 409 too. */
    assert_int_equal(put_config(r, &resp, f->a, 2, cfg, 1), 409);
    v = http_client_json(&resp);
    assert_string_equal(error_code(v), "CONFIG_GENERATION");
    json_decref(v);

    assert_int_equal(get(r, &resp, "artifact_config_get", a_api,
                         "/artifacts-config"), 200);
    v = http_client_json(&resp);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")),
                     2);
    assert_int_equal(json_array_size(json_object_get(v, "artifacts")), 2);
    json_decref(v);
    assert_int_equal(get(r, &resp, "artifact_list", a_api, "/artifacts"),
                     200);

    /* PUT a local artifact to sled A. */
    assert_int_equal(put_artifact(r, &resp, f->a, x.hex, 2, x.data, x.len),
                     200);
    v = http_client_json(&resp);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 2);
    json_decref(v);
    /* Again (another controller, a retry): the same answer. */
    assert_int_equal(put_artifact(r, &resp, f->a, x.hex, 2, x.data, x.len),
                     200);
    /* The same PUT with hyper's exact bytes (lowercase header names). */
    assert_int_equal(put_artifact_hyper(r, &resp, f->a, x.hex, 2, x.data,
                                        x.len), 200);
    v = http_client_json(&resp);
    assert_non_null(v);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 2);
    json_decref(v);
    assert_int_equal(put_artifact_hyper(r, &resp, f->a, y.hex, 5, y.data,
                                        y.len), 409);
    /* Stale or future generation: 409; nothing stored. */
    assert_int_equal(put_artifact(r, &resp, f->a, y.hex, 1, y.data, y.len),
                     409);
    assert_int_equal(put_artifact(r, &resp, f->a, y.hex, 3, y.data, y.len),
                     409);
    /* A body that is not the hash, a hash not in the config, not a hash:
     * 400. */
    assert_int_equal(put_artifact(r, &resp, f->a, y.hex, 2, x.data, 4096),
                     400);
    assert_int_equal(put_artifact(r, &resp, f->a, z.hex, 2, z.data, z.len),
                     400);
    assert_int_equal(put_artifact(r, &resp, f->a, "not-a-hash", 2, z.data,
                                  z.len), 400);
    assert_int_equal(agentproc_count(f->a, y.hex), 0);

    /* List: x on both datasets, under the generation nexus pushed. */
    assert_int_equal(get(r, &resp, "artifact_list", a_api, "/artifacts"),
                     200);
    v = http_client_json(&resp);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(v, "list"), x.hex)), 2);
    json_decref(v);

    /* Sled B copies x from A's depot. */
    assert_int_equal(copy_from_depot(r, &resp, f->b, x.hex, 2,
                                     agentproc_depot_url(f->a)), 202);
    wait_listed(f->b, x.hex, 2);
    assert_int_equal(get(r, &resp, "artifact_list", b_api, "/artifacts"),
                     200);
    /* Wrong generation: 409; not in the config or not a hash: 400. */
    assert_int_equal(copy_from_depot(r, &resp, f->b, x.hex, 3,
                                     agentproc_depot_url(f->a)), 409);
    assert_int_equal(copy_from_depot(r, &resp, f->b, z.hex, 2,
                                     agentproc_depot_url(f->a)), 400);
    assert_int_equal(copy_from_depot(r, &resp, f->b, "0123", 2,
                                     agentproc_depot_url(f->a)), 400);
    /* A source without the artifact, a source that is down: an error
     * nexus records (the reference says 500; any 4XX/5XX is its Error). */
    st = copy_from_depot(r, &resp, f->b, y.hex, 2,
                         agentproc_depot_url(f->a));
    assert_in_range(st, 400, 599);
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d",
             http_client_refused_port(&fd));
    st = copy_from_depot(r, &resp, f->b, y.hex, 2, dead);
    assert_in_range(st, 400, 599);
    close(fd);
    assert_int_equal(agentproc_count(f->b, y.hex), 0);

    /* The repo depot of B serves the copy; unknown and bad hashes. */
    snprintf(path, sizeof(path), "/artifact/sha256/%s", x.hex);
    assert_int_equal(get(r, &resp, "artifact_get_by_sha256",
                         agentproc_depot_url(f->b), path), 200);
    assert_int_equal(resp.body.len, x.len);
    assert_memory_equal(resp.body.data, x.data, x.len);
    snprintf(path, sizeof(path), "/artifact/sha256/%s", y.hex);
    assert_int_equal(get(r, &resp, "artifact_get_by_sha256",
                         agentproc_depot_url(f->b), path), 404);
    assert_int_equal(get(r, &resp, "artifact_get_by_sha256",
                         agentproc_depot_url(f->b),
                         "/artifact/sha256/xyz"), 400);

    /* issue 12 item 6: held, the config and list still have the
     * reference's shapes (the override is an extension field) and the
     * refusal is the reference's error shape */
    hold_sled(f->b);
    assert_int_equal(get(r, &resp, "artifact_config_get", b_api,
                         "/artifacts-config"), 200);
    v = http_client_json(&resp);
    assert_non_null(json_object_get(v, "override"));
    json_decref(v);
    assert_int_equal(get(r, &resp, "artifact_list", b_api, "/artifacts"),
                     200);
    v = http_client_json(&resp);
    assert_non_null(json_object_get(v, "override"));
    json_decref(v);
    assert_int_equal(put_config(r, &resp, f->b, 3, cfg, 2), 409);
    v = http_client_json(&resp);
    assert_string_equal(error_code(v), "OVERRIDE_ACTIVE");
    json_decref(v);

    agenttest_assert_invariant(f->a);
    agenttest_assert_invariant(f->b);
    http_client_resp_release(&resp);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    agenttest_art_free(&z);
}

/* Copy the schema directory into dst with the required field `field` of
 * $defs/def in sled-agent.schema.json renamed to `to`. */
static void write_wrong_schemas(const char *dst, const char *def,
                                const char *field, const char *to)
{
    static const char *const files[] = {"operations.json",
                                        "repo-depot.schema.json",
                                        "sled-agent.schema.json"};
    char *dir = schema_dir();
    bool renamed = false;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *from = testutil_join(dir, files[i]);
        char *out = testutil_join(dst, files[i]);
        json_t *v = json_load_file(from, 0, NULL), *req;

        assert_non_null(v);
        req = json_object_get(json_object_get(json_object_get(v, "$defs"),
                                              def), "required");
        for (size_t k = 0; req && !strcmp(files[i], "sled-agent.schema.json")
                           && k < json_array_size(req); k++) {
            if (!strcmp(json_string_value(json_array_get(req, k)), field)) {
                json_array_set_new(req, k, json_string(to));
                renamed = true;
            }
        }
        assert_int_equal(json_dump_file(v, out, JSON_INDENT(2)), 0);
        json_decref(v);
        mem_free(out);
        mem_free(from);
    }
    assert_true(renamed);
    mem_free(dir);
}

static void test_agent_omicron__reference_shapes(void **state)
{
    struct agentproc_fixture *f = *state;
    char *cases = testutil_join(agentproc_dir(f->a), "exchanges.jsonl");
    char *log = testutil_join(agentproc_dir(f->a), "validate.log");
    char *wrong = testutil_join(agentproc_dir(f->a), "wrong-schema");
    char *wlog = testutil_join(agentproc_dir(f->a), "validate-wrong.log");
    const char *args[4] = {cases, NULL};
    struct rec r = {NULL, 0};
    int code;

    assert_int_equal(agentproc_new(&f->b, NULL), 0);
    assert_int_equal(agentproc_start(f->b), 0);
    r.f = fopen(cases, "w");
    assert_non_null(r.f);
    converse(f, &r);
    assert_int_equal(fclose(r.f), 0);
    assert_true(r.n >= 40);

    code = run_validator(log, args, true);
    assert_int_equal(code, 0);

    /* The check can fail: a required field renamed in the schema of the
     * put response, and in the one of the errors. */
    for (int i = 0; i < 2; i++) {
        const char *wargs[4] = {"--schema-dir", wrong, cases, NULL};
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(testutil_rmrf(wrong), 0);
        assert_int_equal(mkdir(wrong, 0755), 0);
        if (i == 0)
            write_wrong_schemas(wrong, "ArtifactPutResponse",
                                "successful_writes", "successful_write");
        else
            write_wrong_schemas(wrong, "Error", "request_id", "requestId");
        assert_int_equal(run_validator(wlog, wargs, false), 1);
        assert_int_equal(testutil_read_file(&out, &len, wlog), 0);
        assert_non_null(strstr(out, i == 0 ? "'successful_write' is a "
                                             "required property"
                                           : "'requestId' is a required "
                                             "property"));
        mem_free(out);
    }
    mem_free(wrong);
    mem_free(wlog);
    mem_free(log);
    mem_free(cases);
    f->passed = true;
}

/* A one-request stand-in for a reference sled's repo depot: like dropshot
 * with ClientSpecifiesVersionInHeader and no default, it answers 400
 * "missing expected header" unless the request names api-version 1.0.0;
 * then 200 with the artifact. */
struct fake_depot {
    int fd; /* listening */
    const char *data;
    size_t len;
    char head[8192]; /* the request head, lowercased */
    pthread_t thread;
};

static void send_all(int fd, const void *p, size_t n)
{
    (void)http_client_raw_send(fd, p, n);
}

static void *fake_depot_main(void *arg)
{
    static const char missing[] =
        "{\"request_id\":\"fake\",\"message\":\"missing expected header "
        "\\\"api-version\\\"\"}";
    struct fake_depot *d = arg;
    char hdr[256];
    size_t n = 0;
    int c = accept(d->fd, NULL, NULL);

    if (c < 0)
        return NULL;
    while (n < sizeof(d->head) - 1 && !strstr(d->head, "\r\n\r\n")) {
        ssize_t k = recv(c, d->head + n, sizeof(d->head) - 1 - n, 0);

        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k; i++)
            d->head[n + (size_t)i] = (char)tolower(
                (unsigned char)d->head[n + (size_t)i]);
        n += (size_t)k;
        d->head[n] = '\0';
    }
    if (strstr(d->head, "\r\napi-version: 1.0.0\r\n")) {
        snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Type: "
                 "application/octet-stream\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n", d->len);
        send_all(c, hdr, strlen(hdr));
        send_all(c, d->data, d->len);
    } else {
        snprintf(hdr, sizeof(hdr), "HTTP/1.1 400 Bad Request\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n", sizeof(missing) - 1);
        send_all(c, hdr, strlen(hdr));
        send_all(c, missing, sizeof(missing) - 1);
    }
    close(c);
    return NULL;
}

/* Issue 12: a copy from a reference sled's depot names the depot API
 * version, which the reference requires; before, the agent sent none and
 * the copy failed with 502. */
static void test_agent_omicron__issue_12_copy_from_reference_depot(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    struct fake_depot d;
    struct agenttest_art y;
    struct rec r = {NULL, 0};
    const char *cfg[1];
    char url[64];
    int port;

    agenttest_art_make(&y, 300000);
    memset(&d, 0, sizeof(d));
    d.data = y.data;
    d.len = y.len;
    d.fd = http_client_listener(&port, 4);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    assert_int_equal(pthread_create(&d.thread, NULL, fake_depot_main, &d),
                     0);
    r.f = fopen("/dev/null", "w");
    assert_non_null(r.f);

    cfg[0] = y.hex;
    assert_int_equal(put_config(&r, &resp, f->a, 1, cfg, 1), 204);
    assert_int_equal(copy_from_depot(&r, &resp, f->a, y.hex, 1, url), 202);
    wait_listed(f->a, y.hex, 2);
    agenttest_assert_invariant(f->a);

    /* accept() returns once the listener is shut down. */
    shutdown(d.fd, SHUT_RDWR);
    assert_int_equal(pthread_join(d.thread, NULL), 0);
    close(d.fd);
    assert_non_null(strstr(d.head, "get /artifact/sha256/"));
    fclose(r.f);
    http_client_resp_release(&resp);
    agenttest_art_free(&y);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_omicron__reference_shapes),
        AGENTTEST(test_agent_omicron__issue_12_copy_from_reference_depot),
    };
    char *tmp = NULL, *log = NULL;
    const char *check[] = {"--check", NULL};
    int code;

    /* No validator: skipped, never passed. */
    assert_int_equal(testutil_tmpdir(&tmp, "omicron-check"), 0);
    log = testutil_join(tmp, "check.log");
    code = run_validator(log, check, true);
    testutil_rmrf(tmp);
    mem_free(log);
    mem_free(tmp);
    if (code != 0) {
        fprintf(stderr, "SKIP: no JSON Schema validator (%s with "
                "python3-jsonschema; scripts/deps.sh installs it)\n",
                python3());
        return SKIP_CODE;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
