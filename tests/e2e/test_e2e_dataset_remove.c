/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_dataset_remove: scenario 3. A 4-sled rack converged on one
 * upload; one dataset of sled 1 is removed (`rack-sim dataset remove 1
 * B`, an M.2 disappearing under a running agent). The sled keeps serving
 * with the other one (GET /artifacts reports datasets 1, every artifact
 * still listed, its depot still serves them), the replicator's status
 * reports the sled with datasets 1, and once the dataset returns empty
 * (`rack-sim dataset restore 1 B`) the sled is repaired to two copies.
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
#include "sim/rack_status.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define MIB (1u << 20)

static bool degraded(struct e2e *t, void *arg)
{
    json_t *inv = NULL;
    bool ok;

    (void)arg;
    if (rack_sled_inventory(&inv, &t->r, 1, 2000, NULL) < 0)
        return false;
    ok = json_integer_value(json_object_get(inv, "datasets")) == 1;
    json_decref(inv);
    return ok;
}

static bool reported(struct e2e *t, void *arg)
{
    json_t *st = e2e_task(t, 0), *s = e2e_task_sled(st, t, 1);
    bool ok = s && json_integer_value(json_object_get(s, "datasets")) == 1;

    (void)arg;
    json_decref(st);
    return ok;
}

static void test_e2e_dataset_remove__degraded_then_repaired(void **state)
{
    struct e2e *t = *state;
    json_t *doc, *inv = NULL, *c;
    const char *h;
    char *zip;

    e2e_up(t, 4, 1, (char *)NULL);
    zip = e2e_mkrepo(t, "repo1.zip", "1.0.0", 3, MIB, 31);
    doc = e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 40000, "first upload converges");

    e2e_sim(t, NULL, "dataset", "remove", "1", "B", (char *)NULL);
    e2e_wait(t, degraded, NULL, 20000, "sled 1 reports datasets 1");
    /* It keeps serving every artifact from dataset A. */
    assert_int_equal(rack_sled_inventory(&inv, &t->r, 1, 3000, NULL), 0);
    assert_int_equal(json_object_size(json_object_get(inv, "list")), 3);
    json_object_foreach(json_object_get(inv, "list"), h, c)
        assert_int_equal(json_integer_value(c), 1);
    json_object_foreach(t->wanted, h, c) {
        struct buf b = BUF_INIT;
        struct err err = ERR_INIT;
        char hex[65];
        long status = 0;

        assert_int_equal(e2e_depot_get(&status, &b, t, 1, h, &err), 0);
        assert_int_equal(status, 200);
        testutil_sha256_hex(hex, b.data, b.len);
        assert_string_equal(hex, h);
        buf_release(&b);
    }
    json_decref(inv);
    e2e_wait(t, reported, NULL, 20000,
             "the replicator reports sled 1 with datasets 1");
    /* The others stay converged meanwhile. */
    e2e_wait_converged(t, E2E_ALL & ~2ull, 5000, "the others hold it all");

    e2e_sim(t, NULL, "dataset", "restore", "1", "B", (char *)NULL);
    e2e_wait_converged(t, E2E_ALL, 40000, "sled 1 repaired to two copies");
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "scenario 3 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(zip);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-dsrm");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_dataset_remove__degraded_then_repaired, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
