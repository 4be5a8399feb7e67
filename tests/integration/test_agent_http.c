/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of the sledagent's HTTP edges over raw sockets: a PUT
 * rejected at header time (409) while the client keeps sending its 50 MiB
 * body still gets the whole JSON reply (lingering close); a head over
 * 16 KiB gets 431 and a malformed request line 400, both JSON, before the
 * close; sledagent_depot_bytes_total counts bytes actually sent (a client
 * reading part of a file then closing does not count the whole file);
 * API versions by header on both listeners (issue 12): every reply names
 * its api-version, a request naming one served is served, garbage and
 * unknown versions get a JSON 400, an unversioned request the latest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define MIB (1024u * 1024)

/* The JSON body of a raw response, parsed (NULL if none). */
static json_t *raw_json(const struct buf *raw)
{
    const char *p = raw->data ? strstr(raw->data, "\r\n\r\n") : NULL;

    return p ? json_loads(p + 4, 0, NULL) : NULL;
}

static void assert_raw_error(const struct buf *raw, int status)
{
    json_t *v = raw_json(raw);

    if (http_client_raw_status(raw) != status)
        fail_msg("want %d, got: %.300s", status,
                 raw->data ? raw->data : "(nothing)");
    assert_true(json_is_string(json_object_get(v, "request_id")));
    assert_true(json_is_string(json_object_get(v, "message")));
    json_decref(v);
}

static void test_agent_http__rejected_put_lingers(void **state)
{
    struct agentproc_fixture *f = *state;
    struct buf raw = BUF_INIT;
    const uint64_t len = 50ull * MIB;
    char hex[SHA256_HEX_LEN + 1], head[256];
    const char *cfg[1] = {hex};
    char *chunk = mem_calloc(1, 256 * 1024);
    uint64_t sent = 0;
    int fd = -1;

    assert_non_null(chunk);
    testutil_sha256_hex(hex, "x", 1);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(http_client_raw_connect(&fd,
                                             agentproc_api_port(f->a)), 0);
    /* generation 2 is not the current one: 409 at header time. */
    snprintf(head, sizeof(head), "PUT /artifacts/%s?generation=2 HTTP/1.1\r\n"
             "Host: x\r\nContent-Length: %llu\r\n\r\n", hex,
             (unsigned long long)len);
    assert_int_equal(http_client_raw_send(fd, head, strlen(head)), 0);
    /* Keep sending the body as a naive client would, then read. */
    while (sent < len &&
           http_client_raw_send(fd, chunk, 256 * 1024) == 0)
        sent += 256 * 1024;
    /* No reset while sending (the server discards the body)... */
    if (sent != len)
        fail_msg("connection reset after %llu of %llu body bytes",
                 (unsigned long long)sent, (unsigned long long)len);
    /* ... and the reply, then a clean close (FIN, not RST). */
    assert_int_equal(http_client_raw_recv(&raw, fd, 10000), 0);
    assert_raw_error(&raw, 409);
    assert_true(http_client_raw_closed(fd, 5000));
    {
        char c;

        assert_int_equal(recv(fd, &c, 1, 0), 0);
    }
    assert_non_null(strstr(raw.data, "Connection: close"));
    assert_true(agentproc_alive(f->a));
    close(fd);
    buf_release(&raw);
    mem_free(chunk);
    f->passed = true;
}

static void test_agent_http__big_head_431_bad_line_400(void **state)
{
    static const char *const bad_lines[] = {
        "NOT A REQUEST\r\n\r\n",
        "GET /artifacts HTTP/1.1 extra\r\n\r\n",
        "garbage without the end of a head\n",
        "GET /artifacts\n",
        "get /artifacts HTTP/1.1\r\n",
    };
    struct agentproc_fixture *f = *state;
    struct buf raw = BUF_INIT;
    size_t big = 20 * 1024;
    char *head = mem_alloc(big + 64);
    int fd = -1;

    assert_non_null(head);
    memcpy(head, "GET /artifacts HTTP/1.1\r\nX-Big: ", 32);
    memset(head + 32, 'a', big);
    memcpy(head + 32 + big, "\r\n\r\n", 4);
    assert_int_equal(http_client_raw_connect(&fd,
                                             agentproc_api_port(f->a)), 0);
    http_client_raw_send(fd, head, 32 + big + 4);
    http_client_raw_recv(&raw, fd, 5000);
    assert_raw_error(&raw, 431);
    assert_true(http_client_raw_closed(fd, 5000));
    close(fd);
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        buf_release(&raw);
        assert_int_equal(http_client_raw_connect(&fd,
                                                 agentproc_depot_port(f->a)),
                         0);
        assert_int_equal(http_client_raw_send(fd, bad_lines[i],
                                              strlen(bad_lines[i])), 0);
        http_client_raw_recv(&raw, fd, 3000);
        if (http_client_raw_status(&raw) != 400)
            fail_msg("<%s>: got %.200s", bad_lines[i],
                     raw.data ? raw.data : "(nothing within 3 s)");
        assert_raw_error(&raw, 400);
        close(fd);
    }
    assert_true(agentproc_alive(f->a));
    buf_release(&raw);
    mem_free(head);
    f->passed = true;
}

static long depot_bytes(struct agentproc *a)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];
    const char *p;
    long v = -1;

    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0 && r.status == 200 && r.body.data &&
        (p = strstr(r.body.data, "\nsledagent_depot_bytes_total ")))
        v = strtol(p + 29, NULL, 10);
    http_client_resp_release(&r);
    return v;
}

