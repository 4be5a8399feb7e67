/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_ingest: end-to-end ingest through a real `replicator serve` (port 0)
 * on a private PostgreSQL, driven by the `replicator` CLI: no trust root is
 * a 400 naming the remedy; the real tufaceous zip is accepted against its
 * own root with its 14 artifacts staged under their sha256 and a manifest;
 * a re-upload is idempotent (skips when the shared TUF vectors are
 * absent); and, with a tuf-mkrepo repository, the CLI's exit codes (0 ok,
 * 1 failed, 2 usage), --help, and the --json shape of repo upload/list/
 * prune and trust-root add/list/remove, on success and on failure; the
 * API version header on the replicator (issue 12): named on every reply,
 * garbage and unknown versions a JSON 400, none the latest; the
 * reference's repository shapes (issue 12): the upload's {repo, status}
 * beside our fields, GET .../repositories/{system_version} (200, 404,
 * 400 not semver, 404 at API 1.0.0 which predates it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/jsonutil.h"
#include "tests/support/http_client.h"
#include "tests/support/pg.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static int run_cli(char **out, const char *dir, const char *url,
                   const char *a1, const char *a2, const char *a3,
                   const char *a4)
{
    char *bin = proc_bin_path("replicator");
    char *log = testutil_join(dir, "cli.out");
    char *argv[] = {bin, "--url", (char *)url, (char *)a1, (char *)a2,
                    (char *)a3, (char *)a4, NULL};
    int code = -1;
    size_t len;

    remove(log);
    assert_int_equal(proc_run(&code, bin, argv, log, 60000), 0);
    *out = NULL;
    testutil_read_file(out, &len, log);
    mem_free(bin);
    mem_free(log);
    return code;
}

/* GET url+path with the header line hdr (NULL: none): the status, the
 * reply's api-version into ver, the JSON body into *body. */
static long versioned_get(char ver[32], json_t **body, const char *url,
                          const char *path, const char *hdr)
{
    const char *headers[] = {hdr, NULL};
    struct http_client_req rq = {0};
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct err err = ERR_INIT;
    char full[256];
    long status;

    snprintf(full, sizeof(full), "%s%s", url, path);
    rq.url = full;
    rq.headers = hdr ? headers : NULL;
    assert_int_equal(http_client_request(&r, &rq, &err), 0);
    if (!http_client_header(&r, "api-version", ver, 32))
        ver[0] = '\0';
    status = r.status;
    *body = http_client_json(&r);
    http_client_resp_release(&r);
    return status;
}

/* issue 12: the replicator's API versions, on a route and on a 404. */
static void check_api_versions(const char *url)
{
    static const char *const paths[] = {"/v1/system/update/repositories",
                                        "/no/such/endpoint"};
    static const long ok[] = {200, 404};
    char ver[32];
    json_t *v;

    for (int i = 0; i < 2; i++) {
        assert_int_equal(versioned_get(ver, &v, url, paths[i], NULL), ok[i]);
        assert_string_equal(ver, "1.3.0");
        json_decref(v);
        assert_int_equal(versioned_get(ver, &v, url, paths[i],
                                       "api-version: 1.0.0"), ok[i]);
        assert_string_equal(ver, "1.0.0");
        json_decref(v);
        assert_int_equal(versioned_get(ver, &v, url, paths[i],
                                       "api-version: 1.1.0"), ok[i]);
        assert_string_equal(ver, "1.1.0");
        json_decref(v);
        assert_int_equal(versioned_get(ver, &v, url, paths[i],
                                       "api-version: ../../etc"), 400);
        assert_string_equal(ver, "1.3.0");
        assert_string_equal(jsonu_str(v, "error_code"), "BAD_API_VERSION");
        assert_non_null(jsonu_str(v, "request_id"));
        json_decref(v);
        assert_int_equal(versioned_get(ver, &v, url, paths[i],
                                       "api-version: 0.9.0"), 400);
        assert_string_equal(jsonu_str(v, "error_code"),
                            "UNSUPPORTED_API_VERSION");
        assert_non_null(strstr(jsonu_str(v, "message"),
                               "serves 1.0.0, 1.1.0, 1.2.0, 1.3.0 (latest "
                               "1.3.0)"));
        json_decref(v);
    }
}

