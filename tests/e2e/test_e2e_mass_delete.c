/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_mass_delete: scenario 7. A 4-sled rack (periodic activation
 * every hour, so runs happen only on upload or by hand) holding three
 * repositories (3 + 3 + 1 artifacts). Pruning the two big ones would
 * delete 6 of 7 artifacts: the mass-deletion guard holds that generation
 * (nothing leaves any sled) until `replicator generation confirm G`; then
 * the artifacts move from the dataset roots into trash/. Re-uploading a
 * pruned repository brings its artifacts back from trash: the controller
 * PUTs nothing and no depot serves a byte for them.
 * Invariants 1-3 on every poll, 4 at the end (e2e_util).
 * Pending (RD_PENDING_TESTS): after the re-upload every sled restores the
 * artifacts from trash, yet peers still serve a full copy of them (depot
 * bytes grow by the repository's size): a re-download that should not be.
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

static size_t trash_files(struct e2e *t, size_t k, char w)
{
    char p[PATH_MAX + 16];
    long n;

    e2e_path(p, sizeof(p), t, k, w, "trash");
    n = testutil_dir_count(p);
    return n < 0 ? 0 : (size_t)n;
}

static json_int_t counter(struct e2e *t, const char *name)
{
    json_t *st = e2e_task(t, 0);
    json_int_t v = json_integer_value(json_object_get(
        json_object_get(st, "lifetime_counters"), name));

    json_decref(st);
    return v;
}

static void test_e2e_mass_delete__held_confirmed_restored(void **state)
{
    struct e2e *t = *state;
    json_t *doc, *st, *held, *e, *old;
    char *z1, *z2, *z3, gs[32];
    json_int_t g = 0, puts_before;
    uint64_t depot_before, copy_before, restored_before;
    const char *h;
    size_t i;

    e2e_up(t, 4, 1, "--period", "3600", (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 3, MIB, 71);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 3, MIB, 72);
    z3 = e2e_mkrepo(t, "repo3.zip", "3.0.0", 1, MIB, 73);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z3, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 7);
    e2e_wait_converged(t, E2E_ALL, 40000, "three repos converge");
    old = json_deep_copy(t->wanted);

    doc = e2e_repl_ok(t, 0, "repo", "prune", "1.0.0", (char *)NULL);
    json_decref(doc);
    doc = e2e_repl_ok(t, 0, "repo", "prune", "2.0.0", (char *)NULL);
    json_decref(doc);
    doc = e2e_repl_ok(t, 0, "activate", (char *)NULL);
    json_decref(doc);
    st = e2e_task(t, 0);
    held = json_object_get(st, "held_generations");
    assert_true(json_array_size(held) >= 1);
    json_array_foreach(held, i, e)
        g = json_integer_value(json_object_get(e, "generation"));
    json_decref(st);
    assert_true(g > 0);
    /* Held: another activation, and nothing left any sled. */
    doc = e2e_repl_ok(t, 0, "activate", (char *)NULL);
    json_decref(doc);
    e2e_poll(t);
    for (size_t k = 0; k < 4; k++)
        json_object_foreach(old, h, e) {
            assert_true(e2e_dataset_has(t, k, 'A', h));
            assert_true(e2e_dataset_has(t, k, 'B', h));
        }

    snprintf(gs, sizeof(gs), "%lld", (long long)g);
    doc = e2e_repl_ok(t, 0, "generation", "confirm", gs, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 1);
    e2e_wait_converged(t, E2E_ALL, 30000, "the prune applies");
    e2e_check_final(t, E2E_ALL);
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(trash_files(t, k, 'A'), 6);
        assert_int_equal(trash_files(t, k, 'B'), 6);
    }

    /* Wanted again: restored from trash, no byte moved. */
    puts_before = counter(t, "put_ok");
    depot_before = e2e_rack_metric(t, "sledagent_depot_bytes_total");
    copy_before = e2e_rack_metric(t, "sledagent_copy_bytes_total");
    restored_before = e2e_rack_metric(t, "sledagent_store_restored_total");
    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 4);
    e2e_wait_converged(t, E2E_ALL, 30000, "1.0.0 comes back from trash");
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "after re-upload: put_ok +%lld, depot bytes +%llu, copy "
            "bytes +%llu, restored +%llu\n",
            (long long)(counter(t, "put_ok") - puts_before),
            (unsigned long long)(e2e_rack_metric(
                t, "sledagent_depot_bytes_total") - depot_before),
            (unsigned long long)(e2e_rack_metric(
                t, "sledagent_copy_bytes_total") - copy_before),
            (unsigned long long)(e2e_rack_metric(
                t, "sledagent_store_restored_total") - restored_before));
    assert_int_equal(counter(t, "put_ok"), puts_before);
    assert_int_equal(e2e_rack_metric(t, "sledagent_depot_bytes_total"),
                     depot_before);
    assert_true(e2e_rack_metric(t, "sledagent_store_restored_total") >
                restored_before);
    json_decref(old);
    fprintf(stderr, "scenario 7 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
    mem_free(z3);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-massdel");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_mass_delete__held_confirmed_restored, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
