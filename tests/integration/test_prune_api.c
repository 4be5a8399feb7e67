/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_prune_api: the automatic pruner (issue 12 item 5) end to end
 * through a real `replicator serve` (port 0, periodic every second, no
 * sleds) on a private PostgreSQL, driven by the `replicator` CLI:
 * --prune-keep out of range refused at start; the switch off with its
 * reason (nothing pruned by the periodic runs, the reason in `prune-policy
 * show` and in the task status); pin and unpin (404 unknown version, 400
 * not semver); switched on, the periodic run prunes the oldest unpinned
 * repository beyond the newest K, exactly one while that prune is not
 * pushed (no sled takes it here), with the warning saying so; a
 * re-upload of the pruned repository unprunes it and keeps it; usage
 * errors exit 2.
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
#include "common/jsonutil.h"
#include "common/mem.h"
#include "tests/support/pg.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

struct rig {
    char *dir, *bin, *url_s;
    char url[64];
};

/* Run `replicator --url URL ARGS...` (NULL-terminated); its output into
 * *out (mem_free), its exit code returned. */
static int cli(char **out, const struct rig *g, ...)
{
    char *log = testutil_join(g->dir, "cli.out");
    char *argv[16] = {g->bin, "--url", (char *)g->url};
    int n = 3, code = -1;
    size_t len;
    va_list ap;

    va_start(ap, g);
    while (n < 15 && (argv[n] = va_arg(ap, char *)))
        n++;
    va_end(ap);
    argv[n] = NULL;
    remove(log);
    assert_int_equal(proc_run(&code, g->bin, argv, log, 60000), 0);
    *out = NULL;
    testutil_read_file(out, &len, log);
    mem_free(log);
    return code;
}

