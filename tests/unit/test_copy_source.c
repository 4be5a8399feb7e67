/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/copy_source (the copy-from-depot body): literal
 * IPv4 and bracketed IPv6 sources with a port are accepted, with an
 * optional source_sled_id; decimal, hex and octal address forms, names
 * (localhost), userinfo, paths, queries, bad ports, unknown keys and the
 * wrong scheme for the TLS mode are refused with ERR_INVAL (issue 9: the
 * agent must not be a port scanner; the parse runs before anything is
 * contacted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "sledagent/copy_source.h"

#define SLED "11111111-2222-4333-8444-555555555555"

static int parse(struct copy_source *out, const char *json, bool tls,
                 struct err *e)
{
    json_t *j = json_loads(json, 0, NULL);
    int rc;

    assert_non_null(j);
    *e = (struct err)ERR_INIT;
    rc = copy_source_parse(out, j, tls, e);
    json_decref(j);
    return rc;
}

static int url(const char *u, bool tls)
{
    struct copy_source s;
    struct err e;
    char body[256];

    snprintf(body, sizeof(body), "{\"depot_base_url\": \"%s\"}", u);
    return parse(&s, body, tls, &e);
}

static void test_copy_source__accepted(void **state)
{
    struct copy_source s;
    struct err e;

    (void)state;
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:"
                               "12348/\"}", false, &e), 0);
    assert_string_equal(s.base, "http://10.1.2.3:12348");
    assert_string_equal(s.sled_id, "");
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"https://[fd00::1]:1\","
                               " \"source_sled_id\": \"" SLED "\"}", true,
                           &e), 0);
    assert_string_equal(s.base, "https://[fd00::1]:1");
    assert_string_equal(s.sled_id, SLED);
    assert_int_equal(url("http://127.0.0.1:65535", false), 0);
    assert_int_equal(url("http://255.255.255.254:80", false), 0);
}

/* The artifact's length (issue 10): optional, an integer >= 0. */
static void test_copy_source__length(void **state)
{
    struct copy_source s;
    struct err e;

    (void)state;
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:1\"}",
                           false, &e), 0);
    assert_int_equal(s.length, -1);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:1\","
                               " \"length\": 8388608}", false, &e), 0);
    assert_int_equal(s.length, 8388608);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:1\","
                               " \"length\": 0}", false, &e), 0);
    assert_int_equal(s.length, 0);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:1\","
                               " \"length\": -1}", false, &e), ERR_INVAL);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:1\","
                               " \"length\": \"8\"}", false, &e), ERR_INVAL);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.1.2.3:1\","
                               " \"length\": 1.5}", false, &e), ERR_INVAL);
}

static void test_copy_source__issue_9_address_forms(void **state)
{
    static const char *const bad[] = {
        "http://2130706433:1",      /* decimal */
        "http://0x7f.1:1",          /* hex */
        "http://0x7f000001:1",
        "http://0177.0.0.1:1",      /* octal */
        "http://127.1:1",           /* short form */
        "http://127.0.0.01:1",      /* leading zero */
        "http://256.0.0.1:1",
        "http://1.2.3.4.5:1",
        "http://0.0.0.0:1",         /* this host */
        "http://[::]:1",
        "http://localhost:1",
        "http://depot.example:1",
        "http://user@127.0.0.1:1",  /* userinfo */
        "http://user:pw@127.0.0.1:1",
        "http://127.0.0.1:1/x",     /* path */
        "http://127.0.0.1:1?x",     /* query */
        "http://127.0.0.1:1#x",     /* fragment */
        "http://127.0.0.1",         /* no port */
        "http://127.0.0.1:",
        "http://127.0.0.1:0",
        "http://127.0.0.1:65536",
        "http://127.0.0.1:080",
        "http://127.0.0.1:+80",
        "http://[fe80::1%eth0]:1",  /* zone */
        "http://[::1]",
        "http://::1:80",
        "http:// 127.0.0.1:1",
        "ftp://127.0.0.1:1",
        "HTTP://127.0.0.1:1",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (url(bad[i], false) != ERR_INVAL)
            fail_msg("accepted %s", bad[i]);
    }
}

static void test_copy_source__scheme_follows_tls(void **state)
{
    struct copy_source s;
    struct err e;

    (void)state;
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://10.0.0.1:1\"}",
                           true, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "must start with https:// (TLS is on)"));
    assert_int_equal(url("https://10.0.0.1:1", false), ERR_INVAL);
}

static void test_copy_source__body_shape(void **state)
{
    struct copy_source s;
    struct err e;

    (void)state;
    assert_int_equal(parse(&s, "{}", false, &e), ERR_INVAL);
    assert_int_equal(parse(&s, "[]", false, &e), ERR_INVAL);
    assert_int_equal(parse(&s, "{\"depot_base_url\": 1}", false, &e),
                     ERR_INVAL);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://1.2.3.4:5\", "
                               "\"x\": 1}", false, &e), ERR_INVAL);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://1.2.3.4:5\", "
                               "\"source_sled_id\": 7}", false, &e),
                     ERR_INVAL);
    assert_int_equal(parse(&s, "{\"depot_base_url\": \"http://1.2.3.4:5\", "
                               "\"source_sled_id\": \"sled-1\"}", false, &e),
                     ERR_INVAL);
    assert_non_null(strstr(e.msg, "source_sled_id"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_source__accepted),
        cmocka_unit_test(test_copy_source__length),
        cmocka_unit_test(test_copy_source__issue_9_address_forms),
        cmocka_unit_test(test_copy_source__scheme_follows_tls),
        cmocka_unit_test(test_copy_source__body_shape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
