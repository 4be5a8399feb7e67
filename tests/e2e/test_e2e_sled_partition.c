/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_sled_partition: scenario 2, second half. A 6-sled rack where
 * one sled is partitioned (`rack-sim partition`, SIGSTOP: connections hang
 * rather than being refused) before a second upload: the other sleds
 * converge without waiting for it (well within the task's 30 s
 * no-progress timeout), it stays cut off for several activations, and
 * after `rack-sim heal` it catches up to the rack's generation.
 * Invariants 1-3 are checked on every poll, 4 at the end (e2e_util).
 * Regression: every run's collect phase used to wait the full no-progress
 * timeout for the hung sled, so no sled converged for ~36 s; small requests
 * now have a short total bound (replicator/task/sledreq.c).
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

#include "common/mem.h"
#include "sim/rack_status.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define SLEDS 6
#define PARTED 4
#define ART_BYTES (1u << 20)

static json_int_t task_runs(struct e2e *t)
{
    json_t *st = e2e_task(t, 0);
    json_int_t n = json_integer_value(json_object_get(st, "runs"));

    json_decref(st);
    return n;
}

struct runs_arg {
    json_int_t target;
};

static bool runs_reached(struct e2e *t, void *arg)
{
    return task_runs(t) >= ((struct runs_arg *)arg)->target;
}

static void test_e2e_sled_partition__others_do_not_wait(
    void **state)
{
    struct e2e *t = *state;
    uint64_t others;
    char *z1, *z2;
    json_t *doc, *inv = NULL;
    struct runs_arg ra;
    int64_t ms;

    e2e_up(t, SLEDS, 1, "--rate-limit", "4194304", (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 4, ART_BYTES, 21);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 3, ART_BYTES, 22);

    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 40000, "first upload converges");

    /* 2. A sled partitioned for several activations. */
    e2e_sim(t, NULL, "partition", "4", (char *)NULL);
    ra.target = task_runs(t);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 7);
    others = E2E_ALL & ~(1ull << PARTED);
    /* Not waiting for it means well within the task's 30 s no-progress
     * timeout of a request to a hung sled. */
    ms = e2e_wait_converged(t, others, 20000,
                            "the others converge without partitioned "
                            "sled 4");
    fprintf(stderr, "sleds other than 4 converged in %lld ms\n",
            (long long)ms);
    /* Several activations while it is cut off. */
    ra.target += 3;
    e2e_wait(t, runs_reached, &ra, 60000, "three activations");
    assert_false(t->poll.up[PARTED]);
    e2e_sim(t, NULL, "heal", "4", (char *)NULL);
    ms = e2e_wait_converged(t, E2E_ALL, 40000, "sled 4 catches up");
    fprintf(stderr, "sled 4 caught up %lld ms after heal\n", (long long)ms);
    e2e_check_final(t, E2E_ALL);
    assert_int_equal(rack_sled_inventory(&inv, &t->r, PARTED, 3000, NULL),
                     0);
    assert_int_equal(json_integer_value(json_object_get(inv, "generation")),
                     t->poll.gen[0]);
    json_decref(inv);
    fprintf(stderr, "scenario 2 (partition) took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-part");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_sled_partition__others_do_not_wait, setup,
            e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
