/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_ingest: end-to-end ingest through a real `replicator serve` (port 0)
 * on a private PostgreSQL, driven by the `replicator` CLI: no trust root is
 * a 400 naming the remedy; the real tufaceous zip is accepted against its
 * own root with its 14 artifacts staged under their sha256 and a manifest;
 * a re-upload is idempotent. Skips when the shared TUF vectors are absent.
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
#include "tests/support/pg.h"
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
        fprintf(stderr, "skip: TUF vectors absent (%s)\n", zip);
        mem_free(zip);
        mem_free(root);
        skip();
    }
    assert_int_equal(testutil_tmpdir(&dir, "ingest"), 0);
    assert_int_equal(pg_start(&pg, &err), 0);
    assert_int_equal(pg_create_db(&conninfo, pg, "ingest", &err), 0);
    bin = proc_bin_path("replicator");
    {
        char *argv[] = {bin, "db", "migrate", "--db", conninfo, NULL};

        assert_int_equal(proc_run(&code, bin, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    portf = testutil_join(dir, "port.json");
    staging = testutil_join(dir, "staging");
    slog = testutil_join(dir, "serve.log");
    {
        char *argv[] = {bin, "serve", "--db", conninfo, "--staging", staging,
                        "--listen", "127.0.0.1:0", "--port-file", portf,
                        "--no-periodic", NULL};

        assert_int_equal(proc_spawn(&srv, bin, argv, NULL, slog), 0);
    }
    assert_int_equal(proc_wait_port_file(&pj, portf, srv, 30000), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%lld",
             (long long)json_integer_value(json_object_get(pj, "api")));

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest__tufaceous_zip),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
