/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for common/httpd_parse.c: accepted heads and their fields, the
 * incremental scan (complete / more due / early 400 / 431), and every
 * refusal with the status and message the server answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd_parse.h"
#include "common/limits.h"

static struct httpd_head head;

static int parse_n(const char *s, size_t n, struct err *err)
{
    return httpd_parse_head(&head, s, n, err);
}

static int parse(const char *s, struct err *err)
{
    return parse_n(s, strlen(s), err);
}

static void assert_span(const char *data, struct httpd_span sp,
                        const char *want)
{
    assert_int_equal(sp.len, strlen(want));
    assert_memory_equal(data + sp.off, want, sp.len);
}

/* data[0, n) is refused with this status and message. */
static void assert_refused_n(const char *data, size_t n, int status,
                             const char *msg)
{
    struct err err = ERR_INIT;
    int rc = parse_n(data, n, &err);

    assert_true(rc < 0);
    assert_int_equal(err.code, rc);
    assert_int_equal(httpd_parse_status(rc), status);
    assert_string_equal(err.msg, msg);
}

static void assert_refused(const char *data, int status, const char *msg)
{
    assert_refused_n(data, strlen(data), status, msg);
}

/* A head of exactly n bytes: request line, X-Pad header, CRLFCRLF. */
static void make_head(struct buf *b, size_t n)
{
    static const char line[] = "GET / HTTP/1.1\r\nX-Pad: ";

    buf_reset(b);
    assert_int_equal(buf_append(b, line, sizeof(line) - 1), 0);
    while (b->len < n - 4)
        assert_int_equal(buf_append(b, "a", 1), 0);
    assert_int_equal(buf_append(b, "\r\n\r\n", 4), 0);
}

static void test_httpd_parse__get(void **state)
{
    const char *s = "GET /artifacts/x?generation=3 HTTP/1.1\r\n"
                    "Host: sled-1:12345\r\nX-Empty:\r\n"
                    "X-Trim: \t a b:c \t\r\n\r\n";
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(parse(s, &err), 0);
    assert_int_equal(head.len, strlen(s));
    assert_int_equal(head.method, HTTPD_GET);
    assert_false(head.http10);
    assert_span(s, head.method_name, "GET");
    assert_span(s, head.path, "/artifacts/x");
    assert_true(head.has_query);
    assert_span(s, head.query, "generation=3");
    assert_false(head.has_length);
    assert_int_equal(head.content_length, 0);
    assert_int_equal(head.nhdr, 3);
    assert_span(s, head.name[0], "Host");
    assert_span(s, head.value[0], "sled-1:12345");
    assert_span(s, head.name[1], "X-Empty");
    assert_span(s, head.value[1], "");
    assert_span(s, head.name[2], "X-Trim");
    assert_span(s, head.value[2], "a b:c");
}

static void test_httpd_parse__methods_and_versions(void **state)
{
    static const struct { const char *s; enum httpd_method m; } t[] = {
        {"GET", HTTPD_GET}, {"HEAD", HTTPD_HEAD}, {"PUT", HTTPD_PUT},
        {"POST", HTTPD_POST}, {"DELETE", HTTPD_DELETE},
        {"PATCH", HTTPD_OTHER}, {"GETX", HTTPD_OTHER}};
    char s[64];
    struct err err = ERR_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        snprintf(s, sizeof(s), "%s /? HTTP/1.0\r\n\r\n", t[i].s);
        assert_int_equal(parse(s, &err), 0);
        assert_int_equal(head.method, t[i].m);
        assert_span(s, head.method_name, t[i].s);
        assert_true(head.http10);
        assert_span(s, head.path, "/");
        assert_true(head.has_query);
        assert_span(s, head.query, "");
        assert_int_equal(head.nhdr, 0);
    }
}

