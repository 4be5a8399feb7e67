/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_sleds_added: scenario 10. A 4-sled rack (links capped at
 * 2 MiB/s) starts distributing one upload; while copies run, two new
 * sleds are added and register themselves with the replicator: they
 * receive everything and the whole rack of 6 converges.
 * rack-sim has no command to add a sled to a running rack, so the test
 * adds them through the simulator's own library, exactly as `up` starts
 * a sled (new index, stable id, datasets D/sled-K/A|B, free ports,
 * --replicator the first replicator), and records them in D/rack.json so
 * `rack-sim down` stops them. Invariants 1-3 on every poll, 4 at the end.
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
#include "sim/rack_pki.h"
#include "sim/rack_status.h"
#include "sim/rack_up.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define MIB (1u << 20)

static bool copies_running(struct e2e *t, void *arg)
{
    (void)arg;
    for (size_t k = 0; k < t->r.nsleds; k++)
        if (t->poll.held[k] > 0)
            return true;
    return false;
}

static void add_sled(struct e2e *t)
{
    struct err err = ERR_INIT;
    size_t k = t->r.nsleds;
    struct rack_sled *s = &t->r.sleds[k];
    char p[PATH_MAX];

    memset(s, 0, sizeof(*s));
    rack_sled_uuid(s->id, k);
    t->r.nsleds++;
    for (char w = 'A'; w <= 'B'; w++) {
        rack_path_dataset(p, sizeof(p), &t->r, k, w);
        assert_int_equal(rack_mkdirs(p, &err), 0);
    }
    /* On a TLS rack the new sled needs its certificate first (issued
     * from the rack CA; the existing ones are kept). */
    if (rack_pki_ensure(&t->r, &err) < 0)
        fail_msg("certificate of sled %zu: %s", k, err.msg);
    if (rack_start_sled(&t->r, k, &err) < 0)
        fail_msg("start sled %zu: %s", k, err.msg);
    assert_int_equal(rack_state_save(&t->r, &err), 0);
}

static void test_e2e_sleds_added__new_sleds_receive_everything(
    void **state)
{
    struct e2e *t = *state;
    json_t *doc;
    char *zip;

    e2e_up(t, 4, 1, "--rate-limit", "2097152", (char *)NULL);
    zip = e2e_mkrepo(t, "repo1.zip", "1.0.0", 4, MIB, 101);
    doc = e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait(t, copies_running, NULL, 20000, "distribution under way");
    assert_false(e2e_converged(t, E2E_ALL));
    add_sled(t);
    add_sled(t);
    assert_int_equal(t->r.nsleds, 6);
    e2e_wait_converged(t, E2E_ALL, 40000, "all six sleds converge");
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "scenario 10 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(zip);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-added");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_sleds_added__new_sleds_receive_everything, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
