/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for common/httpd_chunked.c: good bodies (extensions,
 * trailers, bytes of the next request after the end), every refusal with
 * its code and message, bodies that are merely truncated (more due), the
 * cap on the decoded size, and every case again split at every byte
 * boundary and fed one byte at a time, with the same outcome.
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
#include "common/httpd_chunked.h"
#include "common/httpd_parse.h"
#include "common/limits.h"

#define CAP 1000

/* The outcome of decoding an input. */
struct outcome {
    int rc;
    size_t used;        /* input bytes consumed */
    char body[CAP + 1]; /* decoded bytes */
    size_t blen;
    char msg[ERR_MSG_MAX];
};

/* Feed data[0, n) to d as one piece (calling until it is consumed or the
 * decoder stops); append to o. */
static void feed(struct httpd_chunked *d, struct outcome *o, const char *data,
                 size_t n)
{
    struct httpd_chunked_step st;
    struct err err = ERR_INIT;
    size_t off = 0;

    while (o->rc == 0 && off < n) {
        o->rc = httpd_chunked_decode(d, &st, data + off, n - off, &err);
        if (o->rc < 0) {
            snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
            assert_int_equal(err.code, o->rc);
            assert_int_equal(st.used, 0);
            return;
        }
        assert_true(st.data_len <= st.used && st.used <= n - off);
        assert_true(o->blen + st.data_len <= CAP);
        memcpy(o->body + o->blen, data + off + st.used - st.data_len,
               st.data_len);
        o->blen += st.data_len;
        off += st.used;
        o->used += st.used;
        if (o->rc == 0)
            assert_true(st.used > 0);
    }
}

/* Decode data[0, n) with the cap split at every boundary k (and byte by
 * byte): every way gives the outcome of the whole input, into *out. */
static void decode_all_ways(struct outcome *out, const char *data, size_t n,
                            uint64_t cap)
{
    static struct outcome o;
    struct httpd_chunked d;

    memset(out, 0, sizeof(*out));
    httpd_chunked_init(&d, cap);
    feed(&d, out, data, n);
    assert_int_equal(httpd_chunked_done(&d), out->rc == 1);
    assert_int_equal(httpd_chunked_total(&d), out->blen);
    for (size_t k = 0; k <= n; k++) {
        memset(&o, 0, sizeof(o));
        httpd_chunked_init(&d, cap);
        feed(&d, &o, data, k);
        feed(&d, &o, data + k, n - k);
        assert_int_equal(o.rc, out->rc);
        if (o.rc >= 0) /* a refusal consumes nothing of its last call */
            assert_int_equal(o.used, out->used);
        assert_int_equal(o.blen, out->blen);
        assert_memory_equal(o.body, out->body, o.blen);
        assert_string_equal(o.msg, out->msg);
    }
    memset(&o, 0, sizeof(o));
    httpd_chunked_init(&d, cap);
    for (size_t i = 0; i < n; i++)
        feed(&d, &o, data + i, 1);
    assert_int_equal(o.rc, out->rc);
    assert_int_equal(o.blen, out->blen);
    assert_memory_equal(o.body, out->body, o.blen);
    assert_string_equal(o.msg, out->msg);
}

static void assert_body_n(const char *data, size_t n, const char *want,
                          size_t wlen, size_t used)
{
    struct outcome o;

    decode_all_ways(&o, data, n, CAP);
    assert_int_equal(o.rc, 1);
    assert_int_equal(o.used, used);
    assert_int_equal(o.blen, wlen);
    assert_memory_equal(o.body, want, o.blen);
}

/* data is a complete body decoding to want, consumed whole. */
static void assert_body(const char *data, const char *want)
{
    assert_body_n(data, strlen(data), want, strlen(want), strlen(data));
}

static void assert_refused_cap(const char *data, size_t n, uint64_t cap,
                               int rc, const char *msg)
{
    struct outcome o;

    decode_all_ways(&o, data, n, cap);
    assert_int_equal(o.rc, rc);
    assert_string_equal(o.msg, msg);
}

static void assert_refused(const char *data, int rc, const char *msg)
{
    assert_refused_cap(data, strlen(data), CAP, rc, msg);
}

