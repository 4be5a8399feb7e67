/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_ingest_repo: the replicator's repository ingest over HTTP, against a
 * real `replicator serve` (port 0) on a private PostgreSQL (one server per
 * binary, one database per test), with repositories built by tuf-mkrepo:
 * both artifacts-doc versions and both consistent-snapshot modes (rows via
 * the list endpoint, staged files by sha256, the manifest via GET
 * /v1/system/update/staged), system-version conflicts, generation bumps
 * exactly when the wanted set changes (prune, re-want of a pruned repo's
 * artifacts), concurrent uploads, a truncated upload leaving nothing, every
 * --break variant refused with its check named, the upload cap (413), the
 * staged manifest after a restart, and a newer schema refused at start.
 * Test main thread, plus http_client threads for concurrent uploads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/http_client.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

struct fx {
    char *dir, *conninfo, *staging, *portf, *slog, *key, *root, *bin;
    struct proc *srv;
    int port;
    char url[64];
};

static char *fx_path(struct fx *f, const char *name)
{
    char *p = testutil_join(f->dir, name);

    assert_non_null(p);
    return p;
}

/* Run tuf-mkrepo with its arguments (NULL-ended) and --key/--out; 0 exit. */
static char *mkrepo(struct fx *f, const char *name, ...)
{
    char *bin = proc_bin_path("tuf-mkrepo");
    char *out = fx_path(f, name), *log = fx_path(f, "mkrepo.log");
    char *argv[32];
    int n = 0, code = -1;
    va_list ap;

    argv[n++] = bin;
    argv[n++] = "--out";
    argv[n++] = out;
    argv[n++] = "--key";
    argv[n++] = f->key;
    va_start(ap, name);
    for (char *a = va_arg(ap, char *); a && n < 30; a = va_arg(ap, char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    assert_int_equal(proc_run(&code, bin, argv, log, 120000), 0);
    if (code != 0)
        testutil_print_tail("tuf-mkrepo", log, 2000);
    assert_int_equal(code, 0);
    mem_free(bin);
    mem_free(log);
    return out;
}

static void fx_serve(struct fx *f, const char *extra)
{
    json_t *pj = NULL;
    char *argv[] = {f->bin, "serve", "--insecure-plaintext",
                    "--db", f->conninfo, "--staging",
                    f->staging, "--listen", "127.0.0.1:0", "--port-file",
                    f->portf, "--no-periodic", "--max-upload-bytes",
                    (char *)(extra ? extra : "4294967296"), NULL};

    remove(f->portf);
    assert_int_equal(proc_spawn(&f->srv, f->bin, argv, NULL, f->slog), 0);
    if (proc_wait_port_file(&pj, f->portf, f->srv, 30000) != 0)
        testutil_print_tail("serve", f->slog, 4000);
    assert_non_null(pj);
    f->port = (int)json_integer_value(json_object_get(pj, "api"));
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
    json_decref(pj);
}

static void fx_stop(struct fx *f)
{
    assert_int_equal(proc_stop(f->srv, 20000), 0);
    assert_int_equal(proc_exit_code(f->srv), 0);
    proc_free(f->srv);
    f->srv = NULL;
}

/* HTTP request; returns status, *out the JSON reply (may be NULL). */
static long call(json_t **out, struct fx *f, const char *method,
                 const char *path, const void *body, size_t len)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[512];
    long st;

    snprintf(url, sizeof(url), "%s%s", f->url, path);
    assert_int_equal(http_client_send(&r, method, url, body, len), 0);
    st = r.status;
    *out = http_client_json(&r);
    http_client_resp_release(&r);
    return st;
}

static const char *msg_of(const json_t *j)
{
    const char *m = json_string_value(json_object_get(j, "message"));

    return m ? m : "";
}

static long upload(json_t **out, struct fx *f, const char *zip,
                   const char *fname)
{
    char *data = NULL, path[300];
    size_t len = 0;
    long st;

    assert_int_equal(testutil_read_file(&data, &len, zip), 0);
    snprintf(path, sizeof(path),
             "/v1/system/update/repositories?file_name=%s", fname);
    st = call(out, f, "PUT", path, data, len);
    if (st != 200) /* context for a failing assertion */
        fprintf(stderr, "upload %s: %ld %s\n", fname, st, msg_of(*out));
    mem_free(data);
    return st;
}

static int64_t gen_of(const json_t *j)
{
    return json_integer_value(json_object_get(j, "generation"));
}

static void add_trust_root(struct fx *f)
{
    char *data = NULL;
    size_t len = 0;
    json_t *j = NULL;

    assert_int_equal(testutil_read_file(&data, &len, f->root), 0);
    assert_int_equal(call(&j, f, "POST", "/v1/system/update/trust-roots",
                          data, len), 201);
    assert_non_null(json_string_value(json_object_get(j, "id")));
    json_decref(j);
    mem_free(data);
}

/* Replace every trust root by f->root (remove checks the list shape). */
static void set_only_root(struct fx *f)
{
    json_t *l = NULL, *j = NULL, *arr;
    char path[200];

    assert_int_equal(call(&l, f, "GET", "/v1/system/update/trust-roots", NULL,
                          0), 200);
    arr = json_object_get(l, "trust_roots");
    assert_true(json_is_array(arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *id = json_string_value(json_object_get(
            json_array_get(arr, i), "id"));

        assert_true(json_is_object(json_object_get(json_array_get(arr, i),
                                                   "root_role")));
        snprintf(path, sizeof(path), "/v1/system/update/trust-roots/%s", id);
        assert_int_equal(call(&j, f, "DELETE", path, NULL, 0), 200);
        assert_true(json_is_true(json_object_get(j, "removed")));
        json_decref(j);
    }
    json_decref(l);
    add_trust_root(f);
}

/* New database, migrated; a signing key and its root; serve started;
 * the root added as a trust root unless no_root. */
static void fx_start(struct fx *f, const char *name, bool no_root,
                     const char *max_upload)
{
    char *bin = NULL, *tmp;
    int code = -1;

    memset(f, 0, sizeof(*f));
    assert_int_equal(testutil_tmpdir(&f->dir, name), 0);
    f->conninfo = pgtest_db_migrated_by_cli(NULL, "ingest");
    f->bin = proc_bin_path("replicator");
    f->staging = fx_path(f, "staging");
    f->portf = fx_path(f, "port.json");
    f->slog = fx_path(f, "serve.log");
    f->key = fx_path(f, "key.pem");
    f->root = fx_path(f, "root.json");
    bin = proc_bin_path("tuf-mkrepo");
    tmp = fx_path(f, "keygen.zip");
    {
        char *argv[] = {bin, "--out", tmp, "--system-version", "0.0.1",
                        "--random", "1:10", "--generate-key", f->key,
                        "--print-root", f->root, NULL};

        assert_int_equal(proc_run(&code, bin, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    mem_free(bin);
    mem_free(tmp);
    fx_serve(f, max_upload);
    if (!no_root)
        add_trust_root(f);
}

static void fx_end(struct fx *f)
{
    if (f->srv)
        fx_stop(f);
    testutil_rmrf(f->dir);
    mem_free(f->dir);
    mem_free(f->conninfo);
    mem_free(f->staging);
    mem_free(f->portf);
    mem_free(f->slog);
    mem_free(f->key);
    mem_free(f->root);
    mem_free(f->bin);
}

static json_t *find_repo(json_t *list, const char *version)
{
    json_t *arr = json_object_get(list, "repositories");

    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *r = json_array_get(arr, i);

        if (!strcmp(json_string_value(json_object_get(r, "system_version")),
                    version))
            return r;
    }
    return NULL;
}

/* The staged manifest of repo_id lists exactly the uploaded artifacts and
 * each staged file has its sha256 and length. */
static void check_staged(struct fx *f, const json_t *up)
{
    const char *repo_id = json_string_value(json_object_get(up, "repo_id"));
    json_t *st = NULL, *man = NULL, *arts = json_object_get(up, "artifacts");
    json_t *sarr;

    assert_int_equal(call(&st, f, "GET", "/v1/system/update/staged", NULL, 0),
                     200);
    sarr = json_object_get(st, "staged");
    for (size_t i = 0; i < json_array_size(sarr); i++)
        if (!strcmp(json_string_value(json_object_get(
                        json_array_get(sarr, i), "repo_id")), repo_id))
            man = json_array_get(sarr, i);
    assert_non_null(man);
    assert_string_equal(
        json_string_value(json_object_get(man, "system_version")),
        json_string_value(json_object_get(up, "system_version")));
    assert_int_equal(json_array_size(json_object_get(man, "artifacts")),
                     json_array_size(arts));
    for (size_t i = 0; i < json_array_size(arts); i++) {
        const char *want = json_string_value(
            json_object_get(json_array_get(arts, i), "sha256"));
        bool found = false;

        for (size_t k = 0; k < json_array_size(json_object_get(man,
                                                               "artifacts"));
             k++) {
            json_t *m = json_array_get(json_object_get(man, "artifacts"), k);
            char hex[SHA256_HEX_LEN + 1];
            struct sha256 h;
            const char *path = json_string_value(json_object_get(m, "path"));

            if (strcmp(json_string_value(json_object_get(m, "sha256")), want))
                continue;
            found = true;
            assert_int_equal(testutil_sha256_file(&h, path), 0);
            sha256_to_hex(hex, &h);
            assert_string_equal(hex, want);
        }
        assert_true(found);
    }
    json_decref(st);
}

/* ---- tests ---- */

static void test_ingest_repo__modes(void **state)
{
    static const char *docs[] = {"v1", "v2"}, *cs[] = {"on", "off"};
    struct fx f;
    json_t *j = NULL, *list = NULL;
    int64_t gen = 0;
    int n = 0;

    (void)state;
    fx_start(&f, "ingmodes", false, NULL);
    for (int d = 0; d < 2; d++)
        for (int c = 0; c < 2; c++) {
            char ver[32], zipn[32];
            char *zip;

            snprintf(ver, sizeof(ver), "%d.%d.0", d + 1, c);
            snprintf(zipn, sizeof(zipn), "r%d%d.zip", d, c);
            zip = mkrepo(&f, zipn, "--system-version", ver, "--random",
                         "3:1500", "--artifacts-doc", docs[d],
                         "--consistent-snapshot", cs[c], "--print-root",
                         f.root, (char *)NULL);
            /* the trusted root decides consistent_snapshot (TUF 5.3) */
            set_only_root(&f);
            assert_int_equal(upload(&j, &f, zip, zipn), 200);
            assert_string_equal(
                json_string_value(json_object_get(j, "system_version")), ver);
            assert_int_equal(json_array_size(json_object_get(j, "artifacts")),
                             3);
            assert_false(json_is_true(json_object_get(j, "already_existed")));
            /* new artifacts: the wanted set changed */
            assert_true(gen_of(j) > gen);
            gen = gen_of(j);
            check_staged(&f, j);
            n++;
            assert_int_equal(call(&list, &f, "GET",
                                  "/v1/system/update/repositories", NULL, 0),
                             200);
            assert_int_equal(json_array_size(json_object_get(list,
                                                             "repositories")),
                             (size_t)n);
            {
                json_t *r = find_repo(list, ver);

                assert_non_null(r);
                assert_int_equal(json_integer_value(json_object_get(
                                     r, "artifact_count")), 3);
                assert_string_equal(
                    json_string_value(json_object_get(r, "sha256")),
                    json_string_value(json_object_get(j, "sha256")));
                assert_string_equal(
                    json_string_value(json_object_get(r, "file_name")), zipn);
            }
            json_decref(list);
            json_decref(j);
            mem_free(zip);
        }
    fx_end(&f);
}

static void test_ingest_repo__conflict(void **state)
{
    struct fx f;
    json_t *j = NULL;
    char *a, *b;

    (void)state;
    fx_start(&f, "ingconf", false, NULL);
    a = mkrepo(&f, "a.zip", "--system-version", "5.0.0", "--random", "2:100",
               "--seed", "1", (char *)NULL);
    b = mkrepo(&f, "b.zip", "--system-version", "5.0.0", "--random", "2:100",
               "--seed", "2", (char *)NULL);
    assert_int_equal(upload(&j, &f, a, "a.zip"), 200);
    json_decref(j);
    assert_int_equal(upload(&j, &f, b, "b.zip"), 409);
    assert_non_null(strstr(msg_of(j), "system version 5.0.0 already exists "
                                      "with archive sha256"));
    json_decref(j);
    mem_free(a);
    mem_free(b);
    fx_end(&f);
}

/* Prune bumps; a repo made only of a pruned repo's artifacts bumps (the
 * wanted set changed without a new artifact row); a repo whose artifacts
 * are all wanted already, a re-upload, and pruning a repo whose artifacts
 * stay wanted do not bump. */
static void test_ingest_repo__generation(void **state)
{
    struct fx f;
    json_t *j = NULL;
    char *files, *p, *a, *b, *c;
    int64_t g;

    (void)state;
    fx_start(&f, "inggen", false, NULL);
    files = fx_path(&f, "files");
    assert_int_equal(mkdir(files, 0755), 0);
    p = testutil_join(files, "alpha.bin");
    assert_int_equal(testutil_write_file(p, "alpha-bytes", 11), 0);
    mem_free(p);
    p = testutil_join(files, "beta.bin");
    assert_int_equal(testutil_write_file(p, "beta-bytes!!", 12), 0);
    mem_free(p);
    a = mkrepo(&f, "a.zip", "--system-version", "1.0.0", "--from-dir", files,
               (char *)NULL);
    b = mkrepo(&f, "b.zip", "--system-version", "2.0.0", "--from-dir", files,
               (char *)NULL);
    c = mkrepo(&f, "c.zip", "--system-version", "3.0.0", "--from-dir", files,
               (char *)NULL);
    assert_int_equal(upload(&j, &f, a, "a.zip"), 200);
    g = gen_of(j);
    json_decref(j);
    /* idempotent re-upload: no change */
    assert_int_equal(upload(&j, &f, a, "a.zip"), 200);
    assert_true(json_is_true(json_object_get(j, "already_existed")));
    assert_int_equal(gen_of(j), g);
    json_decref(j);
    /* prune: the wanted set shrinks -> bump */
    assert_int_equal(call(&j, &f, "POST",
                          "/v1/system/update/repositories/1.0.0/prune", NULL,
                          0), 200);
    assert_true(json_is_true(json_object_get(j, "generation_bumped")));
    assert_int_equal(gen_of(j), g + 1);
    g = gen_of(j);
    json_decref(j);
    /* same artifacts under a new version: wanted again -> bump */
    assert_int_equal(upload(&j, &f, b, "b.zip"), 200);
    assert_int_equal(gen_of(j), g + 1);
    g = gen_of(j);
    json_decref(j);
    /* all artifacts already wanted through 2.0.0: no bump */
    assert_int_equal(upload(&j, &f, c, "c.zip"), 200);
    assert_int_equal(gen_of(j), g);
    json_decref(j);
    /* prune 2.0.0: 3.0.0 still wants everything -> no bump */
    assert_int_equal(call(&j, &f, "POST",
                          "/v1/system/update/repositories/2.0.0/prune", NULL,
                          0), 200);
    assert_false(json_is_true(json_object_get(j, "generation_bumped")));
    assert_int_equal(gen_of(j), g);
    json_decref(j);
    /* unknown version: 404 naming it */
    assert_int_equal(call(&j, &f, "POST",
                          "/v1/system/update/repositories/9.9.9/prune", NULL,
                          0), 404);
    assert_non_null(strstr(msg_of(j), "9.9.9"));
    json_decref(j);
    mem_free(files);
    mem_free(a);
    mem_free(b);
    mem_free(c);
    fx_end(&f);
}

static void test_ingest_repo__concurrent(void **state)
{
    struct fx f;
    struct http_client_req rq[2];
    struct http_client_resp rs[2] = {HTTP_CLIENT_RESP_INIT,
                                     HTTP_CLIENT_RESP_INIT};
    struct http_client_async *as[2];
    char *zips[2], *data[2], urls[2][256];
    size_t len[2];
    json_t *j = NULL;
    int64_t g0, g[2];
    char *z0;

    (void)state;
    fx_start(&f, "ingconc", false, NULL);
    z0 = mkrepo(&f, "z0.zip", "--system-version", "1.0.0", "--random",
                "2:1000", (char *)NULL);
    assert_int_equal(upload(&j, &f, z0, "z0.zip"), 200);
    g0 = gen_of(j);
    json_decref(j);
    zips[0] = mkrepo(&f, "c1.zip", "--system-version", "1.1.0", "--random",
                     "4:200000", (char *)NULL);
    zips[1] = mkrepo(&f, "c2.zip", "--system-version", "1.2.0", "--random",
                     "4:200000", (char *)NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(testutil_read_file(&data[i], &len[i], zips[i]), 0);
        snprintf(urls[i], sizeof(urls[i]),
                 "%s/v1/system/update/repositories?file_name=c%d.zip", f.url,
                 i + 1);
        memset(&rq[i], 0, sizeof(rq[i]));
        rq[i].method = "PUT";
        rq[i].url = urls[i];
        rq[i].body = data[i];
        rq[i].body_len = len[i];
        assert_int_equal(http_client_start(&as[i], &rq[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(http_client_join(as[i], &rs[i]), 0);
        j = http_client_json(&rs[i]);
        if (rs[i].status != 200)
            fprintf(stderr, "upload %d: %ld %s\n", i, rs[i].status,
                    msg_of(j));
        assert_int_equal(rs[i].status, 200);
        g[i] = gen_of(j);
        assert_string_equal(
            json_string_value(json_object_get(j, "system_version")),
            i ? "1.2.0" : "1.1.0");
        json_decref(j);
        http_client_resp_release(&rs[i]);
        mem_free(data[i]);
        mem_free(zips[i]);
    }
    /* each bumped exactly once, in some order */
    assert_true((g[0] == g0 + 1 && g[1] == g0 + 2) ||
                (g[0] == g0 + 2 && g[1] == g0 + 1));
    assert_int_equal(call(&j, &f, "GET", "/v1/system/update/repositories",
                          NULL, 0), 200);
    assert_int_equal(json_array_size(json_object_get(j, "repositories")), 3);
    json_decref(j);
    mem_free(z0);
    fx_end(&f);
}

struct dirs_empty {
    const char *a, *b;
};

static bool both_empty(void *arg)
{
    struct dirs_empty *d = arg;

    return testutil_dir_count(d->a) == 0 && testutil_dir_count(d->b) == 0;
}

/* Headers with the full Content-Length, half the body, close: nothing is
 * recorded and nothing stays in staging. */
static void test_ingest_repo__truncated(void **state)
{
    struct fx f;
    json_t *j = NULL;
    char *zip, *data = NULL, head[512];
    char *up, *inc;
    size_t len = 0;
    struct dirs_empty d;
    int fd = -1, port;

    (void)state;
    fx_start(&f, "ingtrunc", false, NULL);
    zip = mkrepo(&f, "t.zip", "--system-version", "1.0.0", "--random",
                 "2:300000", (char *)NULL);
    assert_int_equal(testutil_read_file(&data, &len, zip), 0);
    port = f.port;
    assert_int_equal(http_client_raw_connect(&fd, port), 0);
    snprintf(head, sizeof(head),
             "PUT /v1/system/update/repositories?file_name=t.zip HTTP/1.1\r\n"
             "Host: x\r\nContent-Length: %zu\r\n\r\n", len);
    assert_int_equal(http_client_raw_send(fd, head, strlen(head)), 0);
    assert_int_equal(http_client_raw_send(fd, data, len / 2), 0);
    up = testutil_join(f.staging, "uploads");
    inc = testutil_join(f.staging, "incoming");
    /* the partial upload is on disk while the connection is open */
    d.a = up;
    d.b = inc;
    close(fd);
    assert_true(testutil_wait_for(both_empty, &d, 10000));
    assert_int_equal(call(&j, &f, "GET", "/v1/system/update/repositories",
                          NULL, 0), 200);
    assert_int_equal(json_array_size(json_object_get(j, "repositories")), 0);
    json_decref(j);
    assert_int_equal(call(&j, &f, "GET", "/v1/system/update/staged", NULL, 0),
                     200);
    assert_int_equal(json_array_size(json_object_get(j, "staged")), 0);
    json_decref(j);
    /* the server still works */
    assert_int_equal(upload(&j, &f, zip, "t.zip"), 200);
    json_decref(j);
    mem_free(up);
    mem_free(inc);
    mem_free(data);
    mem_free(zip);
    fx_end(&f);
}

/* Every --break variant of tuf-mkrepo: 400 (or accepted, for expiry which
 * uploads ignore by design) with the failed check named. */
static const struct {
    const char *variant;
    long status;
    const char *want; /* substring of the message */
} breaks[] = {
    {"bad-signature", 400, "signature threshold not met"},
    {"no-signature", 400, "signature threshold not met (0 of 1"},
    {"wrong-length", 400, "shorter than its signed length"},
    {"wrong-hash", 400, "sha256 mismatch"},
    {"unknown-hash-alg", 400, "unknown hash algorithm"},
    {"expired", 200, ""}, /* expiry is recorded, not enforced on upload */
    {"trailing-data", 400, "trailing data"},
    {"archive-comment", 400, "archive comment"},
    {"duplicate-entry", 400, "duplicate entry"},
    {"crc", 400, "CRC mismatch"},
    {"symlink-entry", 400, "symlink entry"},
    {"missing-target", 400, "zip has no entry"},
    {"snapshot-version", 400, "but timestamp.json says"},
    {"targets-version", 400, "snapshot.json says"},
    /* 1.root.json claims 2: refused only when the repo's own root is
     * trusted (test_mkrepo_verify); an operator root may carry any version */
    {"root-version", 200, ""},
    {"keyid-mismatch", 400, "signature threshold not met"},
    {"delegations", 400, "delegations are not supported"},
    {"float", 400, "floats are not allowed"},
    {"duplicate-key", 400, "duplicate object key"},
    {"missing-artifacts-doc", 400, "no artifacts document"},
    {"bad-artifacts-doc", 400, "is not a signed target"},
    {"snapshot-hash", 400, "snapshot.json: sha256 mismatch"},
    {"wrong-key", 400, "signature threshold not met"},
    {"traversal-entry", 400, "unsafe name"},
};

static void test_ingest_repo__break_variants(void **state)
{
    struct fx f;
    json_t *j = NULL;

    (void)state;
    fx_start(&f, "ingbreak", false, NULL);
    for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
        char ver[32], zipn[64];
        char *zip;
        long st;

        snprintf(ver, sizeof(ver), "7.%zu.0", i);
        snprintf(zipn, sizeof(zipn), "%s.zip", breaks[i].variant);
        zip = mkrepo(&f, zipn, "--system-version", ver, "--random", "2:500",
                     "--break", breaks[i].variant, (char *)NULL);
        st = upload(&j, &f, zip, zipn);
        fprintf(stderr, "break %-22s -> %ld %s\n", breaks[i].variant, st,
                msg_of(j));
        assert_int_equal(st, breaks[i].status);
        if (st != 200)
            assert_non_null(strstr(msg_of(j), breaks[i].want));
        json_decref(j);
        mem_free(zip);
    }
    /* nothing refused was recorded or left in staging */
    assert_int_equal(call(&j, &f, "GET", "/v1/system/update/repositories",
                          NULL, 0), 200);
    assert_int_equal(json_array_size(json_object_get(j, "repositories")), 2);
    json_decref(j);
    assert_int_equal(call(&j, &f, "GET", "/v1/system/update/staged", NULL, 0),
                     200);
    assert_int_equal(json_array_size(json_object_get(j, "staged")), 2);
    json_decref(j);
    fx_end(&f);
}

/* No trust root: 400 telling the operator to add one; over the cap: 413
 * before the body is read. */
static void test_ingest_repo__no_root_and_cap(void **state)
{
    struct fx f;
    json_t *j = NULL;
    char *zip, *big;

    (void)state;
    fx_start(&f, "ingcap", true, "100000");
    zip = mkrepo(&f, "s.zip", "--system-version", "1.0.0", "--random",
                 "1:100", (char *)NULL);
    big = mkrepo(&f, "b.zip", "--system-version", "2.0.0", "--random",
                 "2:100000", (char *)NULL);
    assert_int_equal(upload(&j, &f, zip, "s.zip"), 400);
    assert_non_null(strstr(msg_of(j), "no trust roots are configured"));
    assert_non_null(strstr(msg_of(j), "trust-root add"));
    json_decref(j);
    add_trust_root(&f);
    assert_int_equal(upload(&j, &f, big, "b.zip"), 413);
    assert_non_null(strstr(msg_of(j), "over the 100000-byte limit"));
    json_decref(j);
    assert_int_equal(upload(&j, &f, zip, "s.zip"), 200);
    json_decref(j);
    mem_free(zip);
    mem_free(big);
    fx_end(&f);
}

/* A staged manifest is found again after a restart. */
static void test_ingest_repo__staged_after_restart(void **state)
{
    struct fx f;
    json_t *j = NULL, *up = NULL;
    char *zip;

    (void)state;
    fx_start(&f, "ingrestart", false, NULL);
    zip = mkrepo(&f, "r.zip", "--system-version", "1.0.0", "--random",
                 "3:1000", (char *)NULL);
    assert_int_equal(upload(&up, &f, zip, "r.zip"), 200);
    fx_stop(&f);
    fx_serve(&f, NULL);
    check_staged(&f, up);
    assert_int_equal(call(&j, &f, "GET", "/v1/system/update/staged", NULL, 0),
                     200);
    assert_int_equal(json_array_size(json_object_get(j, "staged")), 1);
    json_decref(j);
    json_decref(up);
    mem_free(zip);
    fx_end(&f);
}

/* A database from a newer replicator: serve exits 1 naming both versions. */
static void test_ingest_repo__newer_schema(void **state)
{
    struct fx f;
    PGconn *conn;
    PGresult *res;
    char *log = NULL;
    size_t len;
    int code = -1;

    (void)state;
    fx_start(&f, "ingschema", true, NULL);
    fx_stop(&f);
    conn = PQconnectdb(f.conninfo);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    res = PQexec(conn, "INSERT INTO schema_version (version, name) "
                       "VALUES (9999, 'from_the_future')");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(conn);
    remove(f.slog);
    {
        char *argv[] = {f.bin, "serve", "--insecure-plaintext",
                        "--db", f.conninfo, "--staging",
                        f.staging, "--listen", "127.0.0.1:0", NULL};

        assert_int_equal(proc_run(&code, f.bin, argv, f.slog, 60000), 0);
    }
    assert_int_equal(code, 1);
    assert_int_equal(testutil_read_file(&log, &len, f.slog), 0);
    assert_non_null(strstr(log, "database schema version 9999 is newer than "
                                "this binary's"));
    mem_free(log);
    fx_end(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_repo__modes),
        cmocka_unit_test(test_ingest_repo__conflict),
        cmocka_unit_test(test_ingest_repo__generation),
        cmocka_unit_test(test_ingest_repo__concurrent),
        cmocka_unit_test(test_ingest_repo__truncated),
        cmocka_unit_test(test_ingest_repo__break_variants),
        cmocka_unit_test(test_ingest_repo__no_root_and_cap),
        cmocka_unit_test(test_ingest_repo__staged_after_restart),
        cmocka_unit_test(test_ingest_repo__newer_schema),
    };

    mem_init();
    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
