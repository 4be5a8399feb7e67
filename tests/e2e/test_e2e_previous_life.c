/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_previous_life: scenario 5 (seed 000). A 4-sled rack converged
 * on one upload; sled 2 gets a ledger from a previous life far ahead
 * (`rack-sim ledger previous-life 2 1000`). The replicator isolates it and
 * reports it with the remedy, while a second upload converges on the
 * three others; `replicator generation bump --past-fleet` (one command)
 * brings the database past the fleet and sled 2 converges too.
 * Invariants 1-3 on every poll (sled 2's generation only goes up), 4 at
 * the end (e2e_util).
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

static bool isolated_reported(struct e2e *t, void *arg)
{
    json_t *st = e2e_task(t, 0), *e;
    bool ok = false;
    size_t i;

    (void)arg;
    json_array_foreach(json_object_get(st, "isolated_sleds"), i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *rem = json_string_value(json_object_get(e, "remedy"));

        if (id && !strcmp(id, t->r.sleds[2].id) && rem &&
            strstr(rem, "generation bump --past-fleet") &&
            json_integer_value(json_object_get(e, "generation")) == 1000)
            ok = true;
    }
    json_decref(st);
    return ok;
}

static void test_e2e_previous_life__isolated_then_bumped(void **state)
{
    struct e2e *t = *state;
    json_t *doc, *st, *s;
    char *z1, *z2;

    e2e_up(t, 4, 1, (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 3, MIB, 51);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 2, MIB, 52);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 40000, "first upload converges");

    e2e_sim(t, NULL, "ledger", "previous-life", "2", "1000", (char *)NULL);
    e2e_wait(t, isolated_reported, NULL, 20000,
             "sled 2 isolated and reported with its remedy");
    st = e2e_task(t, 0);
    s = e2e_task_sled(st, t, 2);
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "state")),
                        "isolated");
    json_decref(st);
    /* The rest converge on a new upload meanwhile. */
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 5);
    e2e_wait_converged(t, E2E_ALL & ~4ull, 30000,
                       "the others converge while sled 2 is isolated");
    assert_int_equal(t->poll.gen[2], 1000);
    /* Nothing was taken from the isolated sled. */
    assert_int_equal(e2e_dataset_files(t, 2, 'A'), 3);
    assert_int_equal(e2e_dataset_files(t, 2, 'B'), 3);

    doc = e2e_repl_ok(t, 0, "generation", "bump", "--past-fleet",
                      (char *)NULL);
    json_decref(doc);
    e2e_wait_converged(t, E2E_ALL, 40000, "sled 2 converges after the bump");
    assert_true(t->poll.gen[2] > 1000);
    assert_int_equal(t->poll.gen[0], t->poll.gen[2]);
    e2e_check_final(t, E2E_ALL);
    st = e2e_task(t, 0);
    assert_int_equal(json_array_size(json_object_get(st, "isolated_sleds")),
                     0);
    json_decref(st);
    fprintf(stderr, "scenario 5 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-prevlife");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_previous_life__isolated_then_bumped, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
