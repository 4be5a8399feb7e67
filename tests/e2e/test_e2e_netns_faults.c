/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_netns_faults: the faults only a real network has (issue 14,
 * deliver 5), each on a netns rack of 4 sleds (root only; registered by
 * tests/cmake/sim.cmake when configured as root):
 * 1. one_way: sled 2's replies are lost (`partition 2 --one-way out`: it
 *    hears the controller, the controller never hears back) during an
 *    upload; the controller reports it unreachable, the others converge,
 *    after heal it completes.
 * 2. loss: 5 % packet loss on every link (both directions) during a
 *    distribution: the rack converges and the controller reports every
 *    sled ok.
 * 3. flap: the link of a sled that is a copy source (it holds copies
 *    while the others still copy) flaps every second: the rack converges
 *    (the flapping sled too, in its up windows, or after heal).
 * The DESIGN.md section 8 invariants: 1-3 on every poll, 4 at the end.
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
#include "sim/rack_net.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define SLEDS 4
#define KIB (1u << 10)

/* The controller's state for sled *arg in its task status. */
struct report {
    size_t sled;
    const char *state;
};

static bool reported(struct e2e *t, void *arg)
{
    struct report *r = arg;
    json_t *st = e2e_task(t, 0), *s = e2e_task_sled(st, t, r->sled);
    const char *v = s ? json_string_value(json_object_get(s, "state")) : NULL;
    bool ok = v && strcmp(v, r->state) == 0;

    json_decref(st);
    return ok;
}

static void upload(struct e2e *t, const char *zip)
{
    json_t *doc = e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL);

    json_decref(doc);
    e2e_reload_wanted(t);
}

static void all_ok(struct e2e *t)
{
    for (size_t k = 0; k < SLEDS; k++) {
        struct report r = {k, "ok"};

        e2e_wait(t, reported, &r, 30000, "the controller reports ok");
    }
}

static void test_e2e_netns_faults__one_way(void **state)
{
    struct e2e *t = *state;
    uint64_t others = E2E_ALL & ~(1ull << 2);
    struct report r = {2, "unreachable"};
    char *z1, *z2;

    e2e_up(t, SLEDS, 1, (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 3, 256 * KIB, 61);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 3, 256 * KIB, 62);
    upload(t, z1);
    e2e_wait_converged(t, E2E_ALL, 60000, "first upload converges");

    e2e_sim(t, NULL, "partition", "2", "--one-way", "out", (char *)NULL);
    upload(t, z2);
    e2e_wait_converged(t, others, 60000, "the others converge");
    e2e_wait(t, reported, &r, 60000, "sled 2 reported unreachable");
    assert_false(t->poll.up[2]);
    e2e_sim(t, NULL, "heal", "2", (char *)NULL);
    e2e_wait_converged(t, E2E_ALL, 60000, "sled 2 completes after heal");
    e2e_check_final(t, E2E_ALL);
    all_ok(t);
    mem_free(z1);
    mem_free(z2);
}

static void test_e2e_netns_faults__loss(void **state)
{
    struct e2e *t = *state;
    char *z1;
    int64_t ms;

    e2e_up(t, SLEDS, 1, "--link-rate", "8M", (char *)NULL);
    for (size_t k = 0; k < SLEDS; k++) {
        char s[16];

        snprintf(s, sizeof(s), "%zu", k);
        e2e_sim(t, NULL, "link", s, "--loss", "5", (char *)NULL);
    }
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 4, 512 * KIB, 71);
    upload(t, z1);
    ms = e2e_wait_converged(t, E2E_ALL, 180000,
                            "converges with 5 % loss on every link");
    fprintf(stderr, "netns: converged with 5 %% loss in %lld ms\n",
            (long long)ms);
    /* The kernel did drop packets on the way. */
    {
        char ns[RACK_NET_NAME_MAX], *out = NULL, *p;
        unsigned long long dropped = 0;

        rack_net_ns(ns, sizeof(ns), &t->r, 'k', 0);
        assert_int_equal(e2e_runv(t, &out, 20000, "/usr/sbin/ip", "netns",
                                  "exec", ns, "nft", "list", "ruleset",
                                  (char *)NULL), 0);
        for (p = strstr(out, "counter packets "); p;
             p = strstr(p + 1, "counter packets "))
            dropped += strtoull(p + 16, NULL, 10);
        fprintf(stderr, "netns: %llu packets lost\n", dropped);
        assert_true(dropped > 0);
        mem_free(out);
    }
    e2e_check_final(t, E2E_ALL);
    all_ok(t);
    mem_free(z1);
}

static bool copies_held(struct e2e *t, void *arg)
{
    size_t *src = arg;

    for (size_t k = 0; k < t->r.nsleds; k++) {
        if (t->poll.held[k] > 0) {
            *src = k;
            return true;
        }
    }
    return false;
}

static void test_e2e_netns_faults__flap(void **state)
{
    struct e2e *t = *state;
    size_t src = 0;
    char s[16], *z1;
    int64_t ms;

    /* Slow links: copies run long enough to flap a source under them. */
    e2e_up(t, SLEDS, 1, "--link-rate", "1M", (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 4, 1024 * KIB, 81);
    upload(t, z1);
    e2e_wait(t, copies_held, &src, 60000, "a sled holds a copy");
    snprintf(s, sizeof(s), "%zu", src);
    fprintf(stderr, "netns: flapping the link of sled %zu\n", src);
    e2e_sim(t, NULL, "link", s, "--flap", "1", (char *)NULL);
    ms = e2e_wait_converged(t, E2E_ALL & ~(1ull << src), 180000,
                            "the others converge with a flapping source");
    fprintf(stderr, "netns: others converged in %lld ms\n", (long long)ms);
    {
        char path[PATH_MAX], *log = NULL;

        snprintf(path, sizeof(path), "%s/sled-%zu/flap.log", t->dir, src);
        assert_int_equal(testutil_read_file(&log, NULL, path), 0);
        assert_non_null(strstr(log, "link down"));
        assert_non_null(strstr(log, "link up"));
        mem_free(log);
    }
    e2e_sim(t, NULL, "heal", s, (char *)NULL);
    e2e_wait_converged(t, E2E_ALL, 120000, "all converge after heal");
    e2e_check_final(t, E2E_ALL);
    all_ok(t);
    mem_free(z1);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-nsf");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_netns_faults__one_way, setup,
                                        e2e_teardown),
        cmocka_unit_test_setup_teardown(test_e2e_netns_faults__loss, setup,
                                        e2e_teardown),
        cmocka_unit_test_setup_teardown(test_e2e_netns_faults__flap, setup,
                                        e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    setenv("RD_E2E_NET", "netns", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