static void has_keys(const json_t *j, const char *const *keys);

/* issue 12: GET .../repositories/{system_version} once 3.1.0 is in. */
static void check_repo_get(const char *url)
{
    static const char *const bad[] = {"3.1", "v3.1.0", "3.1.0.0", "03.1.0",
                                      "3.1.0-", "%2e%2e", "a%20b"};
    static const char *const keys[] = {
        "hash", "system_version", "file_name", "time_created", "id",
        "sha256", "valid_until", "pruned", "failed", "artifact_count",
        "artifacts", NULL};
    char ver[32], path[128];
    json_t *v;

    assert_int_equal(versioned_get(ver, &v, url,
                                   "/v1/system/update/repositories/3.1.0",
                                   NULL), 200);
    assert_string_equal(ver, "1.3.0");
    has_keys(v, keys);
    assert_string_equal(jsonu_str(v, "system_version"), "3.1.0");
    assert_string_equal(jsonu_str(v, "hash"), jsonu_str(v, "sha256"));
    assert_string_equal(jsonu_str(v, "file_name"), "cli.zip");
    assert_int_equal(json_array_size(json_object_get(v, "artifacts")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "artifact_count")),
                     2);
    assert_true(json_is_false(json_object_get(v, "pruned")));
    json_decref(v);
    /* unknown: 404; not a version: 400; the API before it: 404 */
    assert_int_equal(versioned_get(ver, &v, url,
                                   "/v1/system/update/repositories/9.9.9",
                                   NULL), 404);
    assert_non_null(strstr(jsonu_str(v, "message"), "9.9.9"));
    json_decref(v);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/v1/system/update/repositories/%s",
                 bad[i]);
        assert_int_equal(versioned_get(ver, &v, url, path, NULL), 400);
        assert_non_null(jsonu_str(v, "message"));
        json_decref(v);
    }
    assert_int_equal(versioned_get(ver, &v, url,
                                   "/v1/system/update/repositories/3.1.0",
                                   "api-version: 1.0.0"), 404);
    assert_string_equal(ver, "1.0.0");
    assert_non_null(strstr(jsonu_str(v, "message"), "came in 1.1.0"));
    json_decref(v);
    assert_int_equal(versioned_get(ver, &v, url,
                                   "/v1/system/update/repositories/3.1.0",
                                   "api-version: 1.1.0"), 200);
    json_decref(v);
}