/* data is a good prefix of a body: more is due, nothing refused. */
static void assert_more_due(const char *data, const char *want)
{
    struct outcome o;

    decode_all_ways(&o, data, strlen(data), CAP);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.used, strlen(data));
    assert_int_equal(o.blen, strlen(want));
    assert_memory_equal(o.body, want, o.blen);
}

static void test_httpd_chunked__good(void **state)
{
    (void)state;
    assert_body("0\r\n\r\n", "");
    assert_body("5\r\nhello\r\n0\r\n\r\n", "hello");
    assert_body("5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n",
                "hello world!");
    assert_body("a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
                "0123456789abcdefghij");
    assert_body("0000000000000003\r\nabc\r\n0000000000000000\r\n\r\n",
                "abc");
    /* Chunk data is opaque: CR, LF, NUL and framing-like bytes. */
    assert_body_n("4\r\n\r\n\0\n\r\n0\r\n\r\n", 14, "\r\n\0\n", 4, 14);
    assert_body("3\r\n0\r\n\r\n0\r\n\r\n", "0\r\n");
}

static void test_httpd_chunked__extensions(void **state)
{
    (void)state;
    assert_body("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello");
    assert_body("5 ;a\r\nhello\r\n0\t; b=\"q;\\\" \"\r\n\r\n", "hello");
    assert_body("5;\xe9t\xe9\r\nhello\r\n0\r\n\r\n", "hello");
    assert_refused("5;a\x01\r\nhello\r\n0\r\n\r\n", ERR_INVAL,
                   "bad chunk extension");
    assert_refused("5;a\nhello\r\n0\r\n\r\n", ERR_INVAL,
                   "bad chunk extension");
    assert_refused("5;a\x7f\r\nhello\r\n0\r\n\r\n", ERR_INVAL,
                   "bad chunk extension");
}

static void test_httpd_chunked__trailers(void **state)
{
    (void)state;
    assert_body("5\r\nhello\r\n0\r\nX-Sum: abc\r\nY:\r\nz: a b \t\r\n\r\n",
                "hello");
    assert_refused("0\r\n: x\r\n\r\n", ERR_INVAL, "bad trailer line");
    assert_refused("0\r\nX y: z\r\n\r\n", ERR_INVAL, "bad trailer line");
    assert_refused("0\r\n X: z\r\n\r\n", ERR_INVAL, "bad trailer line");
    assert_refused("0\r\nXz\r\n\r\n", ERR_INVAL, "bad trailer line");
    assert_refused("0\r\nX: a\nb\r\n\r\n", ERR_INVAL, "bad trailer line");
    assert_refused("0\r\nX: a\rb\r\n\r\n", ERR_INVAL,
                   "bare CR in a trailer line");
    assert_refused_cap("0\r\nX: a\0\r\n\r\n", 12, CAP, ERR_INVAL,
                       "bad trailer line");
    assert_refused("0\r\n\rX", ERR_INVAL, "chunked body not ended by CRLF");
    assert_refused("0\r\n\n", ERR_INVAL, "bad trailer line");
}

static void test_httpd_chunked__trailer_limits(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    assert_int_equal(buf_printf(&b, "%s", "0\r\n"), 0);
    for (unsigned i = 0; i < HTTPD_MAX_HEADERS; i++)
        assert_int_equal(buf_printf(&b, "T%u: v\r\n", i), 0);
    assert_int_equal(buf_printf(&b, "%s", "\r\n"), 0);
    assert_body_n(b.data, b.len, "", 0, b.len);
    /* One more line than a head may have. */
    b.len -= 2;
    assert_int_equal(buf_printf(&b, "%s", "T: v\r\n\r\n"), 0);
    assert_refused_cap(b.data, b.len, CAP, ERR_LIMIT,
                       "too many chunked trailers");
    /* Bytes: one trailer over LIMIT_HTTP_HEADERS. */
    b.len = 0;
    assert_int_equal(buf_printf(&b, "%s", "0\r\nX: "), 0);
    for (unsigned i = 0; i < LIMIT_HTTP_HEADERS; i++)
        assert_int_equal(buf_append(&b, "v", 1), 0);
    assert_int_equal(buf_printf(&b, "%s", "\r\n\r\n"), 0);
    {
        /* every split of 16 KiB is slow: only the whole and bytewise */
        struct httpd_chunked d;
        struct outcome o;

        memset(&o, 0, sizeof(o));
        httpd_chunked_init(&d, CAP);
        feed(&d, &o, b.data, b.len);
        assert_int_equal(o.rc, ERR_LIMIT);
        assert_string_equal(o.msg, "chunked trailers over the limit");
        memset(&o, 0, sizeof(o));
        httpd_chunked_init(&d, CAP);
        for (size_t i = 0; i < b.len && o.rc == 0; i++)
            feed(&d, &o, b.data + i, 1);
        assert_int_equal(o.rc, ERR_LIMIT);
    }
    buf_release(&b);
}

