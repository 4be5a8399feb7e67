/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of chunked request bodies on the sledagent (issue 12):
 * PUT /artifacts/{sha256} with `Transfer-Encoding: chunked` from libcurl
 * (common/httpc, as the reference controller's streamed body goes out),
 * from the curl command line fed by a pipe, and from a raw socket (tiny
 * chunks, extensions, trailers, keep-alive after the body); a wrong body,
 * bad framing (truncated, bad sizes, 17 hex digits, missing CRLFs,
 * connection closed mid-body), the decoded-size cap (413), free space
 * running out while a body of unknown length arrives (507), and the
 * smuggling shapes still refused: nothing is stored for any of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static const char *const te_chunked[] = {"Transfer-Encoding: chunked", NULL};

/* PUT data chunked (by libcurl, in pieces of `piece` bytes) to hex. */
static long put_chunked(struct agentproc *a, const char *hex, uint64_t gen,
                        const void *data, size_t len, size_t piece,
                        struct http_client_resp *resp)
{
    struct http_client_resp own = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req = {0};
    struct http_client_pieces p = {data, len, piece};
    struct err err = ERR_INIT;
    char url[256];
    long st;

    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=%llu",
             agentproc_api_url(a), hex, (unsigned long long)gen);
    req.method = "PUT";
    req.url = url;
    req.gen = http_client_pieces_gen;
    req.gen_arg = &p;
    req.content_length = len;
    req.headers = te_chunked;
    if (!resp)
        resp = &own;
    st = http_client_request(resp, &req, &err) == 0 ? resp->status : -1;
    http_client_resp_release(&own);
    return st;
}

/* Append data as chunks of `csize` bytes (odd ones with an extension),
 * then the last chunk with a trailer. */
static void chunk_encode(struct buf *b, const char *data, size_t len,
                         size_t csize)
{
    size_t off = 0;
    unsigned i = 0;

    while (off < len) {
        size_t n = len - off < csize ? len - off : csize;

        assert_int_equal(buf_printf(b, (i++ & 1) ? "%zx;ext=\"v\"\r\n"
                                                 : "%zX\r\n", n), 0);
        assert_int_equal(buf_append(b, data + off, n), 0);
        assert_int_equal(buf_puts(b, "\r\n"), 0);
        off += n;
    }
    assert_int_equal(buf_puts(b, "0\r\nX-Checksum: ignored\r\n\r\n"), 0);
}

static void chunked_head(struct buf *b, const char *hex, uint64_t gen)
{
    assert_int_equal(buf_printf(b, "PUT /artifacts/%s?generation=%llu "
                                "HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n", hex,
                                (unsigned long long)gen), 0);
}

/* Send raw bytes on a new connection (then shut our write side when
 * `eof`), read the answer; its status, 0 when closed without one. */
static int raw_exchange(struct agentproc *a, const void *data, size_t len,
                        bool eof)
{
    struct buf resp = BUF_INIT;
    int fd = -1, st;

    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(a)), 0);
    (void)http_client_raw_send(fd, data, len);
    if (eof)
        shutdown(fd, SHUT_WR);
    (void)http_client_raw_recv(&resp, fd, 15000);
    close(fd);
    st = http_client_raw_status(&resp);
    buf_release(&resp);
    return st;
}

static void test_agent_chunked__stores_on_both(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x, y;
    const char *cfg[2];
    json_t *v;

    agenttest_art_make(&x, 3u * 1024 * 1024 + 17);
    agenttest_art_make(&y, 5000);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 2), 204);
    /* Pieces of 7777 bytes: chunk boundaries fall anywhere in reads. */
    assert_int_equal(put_chunked(f->a, x.hex, 2, x.data, x.len, 7777, &r),
                     200);
    v = http_client_json(&r);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 2);
    json_decref(v);
    agenttest_assert_stored(f->a, &x);
    assert_true(agenttest_tmp_empty(f->a));
    /* One byte per chunk. */
    assert_int_equal(put_chunked(f->a, y.hex, 2, y.data, y.len, 1, NULL),
                     200);
    agenttest_assert_stored(f->a, &y);
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