static void test_httpd_parse__content_length(void **state)
{
    const char *s = "PUT /a HTTP/1.1\r\ncontent-LENGTH:  18446744073709551615 "
                    "\r\n\r\n";
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(parse(s, &err), 0);
    assert_true(head.has_length);
    assert_true(head.content_length == UINT64_MAX);
    assert_int_equal(parse("PUT /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                           &err), 0);
    assert_true(head.has_length);
    assert_int_equal(head.content_length, 0);
}

static void test_httpd_parse__max_headers(void **state)
{
    struct buf b = BUF_INIT;
    struct err err = ERR_INIT;

    (void)state;
    buf_printf(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTPD_MAX_HEADERS; i++)
        buf_printf(&b, "H%d: v\r\n", i);
    buf_printf(&b, "\r\n");
    assert_int_equal(parse_n(b.data, b.len, &err), 0);
    assert_int_equal(head.nhdr, HTTPD_MAX_HEADERS);
    b.len -= 2;
    buf_printf(&b, "One-More: v\r\n\r\n");
    assert_refused_n(b.data, b.len, 400, "bad or too many header lines");
    buf_release(&b);
}

static void test_httpd_parse__scan(void **state)
{
    const char *s = "PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    size_t n = 1;
    struct err err = ERR_INIT;

    (void)state;
    assert_int_equal(httpd_parse_scan(&n, s, 0, &err), 0);
    assert_int_equal(n, 0);
    /* Every prefix before the end of the head: more bytes are due. */
    for (size_t i = 1; i < strlen(s) - 3; i++) {
        assert_int_equal(httpd_parse_scan(&n, s, i, &err), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(httpd_parse_scan(&n, s, strlen(s), &err), 0);
    assert_int_equal(n, strlen(s) - 3);
    assert_int_equal(err.code, 0);
}

static void test_httpd_parse__scan_early_400(void **state)
{
    static const char *bad[] = {
        "\r\n", "\n", "get / HTTP/1.1\r\n", "GET / HTTP/1.1\n",
        "GET  / HTTP/1.1\r\n", "GET / HTTP/1.1 \r\n", "GET x HTTP/1.1\r\n",
        "GET http://h/ HTTP/1.1\r\n", "GET * HTTP/1.1\r\n",
        "GET / HTTP/2.0\r\n", "GET / HTTP/1.10\r\n", " / HTTP/1.1\r\n",
        "GET /\r\n", "G3T / HTTP/1.1\r\n", "GET\t/ HTTP/1.1\r\n"};
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = ERR_INIT;
        int rc = httpd_parse_scan(&n, bad[i], strlen(bad[i]), &err);

        assert_int_equal(rc, ERR_INVAL);
        assert_int_equal(httpd_parse_status(rc), 400);
        assert_string_equal(err.msg, "malformed request line");
        assert_int_equal(n, 0);
        /* The same refusal from the whole-head parser. */
        assert_refused(bad[i], 400, "malformed request line");
    }
    /* Not in yet: no verdict. */
    assert_int_equal(httpd_parse_scan(&n, "get / HTTP/1.1", 14, NULL), 0);
}

static void test_httpd_parse__head_limit_431(void **state)
{
    struct buf b = BUF_INIT;
    struct err err = ERR_INIT;
    size_t n;
    int rc;

    (void)state;
    make_head(&b, LIMIT_HTTP_HEADERS);
    assert_int_equal(httpd_parse_scan(&n, b.data, b.len, &err), 0);
    assert_int_equal(n, LIMIT_HTTP_HEADERS);
    assert_int_equal(parse_n(b.data, b.len, &err), 0);
    make_head(&b, LIMIT_HTTP_HEADERS + 1);
    rc = httpd_parse_scan(&n, b.data, b.len, &err);
    assert_int_equal(rc, ERR_LIMIT);
    assert_int_equal(httpd_parse_status(rc), 431);
    assert_string_equal(err.msg, "request head over the 16 KiB limit");
    assert_refused_n(b.data, b.len, 431, "request head over the 16 KiB limit");
    /* No end yet: 431 only once more than the limit arrived. */
    assert_int_equal(httpd_parse_scan(&n, b.data, LIMIT_HTTP_HEADERS, &err),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(httpd_parse_scan(&n, b.data, LIMIT_HTTP_HEADERS + 1,
                                      &err), ERR_LIMIT);
    /* Over the limit beats a malformed first line. */
    b.data[0] = 'g';
    assert_int_equal(httpd_parse_scan(&n, b.data, b.len, &err), ERR_LIMIT);
    buf_release(&b);
}

static void test_httpd_parse__nul(void **state)
{
    static const char s[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";

    (void)state;
    assert_refused_n(s, sizeof(s) - 1, 400, "NUL byte in the request head");
    assert_refused_n("GET /\0 HTTP/1.1\r\n\r\n", 19, 400,
                     "NUL byte in the request head");
    assert_int_equal(head.method, 0);
}

static void test_httpd_parse__bare_cr_lf(void **state)
{
    (void)state;
    assert_refused("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400,
                   "bare CR or LF in a header line");
    assert_refused("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n", 400,
                   "bare CR or LF in a header line");
    assert_refused("GET / HTTP/1.1\r\nX: a\r\r\n\r\n", 400,
                   "bare CR or LF in a header line");
    assert_refused("GET / HTTP/1.1\r\n\nX: a\r\n\r\n", 400,
                   "bare CR or LF in a header line");
    /* In the request line (the scan lets a CR inside it through). */
    assert_refused("GET /a\rb HTTP/1.1\r\n\r\n", 400, "bad request line");
    assert_refused("GET /a\tb HTTP/1.1\r\n\r\n", 400, "bad request line");
    assert_int_equal(head.method, 0);
}

static void test_httpd_parse__header_shape(void **state)
{
    (void)state;
    assert_refused("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400,
                   "bad or too many header lines");
    assert_refused("GET / HTTP/1.1\r\n: x\r\n\r\n", 400,
                   "bad or too many header lines");
    assert_refused("GET / HTTP/1.1\r\nX Y: z\r\n\r\n", 400,
                   "bad header name");
    assert_refused("GET / HTTP/1.1\r\nX : z\r\n\r\n", 400,
                   "bad header name");
    assert_refused("GET / HTTP/1.1\r\nX\t: z\r\n\r\n", 400,
                   "bad header name");
}

static void test_httpd_parse__obs_fold(void **state)
{
    (void)state;
    assert_refused("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400,
                   "bad or too many header lines");
    assert_refused("GET / HTTP/1.1\r\nX: a\r\n\tY: b\r\n\r\n", 400,
                   "bad header name");
    assert_refused("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400,
                   "bad header name");
}

static void test_httpd_parse__transfer_encoding(void **state)
{
    static const char coding[] = "unsupported Transfer-Encoding: only a "
                                 "single \"chunked\" is accepted";
    static const char *bad[] = {
        "", "gzip", "identity", "gzip, chunked", "chunked, chunked",
        "xchunked", "chunkedx", "chunked;q=1", "chunked,", "\"chunked\""};
    struct err err = ERR_INIT;
    char s[160];

    (void)state;
    /* Exactly one chunked (any case, trimmed) on PUT and POST. */
    assert_int_equal(parse("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked"
                           "\r\n\r\n", &err), 0);
    assert_true(head.chunked);
    assert_false(head.has_length);
    assert_int_equal(parse("POST / HTTP/1.1\r\ntransfer-encoding:  Chunked "
                           "\r\n\r\n", &err), 0);
    assert_true(head.chunked);
    assert_int_equal(parse("PUT / HTTP/1.1\r\nContent-Length: 1\r\n\r\n",
                           &err), 0);
    assert_false(head.chunked);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(s, sizeof(s), "PUT / HTTP/1.1\r\nTransfer-Encoding: %s"
                 "\r\n\r\n", bad[i]);
        assert_refused(s, 400, coding);
    }
    /* Two headers, even both chunked. */
    assert_refused("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n", 400, coding);
    /* With a Content-Length (also a bad one): refused either way round. */
    assert_refused("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n", 400,
                   "Transfer-Encoding together with Content-Length");
    assert_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                   "Content-Length: x\r\n\r\n", 400,
                   "Transfer-Encoding together with Content-Length");
    assert_refused("POST / HTTP/1.1\r\nContent-Length: x\r\n"
                   "TRANSFER-ENCODING: identity\r\n\r\n", 400, coding);
    assert_refused("PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                   400, "Transfer-Encoding in an HTTP/1.0 request");
    /* Methods without a body. */
    assert_refused("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                   400, "chunked bodies are accepted on PUT and POST only");
    assert_refused("HEAD / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                   400, "chunked bodies are accepted on PUT and POST only");
    assert_refused("DELETE / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                   "\r\n", 400,
                   "chunked bodies are accepted on PUT and POST only");
}

static void test_httpd_parse__bad_content_length(void **state)
{
    static const char *bad[] = {
        "x", "", "-1", "+1", "01", "1 2", "1,1", "0x10",
        "18446744073709551616", "99999999999999999999999"};
    char s[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(s, sizeof(s), "PUT / HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
                 bad[i]);
        assert_refused(s, 400, "bad Content-Length");
    }
}

static void test_httpd_parse__duplicate_content_length(void **state)
{
    (void)state;
    assert_refused("PUT / HTTP/1.1\r\nContent-Length: 5\r\n"
                   "content-length: 5\r\n\r\n", 400, "bad Content-Length");
    assert_refused("PUT / HTTP/1.1\r\nContent-Length: 0\r\n"
                   "Content-Length: 27\r\n\r\n", 400, "bad Content-Length");
}

static void test_httpd_parse__request_line(void **state)
{
    struct err err = ERR_INIT;

    (void)state;
    assert_refused("GET / x HTTP/1.1\r\n\r\n", 400, "malformed request line");
    assert_refused("GET / HTTP/1.1\r\n", 400, "not exactly one request head");
    assert_refused("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400,
                   "not exactly one request head");
    assert_refused("", 400, "not exactly one request head");
    /* A refusal in the headers keeps the request line (a HEAD gets no
     * reply body). */
    assert_int_equal(parse("HEAD /p?q HTTP/1.1\r\nA: 1\r\nbad\r\n\r\n", &err),
                     ERR_INVAL);
    assert_int_equal(head.method, HTTPD_HEAD);
    assert_int_equal(head.nhdr, 1);
}

#define SMUGGLED "GET /smuggled HTTP/1.1\r\n\r\n"

/* Fuzz finding 1: a NUL ended a C-string parser's head, so the body was
 * read as a second request. */
static void test_httpd_parse__smuggle_nul(void **state)
{
    static const char s[] = "PUT / HTTP/1.1\r\nX: a\0b\r\nContent-Length: 5"
                            "\r\n\r\n" SMUGGLED;
    size_t n;

    (void)state;
    assert_int_equal(httpd_parse_scan(&n, s, sizeof(s) - 1, NULL), 0);
    assert_int_equal(n, sizeof(s) - sizeof(SMUGGLED));
    assert_refused_n(s, n, 400, "NUL byte in the request head");
}

/* Fuzz finding 2: two Content-Length values, the first won. */
static void test_httpd_parse__smuggle_duplicate_content_length(void **state)
{
    static const char s[] = "PUT / HTTP/1.1\r\nContent-Length: 0\r\n"
                            "Content-Length: 27\r\n\r\n"
                            SMUGGLED;
    size_t n;

    (void)state;
    assert_int_equal(httpd_parse_scan(&n, s, sizeof(s) - 1, NULL), 0);
    assert_int_equal(n, sizeof(s) - sizeof(SMUGGLED));
    assert_refused_n(s, n, 400, "bad Content-Length");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpd_parse__get),
        cmocka_unit_test(test_httpd_parse__methods_and_versions),
        cmocka_unit_test(test_httpd_parse__content_length),
        cmocka_unit_test(test_httpd_parse__max_headers),
        cmocka_unit_test(test_httpd_parse__scan),
        cmocka_unit_test(test_httpd_parse__scan_early_400),
        cmocka_unit_test(test_httpd_parse__head_limit_431),
        cmocka_unit_test(test_httpd_parse__nul),
        cmocka_unit_test(test_httpd_parse__bare_cr_lf),
        cmocka_unit_test(test_httpd_parse__header_shape),
        cmocka_unit_test(test_httpd_parse__obs_fold),
        cmocka_unit_test(test_httpd_parse__transfer_encoding),
        cmocka_unit_test(test_httpd_parse__bad_content_length),
        cmocka_unit_test(test_httpd_parse__duplicate_content_length),
        cmocka_unit_test(test_httpd_parse__request_line),
        cmocka_unit_test(test_httpd_parse__smuggle_nul),
        cmocka_unit_test(test_httpd_parse__smuggle_duplicate_content_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
