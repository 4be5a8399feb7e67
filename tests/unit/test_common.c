/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for common/: err, buf, hex, sha256, parse, jsonutil, cjson, mem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/ipaddr.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/sha256.h"

static void test_err__set_and_map(void **state)
{
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(err_set(&e, ERR_CONFLICT, "gen %d\nsecond", 3),
                     ERR_CONFLICT);
    assert_string_equal(e.msg, "gen 3 second"); /* one line */
    assert_string_equal(e.error_code, "");
    err_set_coded(&e, ERR_CONFLICT, "CONFIG_GENERATION", "lower");
    assert_string_equal(e.error_code, "CONFIG_GENERATION");
    assert_int_equal(err_set(NULL, ERR_IO, "x"), ERR_IO);
    assert_int_equal(err_http_status(ERR_INVAL), 400);
    assert_int_equal(err_http_status(ERR_NOTFOUND), 404);
    assert_int_equal(err_http_status(ERR_CONFLICT), 409);
    assert_int_equal(err_http_status(ERR_TOOBIG), 413);
    assert_int_equal(err_http_status(ERR_BUSY), 429);
    assert_int_equal(err_http_status(ERR_UPSTREAM), 502);
    assert_int_equal(err_http_status(ERR_UNAVAIL), 503);
    assert_int_equal(err_http_status(ERR_NOSPACE), 507);
    assert_int_equal(err_http_status(ERR_IO), 500);
    assert_string_equal(err_name(ERR_NOSPACE), "nospace");
}

static void test_buf__grow_and_take(void **state)
{
    struct buf b = BUF_INIT;
    char *s;

    (void)state;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_printf(&b, "%d,", i), 0);
    assert_true(b.len > 1000);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "0,1,2,", 6);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    s = buf_take(&b);
    assert_string_equal(s, "abc");
    assert_null(b.data);
    mem_free(s);
    buf_release(&b);
}

static void test_buf__nomem(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    mem__fail_after(0, false);
    assert_int_equal(buf_puts(&b, "abc"), ERR_NOMEM);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    buf_release(&b);
}

static void test_hex__strict(void **state)
{
    uint8_t out[4];
    size_t n = 0;
    char enc[9];

    (void)state;
    assert_int_equal(hex_decode(out, sizeof(out), &n, "00fFa1", 6), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[1], 0xff);
    hex_encode(enc, out, 3);
    assert_string_equal(enc, "00ffa1");
    assert_int_equal(hex_decode(out, sizeof(out), &n, "abc", 3), ERR_INVAL);
    assert_int_equal(hex_decode(out, sizeof(out), &n, "zz", 2), ERR_INVAL);
    assert_int_equal(hex_decode(out, sizeof(out), &n, "0011223344", 10),
                     ERR_INVAL);
}

