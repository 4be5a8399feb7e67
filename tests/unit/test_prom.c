/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for common/prom: headers once per family, label escaping,
 * number forms, sticky ERR_NOMEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/prom.h"

static int setup(void **state)
{
    struct buf *b = mem_alloc(sizeof(*b));

    if (!b)
        return -1;
    *b = (struct buf)BUF_INIT;
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct buf *b = *state;

    mem__fail_after(-1, false);
    buf_release(b);
    mem_free(b);
    return 0;
}

static void test_prom__header_once_per_family(void **state)
{
    struct buf *b = *state;
    struct prom p;

    prom_init(&p, b);
    assert_int_equal(prom_family(&p, "a_total", PROM_COUNTER, "A help."), 0);
    assert_int_equal(prom_family(&p, "a_total", PROM_COUNTER, "A help."), 0);
    assert_int_equal(prom_u64(&p, "a_total",
                              (const char *const[]){"k", "x", NULL}, 1), 0);
    assert_int_equal(prom_family(&p, "a_total", PROM_COUNTER, "A help."), 0);
    assert_int_equal(prom_u64(&p, "a_total",
                              (const char *const[]){"k", "y", NULL}, 2), 0);
    assert_int_equal(prom_gauge(&p, "b", NULL, 7), 0);
    assert_int_equal(prom_counter(&p, "c_total", "C.", UINT64_MAX), 0);
    assert_int_equal(prom_rc(&p), 0);
    assert_string_equal(b->data,
                        "# HELP a_total A help.\n"
                        "# TYPE a_total counter\n"
                        "a_total{k=\"x\"} 1\n"
                        "a_total{k=\"y\"} 2\n"
                        "# TYPE b gauge\n"
                        "b 7\n"
                        "# HELP c_total C.\n"
                        "# TYPE c_total counter\n"
                        "c_total 18446744073709551615\n");
}

static void test_prom__label_values_escaped(void **state)
{
    struct buf *b = *state;
    struct prom p;

    prom_init(&p, b);
    assert_int_equal(
        prom_u64(&p, "m",
                 (const char *const[]){"path", "a\\b", "q", "say \"hi\"",
                                       "nl", "one\ntwo", NULL},
                 3),
        0);
    assert_string_equal(b->data, "m{path=\"a\\\\b\",q=\"say \\\"hi\\\"\","
                                 "nl=\"one\\ntwo\"} 3\n");
}

static void test_prom__help_escaped(void **state)
{
    struct buf *b = *state;
    struct prom p;

    prom_init(&p, b);
    assert_int_equal(prom_family(&p, "h", PROM_GAUGE, "a\\b \"q\"\nc"), 0);
    /* HELP escapes backslash and newline only; quotes stay as they are. */
    assert_string_equal(b->data, "# HELP h a\\\\b \"q\"\\nc\n"
                                 "# TYPE h gauge\n");
}

static void test_prom__double_forms(void **state)
{
    struct buf *b = *state;
    struct prom p;

    prom_init(&p, b);
    prom_double(&p, "d", NULL, 3.0);
    prom_double(&p, "d", NULL, 0.1);
    prom_double(&p, "d", NULL, 1.0 / 3.0);
    prom_double(&p, "d", NULL, -2.5e-9);
    prom_double(&p, "d", NULL, 1.0 / 0.0);
    prom_double(&p, "d", NULL, -1.0 / 0.0);
    prom_double(&p, "d", NULL, 0.0 / 0.0);
    assert_int_equal(prom_rc(&p), 0);
    assert_string_equal(b->data, "d 3\n"
                                 "d 0.1\n"
                                 "d 0.33333333333333331\n"
                                 "d -2.5e-09\n"
                                 "d +Inf\n"
                                 "d -Inf\n"
                                 "d NaN\n");
}

static void test_prom__nomem_is_sticky(void **state)
{
    struct buf *b = *state;
    struct prom p;

    prom_init(&p, b);
    mem__fail_after(0, true);
    assert_int_equal(prom_counter(&p, "x_total", "X.", 1), ERR_NOMEM);
    mem__fail_after(-1, false);
    assert_int_equal(prom_gauge(&p, "y", "Y.", 2), ERR_NOMEM);
    assert_int_equal(prom_rc(&p), ERR_NOMEM);
    assert_int_equal(b->len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prom__header_once_per_family,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_prom__label_values_escaped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_prom__help_escaped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prom__double_forms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prom__nomem_is_sticky, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
