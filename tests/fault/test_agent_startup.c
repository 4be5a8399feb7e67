/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Start-up fault tests of the sledagent with its default flags:
 * - startup_rehash: DESIGN.md section 3 says stored files are re-hashed
 *   "at start-up and then continuously at a bounded rate", so a copy
 *   corrupted while the agent was down is found and repaired at start.
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

/* Both datasets hold hex with exactly that hash. */
static bool both_good(void *arg)
{
    struct agenttest_list *l = arg;

    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(l->a, i, l->hex);
        struct agenttest_hash h = {p, l->hex};
        bool ok = agenttest_file_has_hash(&h);

        mem_free(p);
        if (!ok)
            return false;
    }
    return agenttest_list_is(l);
}

static void test_agent_startup__startup_rehash(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_list l;
    struct agenttest_art x, y;
    const char *cfg[2];
    char *p;

    agenttest_art_make(&x, 100000);
    agenttest_art_make(&y, 100000);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            NULL), 200);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    p = agentproc_path(f->a, 1, x.hex);
    assert_int_equal(unlink(p), 0);
    mem_free(p);
    p = agentproc_path(f->a, 0, y.hex);
    agenttest_flip_byte(p, 4242, 0x01);
    mem_free(p);
    assert_int_equal(agentproc_start(f->a), 0);
    l.a = f->a;
    l.count = 2;
    l.datasets = 2;
    l.hex = x.hex;
    if (!testutil_wait_for(both_good, &l, 30000))
        fail_msg("copy missing on B not restored within 30 s of start");
    l.hex = y.hex;
    if (!testutil_wait_for(both_good, &l, 30000))
        fail_msg("corrupt copy on A not repaired within 30 s of start");
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_startup__startup_rehash),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
