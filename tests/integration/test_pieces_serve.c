/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_pieces_serve: piece manifests over HTTP (issue 13), against real
 * binaries: `replicator serve` on a private PostgreSQL computes each
 * artifact's manifest at ingest and serves it on GET
 * /artifact/sha256/{sha256}/pieces (every piece checked against the
 * staged file, the bytes stable across requests and restarts; 404 for an
 * unknown artifact, 400 for a bad hash); two sledagents, one given the
 * artifact by PUT and one copying it from the other's depot (both through
 * the verified writer), serve on their depots the same bytes as the
 * replicator for the same artifact and piece size, whether the manifest
 * came from the write (the default size) or was computed from the stored
 * copy (another size, or after a restart); 404 for an artifact the sled
 * does not hold, 400 for a bad query. Test main thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/sha256.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define NART 3
/* three 4 MiB pieces or 145 of 64 KiB, the last one short either way */
#define ART_LEN 9437185
#define ART_LEN_STR "9437185"
#define HEX0 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEX1 "1111111111111111111111111111111111111111111111111111111111111111"

struct fx {
    char *dir, *conninfo, *staging, *portf, *slog, *key, *root, *bin;
    struct proc *srv;
    char url[64];
    char hex[NART][SHA256_HEX_LEN + 1];
    char *path[NART]; /* staged files */
    const char *piece_size; /* --piece-size of serve, NULL: the default */
};

static char *fx_path(struct fx *f, const char *name)
{
    char *p = testutil_join(f->dir, name);

    assert_non_null(p);
    return p;
}

static void run_ok(char **argv)
{
    int code = -1;

    assert_int_equal(proc_run(&code, argv[0], argv, NULL, 120000), 0);
    assert_int_equal(code, 0);
}

static void fx_serve(struct fx *f)
{
    json_t *pj = NULL;
    char *argv[] = {f->bin, "serve", "--insecure-plaintext", "--db",
                    f->conninfo, "--staging", f->staging, "--listen",
                    "127.0.0.1:0", "--port-file", f->portf, "--no-periodic",
                    NULL, NULL, NULL};

    if (f->piece_size) {
        argv[12] = "--piece-size";
        argv[13] = (char *)f->piece_size;
    }

    remove(f->portf);
    assert_int_equal(proc_spawn(&f->srv, f->bin, argv, NULL, f->slog), 0);
    if (proc_wait_port_file(&pj, f->portf, f->srv, 30000) != 0)
        testutil_print_tail("serve", f->slog, 4000);
    assert_non_null(pj);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d",
             (int)json_integer_value(json_object_get(pj, "api")));
    json_decref(pj);
}

static void fx_stop(struct fx *f)
{
    assert_int_equal(proc_stop(f->srv, 20000), 0);
    assert_int_equal(proc_exit_code(f->srv), 0);
    proc_free(f->srv);
    f->srv = NULL;
}

/* GET url; returns the status, the body into *body (may be NULL). */
static long get(struct buf *body, const char *url)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    long st;

    assert_int_equal(http_client_get(&r, url), 0);
    st = r.status;
    if (body) {
        buf_reset(body);
        assert_int_equal(buf_append(body, r.body.data ? r.body.data : "",
                                    r.body.len), 0);
    }
    http_client_resp_release(&r);
    return st;
}

static long send_file(struct fx *f, const char *method, const char *path,
                      const char *file, json_t **out)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[300], *data = NULL;
    size_t len = 0;
    long st;

    assert_int_equal(testutil_read_file(&data, &len, file), 0);
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    assert_int_equal(http_client_send(&r, method, url, data, len), 0);
    st = r.status;
    if (out)
        *out = http_client_json(&r);
    http_client_resp_release(&r);
    mem_free(data);
    return st;
}

/* Database, key and root, serve (--piece-size piece_size unless NULL),
 * trust root, and one uploaded repository of NART random artifacts;
 * f->hex and f->path name them. */