static json_t *json_in(const char *out)
{
    const char *brace = out ? strchr(out, '{') : NULL;

    return brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

/* `--json ARGS...` that must succeed: its JSON. */
static json_t *cli_json(const struct rig *g, const char *a1, const char *a2,
                        const char *a3)
{
    char *out = NULL;
    json_t *j;

    assert_int_equal(cli(&out, g, "--json", a1, a2, a3, NULL), 0);
    j = json_in(out);
    if (!j)
        fprintf(stderr, "not JSON: %s\n", out ? out : "(none)");
    assert_non_null(j);
    mem_free(out);
    return j;
}

static void assert_strs(const json_t *arr, const char *want)
{
    char got[256] = "";
    size_t used = 0;

    for (size_t i = 0; i < json_array_size(arr); i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s",
                                 i ? "," : "",
                                 json_string_value(json_array_get(arr, i)));
    assert_string_equal(got, want);
}

/* tuf-mkrepo VERSION.zip signed with key: generated (its root written to
 * root) when root is not NULL, else the existing one. */
static void mkrepo(const struct rig *g, const char *version, const char *key,
                   const char *root)
{
    char *mk = proc_bin_path("tuf-mkrepo");
    char name[64];
    char *zip;
    int code = -1;

    snprintf(name, sizeof(name), "%s.zip", version);
    zip = testutil_join(g->dir, name);
    {
        char *argv[] = {mk, "--out", zip, "--system-version", (char *)version,
                        "--random", "2:1000", "--key", (char *)key, NULL,
                        NULL, NULL};

        if (root) {
            argv[7] = "--generate-key";
            argv[9] = "--print-root";
            argv[10] = (char *)root;
        }
        assert_int_equal(proc_run(&code, mk, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    mem_free(zip);
    mem_free(mk);
}

static void upload(const struct rig *g, const char *version, bool existed)
{
    char name[64];
    char *zip;
    json_t *j;

    snprintf(name, sizeof(name), "%s.zip", version);
    zip = testutil_join(g->dir, name);
    j = cli_json(g, "repo", "upload", zip);
    assert_int_equal(json_is_true(json_object_get(j, "already_existed")),
                     existed);
    json_decref(j);
    mem_free(zip);
}

static bool is_pruned(const struct rig *g, const char *version)
{
    json_t *j = cli_json(g, "repo", "list", NULL);
    const json_t *arr = json_object_get(j, "repositories");
    bool pruned = false;

    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *r = json_array_get(arr, i);

        if (!strcmp(jsonu_str(r, "system_version"), version))
            pruned = json_is_true(json_object_get(r, "pruned"));
    }
    json_decref(j);
    return pruned;
}

struct pruned_arg {
    const struct rig *g;
    const char *version;
};

static bool pruned_cond(void *p)
{
    struct pruned_arg *a = p;

    return is_pruned(a->g, a->version);
}

/* The task status's "prune" (a new reference). */
static json_t *status_prune(const struct rig *g)
{
    json_t *j = cli_json(g, "status", NULL, NULL);
    json_t *p = json_incref(json_object_get(j, "prune"));

    json_decref(j);
    return p;
}

static void test_prune_api__end_to_end(void **state)
{
    struct err err = ERR_INIT;
    struct pg *pg = NULL;
    struct proc *srv = NULL;
    struct rig g;
    char *conninfo, *key, *root, *portf, *staging, *slog, *out = NULL;
    json_t *pj = NULL, *j, *p;
    struct pruned_arg pa;
    int code = -1;

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(testutil_tmpdir(&g.dir, "prune-api"), 0);
    g.bin = proc_bin_path("replicator");
    key = testutil_join(g.dir, "key.pem");
    root = testutil_join(g.dir, "root.json");
    mkrepo(&g, "1.0.0", key, root);
    mkrepo(&g, "2.0.0", key, NULL);
    mkrepo(&g, "3.0.0", key, NULL);
    mkrepo(&g, "4.0.0", key, NULL);

    assert_int_equal(pg_start(&pg, &err), 0);
    conninfo = pgtest_db_migrated_by_cli(pg, "pruneapi");
    portf = testutil_join(g.dir, "port.json");
    staging = testutil_join(g.dir, "staging");
    slog = testutil_join(g.dir, "serve.log");
    /* K out of range: refused at start, a usage error */
    {
        char *argv[] = {g.bin, "serve", "--insecure-plaintext", "--db",
                        conninfo, "--staging", staging, "--prune-keep", "0",
                        NULL};

        assert_int_equal(proc_run(&code, g.bin, argv, slog, 60000), 0);
        assert_int_equal(code, 2);
        argv[8] = "1001";
        assert_int_equal(proc_run(&code, g.bin, argv, slog, 60000), 0);
        assert_int_equal(code, 2);
    }
    {
        char *argv[] = {g.bin, "serve", "--insecure-plaintext",
                        "--db", conninfo, "--staging", staging,
                        "--listen", "127.0.0.1:0", "--port-file", portf,
                        "--period", "1", "--prune-keep", "2", NULL};

        assert_int_equal(proc_spawn(&srv, g.bin, argv, NULL, slog), 0);
    }
    assert_int_equal(proc_wait_port_file(&pj, portf, srv, 30000), 0);
    snprintf(g.url, sizeof(g.url), "http://127.0.0.1:%lld",
             (long long)json_integer_value(json_object_get(pj, "api")));

    /* off first, with a reason: the periodic runs prune nothing */
    j = cli_json(&g, "trust-root", "add", root);
    json_decref(j);
    assert_int_equal(cli(&out, &g, "--json", "prune-policy", "disable",
                         "--reason", "change freeze", NULL), 0);
    j = json_in(out);
    assert_string_equal(jsonu_str(j, "status"), "disabled");
    assert_string_equal(jsonu_str(j, "reason"), "change freeze");
    json_decref(j);
    mem_free(out);
    for (int v = 1; v <= 4; v++) {
        char ver[16];

        snprintf(ver, sizeof(ver), "%d.0.0", v);
        upload(&g, ver, false);
    }
    /* pins: unknown 404, not semver 400, the oldest pinned */
    assert_int_equal(cli(&out, &g, "repo", "pin", "9.9.9", NULL), 1);
    assert_non_null(strstr(out, "error 404: no repository with system "
                                "version 9.9.9"));
    mem_free(out);
    assert_int_equal(cli(&out, &g, "repo", "unpin", "nope", NULL), 1);
    assert_non_null(strstr(out, "error 400: system version in path must be "
                                "a semantic version"));
    mem_free(out);
    j = cli_json(&g, "repo", "pin", "1.0.0");
    assert_true(json_is_true(json_object_get(j, "pinned")));
    json_decref(j);
    j = cli_json(&g, "repo", "list", NULL);
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(j, "repositories"), 0), "pinned")));
    assert_false(json_is_true(json_object_get(
        json_array_get(json_object_get(j, "repositories"), 1), "pinned")));
    json_decref(j);
    /* show: disabled, the reason, what would go; nothing goes */
    j = cli_json(&g, "prune-policy", "show", NULL);
    assert_string_equal(jsonu_str(j, "status"), "disabled");
    assert_string_equal(jsonu_str(j, "reason"), "change freeze");
    assert_int_equal(json_integer_value(json_object_get(j, "keep_newest")),
                     2);
    assert_strs(json_object_get(j, "keep"), "4.0.0,3.0.0,1.0.0");
    assert_strs(json_object_get(j, "eligible"), "2.0.0");
    assert_null(json_object_get(j, "next_prune"));
    json_decref(j);
    testutil_sleep_ms(2500); /* two periodic runs */
    assert_false(is_pruned(&g, "2.0.0"));
    p = status_prune(&g);
    assert_string_equal(jsonu_str(p, "status"), "disabled");
    assert_string_equal(jsonu_str(p, "reason"), "change freeze");
    json_decref(p);
    /* human show */
    assert_int_equal(cli(&out, &g, "prune-policy", "show", NULL), 0);
    assert_non_null(strstr(out, "automatic pruning: disabled (change "
                                "freeze)"));
    assert_non_null(strstr(out, "eligible (oldest first): 2.0.0"));
    mem_free(out);

    /* on: the oldest unpinned beyond the newest 2 goes, and only it */
    j = cli_json(&g, "prune-policy", "enable", NULL);
    assert_string_equal(jsonu_str(j, "status"), "enabled");
    assert_null(json_object_get(j, "reason"));
    assert_string_equal(jsonu_str(j, "next_prune"), "2.0.0");
    json_decref(j);
    pa.g = &g;
    pa.version = "2.0.0";
    assert_true(testutil_wait_for(pruned_cond, &pa, 20000));
    testutil_sleep_ms(2500);
    assert_false(is_pruned(&g, "1.0.0"));
    assert_false(is_pruned(&g, "3.0.0"));
    j = cli_json(&g, "prune-policy", "show", NULL);
    assert_strs(json_object_get(j, "keep"), "4.0.0,3.0.0,1.0.0");
    assert_int_equal(json_array_size(json_object_get(j, "eligible")), 0);
    json_decref(j);
    /* unpinned, 1.0.0 is eligible but waits for the push of the prune */
    j = cli_json(&g, "repo", "unpin", "1.0.0");
    assert_false(json_is_true(json_object_get(j, "pinned")));
    json_decref(j);
    j = cli_json(&g, "prune-policy", "show", NULL);
    assert_strs(json_object_get(j, "eligible"), "1.0.0");
    assert_null(json_object_get(j, "next_prune"));
    assert_non_null(strstr(json_string_value(json_array_get(
                               json_object_get(j, "warnings"), 0)),
                           "is not pushed to the fleet yet"));
    json_decref(j);
    testutil_sleep_ms(2500);
    assert_false(is_pruned(&g, "1.0.0"));

    /* a re-upload unprunes 2.0.0, which now counts as the newest */
    upload(&g, "2.0.0", true);
    assert_false(is_pruned(&g, "2.0.0"));
    j = cli_json(&g, "prune-policy", "show", NULL);
    assert_strs(json_object_get(j, "keep"), "2.0.0,4.0.0");
    assert_strs(json_object_get(j, "eligible"), "1.0.0,3.0.0");
    json_decref(j);

    /* usage errors */
    assert_int_equal(cli(&out, &g, "prune-policy", "bogus", NULL), 2);
    mem_free(out);
    assert_int_equal(cli(&out, &g, "prune-policy", "disable", "--reason",
                         NULL), 2);
    mem_free(out);
    assert_int_equal(cli(&out, &g, "repo", "pin", NULL), 2);
    mem_free(out);
    assert_int_equal(cli(&out, &g, "prune-policy", "--help", NULL), 0);
    assert_non_null(strstr(out, "prune-policy disable [--reason TEXT]"));
    mem_free(out);

    assert_int_equal(proc_stop(srv, 20000), 0);
    assert_int_equal(proc_exit_code(srv), 0);
    proc_free(srv);
    json_decref(pj);
    pg_stop(pg);
    testutil_rmrf(g.dir);
    mem_free(g.dir);
    mem_free(g.bin);
    mem_free(conninfo);
    mem_free(key);
    mem_free(root);
    mem_free(portf);
    mem_free(staging);
    mem_free(slog);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_api__end_to_end),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
