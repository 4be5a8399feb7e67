/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests of sledagent/range.c: HTTP Range header parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sledagent/range.h"

static void expect_partial(const char *h, uint64_t size, uint64_t start,
                           uint64_t len)
{
    struct range r;

    assert_int_equal(range_parse(&r, h, size), RANGE_PARTIAL);
    assert_int_equal(r.start, start);
    assert_int_equal(r.len, len);
}

static void expect_full(const char *h, uint64_t size)
{
    struct range r = {7, 7};

    assert_int_equal(range_parse(&r, h, size), RANGE_FULL);
    assert_int_equal(r.start, 0);
    assert_int_equal(r.len, size);
}

static void test_range__valid(void **state)
{
    (void)state;
    expect_partial("bytes=0-0", 100, 0, 1);
    expect_partial("bytes=0-99", 100, 0, 100);
    expect_partial("bytes=10-19", 100, 10, 10);
    expect_partial("bytes=10-1000", 100, 10, 90); /* clipped to the end */
    expect_partial("bytes=99-99", 100, 99, 1);
}

static void test_range__suffix(void **state)
{
    struct range r;

    (void)state;
    expect_partial("bytes=-10", 100, 90, 10);
    expect_partial("bytes=-1000", 100, 0, 100);
    assert_int_equal(range_parse(&r, "bytes=-0", 100), RANGE_UNSATISFIABLE);
    assert_int_equal(range_parse(&r, "bytes=-5", 0), RANGE_UNSATISFIABLE);
}

static void test_range__open_ended(void **state)
{
    (void)state;
    expect_partial("bytes=0-", 100, 0, 100);
    expect_partial("bytes=42-", 100, 42, 58);
}

static void test_range__unsatisfiable(void **state)
{
    struct range r;

    (void)state;
    assert_int_equal(range_parse(&r, "bytes=100-", 100), RANGE_UNSATISFIABLE);
    assert_int_equal(range_parse(&r, "bytes=100-200", 100),
                     RANGE_UNSATISFIABLE);
    assert_int_equal(range_parse(&r, "bytes=0-", 0), RANGE_UNSATISFIABLE);
}

static void test_range__multi_range_ignored(void **state)
{
    (void)state;
    expect_full("bytes=0-1,5-6", 100);
    expect_full("bytes=0-1, 5-6", 100);
}

static void test_range__garbage_ignored(void **state)
{
    (void)state;
    expect_full(NULL, 100);
    expect_full("", 100);
    expect_full("items=0-1", 100);
    expect_full("bytes=", 100);
    expect_full("bytes=-", 100);
    expect_full("bytes=a-b", 100);
    expect_full("bytes=5-1", 100);
    expect_full("bytes=+5-9", 100);
    expect_full("bytes=05-9", 100);
    expect_full("bytes=1-2-3", 100);
    expect_full("bytes=99999999999999999999999-", 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range__valid),
        cmocka_unit_test(test_range__suffix),
        cmocka_unit_test(test_range__open_ended),
        cmocka_unit_test(test_range__unsatisfiable),
        cmocka_unit_test(test_range__multi_range_ignored),
        cmocka_unit_test(test_range__garbage_ignored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