static void test_sha256__known_vectors(void **state)
{
    struct sha256 h, h2;
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    char hex[SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(sha256_digest(&h, "abc", 3), 0);
    sha256_to_hex(hex, &h);
    assert_string_equal(
        hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(sha256_init(&ctx), 0);
    assert_int_equal(sha256_update(&ctx, "a", 1), 0);
    assert_int_equal(sha256_update(&ctx, "bc", 2), 0);
    assert_int_equal(sha256_final(&ctx, &h2), 0);
    sha256_release(&ctx);
    assert_true(sha256_eq(&h, &h2));
    assert_int_equal(sha256_from_hex(&h2, hex), 0);
    assert_true(sha256_eq(&h, &h2));
}

static void test_sha256__from_hex_rejects(void **state)
{
    struct sha256 h;
    const char *good =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    (void)state;
    assert_int_equal(sha256_from_hex(&h, good), 0);
    /* uppercase, short, long, traversal, non-hex */
    assert_int_equal(sha256_from_hex(&h, "BA7816BF8F01CFEA414140DE5DAE2223B00"
                                         "361A396177A9CB410FF61F20015AD"),
                     ERR_INVAL);
    assert_int_equal(sha256_from_hex(&h, "ba7816bf"), ERR_INVAL);
    assert_int_equal(sha256_from_hex(&h, "ba7816bf8f01cfea414140de5dae2223b00"
                                         "361a396177a9cb410ff61f20015ad00"),
                     ERR_INVAL);
    assert_int_equal(sha256_from_hex(&h, "../../../../etc/passwd"), ERR_INVAL);
    assert_int_equal(sha256_from_hex(&h, "ga7816bf8f01cfea414140de5dae2223b00"
                                         "361a396177a9cb410ff61f20015ad"),
                     ERR_INVAL);
    assert_int_equal(sha256_from_hex(&h, ""), ERR_INVAL);
}

static void test_parse__u64(void **state)
{
    uint64_t v;
    uint16_t port;
    char host[64];

    (void)state;
    assert_int_equal(parse_u64(&v, "0"), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse_u64(&v, "18446744073709551615"), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(parse_u64(&v, "18446744073709551616"), ERR_INVAL);
    assert_int_equal(parse_u64(&v, "-1"), ERR_INVAL);
    assert_int_equal(parse_u64(&v, "+1"), ERR_INVAL);
    assert_int_equal(parse_u64(&v, " 1"), ERR_INVAL);
    assert_int_equal(parse_u64(&v, "01"), ERR_INVAL);
    assert_int_equal(parse_u64(&v, "1e3"), ERR_INVAL);
    assert_int_equal(parse_u64(&v, ""), ERR_INVAL);
    assert_int_equal(parse_u64_range(&v, "70000", 0, 65535), ERR_INVAL);
    assert_int_equal(parse_hostport(host, sizeof(host), &port, "127.0.0.1:0"), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(parse_hostport(host, sizeof(host), &port, "[::1]:12345"), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 12345);
    assert_int_equal(parse_hostport(host, sizeof(host), &port, "::1:80"),
                     ERR_INVAL);
    assert_int_equal(parse_hostport(host, sizeof(host), &port, "host"), ERR_INVAL);
    assert_int_equal(parse_hostport(host, sizeof(host), &port, "h:99999"),
                     ERR_INVAL);
}

static void test_jsonutil__strict(void **state)
{
    struct err e = ERR_INIT;
    json_t *v;
    uint64_t u;

    (void)state;
    v = jsonu_loadb("{\"a\":1,\"a\":2}", 13, 100, &e);
    assert_null(v);
    assert_int_equal(e.code, ERR_INVAL);
    assert_non_null(strstr(e.msg, "duplicate"));
    v = jsonu_loadb("{\"a\":1}", 7, 3, &e);
    assert_null(v);
    assert_int_equal(e.code, ERR_TOOBIG);
    v = jsonu_loadb("[1, -1, 1.0, \"x\"]", 17, 100, &e);
    assert_non_null(v);
    assert_int_equal(jsonu_u64(&u, json_array_get(v, 0)), 0);
    assert_int_equal(u, 1);
    assert_int_equal(jsonu_u64(&u, json_array_get(v, 1)), ERR_INVAL);
    assert_int_equal(jsonu_u64(&u, json_array_get(v, 2)), ERR_INVAL);
    assert_int_equal(jsonu_u64(&u, json_array_get(v, 3)), ERR_INVAL);
    json_decref(v);
}

static void check_cjson(const char *in, const char *want)
{
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    json_t *v = jsonu_loadb(in, strlen(in), 1 << 20, &e);

    assert_non_null(v);
    assert_int_equal(cjson_encode(&b, v, &e), 0);
    assert_string_equal(b.data, want);
    buf_release(&b);
    json_decref(v);
}

static void test_cjson__canonical_form(void **state)
{
    struct err e = ERR_INIT;
    struct buf b = BUF_INIT;
    json_t *v;

    (void)state;
    /* Sorted keys, no whitespace, arrays kept in order. */
    check_cjson("{ \"b\": [3, 1, 2], \"a\": {\"z\": null, \"y\": true} }",
                "{\"a\":{\"y\":true,\"z\":null},\"b\":[3,1,2]}");
    /* tuf-js expectation: only \\ and \" escaped, newline raw. */
    check_cjson("{\"escape\":\"\\\"foo\\\"\\\\bar\\nbaz\"}",
                "{\"escape\":\"\\\"foo\\\"\\\\bar\nbaz\"}");
    /* Escapes decoded then written raw (\u00e9 as UTF-8, \/ as /). */
    check_cjson("[\"\\u00e9\\/\\t\"]", "[\"\xc3\xa9/\t\"]");
    check_cjson("{}", "{}");
    check_cjson("[]", "[]");
    check_cjson("[-5, 0, 1770243026]", "[-5,0,1770243026]");
    /* Byte order: uppercase sorts before lowercase, "a" before "ab". */
    check_cjson("{\"ab\":1,\"a\":2,\"B\":3}", "{\"B\":3,\"a\":2,\"ab\":1}");
    /* Floats are an error. */
    v = json_loads("{\"x\": 1.5}", 0, NULL);
    assert_int_equal(cjson_encode(&b, v, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "float"));
    json_decref(v);
    buf_release(&b);
}

static void test_mem__fail_after(void **state)
{
    void *a, *b, *c;

    (void)state;
    mem__fail_after(1, false);
    a = mem_alloc(8);
    b = mem_alloc(8);
    c = mem_alloc(8);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    mem_free(a);
    mem_free(c);
    mem__fail_after(0, true);
    assert_null(mem_alloc(1));
    assert_null(mem_strdup("x"));
    mem__fail_after(-1, false);
    a = mem_strdup("x");
    assert_non_null(a);
    mem_free(a);
}

static void test_mem__grow(void **state)
{
    size_t cap = 0;
    int *v = NULL, *g;

    (void)state;
    for (size_t n = 0; n < 100; n++) {
        g = mem_grow(v, &cap, n, sizeof(*v), 4);
        assert_non_null(g);
        v = g;
        v[n] = (int)n;
        assert_true(cap > n);
    }
    assert_int_equal(cap, 128);
    assert_int_equal(v[99], 99);
    /* room left: no allocation */
    mem__fail_after(0, true);
    assert_ptr_equal(mem_grow(v, &cap, 100, sizeof(*v), 4), v);
    /* full: NULL, array and capacity unchanged */
    assert_null(mem_grow(v, &cap, 128, sizeof(*v), 4));
    mem__fail_after(-1, false);
    assert_int_equal(cap, 128);
    assert_int_equal(v[99], 99);
    cap = SIZE_MAX / 2 + 1;
    assert_null(mem_grow(v, &cap, cap, sizeof(*v), 4));
    mem_free(v);
}

/* Issue 9: registrations carry IP literals and ports, nothing else. */
static void test_common__issue_9_ipaddr(void **state)
{
    static const char *bad[] = {
        "", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536",
        "10.0.0.1:080", "10.0.0.1:+80", "localhost:80", "example.com:80",
        "0x0a.0.0.1:80", "10.1:80", "10.0.0.01:80", "::1:80", "[::1]80",
        "[::1]:", "[]:80", "[fe80::1%eth0]:80", "[10.0.0.1]:80",
        ":80", "10.0.0.1:80:80", " 10.0.0.1:80",
    };
    char host[IPADDR_HOST_MAX];
    struct err e = ERR_INIT;
    uint16_t port = 0;
    bool v6 = true;

    (void)state;
    assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6,
                                           "10.0.0.7:12345", &e), 0);
    assert_string_equal(host, "10.0.0.7");
    assert_int_equal(port, 12345);
    assert_false(v6);
    assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6,
                                           "[fd00::7]:65535", &e), 0);
    assert_string_equal(host, "fd00::7");
    assert_int_equal(port, 65535);
    assert_true(v6);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6, bad[i], &e),
                         ERR_INVAL);
        assert_non_null(strstr(e.msg, "is not IP:PORT"));
    }
}

