/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_watch: `replicator activate --watch` (issue 15 item 6) on a
 * 3-sled rack with a 4 MiB/s link per sled. Right after an upload it
 * prints per-repo progress lines (copies held / wanted, bytes held /
 * wanted, rate) and stops at convergence with exit 0, the last line
 * holding every copy (4 artifacts x 3 sleds); --json gives the same as
 * one document; with a sled stopped it gives up at --timeout with exit 1
 * ("timeout", not converged); the status document carries the progress
 * fields; bad flag combinations are usage errors (2).
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
#include "sim/rack_pki.h"
#include "tests/e2e/e2e_util.h"

#define MIB (1u << 20)
#define NART 4
#define NSLEDS 3

static json_int_t ival(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* The last "1.0.0  copies H/W  B/B ..." line of out: H and W. */
static int last_progress(const char *out, long *held, long *wanted)
{
    const char *p = out, *last = NULL;
    int n = 0;

    while ((p = strstr(p, "] 1.0.0 "))) {
        last = p;
        n++;
        p++;
    }
    if (!last)
        return 0;
    last = strstr(last, "copies ");
    assert_non_null(last);
    assert_int_equal(sscanf(last, "copies %ld/%ld", held, wanted), 2);
    return n;
}

static void test_e2e_watch__progress_until_converged(void **state)
{
    struct e2e *t = *state;
    char url[128], *zip, *out = NULL;
    json_t *doc, *r, *st;
    long held = -1, wanted = -1;
    int code, lines;

    e2e_up(t, NSLEDS, 1, "--rate-limit", "4194304", (char *)NULL);
    zip = e2e_mkrepo(t, "repo1.zip", "1.0.0", NART, 2 * MIB, 7);
    doc = e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL);
    json_decref(doc);

    /* Human: progress lines, then "converged after". */
    e2e_repl_url(url, sizeof(url), t, 0);
    rack_pki_cli_env(&t->r, true);
    code = e2e_runv(t, &out, 240000, t->repl, "--url", url, "activate",
                    "--watch", "--timeout", "180", "--interval", "0.5",
                    (char *)NULL);
    rack_pki_cli_env(&t->r, false);
    printf("# activate --watch:\n%s", out);
    assert_int_equal(code, 0);
    lines = last_progress(out, &held, &wanted);
    assert_true(lines >= 1);
    assert_int_equal(wanted, NART * NSLEDS);
    assert_int_equal(held, wanted);
    assert_non_null(strstr(out, "  24.0 MiB/24.0 MiB  "));
    assert_non_null(strstr(out, "converged after "));
    mem_free(out);

    /* --json: one document, the same numbers. */
    code = e2e_repl(t, 0, &doc, "activate", "--watch", "--timeout", "60",
                    (char *)NULL);
    assert_int_equal(code, 0);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(doc, "converged")));
    assert_string_equal(json_string_value(json_object_get(doc, "reason")),
                        "converged");
    assert_true(ival(doc, "runs") >= 1);
    r = json_array_get(json_object_get(doc, "repos"), 0);
    assert_non_null(r);
    assert_int_equal(ival(r, "copies_wanted"), NART * NSLEDS);
    assert_int_equal(ival(r, "copies_held"), NART * NSLEDS);
    assert_int_equal(ival(r, "bytes_wanted"), (json_int_t)NART * NSLEDS * 2 *
                                                  MIB);
    assert_int_equal(ival(r, "bytes_held"), ival(r, "bytes_wanted"));
    json_decref(doc);

    /* The status document carries the same fields. */
    st = e2e_task(t, 0);
    r = json_array_get(json_object_get(st, "repos"), 0);
    assert_int_equal(ival(r, "copies_held"), NART * NSLEDS);
    assert_int_equal(ival(r, "bytes_held"), (json_int_t)NART * NSLEDS * 2 *
                                                MIB);
    json_decref(st);
    mem_free(zip);
}

static void test_e2e_watch__gives_up_at_timeout(void **state)
{
    struct e2e *t = *state;
    json_t *doc = NULL;
    char *zip;
    int code;

    e2e_up(t, NSLEDS, 1, (char *)NULL);
    zip = e2e_mkrepo(t, "repo1.zip", "1.0.0", 2, MIB, 8);
    doc = e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL);
    json_decref(doc);
    e2e_sim(t, NULL, "stop", "2", (char *)NULL);
    code = e2e_repl(t, 0, &doc, "activate", "--watch", "--timeout", "3",
                    "--interval", "0.5", (char *)NULL);
    assert_int_equal(code, 1);
    assert_non_null(doc);
    assert_false(json_is_true(json_object_get(doc, "converged")));
    assert_string_equal(json_string_value(json_object_get(doc, "reason")),
                        "timeout");
    assert_true(ival(doc, "runs") >= 1);
    json_decref(doc);
    /* Usage errors: exit 2, nothing run. */
    assert_int_equal(e2e_repl(t, 0, NULL, "activate", "--watch", "--no-wait",
                              (char *)NULL), 2);
    assert_int_equal(e2e_repl(t, 0, NULL, "activate", "--timeout", "5",
                              (char *)NULL), 2);
    assert_int_equal(e2e_repl(t, 0, NULL, "activate", "--watch",
                              "--interval", "0", (char *)NULL), 2);
    mem_free(zip);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-watch");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_watch__progress_until_converged, setup, e2e_teardown),
        cmocka_unit_test_setup_teardown(
            test_e2e_watch__gives_up_at_timeout, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
