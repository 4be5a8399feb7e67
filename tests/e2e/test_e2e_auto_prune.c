/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_auto_prune: the automatic pruner (issue 12 item 5) meets the
 * mass-deletion guard. A 3-sled rack (periodic runs every hour, so none
 * happens during the test; the default keep of 3) holds four
 * repositories, the oldest big (4 + 1 + 1 + 1 artifacts), with the pruner
 * switched off. It is switched on (a manual run does not prune) and the
 * replicator restarts: it no longer remembers the pushed set, so "one
 * repository's worth" is the largest left, and its start-up pass prunes
 * the oldest, which would delete 4 of 7 artifacts: the guard holds
 * that generation like any operator's prune: nothing leaves any sled, the
 * pruner prunes nothing more and says why, until `replicator generation
 * confirm G`; then the rack converges on the three newest.
 * Invariants 1-3 on every poll, 4 at the end (e2e_util).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/jsonutil.h"
#include "common/mem.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define KIB 1024u

/* The held generation of replicator 0, or 0. */
static json_int_t held_generation(struct e2e *t)
{
    json_t *st = e2e_task(t, 0);
    json_t *held = json_object_get(st, "held_generations");
    json_int_t g = json_array_size(held)
                       ? json_integer_value(json_object_get(
                             json_array_get(held, 0), "generation"))
                       : 0;

    json_decref(st);
    return g;
}

static bool held_cond(struct e2e *t, void *arg)
{
    (void)arg;
    return held_generation(t) > 0;
}

static void test_e2e_auto_prune__guard_holds(void **state)
{
    struct e2e *t = *state;
    json_t *doc, *st, *old, *pr, *e;
    char *z[4], gs[32];
    json_int_t g;
    const char *h;
    bool warned = false;

    e2e_up(t, 3, 1, "--period", "3600", (char *)NULL);
    json_decref(e2e_repl_ok(t, 0, "prune-policy", "disable", "--reason",
                            "filling the rack", (char *)NULL));
    z[0] = e2e_mkrepo(t, "repo1.zip", "1.0.0", 4, 64 * KIB, 41);
    z[1] = e2e_mkrepo(t, "repo2.zip", "2.0.0", 1, 64 * KIB, 42);
    z[2] = e2e_mkrepo(t, "repo3.zip", "3.0.0", 1, 64 * KIB, 43);
    z[3] = e2e_mkrepo(t, "repo4.zip", "4.0.0", 1, 64 * KIB, 44);
    for (int i = 0; i < 4; i++)
        json_decref(e2e_repl_ok(t, 0, "repo", "upload", z[i], (char *)NULL));
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 7);
    e2e_wait_converged(t, E2E_ALL, 40000, "four repos converge");
    old = json_deep_copy(t->wanted);
    doc = e2e_repl_ok(t, 0, "prune-policy", "show", (char *)NULL);
    assert_string_equal(jsonu_str(doc, "status"), "disabled");
    assert_string_equal(jsonu_str(doc, "reason"), "filling the rack");
    json_decref(doc);

    doc = e2e_repl_ok(t, 0, "prune-policy", "enable", (char *)NULL);
    assert_string_equal(jsonu_str(doc, "next_prune"), "1.0.0");
    json_decref(doc);
    json_decref(e2e_repl_ok(t, 0, "activate", (char *)NULL));
    doc = e2e_repl_ok(t, 0, "repo", "list", (char *)NULL);
    assert_false(json_is_true(json_object_get(
        json_array_get(json_object_get(doc, "repositories"), 0), "pruned")));
    json_decref(doc);
    e2e_sim(t, NULL, "replicator", "restart", "0", (char *)NULL);
    assert_true(e2e_wait(t, held_cond, NULL, 30000,
                         "the guard holds the pruner's generation") >= 0);
    g = held_generation(t);
    /* held: more runs, nothing more pruned, nothing left any sled */
    for (int i = 0; i < 20 && !warned; i++) {
        json_decref(e2e_repl_ok(t, 0, "activate", (char *)NULL));
        st = e2e_task(t, 0);
        pr = json_object_get(st, "prune");
        warned = pr && json_array_size(json_object_get(pr, "warnings")) &&
                 strstr(json_string_value(json_array_get(
                            json_object_get(pr, "warnings"), 0)),
                        "held by the mass-deletion guard");
        json_decref(st);
    }
    assert_true(warned);
    e2e_poll(t);
    for (size_t k = 0; k < 3; k++)
        json_object_foreach(old, h, e) {
            assert_true(e2e_dataset_has(t, k, 'A', h));
            assert_true(e2e_dataset_has(t, k, 'B', h));
        }
    doc = e2e_repl_ok(t, 0, "repo", "list", (char *)NULL);
    {
        const json_t *arr = json_object_get(doc, "repositories");
        size_t pruned = 0;

        for (size_t i = 0; i < json_array_size(arr); i++)
            pruned += json_is_true(json_object_get(json_array_get(arr, i),
                                                   "pruned"));
        assert_int_equal(pruned, 1);
    }
    json_decref(doc);

    snprintf(gs, sizeof(gs), "%lld", (long long)g);
    json_decref(e2e_repl_ok(t, 0, "generation", "confirm", gs, (char *)NULL));
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 3);
    e2e_wait_converged(t, E2E_ALL, 30000, "the automatic prune applies");
    e2e_check_final(t, E2E_ALL);
    json_decref(old);
    for (int i = 0; i < 4; i++)
        mem_free(z[i]);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-autoprune");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_auto_prune__guard_holds,
                                        setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
