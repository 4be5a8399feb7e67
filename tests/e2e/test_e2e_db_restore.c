/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_db_restore: scenario 6 (seed 001). A 4-sled rack: upload
 * 1.0.0, converge, `rack-sim db snapshot A`; upload 2.0.0, converge; then
 * `rack-sim db restore A` puts the database generation back. The
 * replicator is now a stale controller: it changes nothing (no sled's
 * generation moves, every artifact of both uploads stays on every sled
 * for several activations), and it reports the sleds isolated with the
 * remedy. One command (`replicator generation bump --past-fleet`) fixes
 * it, and a new upload (2.0.0 again, unknown to the restored database)
 * converges everywhere. Invariants 1-3 on every poll, 4 at the end.
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

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_http.h"
#include "sim/rack_status.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define MIB (1u << 20)

static bool all_isolated(struct e2e *t, void *arg)
{
    json_t *st = e2e_task(t, 0), *e;
    size_t i, n = 0;

    (void)arg;
    json_array_foreach(json_object_get(st, "isolated_sleds"), i, e) {
        const char *rem = json_string_value(json_object_get(e, "remedy"));

        if (rem && strstr(rem, "generation bump --past-fleet"))
            n++;
    }
    json_decref(st);
    return n == t->r.nsleds;
}

static json_int_t task_runs(struct e2e *t)
{
    json_t *st = e2e_task(t, 0);
    json_int_t n = json_integer_value(json_object_get(st, "runs"));

    json_decref(st);
    return n;
}

static bool runs_reached(struct e2e *t, void *arg)
{
    return task_runs(t) >= *(json_int_t *)arg;
}

static void all_still_held(struct e2e *t, json_t *all)
{
    const char *h;
    json_t *v;

    for (size_t k = 0; k < t->r.nsleds; k++)
        json_object_foreach(all, h, v) {
            if (!e2e_dataset_has(t, k, 'A', h) ||
                !e2e_dataset_has(t, k, 'B', h))
                fail_msg("sled %zu lost %s after the restore", k, h);
        }
}

static void test_e2e_db_restore__stale_changes_nothing_then_bump(
    void **state)
{
    struct e2e *t = *state;
    json_t *doc, *all;
    uint64_t gen_before[4];
    json_int_t runs;
    char *z1, *z2;

    e2e_up(t, 4, 1, (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 2, MIB, 61);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 2, MIB, 62);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 40000, "1.0.0 converges");
    e2e_sim(t, NULL, "db", "snapshot", "A", (char *)NULL);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 4);
    e2e_wait_converged(t, E2E_ALL, 40000, "2.0.0 converges");
    all = json_deep_copy(t->wanted);
    for (size_t k = 0; k < 4; k++)
        gen_before[k] = t->poll.gen[k];

    e2e_sim(t, NULL, "db", "restore", "A", (char *)NULL);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 2);
    /* The stale controller is detected and reported ... */
    e2e_wait(t, all_isolated, NULL, 20000,
             "every sled isolated with the remedy");
    /* ... and changes nothing, over several activations. */
    runs = task_runs(t) + 3;
    e2e_wait(t, runs_reached, &runs, 30000, "three more activations");
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(t->poll.gen[k], gen_before[k]);
    all_still_held(t, all);

    doc = e2e_repl_ok(t, 0, "generation", "bump", "--past-fleet",
                      (char *)NULL);
    json_decref(doc);
    e2e_wait_converged(t, E2E_ALL, 40000, "the rack converges after bump");
    assert_true(t->poll.gen[0] > gen_before[0]);
    /* A new upload converges. */
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 4);
    e2e_wait_converged(t, E2E_ALL, 40000, "a new upload converges");
    e2e_check_final(t, E2E_ALL);
    json_decref(all);
    fprintf(stderr, "scenario 6 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-dbrestore");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_db_restore__stale_changes_nothing_then_bump, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