/*
 * Issue 9: a sled registered at 0.0.0.0 (or [::]) was accepted, yet every
 * peer refuses it as a copy source: the copies of artifacts only it held
 * failed on every run and the other sleds never converged.
 */
static void test_common__issue_9_unspecified_ipaddr(void **state)
{
    static const char *bad[] = {
        "0.0.0.0:80", "0.1.2.3:12345", "[::]:80", "[0::0]:80",
        "[0:0:0:0:0:0:0:0]:80",
    };
    char host[IPADDR_HOST_MAX];
    struct err e = ERR_INIT;
    uint16_t port = 0;
    bool v6 = false;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6, bad[i], &e),
                         ERR_INVAL);
        assert_non_null(strstr(e.msg, "is not IP:PORT"));
        assert_true(strstr(e.msg, "0.x.x.x") || strstr(e.msg, "[::]"));
    }
    /* their neighbours stay addresses */
    assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6, "1.0.0.0:80",
                                           &e), 0);
    assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6, "[::1]:80",
                                           &e), 0);
    assert_int_equal(ipaddr_parse_endpoint(host, &port, &v6,
                                           "[::ffff:10.0.0.1]:80", &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common__issue_9_ipaddr),
        cmocka_unit_test(test_common__issue_9_unspecified_ipaddr),
        cmocka_unit_test(test_err__set_and_map),
        cmocka_unit_test(test_buf__grow_and_take),
        cmocka_unit_test(test_buf__nomem),
        cmocka_unit_test(test_hex__strict),
        cmocka_unit_test(test_sha256__known_vectors),
        cmocka_unit_test(test_sha256__from_hex_rejects),
        cmocka_unit_test(test_parse__u64),
        cmocka_unit_test(test_jsonutil__strict),
        cmocka_unit_test(test_cjson__canonical_form),
        cmocka_unit_test(test_mem__fail_after),
        cmocka_unit_test(test_mem__grow),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