static void fx_start(struct fx *f, const char *piece_size)
{
    char *mk = proc_bin_path("tuf-mkrepo");
    char *zip, *keyzip;
    json_t *up = NULL, *st = NULL, *arts;
    struct buf body = BUF_INIT;
    char url[200];

    memset(f, 0, sizeof(*f));
    f->piece_size = piece_size;
    assert_int_equal(testutil_tmpdir(&f->dir, "pieces-"), 0);
    f->conninfo = pgtest_db_migrated_by_cli(NULL, "pieces");
    f->bin = proc_bin_path("replicator");
    f->staging = fx_path(f, "staging");
    f->portf = fx_path(f, "port.json");
    f->slog = fx_path(f, "serve.log");
    f->key = fx_path(f, "key.pem");
    f->root = fx_path(f, "root.json");
    keyzip = fx_path(f, "keygen.zip");
    zip = fx_path(f, "repo.zip");
    {
        char *argv[] = {mk, "--out", keyzip, "--system-version", "0.0.1",
                        "--random", "1:10", "--generate-key", f->key,
                        "--print-root", f->root, NULL};

        run_ok(argv);
    }
    {
        char *argv[] = {mk, "--out", zip, "--key", f->key,
                        "--system-version", "1.0.0", "--random",
                        "3:" ART_LEN_STR, NULL};

        run_ok(argv);
    }
    fx_serve(f);
    assert_int_equal(send_file(f, "POST", "/v1/system/update/trust-roots",
                               f->root, NULL), 201);
    assert_int_equal(send_file(f, "PUT", "/v1/system/update/repositories?"
                               "file_name=repo.zip", zip, &up), 200);
    arts = json_object_get(up, "artifacts");
    assert_int_equal(json_array_size(arts), NART);
    snprintf(url, sizeof(url), "%s/v1/system/update/staged", f->url);
    assert_int_equal(get(&body, url), 200);
    st = json_loadb(body.data, body.len, 0, NULL);
    assert_non_null(st);
    for (size_t i = 0; i < NART; i++) {
        json_t *a = json_array_get(arts, i);
        json_t *sa = json_object_get(json_array_get(json_object_get(st,
                                                                    "staged"),
                                                    0),
                                     "artifacts");

        assert_int_equal(json_integer_value(json_object_get(a, "length")),
                         ART_LEN);
        snprintf(f->hex[i], sizeof(f->hex[i]), "%s",
                 json_string_value(json_object_get(a, "sha256")));
        for (size_t k = 0; k < json_array_size(sa); k++)
            if (!strcmp(json_string_value(json_object_get(
                            json_array_get(sa, k), "sha256")),
                        f->hex[i]))
                f->path[i] = mem_strdup(json_string_value(
                    json_object_get(json_array_get(sa, k), "path")));
        assert_non_null(f->path[i]);
    }
    json_decref(st);
    json_decref(up);
    buf_release(&body);
    mem_free(zip);
    mem_free(keyzip);
    mem_free(mk);
}

static void fx_end(struct fx *f)
{
    if (f->srv)
        fx_stop(f);
    testutil_rmrf(f->dir);
    for (size_t i = 0; i < NART; i++)
        mem_free(f->path[i]);
    mem_free(f->dir);
    mem_free(f->conninfo);
    mem_free(f->staging);
    mem_free(f->portf);
    mem_free(f->slog);
    mem_free(f->key);
    mem_free(f->root);
    mem_free(f->bin);
}

/* doc is the manifest of file (the artifact hex, ART_LEN bytes) in
 * pieces of psize bytes: parsed strictly, every piece verified. */
static void check_manifest(const struct buf *doc, const char *hex,
                           const char *file, uint32_t psize)
{
    struct pieces m = PIECES_INIT;
    struct err e = ERR_INIT;
    struct sha256 h;
    char *data = NULL;
    size_t len = 0;

    assert_int_equal(sha256_from_hex(&h, hex), 0);
    if (pieces_parse(&m, doc->data, doc->len, &h, ART_LEN, &e) != 0)
        fail_msg("manifest of %s: %s", hex, e.msg);
    assert_int_equal(m.piece_size, psize);
    assert_int_equal(testutil_read_file(&data, &len, file), 0);
    assert_int_equal(len, ART_LEN);
    for (uint64_t i = 0; i < m.count; i++) {
        uint64_t off, n;

        assert_int_equal(pieces_range(&off, &n, len, psize, i), 0);
        assert_int_equal(pieces_verify(&m, i, data + off, n, &e), 0);
    }
    mem_free(data);
    pieces_release(&m);
}

static void pieces_url(char *out, size_t cap, const char *base,
                       const char *hex, const char *query)
{
    snprintf(out, cap, "%s/artifact/sha256/%s/pieces%s%s", base, hex,
             query ? "?" : "", query ? query : "");
}

/* ---- tests ---- */

static void test_pieces_serve__replicator(void **state)
{
    struct fx f;
    struct buf doc = BUF_INIT, again = BUF_INIT;
    char url[300];

    (void)state;
    fx_start(&f, "65536");
    for (size_t i = 0; i < NART; i++) {
        pieces_url(url, sizeof(url), f.url, f.hex[i], NULL);
        assert_int_equal(get(&doc, url), 200);
        check_manifest(&doc, f.hex[i], f.path[i], 65536);
        /* stable: the same bytes again, and after a restart */
        assert_int_equal(get(&again, url), 200);
        assert_int_equal(again.len, doc.len);
        assert_memory_equal(again.data, doc.data, doc.len);
    }
    fx_stop(&f);
    fx_serve(&f);
    pieces_url(url, sizeof(url), f.url, f.hex[0], NULL);
    assert_int_equal(get(&again, url), 200);
    check_manifest(&again, f.hex[0], f.path[0], 65536);
    pieces_url(url, sizeof(url), f.url, HEX0, NULL);
    assert_int_equal(get(&doc, url), 404);
    assert_non_null(strstr(doc.data, "no artifact"));
    pieces_url(url, sizeof(url), f.url, "ABC", NULL);
    assert_int_equal(get(&doc, url), 400);
    buf_release(&doc);
    buf_release(&again);
    fx_end(&f);
}

