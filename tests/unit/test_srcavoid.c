/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of replicator/task/srcavoid (issue 10): which copy errors
 * are the source's fault, a mark lasts SRCAVOID_SECS and then goes, a
 * mark renewed lasts from the renewal, and a full table drops its oldest
 * mark. Test thread only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/mem.h"
#include "replicator/task/srcavoid.h"

static void test_srcavoid__source_errors(void **state)
{
    (void)state;
    assert_true(srcavoid_is_source_error("source http://10.0.0.1:1 too "
                                         "slow: under 8192 bytes/s over 60 s"));
    assert_true(srcavoid_is_source_error("HTTP 502: source http://10.0.0.1:1"
                                         " unreachable"));
    assert_false(srcavoid_is_source_error("HTTP 507: no dataset has space"));
    assert_false(srcavoid_is_source_error("copy made no progress"));
    assert_false(srcavoid_is_source_error(""));
    assert_false(srcavoid_is_source_error(NULL));
}

static void test_srcavoid__marks_expire(void **state)
{
    static struct srcavoid m;
    const int64_t t0 = 1000000;

    (void)state;
    assert_false(srcavoid_active(&m, "a", t0));
    srcavoid_note(&m, "a", t0);
    assert_true(srcavoid_active(&m, "a", t0 + 1));
    assert_false(srcavoid_active(&m, "b", t0 + 1));
    assert_true(srcavoid_active(&m, "a", t0 + SRCAVOID_SECS * 1000LL - 1));
    srcavoid_note(&m, "a", t0 + 5000); /* renewed */
    assert_true(srcavoid_active(&m, "a", t0 + SRCAVOID_SECS * 1000LL + 1));
    assert_false(srcavoid_active(&m, "a",
                                 t0 + 5000 + SRCAVOID_SECS * 1000LL));
    assert_int_equal(m.n, 0); /* the expired mark went */
    srcavoid_note(&m, "", t0);
    srcavoid_note(&m, NULL, t0);
    assert_int_equal(m.n, 0);
}

static void test_srcavoid__bounded(void **state)
{
    static struct srcavoid m;
    char id[32];

    (void)state;
    for (int i = 0; i < SRCAVOID_MAX + 10; i++) {
        snprintf(id, sizeof(id), "sled-%d", i);
        srcavoid_note(&m, id, 1000 + i);
    }
    assert_int_equal(m.n, SRCAVOID_MAX);
    assert_false(srcavoid_active(&m, "sled-0", 2000));
    snprintf(id, sizeof(id), "sled-%d", SRCAVOID_MAX + 9);
    assert_true(srcavoid_active(&m, id, 2000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srcavoid__source_errors),
        cmocka_unit_test(test_srcavoid__marks_expire),
        cmocka_unit_test(test_srcavoid__bounded),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