static void test_httpd_chunked__bad_size(void **state)
{
    static const char *bad[] = {
        "\r\n\r\n", "x\r\n", "-5\r\nhello\r\n", "+5\r\nhello\r\n",
        "0x5\r\nhello\r\n", "5 \r\nhello\r\n", "5 x\r\n", "5\nhello\r\n",
        " 5\r\nhello\r\n", "5\r\r\n", ";5\r\n", "g\r\n"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct outcome o;

        decode_all_ways(&o, bad[i], strlen(bad[i]), CAP);
        assert_int_equal(o.rc, ERR_INVAL);
        assert_int_equal(o.blen, 0);
    }
    assert_refused("5 \r\n", ERR_INVAL, "bad chunk size");
    assert_refused("5\r\r\n", ERR_INVAL,
                   "chunk size line not ended by CRLF");
}

static void test_httpd_chunked__overflow(void **state)
{
    char msg[80];

    (void)state;
    /* 17 hex digits, even when the value would fit. */
    assert_refused("00000000000000005\r\nhello\r\n0\r\n\r\n", ERR_INVAL,
                   "chunk size overflow");
    assert_refused("10000000000000000\r\n", ERR_INVAL, "chunk size overflow");
    assert_refused("fffffffffffffffffffffffffffffffff\r\n", ERR_INVAL,
                   "chunk size overflow");
    /* 16 digits: a u64, over any cap, refused before any data. */
    snprintf(msg, sizeof(msg), "chunked body over the %u-byte cap", CAP);
    assert_refused("FFFFFFFFFFFFFFFF\r\nab", ERR_TOOBIG, msg);
    assert_refused("3E9\r\n", ERR_TOOBIG, msg);
}