static long post_copy(const struct agentproc *to, const struct agentproc *from,
                      const char *hex)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[300], body[200];
    long st;

    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot?"
             "generation=1", agentproc_api_url(to), hex);
    snprintf(body, sizeof(body), "{\"depot_base_url\": \"%s\"}",
             agentproc_depot_url(from));
    assert_int_equal(http_client_send(&r, "POST", url, body, strlen(body)),
                     0);
    st = r.status;
    http_client_resp_release(&r);
    return st;
}

struct held {
    struct agentproc *a;
    const char *hex;
};

static bool holds(void *arg)
{
    struct held *h = arg;

    return agentproc_count(h->a, h->hex) == 2;
}

/* The sled's manifest of artifact i (query may be NULL) is the
 * replicator's, byte for byte. */
static void same_as_replicator(struct fx *f, struct agentproc *a, size_t i,
                               const char *query, const struct buf *want)
{
    struct buf doc = BUF_INIT;
    char url[300];

    pieces_url(url, sizeof(url), agentproc_depot_url(a), f->hex[i], query);
    assert_int_equal(get(&doc, url), 200);
    assert_int_equal(doc.len, want->len);
    assert_memory_equal(doc.data, want->data, doc.len);
    buf_release(&doc);
}

static void test_pieces_serve__sleds(void **state)
{
    struct fx f;
    struct agentproc *a = NULL, *b = NULL;
    struct buf want = BUF_INIT, want64 = BUF_INIT, doc = BUF_INIT;
    const char *cfg[NART];
    char url[300], *data = NULL;
    size_t len = 0;
    struct held held;

    (void)state;
    fx_start(&f, NULL); /* the default piece size, as the sleds' writer */
    assert_int_equal(agentproc_new(&a, NULL), 0);
    assert_int_equal(agentproc_new(&b, NULL), 0);
    assert_int_equal(agentproc_start(a), 0);
    assert_int_equal(agentproc_start(b), 0);
    for (size_t i = 0; i < NART; i++)
        cfg[i] = f.hex[i];
    assert_int_equal(agentproc_put_config(a, 1, cfg, NART), 204);
    assert_int_equal(agentproc_put_config(b, 1, cfg, NART), 204);
    /* a gets artifact 0 by PUT, b copies it from a */
    assert_int_equal(testutil_read_file(&data, &len, f.path[0]), 0);
    assert_int_equal(agentproc_put_artifact(a, f.hex[0], 1, data, len, NULL),
                     200);
    assert_int_equal(post_copy(b, a, f.hex[0]), 202);
    held.a = b;
    held.hex = f.hex[0];
    assert_true(testutil_wait_for(holds, &held, 60000));

    pieces_url(url, sizeof(url), f.url, f.hex[0], NULL);
    assert_int_equal(get(&want, url), 200);
    check_manifest(&want, f.hex[0], f.path[0], PIECES_SIZE_DEFAULT);
    /* from the writer, PUT and copy alike, and with the size named */
    same_as_replicator(&f, a, 0, NULL, &want);
    same_as_replicator(&f, b, 0, NULL, &want);
    same_as_replicator(&f, b, 0, "piece_size=4194304", &want);
    /* another size: computed from the stored copy */
    pieces_url(url, sizeof(url), agentproc_depot_url(a), f.hex[0],
               "piece_size=65536");
    assert_int_equal(get(&want64, url), 200);
    check_manifest(&want64, f.hex[0], f.path[0], 65536);
    same_as_replicator(&f, b, 0, "piece_size=65536", &want64);
    /* stable across a restart (computed again from the copy) */
    assert_int_equal(agentproc_restart(a), 0);
    same_as_replicator(&f, a, 0, NULL, &want);
    same_as_replicator(&f, a, 0, "piece_size=65536", &want64);
    /* an artifact of the config the sled does not hold, an unknown one */
    pieces_url(url, sizeof(url), agentproc_depot_url(a), f.hex[1], NULL);
    assert_int_equal(get(&doc, url), 404);
    assert_non_null(strstr(doc.data, "not stored here"));
    pieces_url(url, sizeof(url), agentproc_depot_url(a), HEX1, NULL);
    assert_int_equal(get(&doc, url), 404);
    /* bad queries */
    pieces_url(url, sizeof(url), agentproc_depot_url(a), f.hex[0],
               "piece_size=1000");
    assert_int_equal(get(&doc, url), 400);
    pieces_url(url, sizeof(url), agentproc_depot_url(a), f.hex[0],
               "size=65536");
    assert_int_equal(get(&doc, url), 400);
    pieces_url(url, sizeof(url), agentproc_depot_url(a), f.hex[0],
               "piece_size=65536&x=1");
    assert_int_equal(get(&doc, url), 400);
    agentproc_free(a);
    agentproc_free(b);
    mem_free(data);
    buf_release(&want);
    buf_release(&want64);
    buf_release(&doc);
    fx_end(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_serve__replicator),
        cmocka_unit_test(test_pieces_serve__sleds),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
