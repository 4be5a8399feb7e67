/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_corrupt: scenario 4. A 4-sled rack converged on one upload;
 * one stored copy on sled 0 is corrupted (`rack-sim dataset corrupt 0 A`,
 * one byte flipped in place). Sleds 1 and 2 then lose both datasets (so
 * they must copy again, with sled 0 as a candidate source): no other
 * sled ever holds a wrong copy (invariant 2 on every sled at every poll);
 * whether sled 0's depot hands the corrupt bytes out as a complete 200 is
 * printed (today it does: the depot does not re-verify what it serves).
 * Restarted, sled 0's scrubber detects the copy at its start-up pass,
 * quarantines it and repairs it from dataset B; everything converges.
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

static char victim[65];

/*
 * Whether sled 0's depot hands out the corrupt bytes as a full 200. The
 * scenario's check is invariant 2 on every peer (a peer's verified writer
 * refuses them); serving them at all is reported, counted in served_bad.
 */
static int served_bad;

static void depot_not_corrupt(struct e2e *t)
{
    char hex[65];
    struct buf b = BUF_INIT;
    struct err err = ERR_INIT;
    long status = 0;

    if (e2e_depot_get(&status, &b, t, 0, victim, &err) == 0 &&
        status == 200 && b.len == MIB) {
        testutil_sha256_hex(hex, b.data, b.len);
        if (strcmp(hex, victim) != 0 && served_bad++ == 0)
            fprintf(stderr, "NOTE: sled 0's depot served the corrupt copy "
                    "of %s as a complete 200 (peers must refuse it)\n",
                    victim);
    }
    buf_release(&b);
}

static bool repaired(struct e2e *t, void *arg)
{
    char path[PATH_MAX + 80], hex[65];
    struct sha256 h;

    (void)arg;
    e2e_path(path, sizeof(path), t, 0, 'A', victim);
    if (testutil_sha256_file(&h, path) < 0)
        return false;
    sha256_to_hex(hex, &h);
    return strcmp(hex, victim) == 0;
}

static void wipe(struct e2e *t, const char *k)
{
    e2e_sim(t, NULL, "dataset", "remove", k, "A", (char *)NULL);
    e2e_sim(t, NULL, "dataset", "remove", k, "B", (char *)NULL);
    e2e_sim(t, NULL, "dataset", "restore", k, "A", (char *)NULL);
    e2e_sim(t, NULL, "dataset", "restore", k, "B", (char *)NULL);
}

static void test_e2e_corrupt__detected_quarantined_repaired(void **state)
{
    struct e2e *t = *state;
    char path[PATH_MAX + 80], *out = NULL, *p;
    json_t *doc;
    char *zip;

    e2e_up(t, 4, 1, (char *)NULL);
    zip = e2e_mkrepo(t, "repo1.zip", "1.0.0", 3, MIB, 41);
    doc = e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 40000, "first upload converges");

    e2e_sim(t, &out, "dataset", "corrupt", "0", "A", (char *)NULL);
    /* The victim's hash is printed: take the first 64-hex word. */
    for (p = out; *p; p++) {
        size_t n = 0;

        while (n < 64 && ((p[n] >= '0' && p[n] <= '9') ||
                          (p[n] >= 'a' && p[n] <= 'f')))
            n++;
        if (n == 64) {
            memcpy(victim, p, 64);
            victim[64] = '\0';
            break;
        }
    }
    mem_free(out);
    assert_int_equal(strlen(victim), 64);
    assert_non_null(json_object_get(t->wanted, victim));
    e2e_path(path, sizeof(path), t, 0, 'A', victim);
    e2e_exempt(t, path);
    for (int i = 0; i < 4; i++)
        depot_not_corrupt(t);

    /* Sleds 1 and 2 copy everything again; sled 0 is a candidate source. */
    wipe(t, "1");
    wipe(t, "2");
    e2e_wait_converged(t, 2ull | 4ull, 40000,
                       "sleds 1 and 2 copy everything again");
    for (int i = 0; i < 4; i++)
        depot_not_corrupt(t);

    /* The scrubber's start-up pass finds it, quarantines, repairs. */
    e2e_sim(t, NULL, "restart", "0", (char *)NULL);
    e2e_wait(t, repaired, NULL, 30000, "sled 0 repairs its corrupt copy");
    assert_true(e2e_sled_metric(t, 0, "sledagent_store_scrub_corrupt_total")
                >= 1);
    assert_true(e2e_sled_metric(t, 0,
                                "sledagent_store_scrub_repaired_total") >= 1);
    {
        char q[PATH_MAX + 16];

        e2e_path(q, sizeof(q), t, 0, 'A', "quarantine");
        assert_true(testutil_dir_count(q) >= 1);
    }
    e2e_wait_converged(t, E2E_ALL, 40000, "the rack converges");
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "depot served the corrupt copy %d of 8 times\n",
            served_bad);
    fprintf(stderr, "scenario 4 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(zip);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-corrupt");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_corrupt__detected_quarantined_repaired, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
