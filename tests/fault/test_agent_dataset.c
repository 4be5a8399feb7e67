/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Fault tests of the sledagent's datasets (DESIGN.md section 3): a dataset
 * removed at run time (degraded service, then repair when it comes back),
 * a stored file corrupted in place (found by the scrubber, repaired from
 * the other dataset, counted in the metrics), and a corrupt ledger on one
 * dataset (the other copy wins) and on both (503, never "no config").
 * Every test ends by checking DESIGN.md invariant 2 on both datasets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define LEDGER "artifact-config.json"

static const char *const args_fast_scrub[] = {
    "--scrub-interval", "1", "--scrub-rate", "1000000000", NULL};

static void test_agent_dataset__removed_then_repaired(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_list l;
    struct agenttest_art x, y;
    const char *cfg[2];
    json_t *v;

    agenttest_art_make(&x, 200000);
    agenttest_art_make(&y, 150000);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    /* Dataset A disappears under the running agent. */
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 0)), 0);
    l.a = f->a;
    l.hex = x.hex;
    l.count = 1;
    l.datasets = 1;
    if (!testutil_wait_for(agenttest_list_is, &l, 30000))
        fail_msg("agent did not report datasets 1 / count 1 within 30 s");
    /* Still serving with one dataset. */
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            &r), 200);
    v = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 1);
    json_decref(v);
    assert_int_equal(agentproc_count(f->a, y.hex), 1);
    assert_true(agentproc_alive(f->a));
    /* The directory comes back (empty): both artifacts are repaired. */
    assert_int_equal(mkdir(agentproc_dataset(f->a, 0), 0755), 0);
    l.count = 2;
    l.datasets = 2;
    if (!testutil_wait_for(agenttest_list_is, &l, 60000))
        fail_msg("x not back to 2 copies within 60 s");
    l.hex = y.hex;
    if (!testutil_wait_for(agenttest_list_is, &l, 60000))
        fail_msg("y not back to 2 copies within 60 s");
    for (int i = 0; i < 2; i++) {
        char *px = agentproc_path(f->a, i, x.hex);
        char *py = agentproc_path(f->a, i, y.hex);

        assert_true(testutil_exists(px));
        assert_true(testutil_exists(py));
        mem_free(px);
        mem_free(py);
    }
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

static void test_agent_dataset__corruption_scrubbed(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_hash h;
    struct agenttest_list l;
    const char *cfg[1];
    char *path, url[128];
    struct agenttest_art x;

    agenttest_art_make(&x, 1024 * 1024);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    /* Flip one byte in place on dataset A (same inode, same size). */
    path = agentproc_path(f->a, 0, x.hex);
    agenttest_flip_byte(path, 500000, 0x40);
    h.path = path;
    h.hex = x.hex;
    assert_false(agenttest_file_has_hash(&h));
    if (!testutil_wait_for(agenttest_file_has_hash, &h, 60000))
        fail_msg("corrupt copy on A not repaired within 60 s");
    l.a = f->a;
    l.hex = x.hex;
    l.count = 2;
    l.datasets = 2;
    assert_true(testutil_wait_for(agenttest_list_is, &l, 30000));
    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(f->a));
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(r.body.data);
    if (agenttest_metric_max(r.body.data, "corrupt", NULL) < 1.0)
        fail_msg("no corruption metric >= 1 in:\n%s", r.body.data);
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    mem_free(path);
    agenttest_art_free(&x);
    f->passed = true;
}

/*
 * Damage the ledger at path: if a "generation" number is found, change its
 * last digit (a well-formed but wrong document); otherwise flip a byte in
 * the middle. A checksummed ledger must reject both.
 */
static void damage_ledger(const char *path, bool truncate_half)
{
    char *data = NULL;
    size_t len = 0;
    char *g;

    assert_int_equal(testutil_read_file(&data, &len, path), 0);
    assert_true(len > 0);
    if (truncate_half) {
        assert_int_equal(testutil_write_file(path, data, len / 2), 0);
        mem_free(data);
        return;
    }
    g = strstr(data, "\"generation\"");
    if (g) {
        char *d = g + strlen("\"generation\"");

        while (*d && (*d < '0' || *d > '9'))
            d++;
        while (d[1] >= '0' && d[1] <= '9')
            d++;
        assert_true(*d >= '0' && *d <= '9');
        *d = *d == '0' ? '1' : (char)(*d - 1);
    } else {
        data[len / 2] ^= 0x20;
    }
    assert_int_equal(testutil_write_file(path, data, len), 0);
    mem_free(data);
}

static long get_config(struct agentproc *a, json_t **out)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];
    long st = -1;

    *out = NULL;
    snprintf(url, sizeof(url), "%s/artifacts-config", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0) {
        st = r.status;
        if (st == 200)
            *out = http_client_json(&r);
    }
    http_client_resp_release(&r);
    return st;
}

static void test_agent_dataset__ledger_corrupt(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *cfg[1];
    char *la, *lb;
    struct agenttest_art x;
    json_t *v;
    long st;

    agenttest_art_make(&x, 5000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 4, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 4, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    la = agentproc_path(f->a, 0, LEDGER);
    lb = agentproc_path(f->a, 1, LEDGER);
    assert_true(testutil_exists(la) && testutil_exists(lb));

    /* One copy damaged: the other wins, nothing is lost. */
    damage_ledger(la, false);
    assert_int_equal(agentproc_start(f->a), 0);
    assert_int_equal(get_config(f->a, &v), 200);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 4);
    json_decref(v);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_int_equal(agentproc_put_config(f->a, 3, NULL, 0), 409);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);

    /* Both damaged: not "no config"; config-dependent requests are 503. */
    damage_ledger(la, false);
    damage_ledger(lb, true);
    assert_int_equal(agentproc_start(f->a), 0);
    st = get_config(f->a, &v);
    json_decref(v);
    if (st != 503)
        fail_msg("GET /artifacts-config with both ledgers corrupt: %ld, "
                 "want 503", st);
    v = NULL;
    assert_int_equal(agentproc_list(f->a, &v), 503);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 4, x.data, x.len,
                                            &r), 503);
    /* An older config is never accepted as if the node were fresh. */
    st = agentproc_put_config(f->a, 1, NULL, 0);
    if (st == 204)
        fail_msg("config generation 1 accepted over a corrupt ledger of 4");
    st = agentproc_put_config(f->a, 3, cfg, 1);
    if (st == 204)
        fail_msg("config generation 3 accepted over a corrupt ledger of 4");
    /* And nothing was deleted as if the config were empty. */
    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->a, i, x.hex);

        if (!testutil_exists(p))
            fail_msg("%s removed while the ledger was unreadable", p);
        mem_free(p);
    }
    assert_true(agentproc_alive(f->a));
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    mem_free(la);
    mem_free(lb);
    agenttest_art_free(&x);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST_ARGS(test_agent_dataset__removed_then_repaired,
                       args_fast_scrub),
        AGENTTEST_ARGS(test_agent_dataset__corruption_scrubbed,
                       args_fast_scrub),
        AGENTTEST(test_agent_dataset__ledger_corrupt),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
