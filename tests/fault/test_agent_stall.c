/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Fault test: a copy's source agent is SIGSTOPped mid-transfer. The copy
 * must fail after the no-progress timeout (--copy-stall-timeout 2) with
 * state "failed" in GET /copies and nothing stored on the target (no final
 * file, tmp/ emptied: DESIGN.md invariant 2); after SIGCONT a new copy
 * succeeds. The source runs with --rate-limit so the transfer lasts long
 * enough to be caught in the middle.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define MIB (1024u * 1024)

static const char *const source_args[] = {"--rate-limit", "2097152", NULL};

struct copy_arg {
    struct agentproc *a;
    const char *hex;
    const char *state;  /* wanted state, or NULL: running with bytes > 0 */
};

static bool copy_is(void *arg)
{
    struct copy_arg *c = arg;
    /* newest first: the first entry of hex is the latest copy */
    json_t *v = agenttest_copies(c->a), *e = agenttest_copy_of(v, c->hex);
    const char *s = json_string_value(json_object_get(e, "state"));
    bool yes;

    if (c->state)
        yes = s && !strcmp(s, c->state);
    else
        yes = s && !strcmp(s, "running") &&
              json_integer_value(json_object_get(e, "bytes")) > 0;
    json_decref(v);
    return yes;
}

static bool count_two(void *arg)
{
    struct copy_arg *c = arg;

    return agentproc_count(c->a, c->hex) == 2;
}

static void test_agent_stall__sigstopped_source(void **state)
{
    struct agentproc_fixture *f = *state;
    const char *target_args[] = {"--copy-stall-timeout", "2", NULL};
    const size_t len = 4 * MIB;
    char *data = mem_alloc(len), hex[SHA256_HEX_LEN + 1];
    const char *cfg[1] = {hex};
    struct copy_arg c;
    struct err e = ERR_INIT;
    int64_t t0;

    assert_non_null(data);
    testutil_random(data, len);
    testutil_sha256_hex(hex, data, len);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, hex, 1, data, len, NULL),
                     200);
    assert_int_equal(agentproc_new(&f->b, target_args), 0);
    assert_int_equal(agentproc_start(f->b), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);

    assert_int_equal(
        agenttest_post_copy(f->b, hex, 1, agentproc_depot_url(f->a), NULL),
        202);
    c.a = f->b;
    c.hex = hex;
    c.state = NULL;
    assert_true(testutil_wait_for(copy_is, &c, 10000));
    assert_int_equal(proc_signal(agentproc_proc(f->a), SIGSTOP), 0);
    t0 = testutil_now_ms();
    c.state = "failed";
    if (!testutil_wait_for(copy_is, &c, 20000))
        fail_msg("copy from a stopped source did not fail within 20 s");
    /* Not before the stall timeout (2 s, less what was in flight). */
    assert_true(testutil_now_ms() - t0 >= 1000);
    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->b, i, hex);

        assert_false(testutil_exists(p));
        mem_free(p);
    }
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->b, 10000));
    assert_int_equal(agentproc_count(f->b, hex), 0);

    assert_int_equal(proc_signal(agentproc_proc(f->a), SIGCONT), 0);
    assert_int_equal(
        agenttest_post_copy(f->b, hex, 1, agentproc_depot_url(f->a), NULL),
        202);
    assert_true(testutil_wait_for(count_two, &c, 30000));
    c.state = "done";
    assert_true(copy_is(&c));
    assert_int_equal(agentproc_check_files(f->b, NULL, &e), 0);
    mem_free(data);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(
            test_agent_stall__sigstopped_source, agentproc_fixture_setup,
            agentproc_fixture_teardown, (void *)source_args),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