/* The reference controller's client shape: curl -T - from a pipe. */
static void test_agent_chunked__curl_from_pipe(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x;
    const char *cfg[1];
    char *src = NULL, *code_path = NULL, *code = NULL, *log = NULL;
    struct buf cmd = BUF_INIT;
    size_t code_len = 0;
    int exit_code = -1;

    agenttest_art_make(&x, 2u * 1024 * 1024 + 5);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    src = testutil_join(agentproc_dir(f->a), "body");
    code_path = testutil_join(agentproc_dir(f->a), "curl_code");
    log = testutil_join(agentproc_dir(f->a), "curl.log");
    assert_int_equal(testutil_write_file(src, x.data, x.len), 0);
    assert_int_equal(buf_printf(&cmd, "cat '%s' | curl -sS -o /dev/null "
                                "-w '%%{http_code}' -H 'Transfer-Encoding: "
                                "chunked' -T - '%s/artifacts/%s?generation=1'"
                                " > '%s'", src, agentproc_api_url(f->a),
                                x.hex, code_path), 0);
    {
        char *const argv[] = {"sh", "-c", cmd.data, NULL};

        assert_int_equal(proc_run(&exit_code, "/bin/sh", argv, log, 60000),
                         0);
    }
    assert_int_equal(exit_code, 0);
    assert_int_equal(testutil_read_file(&code, &code_len, code_path), 0);
    assert_int_equal(code_len, 3);
    assert_memory_equal(code, "200", 3);
    agenttest_assert_stored(f->a, &x);
    mem_free(code);
    mem_free(log);
    mem_free(code_path);
    mem_free(src);
    buf_release(&cmd);
    agenttest_art_free(&x);
    f->passed = true;
}

/* Tiny chunks, extensions, a trailer; then the same connection serves
 * another request (keep-alive after a chunked body). */
