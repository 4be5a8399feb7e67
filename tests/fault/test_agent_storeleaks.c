/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_agent_storeleaks: issue 10's smaller storage leaks against a real
 * sledagent (DESIGN.md section 3).
 *  - the local repair between the two datasets honours the quota: with
 *    dataset B full, an artifact held by A only stays count 1 (skipped,
 *    counted in /metrics, logged once per interval, nothing written to B)
 *    and is copied once room appears (its neighbour deleted: B's trash is
 *    purged for it).
 * Every test ends by checking DESIGN.md invariant 2 on both datasets.
 * Test thread only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define ART 200000
#define NOSPACE_A "sledagent_store_repair_nospace_total{dataset=\"A\"} "
#define NOSPACE_B "sledagent_store_repair_nospace_total{dataset=\"B\"} "

/* Value of the metric line starting with `line` ("name{labels} "), -1 if
 * absent. */
static double metric(struct agentproc *a, const char *line)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[160];
    double v = -1;
    const char *p;

    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0 && r.status == 200 && r.body.data) {
        for (p = r.body.data; p; p = strchr(p, '\n')) {
            if (*p == '\n')
                p++;
            if (strncmp(p, line, strlen(line)) == 0) {
                v = strtod(p + strlen(line), NULL);
                break;
            }
        }
    }
    http_client_resp_release(&r);
    return v;
}

/* Occurrences of needle in the agent's log. */
static long log_count(struct agentproc *a, const char *needle)
{
    char *data = NULL;
    size_t len = 0;
    long n = 0;

    if (testutil_read_file(&data, &len, agentproc_log_path(a)) < 0)
        return -1;
    for (const char *p = data; (p = strstr(p, needle)) != NULL; p++)
        n++;
    mem_free(data);
    return n;
}

static bool file_exists(struct agentproc *a, int d, const char *name)
{
    char *p = agentproc_path(a, d, name);
    struct stat sb;
    bool ok = p && stat(p, &sb) == 0;

    mem_free(p);
    return ok;
}

static const char *const args_full_b[] = {
    "--quota-bytes-b", "300000", "--scrub-interval", "1", "--scrub-rate",
    "1000000000", NULL};

static void test_agent_storeleaks__repair_quota(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_list l;
    struct agenttest_art x, y;
    const char *cfg[2];
    double skipped;
    long logged;

    agenttest_art_make(&x, ART);
    agenttest_art_make(&y, ART);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    /* B's quota (300,000) holds x only: y is stored on A alone. */
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            NULL), 200);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_int_equal(agentproc_count(f->a, y.hex), 1);
    /* Several scrub passes (each runs the repair) go by: y stays count 1
     * and nothing of it lands on B. */
    testutil_sleep_ms(4000);
    assert_int_equal(agentproc_count(f->a, y.hex), 1);
    assert_false(file_exists(f->a, 1, y.hex));
    skipped = metric(f->a, NOSPACE_B);
    printf("# repairs to B skipped in 4 s: %.0f\n", skipped);
    assert_true(skipped >= 2);
    assert_true(metric(f->a, NOSPACE_A) == 0);
    /* logged once per interval (60 s), not once per pass */
    logged = log_count(f->a, "store_repair_nospace");
    assert_int_equal(logged, 1);
    /* Room appears: x is deleted (to trash/), the repair purges B's trash
     * for y and copies it. */
    cfg[0] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 204);
    l.a = f->a;
    l.hex = y.hex;
    l.count = 2;
    l.datasets = 2;
    if (!testutil_wait_for(agenttest_list_is, &l, 30000))
        fail_msg("y not copied to B within 30 s of room appearing");
    assert_true(file_exists(f->a, 1, y.hex));
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST_ARGS(test_agent_storeleaks__repair_quota, args_full_b),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