static void test_ingest__tufaceous_zip(void **state)
{
    const char *vec = getenv("TUF_VECTORS_DIR");
    struct err err = ERR_INIT;
    struct pg *pg = NULL;
    struct proc *srv = NULL;
    char *dir = NULL, *conninfo = NULL, *bin, *zip, *root, *portf, *staging;
    char *out = NULL, url[64], *slog;
    json_t *pj = NULL;
    int code;

    (void)state;
    zip = mem_alloc(4096);
    root = mem_alloc(4096);
    snprintf(zip, 4096, "%s/tufaceous-v1-fake/zip/v1-fake.zip", vec ? vec : "");
    snprintf(root, 4096, "%s/tufaceous-v1-fake/repo/metadata/1.root.json",
             vec ? vec : "");
    if (!vec || !testutil_exists(zip)) {
        testutil_note_skip("TUF vectors absent (%s)", zip);
        mem_free(zip);
        mem_free(root);
        skip();
    }
    assert_int_equal(testutil_tmpdir(&dir, "ingest"), 0);
    assert_int_equal(pg_start(&pg, &err), 0);
    conninfo = pgtest_db_migrated_by_cli(pg, "ingest");
    bin = proc_bin_path("replicator");
    portf = testutil_join(dir, "port.json");
    staging = testutil_join(dir, "staging");
    slog = testutil_join(dir, "serve.log");
    {
        char *argv[] = {bin, "serve", "--insecure-plaintext",
                        "--db", conninfo, "--staging", staging,
                        "--listen", "127.0.0.1:0", "--port-file", portf,
                        "--no-periodic", NULL};

        assert_int_equal(proc_spawn(&srv, bin, argv, NULL, slog), 0);
    }
    assert_int_equal(proc_wait_port_file(&pj, portf, srv, 30000), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%lld",
             (long long)json_integer_value(json_object_get(pj, "api")));
    check_api_versions(url);

    /* no trust root: 400 telling the operator what to do */
    code = run_cli(&out, dir, url, "repo", "upload", zip, NULL);
    assert_int_equal(code, 1);
    assert_non_null(strstr(out, "error 400: no trust roots are configured"));
    mem_free(out);

    code = run_cli(&out, dir, url, "trust-root", "add", root, NULL);
    assert_int_equal(code, 0);
    mem_free(out);

    code = run_cli(&out, dir, url, "--json", "repo", "upload", zip);
    assert_int_equal(code, 0);
    {
        const char *brace = strchr(out, '{');
        json_t *j = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL)
                          : NULL;
        char *rdir = NULL;

        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "system_version")),
                            "1.0.0");
        assert_int_equal(json_array_size(json_object_get(j, "artifacts")), 14);
        assert_false(json_is_true(json_object_get(j, "already_existed")));
        rdir = mem_alloc(4096);
        snprintf(rdir, 4096, "%s/repos/%s", staging,
                 json_string_value(json_object_get(j, "repo_id")));
        /* 14 artifact files named by sha256 plus manifest.json */
        assert_int_equal(testutil_dir_count(rdir), 15);
        mem_free(rdir);
        json_decref(j);
    }
    mem_free(out);

    code = run_cli(&out, dir, url, "--json", "repo", "upload", zip);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"already_existed\": true"));
    mem_free(out);

    code = run_cli(&out, dir, url, "repo", "prune", "9.9.9", NULL);
    assert_int_equal(code, 1);
    mem_free(out);
    code = run_cli(&out, dir, url, "repo", "bogus", NULL, NULL);
    assert_int_equal(code, 2);
    mem_free(out);

    assert_int_equal(proc_stop(srv, 20000), 0);
    assert_int_equal(proc_exit_code(srv), 0);
    proc_free(srv);
    json_decref(pj);
    pg_stop(pg);
    testutil_rmrf(dir);
    mem_free(dir);
    mem_free(conninfo);
    mem_free(bin);
    mem_free(zip);
    mem_free(root);
    mem_free(portf);
    mem_free(staging);
    mem_free(slog);
}

