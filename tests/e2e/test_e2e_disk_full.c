/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_disk_full: scenario 9. A 4-sled rack converged on one upload;
 * both datasets of sled 3 are filled (`rack-sim dataset fill 3 A` and
 * `... 3 B`: the agent restarts with --quota-bytes-a 1 --quota-bytes-b 1).
 * A second upload: sled 3 lists no room (writable_bytes), so the
 * replicator plans no write there (the run counts them as no-space and
 * is not converged; a refused PUT would orphan the swarm copies started
 * from it), sled 3 has no half-written file (tmp/ empty, invariant 2),
 * and the other sleds converge. `rack-sim dataset restore 3
 * A|B` lifts the fills (the sim's "unfill") and sled 3 completes.
 * Invariants 1-3 on every poll, 4 at the end (e2e_util).
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

/* The replicator knows sled 3 has no room (its list's writable_bytes)
 * and plans no write there: the last run counts them as no-space and is
 * not converged. */
static bool seen_full(struct e2e *t, void *arg)
{
    json_t *st = e2e_task(t, 0), *e;
    json_t *plan = json_object_get(json_object_get(st, "last_run"), "plan");
    bool full = false;
    size_t i;

    (void)arg;
    json_array_foreach(json_object_get(st, "sleds"), i, e) {
        const char *s = json_string_value(json_object_get(e, "id"));
        json_t *wb = json_object_get(e, "writable_bytes");

        if (s && !strcmp(s, t->r.sleds[3].id) && json_is_integer(wb) &&
            json_integer_value(wb) < (json_int_t)MIB)
            full = true;
    }
    full = full &&
           json_integer_value(json_object_get(plan, "requests_no_space")) >=
               1 &&
           json_is_false(json_object_get(json_object_get(st, "last_run"),
                                         "converged"));
    json_decref(st);
    return full;
}

static void test_e2e_disk_full__refused_then_completes(void **state)
{
    struct e2e *t = *state;
    char tmp[PATH_MAX + 16];
    json_t *doc;
    char *z1, *z2;

    e2e_up(t, 4, 1, (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 2, MIB, 91);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 3, MIB, 92);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 40000, "1.0.0 converges");

    e2e_sim(t, NULL, "dataset", "fill", "3", "A", (char *)NULL);
    e2e_sim(t, NULL, "dataset", "fill", "3", "B", (char *)NULL);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 5);
    e2e_wait_converged(t, E2E_ALL & ~8ull, 30000,
                       "the others converge while sled 3 is full");
    e2e_wait(t, seen_full, NULL, 20000, "the replicator sees sled 3 full");
    for (char w = 'A'; w <= 'B'; w++) {
        e2e_path(tmp, sizeof(tmp), t, 3, w, "tmp");
        assert_true(testutil_dir_count(tmp) <= 0);
        assert_int_equal(e2e_dataset_files(t, 3, w), 2);
    }

    e2e_sim(t, NULL, "dataset", "restore", "3", "A", (char *)NULL);
    e2e_sim(t, NULL, "dataset", "restore", "3", "B", (char *)NULL);
    e2e_wait_converged(t, E2E_ALL, 40000, "sled 3 completes once freed");
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "scenario 9 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-full");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_disk_full__refused_then_completes, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