struct bytes_arg {
    struct agentproc *a;
    long at_least;
};

static bool bytes_reached(void *arg)
{
    struct bytes_arg *b = arg;

    return depot_bytes(b->a) >= b->at_least;
}

static void test_agent_http__depot_bytes_as_sent(void **state)
{
    struct agentproc_fixture *f = *state;
    const size_t size = 16 * MIB;
    char *data = mem_alloc(size), req[256], chunk[16384];
    char hex[SHA256_HEX_LEN + 1];
    const char *cfg[1] = {hex};
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct sockaddr_in sa;
    struct bytes_arg b;
    size_t got = 0;
    int rcv = 16384, fd;
    long partial;

    assert_non_null(data);
    testutil_random(data, size);
    testutil_sha256_hex(hex, data, size);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, hex, 1, data, size, NULL),
                     200);
    assert_int_equal(depot_bytes(f->a), 0);
    /* A small receive window so the server cannot push the whole file into
     * the kernel while we read a little. */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv,
                                sizeof(rcv)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)agentproc_depot_port(f->a));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req), "GET /artifact/sha256/%s HTTP/1.1\r\n"
             "Host: x\r\n\r\n", hex);
    assert_int_equal(http_client_raw_send(fd, req, strlen(req)), 0);
    while (got < 256 * 1024) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

        assert_true(n > 0);
        got += (size_t)n;
    }
    close(fd);
    b.a = f->a;
    b.at_least = 1;
    assert_true(testutil_wait_for(bytes_reached, &b, 10000));
    partial = depot_bytes(f->a);
    if (partial >= (long)(size * 3 / 4))
        fail_msg("half-read GET counted %ld of %zu bytes", partial, size);
    /* A complete GET counts exactly the file. */
    snprintf(req, sizeof(req), "%s/artifact/sha256/%s",
             agentproc_depot_url(f->a), hex);
    assert_int_equal(http_client_get(&r, req), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_total, size);
    b.at_least = partial + (long)size;
    assert_true(testutil_wait_for(bytes_reached, &b, 10000));
    assert_int_equal(depot_bytes(f->a), partial + (long)size);
    http_client_resp_release(&r);
    mem_free(data);
    f->passed = true;
}

/* GET base+path with the api-version header line hdr (NULL: none): the
 * status, the reply's api-version into ver. */
static long versioned_get(char ver[32], json_t **body, const char *base,
                          const char *path, const char *hdr)
{
    const char *headers[] = {hdr, NULL};
    struct http_client_req rq = {0};
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct err err = ERR_INIT;
    char url[256];
    long status;

    snprintf(url, sizeof(url), "%s%s", base, path);
    rq.url = url;
    rq.headers = hdr ? headers : NULL;
    assert_int_equal(http_client_request(&r, &rq, &err), 0);
    if (!http_client_header(&r, "api-version", ver, 32))
        ver[0] = '\0';
    status = r.status;
    if (status >= 400)
        agenttest_assert_error_shape(&r);
    *body = http_client_json(&r);
    http_client_resp_release(&r);
    return status;
}

static void test_agent_http__issue_12_api_version(void **state)
{
    struct agentproc_fixture *f = *state;
    const char *bases[] = {agentproc_api_url(f->a),
                           agentproc_depot_url(f->a)};
    /* the agent API has a config after this; the depot an unknown hash */
    const char *paths[] = {"/artifacts-config",
                           "/artifact/sha256/"
                           "0000000000000000000000000000000000000000000000000"
                           "000000000000000"};
    const long ok[] = {200, 404};
    /* the agent API also serves the reference's version (the latest) */
    const char *latest[] = {"48.0.0", "1.0.0"};
    char ver[32];
    json_t *v;

    assert_int_equal(agentproc_put_config(f->a, 1, NULL, 0), 204);
    for (int i = 0; i < 2; i++) {
        /* absent: the latest */
        assert_int_equal(versioned_get(ver, &v, bases[i], paths[i], NULL),
                         ok[i]);
        assert_string_equal(ver, latest[i]);
        json_decref(v);
        /* known */
        assert_int_equal(versioned_get(ver, &v, bases[i], paths[i],
                                       "api-version: 1.0.0"), ok[i]);
        assert_string_equal(ver, "1.0.0");
        json_decref(v);
        /* garbage */
        assert_int_equal(versioned_get(ver, &v, bases[i], paths[i],
                                       "api-version: latest please"), 400);
        assert_string_equal(ver, latest[i]);
        assert_string_equal(jsonu_str(v, "error_code"), "BAD_API_VERSION");
        json_decref(v);
        /* unknown */
        assert_int_equal(versioned_get(ver, &v, bases[i], paths[i],
                                       "api-version: 2.0.0"), 400);
        assert_string_equal(jsonu_str(v, "error_code"),
                            "UNSUPPORTED_API_VERSION");
        assert_non_null(strstr(jsonu_str(v, "message"), "serves 1.0.0"));
        json_decref(v);
    }
    assert_true(agentproc_alive(f->a));
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_http__rejected_put_lingers),
        AGENTTEST(test_agent_http__big_head_431_bad_line_400),
        AGENTTEST(test_agent_http__depot_bytes_as_sent),
        AGENTTEST(test_agent_http__issue_12_api_version),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