static void test_agent_chunked__raw_keep_alive(void **state)
{
    struct agentproc_fixture *f = *state;
    struct buf b = BUF_INIT, resp = BUF_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    int fd = -1;

    agenttest_art_make(&x, 10000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    chunked_head(&b, x.hex, 1);
    chunk_encode(&b, x.data, x.len, 333);
    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->a)),
                     0);
    /* Byte by byte for the first 600 bytes: framing split everywhere. */
    for (size_t i = 0; i < 600; i++)
        assert_int_equal(http_client_raw_send(fd, b.data + i, 1), 0);
    assert_int_equal(http_client_raw_send(fd, b.data + 600, b.len - 600), 0);
    assert_int_equal(http_client_raw_recv(&resp, fd, 15000), 0);
    assert_int_equal(http_client_raw_status(&resp), 200);
    assert_non_null(strstr(resp.data, "Connection: keep-alive"));
    buf_reset(&resp);
    assert_int_equal(buf_puts(&resp, ""), 0);
    {
        static const char get[] = "GET /artifacts HTTP/1.1\r\nHost: x\r\n"
                                  "\r\n";
        struct buf r2 = BUF_INIT;

        assert_int_equal(http_client_raw_send(fd, get, sizeof(get) - 1), 0);
        assert_int_equal(http_client_raw_recv(&r2, fd, 15000), 0);
        assert_int_equal(http_client_raw_status(&r2), 200);
        assert_non_null(strstr(r2.data, x.hex));
        buf_release(&r2);
    }
    close(fd);
    agenttest_assert_stored(f->a, &x);
    buf_release(&b);
    buf_release(&resp);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_chunked__wrong_body(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x, y;
    const char *cfg[1];

    agenttest_art_make(&x, 200000);
    agenttest_art_make(&y, 200000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    /* y's bytes under x's name; then x less its last byte. */
    assert_int_equal(put_chunked(f->a, x.hex, 1, y.data, y.len, 4096, &r),
                     400);
    agenttest_assert_error_shape(&r);
    assert_int_equal(put_chunked(f->a, x.hex, 1, x.data, x.len - 1, 4096,
                                 &r), 400);
    agenttest_assert_nothing_stored(f->a, x.hex);
    assert_int_equal(put_chunked(f->a, x.hex, 1, x.data, x.len, 4096, &r),
                     200);
    agenttest_assert_stored(f->a, &x);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

static void test_agent_chunked__bad_framing(void **state)
{
    /* After the head; each is answered 400 (or closed), nothing kept. */
    static const struct { const char *body; bool eof; } bad[] = {
        {"10\r\n0123456789abcdef\r\nzz\r\n", false},          /* size */
        {"10\r\n0123456789abcdef\r\n00000000000000010\r\n", false},
        {"fffffffffffffffff\r\n", false},                     /* overflow */
        {"10\r\n0123456789abcdefXY", false},                  /* no CRLF */
        {"10\r\n0123456789abcdef\n5\r\nabcde\r\n", false},
        {"10 \r\n0123456789abcdef\r\n", false},
        {"10;a\x01\r\n0123456789abcdef\r\n", false},
        {"10\r\n0123456789abcdef\r\n0\r\nbad trailer\r\n\r\n", false},
        {"10\r\n0123456789abcdef\r\n0\r\n\rX", false},         /* final */
        {"10\r\n0123456789", true},                           /* truncated */
        {"10\r\n0123456789abcdef\r\n", true},
        {"10\r\n0123456789abcdef\r\n0\r\n", true},            /* no final */
        {"10\r\n0123456789abcdef\r\n0\r\n\r", true},
    };
    struct agentproc_fixture *f = *state;
    struct buf b = BUF_INIT;
    struct agenttest_art x;
    const char *cfg[1];

    agenttest_art_make(&x, 16);
    memcpy(x.data, "0123456789abcdef", 16);
    testutil_sha256_hex(x.hex, x.data, x.len);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int st;

        buf_reset(&b);
        chunked_head(&b, x.hex, 1);
        assert_int_equal(buf_puts(&b, bad[i].body), 0);
        st = raw_exchange(f->a, b.data, b.len, bad[i].eof);
        if (st != 400 && st != 0)
            fail_msg("case %zu: status %d, want 400 or a close", i, st);
        if (!bad[i].eof && st != 400)
            fail_msg("case %zu: closed without a 400", i);
        agenttest_assert_nothing_stored(f->a, x.hex);
    }
    /* The same artifact, framed well, is stored. */
    buf_reset(&b);
    chunked_head(&b, x.hex, 1);
    chunk_encode(&b, x.data, x.len, 5);
    assert_int_equal(raw_exchange(f->a, b.data, b.len, false), 200);
    agenttest_assert_stored(f->a, &x);
    buf_release(&b);
    agenttest_art_free(&x);
    f->passed = true;
}

/* Request smuggling shapes and chunked where no body streams. */
static void test_agent_chunked__refused_shapes(void **state)
{
    static const struct { const char *req; int status; } bad[] = {
        {"PUT /artifacts/@?generation=1 HTTP/1.1\r\nContent-Length: 5\r\n"
         "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400},
        {"PUT /artifacts/@?generation=1 HTTP/1.1\r\nTransfer-Encoding: "
         "gzip, chunked\r\n\r\n0\r\n\r\n", 400},
        {"PUT /artifacts/@?generation=1 HTTP/1.1\r\nTransfer-Encoding: "
         "chunked, chunked\r\n\r\n0\r\n\r\n", 400},
        {"PUT /artifacts/@?generation=1 HTTP/1.1\r\nTransfer-Encoding: "
         "xchunked\r\n\r\n0\r\n\r\n", 400},
        {"PUT /artifacts/@?generation=1 HTTP/1.1\r\nTransfer-Encoding: "
         "chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"PUT /artifacts/@?generation=1 HTTP/1.0\r\nTransfer-Encoding: "
         "chunked\r\n\r\n0\r\n\r\n", 400},
        {"GET /artifacts?x=@ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
         "\r\n0\r\n\r\n", 400},
        /* A JSON route does not stream: 411 (send a Content-Length). */
        {"PUT /artifacts-config?x=@ HTTP/1.1\r\nTransfer-Encoding: "
         "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 411},
    };
    struct agentproc_fixture *f = *state;
    struct agenttest_art x;
    const char *cfg[1];
    char req[512];

    agenttest_art_make(&x, 5);
    memcpy(x.data, "hello", 5);
    testutil_sha256_hex(x.hex, x.data, x.len);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *at = strchr(bad[i].req, '@');
        int n = snprintf(req, sizeof(req), "%.*s%s%s",
                         (int)(at - bad[i].req), bad[i].req, x.hex, at + 1);

        assert_true(n > 0 && (size_t)n < sizeof(req));
        assert_int_equal(raw_exchange(f->a, req, (size_t)n, false),
                         bad[i].status);
        agenttest_assert_nothing_stored(f->a, x.hex);
    }
    f->passed = true;
    agenttest_art_free(&x);
}

static const char *const args_small_cap[] = {"--max-body-bytes", "1024",
                                             NULL};

/* The cap counts decoded bytes: a declared size over it is refused at
 * once, and so is a later chunk that takes the total over it. */
static void test_agent_chunked__over_cap_413(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art big, edge;
    struct buf b = BUF_INIT;
    const char *cfg[2];

    agenttest_art_make(&big, 1025);
    agenttest_art_make(&edge, 1024);
    cfg[0] = big.hex;
    cfg[1] = edge.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(put_chunked(f->a, big.hex, 1, big.data, big.len, 1000,
                                 &r), 413);
    agenttest_assert_error_shape(&r);
    agenttest_assert_nothing_stored(f->a, big.hex);
    chunked_head(&b, big.hex, 1);
    assert_int_equal(buf_puts(&b, "401\r\n"), 0);
    assert_int_equal(raw_exchange(f->a, b.data, b.len, false), 413);
    buf_reset(&b);
    chunked_head(&b, big.hex, 1);
    assert_int_equal(buf_puts(&b, "ffffffffffffffff\r\n"), 0);
    assert_int_equal(raw_exchange(f->a, b.data, b.len, false), 413);
    agenttest_assert_nothing_stored(f->a, big.hex);
    /* Exactly the cap is fine. */
    assert_int_equal(put_chunked(f->a, edge.hex, 1, edge.data, edge.len, 100,
                                 &r), 200);
    agenttest_assert_stored(f->a, &edge);
    buf_release(&b);
    http_client_resp_release(&r);
    agenttest_art_free(&big);
    agenttest_art_free(&edge);
    f->passed = true;
}

static const char *const args_quota[] = {"--quota-bytes", "65536", NULL};

/* No length up front: space is checked as the bytes arrive (507). */
static void test_agent_chunked__space_runs_out_507(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art big, small;
    const char *cfg[2];

    agenttest_art_make(&big, 1024 * 1024);
    agenttest_art_make(&small, 1024);
    cfg[0] = big.hex;
    cfg[1] = small.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(put_chunked(f->a, big.hex, 1, big.data, big.len, 16384,
                                 &r), 507);
    agenttest_assert_error_shape(&r);
    agenttest_assert_nothing_stored(f->a, big.hex);
    assert_int_equal(put_chunked(f->a, small.hex, 1, small.data, small.len,
                                 100, &r), 200);
    agenttest_assert_stored(f->a, &small);
    http_client_resp_release(&r);
    agenttest_art_free(&big);
    agenttest_art_free(&small);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_chunked__stores_on_both),
        AGENTTEST(test_agent_chunked__curl_from_pipe),
        AGENTTEST(test_agent_chunked__raw_keep_alive),
        AGENTTEST(test_agent_chunked__wrong_body),
        AGENTTEST(test_agent_chunked__bad_framing),
        AGENTTEST(test_agent_chunked__refused_shapes),
        AGENTTEST_ARGS(test_agent_chunked__over_cap_413, args_small_cap),
        AGENTTEST_ARGS(test_agent_chunked__space_runs_out_507, args_quota),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