/* The single JSON document on stdout (the log also holds stderr lines). */
static json_t *json_in(const char *out)
{
    const char *brace = out ? strchr(out, '{') : NULL;

    return brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

static void has_keys(const json_t *j, const char *const *keys)
{
    for (; *keys; keys++) {
        if (!json_object_get(j, *keys))
            fprintf(stderr, "missing key %s\n", *keys);
        assert_non_null(json_object_get(j, *keys));
    }
}

static void test_ingest__cli_json(void **state)
{
    static const char *const up_keys[] = {
        "system_version", "sha256", "file_name", "valid_until", "generation",
        "already_existed", "repo_id", "artifacts", "repo", "status", NULL};
    static const char *const view_keys[] = {"hash", "system_version",
                                            "file_name", "time_created",
                                            NULL};
    static const char *const art_keys[] = {"name", "version", "kind",
                                           "sha256", "length", NULL};
    static const char *const list_keys[] = {
        "id", "system_version", "sha256", "file_name", "valid_until",
        "time_created", "pruned", "failed", "artifact_count", NULL};
    static const char *const prune_keys[] = {
        "system_version", "repo_id", "pruned", "generation",
        "generation_bumped", NULL};
    struct err err = ERR_INIT;
    struct pg *pg = NULL;
    struct proc *srv = NULL;
    char *dir = NULL, *conninfo = NULL, *bin, *mk, *zip, *root, *key, *portf;
    char *staging, *slog, *out = NULL, url[64], id[64];
    json_t *pj = NULL, *j;
    int code;

    (void)state;
    assert_int_equal(testutil_tmpdir(&dir, "ingcli"), 0);
    bin = proc_bin_path("replicator");
    mk = proc_bin_path("tuf-mkrepo");
    zip = testutil_join(dir, "cli.zip");
    root = testutil_join(dir, "root.json");
    key = testutil_join(dir, "key.pem");
    {
        char *argv[] = {mk, "--out", zip, "--system-version", "3.1.0",
                        "--random", "2:1000", "--generate-key", key,
                        "--print-root", root, NULL};

        assert_int_equal(proc_run(&code, mk, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    /* usage and help need no server */
    assert_int_equal(run_cli(&out, dir, "http://127.0.0.1:1", "--help", NULL,
                             NULL, NULL), 0);
    assert_non_null(strstr(out, "Exit codes: 0 success"));
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, "http://127.0.0.1:1", "repo",
                             "--help", NULL, NULL), 0);
    assert_non_null(strstr(out, "repo prune VERSION"));
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, "http://127.0.0.1:1", "trust-root",
                             "--help", NULL, NULL), 0);
    assert_non_null(strstr(out, "trust-root remove ID"));
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, "http://127.0.0.1:1", "--bogus", NULL,
                             NULL, NULL), 2);
    assert_non_null(strstr(out, "unknown flag --bogus"));
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, "http://127.0.0.1:1", "trust-root",
                             "add", NULL, NULL), 2);
    mem_free(out);
    /* unreachable server: 1, and --json says status 0 */
    assert_int_equal(run_cli(&out, dir, "http://127.0.0.1:1", "--json", "repo",
                             "list", NULL), 1);
    j = json_in(out);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
                           "127.0.0.1:1"));
    json_decref(j);
    mem_free(out);

    assert_int_equal(pg_start(&pg, &err), 0);
    conninfo = pgtest_db_migrated_by_cli(pg, "ingcli");
    portf = testutil_join(dir, "port.json");
    staging = testutil_join(dir, "staging");
    slog = testutil_join(dir, "serve.log");
    {
        char *argv[] = {bin, "serve", "--insecure-plaintext",
                        "--db", conninfo, "--staging", staging,
                        "--listen", "127.0.0.1:0", "--port-file", portf,
                        "--no-periodic", NULL};

        assert_int_equal(proc_spawn(&srv, bin, argv, NULL, slog), 0);
    }
    assert_int_equal(proc_wait_port_file(&pj, portf, srv, 30000), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%lld",
             (long long)json_integer_value(json_object_get(pj, "api")));

    /* trust-root add / list */
    assert_int_equal(run_cli(&out, dir, url, "--json", "trust-root", "add",
                             root), 0);
    j = json_in(out);
    assert_non_null(j);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "id")));
    assert_int_equal(strlen(id), 36);
    json_decref(j);
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, url, "--json", "trust-root", "list",
                             NULL), 0);
    j = json_in(out);
    assert_int_equal(json_array_size(json_object_get(j, "trust_roots")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "trust_roots"),
                                           0), "id")), id);
    assert_true(json_is_object(json_object_get(
        json_array_get(json_object_get(j, "trust_roots"), 0), "root_role")));
    json_decref(j);
    mem_free(out);
    /* a file that is not a root: 400, exit 1 */
    assert_int_equal(run_cli(&out, dir, url, "trust-root", "add", slog, NULL),
                     1);
    assert_non_null(strstr(out, "error 400"));
    mem_free(out);

    /* repo upload / list / prune */
    assert_int_equal(run_cli(&out, dir, url, "--json", "repo", "upload", zip),
                     0);
    j = json_in(out);
    assert_non_null(j);
    has_keys(j, up_keys);
    assert_string_equal(json_string_value(json_object_get(j, "file_name")),
                        "cli.zip");
    assert_int_equal(json_array_size(json_object_get(j, "artifacts")), 2);
    has_keys(json_array_get(json_object_get(j, "artifacts"), 0), art_keys);
    assert_string_equal(jsonu_str(j, "status"), "inserted");
    has_keys(json_object_get(j, "repo"), view_keys);
    assert_int_equal(json_object_size(json_object_get(j, "repo")), 4);
    assert_string_equal(jsonu_str(json_object_get(j, "repo"), "hash"),
                        jsonu_str(j, "sha256"));
    assert_string_equal(jsonu_str(json_object_get(j, "repo"),
                                  "system_version"), "3.1.0");
    assert_string_equal(jsonu_str(json_object_get(j, "repo"), "file_name"),
                        "cli.zip");
    assert_int_equal(strlen(jsonu_str(json_object_get(j, "repo"),
                                      "time_created")), 20);
    json_decref(j);
    mem_free(out);
    check_repo_get(url);
    /* the same upload again: the reference's already_exists */
    assert_int_equal(run_cli(&out, dir, url, "--json", "repo", "upload", zip),
                     0);
    j = json_in(out);
    assert_true(json_is_true(json_object_get(j, "already_existed")));
    assert_string_equal(jsonu_str(j, "status"), "already_exists");
    has_keys(json_object_get(j, "repo"), view_keys);
    json_decref(j);
    mem_free(out);
    /* plain output of upload: progress lines (not a terminal) + summary */
    assert_int_equal(run_cli(&out, dir, url, "repo", "upload", zip, NULL), 0);
    assert_non_null(strstr(out, "upload: "));
    assert_non_null(strstr(out, "(100%)"));
    assert_non_null(strstr(out, "system version 3.1.0"));
    assert_non_null(strstr(out, "already existed"));
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, url, "--json", "repo", "list", NULL),
                     0);
    j = json_in(out);
    assert_int_equal(json_array_size(json_object_get(j, "repositories")), 1);
    has_keys(json_array_get(json_object_get(j, "repositories"), 0),
             list_keys);
    json_decref(j);
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, url, "--json", "repo", "prune",
                             "3.1.0"), 0);
    j = json_in(out);
    has_keys(j, prune_keys);
    assert_true(json_is_true(json_object_get(j, "generation_bumped")));
    json_decref(j);
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, url, "--json", "repo", "prune",
                             "0.0.404"), 1);
    j = json_in(out);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
                           "0.0.404"));
    assert_non_null(json_object_get(j, "request_id"));
    json_decref(j);
    mem_free(out);

    /* trust-root remove */
    assert_int_equal(run_cli(&out, dir, url, "--json", "trust-root", "remove",
                             id), 0);
    j = json_in(out);
    assert_string_equal(json_string_value(json_object_get(j, "id")), id);
    assert_true(json_is_true(json_object_get(j, "removed")));
    json_decref(j);
    mem_free(out);
    assert_int_equal(run_cli(&out, dir, url, "trust-root", "remove",
                             "not-a-uuid", NULL), 1);
    assert_non_null(strstr(out, "error 400: trust root id is not a UUID"));
    mem_free(out);

    assert_int_equal(proc_stop(srv, 20000), 0);
    assert_int_equal(proc_exit_code(srv), 0);
    proc_free(srv);
    json_decref(pj);
    pg_stop(pg);
    testutil_rmrf(dir);
    mem_free(dir);
    mem_free(conninfo);
    mem_free(bin);
    mem_free(mk);
    mem_free(zip);
    mem_free(root);
    mem_free(key);
    mem_free(portf);
    mem_free(staging);
    mem_free(slog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest__tufaceous_zip),
        cmocka_unit_test(test_ingest__cli_json),
    };

    mem_init();
    return testutil_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