static void test_httpd_chunked__cap(void **state)
{
    struct outcome o;

    (void)state;
    /* Exactly the cap is fine; one byte more in a later chunk is not. */
    decode_all_ways(&o, "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 22, 5);
    assert_int_equal(o.rc, 1);
    assert_int_equal(o.blen, 5);
    decode_all_ways(&o, "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 23, 5);
    assert_int_equal(o.rc, ERR_TOOBIG);
    assert_string_equal(o.msg, "chunked body over the 5-byte cap");
    assert_int_equal(o.blen, 3); /* the first chunk went through */
    decode_all_ways(&o, "0\r\n\r\n", 5, 0);
    assert_int_equal(o.rc, 1);
    decode_all_ways(&o, "1\r\na", 4, 0);
    assert_int_equal(o.rc, ERR_TOOBIG);
}

static void test_httpd_chunked__data_crlf(void **state)
{
    (void)state;
    assert_refused("5\r\nhelloX\r\n0\r\n\r\n", ERR_INVAL,
                   "chunk data not followed by CRLF");
    assert_refused("5\r\nhello\n0\r\n\r\n", ERR_INVAL,
                   "chunk data not followed by CRLF");
    assert_refused("5\r\nhello\r0\r\n\r\n", ERR_INVAL,
                   "chunk data not followed by CRLF");
    /* A chunk longer than its size is the same refusal. */
    assert_refused("3\r\nhello\r\n0\r\n\r\n", ERR_INVAL,
                   "chunk data not followed by CRLF");
}

static void test_httpd_chunked__truncated(void **state)
{
    (void)state;
    /* Every good prefix is "more due" (the server then answers 400 or
     * closes when the connection ends or times out). */
    assert_more_due("", "");
    assert_more_due("5", "");
    assert_more_due("5;ext", "");
    assert_more_due("5\r", "");
    assert_more_due("5\r\nhel", "hel");
    assert_more_due("5\r\nhello", "hello");
    assert_more_due("5\r\nhello\r\n", "hello");
    assert_more_due("5\r\nhello\r\n0\r\n", "hello");
    assert_more_due("5\r\nhello\r\n0\r\nX: y\r\n", "hello");
    assert_more_due("5\r\nhello\r\n0\r\n\r", "hello");
}

static void test_httpd_chunked__after_the_end(void **state)
{
    static const char in[] = "2\r\nab\r\n0\r\n\r\nPUT / HTTP/1.1\r\n";
    struct httpd_chunked d;
    struct httpd_chunked_step st;
    struct err err = ERR_INIT;

    (void)state;
    /* The next request's bytes are not consumed. */
    assert_body_n(in, strlen(in), "ab", 2, 12);
    /* Once done, nothing more is consumed. */
    httpd_chunked_init(&d, CAP);
    assert_int_equal(httpd_chunked_decode(&d, &st, "0\r\n\r\n", 5, &err), 1);
    assert_int_equal(httpd_chunked_decode(&d, &st, "0\r\n\r\n", 5, &err), 1);
    assert_int_equal(st.used, 0);
    assert_int_equal(st.data_len, 0);
    /* Once refused, every call refuses again and consumes nothing. */
    httpd_chunked_init(&d, CAP);
    assert_int_equal(httpd_chunked_decode(&d, &st, "z", 1, &err), ERR_INVAL);
    assert_int_equal(httpd_chunked_decode(&d, &st, "0\r\n\r\n", 5, &err),
                     ERR_INVAL);
    assert_int_equal(st.used, 0);
    assert_false(httpd_chunked_done(&d));
}

static void test_httpd_chunked__line_limit(void **state)
{
    struct buf b = BUF_INIT;
    struct httpd_chunked d;
    struct outcome o;

    (void)state;
    assert_int_equal(buf_printf(&b, "%s", "5;"), 0);
    for (unsigned i = 2; i < LIMIT_HTTP_CHUNK_LINE - 2; i++)
        assert_int_equal(buf_append(&b, "e", 1), 0);
    assert_int_equal(buf_printf(&b, "%s", "\r\nhello\r\n0\r\n\r\n"), 0);
    memset(&o, 0, sizeof(o));
    httpd_chunked_init(&d, CAP);
    feed(&d, &o, b.data, b.len);
    assert_int_equal(o.rc, 1);
    /* One extension byte more. */
    b.len = 0;
    assert_int_equal(buf_printf(&b, "%s", "5;"), 0);
    for (unsigned i = 2; i < LIMIT_HTTP_CHUNK_LINE - 1; i++)
        assert_int_equal(buf_append(&b, "e", 1), 0);
    assert_int_equal(buf_printf(&b, "%s", "\r\nhello\r\n0\r\n\r\n"), 0);
    memset(&o, 0, sizeof(o));
    httpd_chunked_init(&d, CAP);
    feed(&d, &o, b.data, b.len);
    assert_int_equal(o.rc, ERR_LIMIT);
    assert_string_equal(o.msg, "chunk-size line over the limit");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpd_chunked__good),
        cmocka_unit_test(test_httpd_chunked__extensions),
        cmocka_unit_test(test_httpd_chunked__trailers),
        cmocka_unit_test(test_httpd_chunked__trailer_limits),
        cmocka_unit_test(test_httpd_chunked__bad_size),
        cmocka_unit_test(test_httpd_chunked__overflow),
        cmocka_unit_test(test_httpd_chunked__cap),
        cmocka_unit_test(test_httpd_chunked__data_crlf),
        cmocka_unit_test(test_httpd_chunked__truncated),
        cmocka_unit_test(test_httpd_chunked__after_the_end),
        cmocka_unit_test(test_httpd_chunked__line_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
