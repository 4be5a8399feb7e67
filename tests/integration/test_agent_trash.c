/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of trash/ (DESIGN.md section 3): with --trash-retention 1
 * an artifact a new config drops is moved to trash/ and purged after the
 * retention (polled); with the default retention, a config wanting a
 * trashed artifact again restores it from trash (no upload).
 */
#include <setjmp.h>
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
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

static const char *const short_retention[] = {"--trash-retention", "1", NULL};

struct file_arg {
    struct agentproc *a;
    const char *name; /* "trash/<hex>" or "<hex>" */
    bool want;        /* present on both datasets, or absent on both */
};

static bool files_are(void *arg)
{
    struct file_arg *f = arg;

    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->a, i, f->name);
        bool there = testutil_exists(p);

        mem_free(p);
        if (there != f->want)
            return false;
    }
    return true;
}

/* gen 1 {x}, x stored; then gen 2 {} (x goes to trash). */
static void trash_one(struct agentproc *a, char *hex, char *tname)
{
    const char *cfg[1] = {hex};
    char data[5000];
    struct file_arg fa = {a, tname, true};

    testutil_random(data, sizeof(data));
    testutil_sha256_hex(hex, data, sizeof(data));
    snprintf(tname, 80, "trash/%s", hex);
    assert_int_equal(agentproc_put_config(a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(a, hex, 1, data, sizeof(data),
                                            NULL), 200);
    assert_int_equal(agentproc_put_config(a, 2, NULL, 0), 204);
    assert_true(testutil_wait_for(files_are, &fa, 10000));
    fa.name = hex;
    fa.want = false;
    assert_true(files_are(&fa));
}

static void test_agent_trash__purged_after_retention(void **state)
{
    struct agentproc_fixture *f = *state;
    char hex[SHA256_HEX_LEN + 1], tname[80];
    struct file_arg fa = {f->a, tname, false};
    int64_t t0;

    trash_one(f->a, hex, tname);
    t0 = testutil_now_ms();
    if (!testutil_wait_for(files_are, &fa, 15000))
        fail_msg("trash entry still there 15 s after a 1 s retention");
    /* Not purged before the retention has passed. */
    assert_true(testutil_now_ms() - t0 >= 500);
    f->passed = true;
}

static bool count_two(void *arg)
{
    struct file_arg *f = arg;

    return agentproc_count(f->a, f->name) == 2;
}

static void test_agent_trash__wanted_again_is_restored(void **state)
{
    struct agentproc_fixture *f = *state;
    char hex[SHA256_HEX_LEN + 1], tname[80];
    const char *cfg[1] = {hex};
    struct file_arg fa = {f->a, hex, true};

    trash_one(f->a, hex, tname);
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 204);
    assert_true(testutil_wait_for(count_two, &fa, 10000));
    assert_true(files_are(&fa));
    fa.name = tname;
    fa.want = false;
    assert_true(files_are(&fa));
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(
            test_agent_trash__purged_after_retention, agentproc_fixture_setup,
            agentproc_fixture_teardown, (void *)short_retention),
        cmocka_unit_test_setup_teardown(
            test_agent_trash__wanted_again_is_restored,
            agentproc_fixture_setup, agentproc_fixture_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
