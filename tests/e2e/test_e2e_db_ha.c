/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_db_ha: issue 11 on a `rack-sim up --db-ha` rack (pg_auto_failover
 * monitor + two synchronous nodes), 3 sleds, two replicators. Upload 1.0.0
 * and converge. The monitor is killed: service continues on the current
 * primary (an upload converges). The primary is killed right after the
 * generation bump of a 2.0.0 upload, with a 3.0.0 upload in flight on the
 * other replicator: the upload completes on its own (the CLI retries the
 * 503s), the new primary has the bumped generation (synchronous
 * replication: nothing committed is lost), 3.0.0 is recorded exactly once,
 * and every sled converges without operator action. With the old primary
 * gone the survivor runs without a standby, asynchronously
 * (synchronous_standby_names empty, state wait_primary: the alarm `db
 * status` shows), and keeps accepting uploads. The old primary restarted
 * rejoins as the synchronous standby; then the standby is killed: service
 * continues (an upload converges). Invariants 1-3 on every poll, 4 at the
 * end.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_db.h"
#include "sim/rack_pki.h"
#include "tests/e2e/e2e_dbha.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define KIB 1024u

static void upload_converge(struct e2e *t, size_t repl, const char *zip,
                            const char *what)
{
    json_t *doc = e2e_repl_ok(t, repl, "repo", "upload", zip, (char *)NULL);

    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 60000, what);
}

static void test_e2e_db_ha__failover_loses_nothing(void **state)
{
    struct e2e *t = *state;
    char *z1 = e2e_mkrepo(t, "r1.zip", "1.0.0", 2, 64 * KIB, 111);
    char *z2 = e2e_mkrepo(t, "r2.zip", "2.0.0", 2, 64 * KIB, 112);
    char *z3 = e2e_mkrepo(t, "r3.zip", "3.0.0", 2, 512 * KIB, 113);
    char *z4 = e2e_mkrepo(t, "r4.zip", "4.0.0", 2, 64 * KIB, 114);
    char *z5 = e2e_mkrepo(t, "r5.zip", "5.0.0", 2, 64 * KIB, 115);
    char url[128], *ulog = testutil_join(t->dir, "upload3.log");
    char *uargv[] = {t->repl, "--url", url, "repo", "upload", z3, NULL};
    const char *old_primary, *new_primary;
    struct proc *up = NULL;
    json_t *st, *doc;
    long long gen;

    e2e_up(t, 3, 2, "--db-ha", (char *)NULL);
    st = e2e_db_status(t);
    assert_string_equal(e2e_db_primary(st), "node1");
    assert_string_equal(json_string_value(json_object_get(
                            e2e_db_node(st, "node2"), "role")), "secondary");
    /* Synchronous while the standby is there. */
    assert_non_null(strstr(json_string_value(json_object_get(
                               st, "synchronous_standby_names")),
                           "pgautofailover_standby_2"));
    json_decref(st);
    /* Five repositories: the automatic pruner (keep 3) would take the
     * oldest, which this test is not about. */
    json_decref(e2e_repl_ok(t, 0, "prune-policy", "disable", "--reason",
                            "test_e2e_db_ha keeps every upload",
                            (char *)NULL));
    upload_converge(t, 0, z1, "1.0.0 converges");

    /* The monitor lost: the primary goes on serving. */
    e2e_sim(t, NULL, "db", "kill-monitor", (char *)NULL);
    upload_converge(t, 0, z4, "4.0.0 converges without the monitor");
    e2e_sim(t, NULL, "db", "restart", "monitor", (char *)NULL);

    /* The primary killed right after a bump, an upload in flight. */
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    gen = json_integer_value(json_object_get(doc, "generation"));
    assert_true(gen > 0);
    json_decref(doc);
    st = e2e_db_status(t);
    old_primary = e2e_db_primary(st);
    assert_non_null(old_primary);
    old_primary = strcmp(old_primary, "node1") ? "node2" : "node1";
    json_decref(st);
    e2e_repl_url(url, sizeof(url), t, 1);
    rack_pki_cli_env(&t->r, true);
    assert_int_equal(proc_spawn(&up, t->repl, uargv, NULL, ulog), 0);
    rack_pki_cli_env(&t->r, false);
    e2e_sim(t, NULL, "db", "kill-primary", (char *)NULL);
    assert_int_equal(proc_wait(up, 180000), 0);
    if (proc_exit_code(up) != 0) {
        testutil_print_tail("upload 3.0.0", ulog, 4000);
        fail_msg("the upload in flight during the failover failed");
    }
    proc_free(up);
    assert_true(e2e_db_value(t, "SELECT generation FROM tuf_generation") >=
                gen);
    assert_int_equal(e2e_db_value(t, "SELECT count(*) FROM tuf_repo WHERE "
                                 "system_version = '3.0.0'"), 1);
    assert_int_equal(e2e_db_value(t, "SELECT count(*) FROM tuf_repo"), 4);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 8);
    e2e_wait_converged(t, E2E_ALL, 90000, "the rack converges after the "
                                          "failover");

    /* The survivor is primary, without a standby: asynchronous, and says
     * so; uploads still work (an idempotent re-upload, too). */
    st = e2e_db_status(t);
    new_primary = e2e_db_primary(st);
    assert_non_null(new_primary);
    assert_string_not_equal(new_primary, old_primary);
    assert_string_equal(json_string_value(json_object_get(
                            e2e_db_node(st, new_primary), "state")),
                        "wait_primary");
    assert_string_equal(json_string_value(json_object_get(
                            st, "synchronous_standby_names")), "");
    json_decref(st);
    doc = e2e_repl_ok(t, 1, "repo", "upload", z3, (char *)NULL);
    assert_true(json_is_true(json_object_get(doc, "already_existed")));
    json_decref(doc);

    /* The old primary comes back as the standby; then the standby is
     * lost: the primary goes on. */
    e2e_sim(t, NULL, "db", "restart", old_primary, (char *)NULL);
    e2e_wait(t, e2e_db_rejoined, (void *)old_primary, 120000,
             "the old primary rejoins as the secondary");
    e2e_sim(t, NULL, "db", "kill-secondary", (char *)NULL);
    upload_converge(t, 0, z5, "5.0.0 converges without the standby");
    assert_int_equal(e2e_db_value(t, "SELECT count(*) FROM tuf_repo"), 5);
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "db-ha scenario took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(ulog);
    mem_free(z1);
    mem_free(z2);
    mem_free(z3);
    mem_free(z4);
    mem_free(z5);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-dbha");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_db_ha__failover_loses_nothing, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
