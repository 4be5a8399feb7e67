/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of common/httpd: request ids, the error JSON shape, strict
 * query and path helpers, and a live server on port 0 (its loop on a
 * thread, libcurl as the client): JSON replies carry x-request-id,
 * header-time rejection never reads the body, streamed bodies arrive
 * whole, caps give 413 and 429 carries Retry-After; connection limits
 * (issue 10): an idle connection is closed to make room, a busy one
 * never, and with none idle the new connection is refused.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/support/testutil.h"

static void test_httpd__request_id(void **state)
{
    char a[HTTPD_REQUEST_ID_LEN + 1], b[HTTPD_REQUEST_ID_LEN + 1];

    (void)state;
    httpd_request_id(a);
    httpd_request_id(b);
    assert_int_equal(strlen(a), 16);
    assert_int_equal(strspn(a, "0123456789abcdef"), 16);
    assert_string_not_equal(a, b);
}

static void test_httpd__error_json_shape(void **state)
{
    json_t *v = httpd_error_json("00112233aabbccdd", "CONFIG_GENERATION",
                                 "generation 3 is lower than 4");
    json_t *w = httpd_error_json("00112233aabbccdd", "", "no");

    (void)state;
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 3);
    assert_string_equal(jsonu_str(v, "request_id"), "00112233aabbccdd");
    assert_string_equal(jsonu_str(v, "error_code"), "CONFIG_GENERATION");
    assert_string_equal(jsonu_str(v, "message"),
                        "generation 3 is lower than 4");
    /* error_code is omitted when empty */
    assert_int_equal(json_object_size(w), 2);
    assert_null(json_object_get(w, "error_code"));
    json_decref(v);
    json_decref(w);
}

static void test_httpd__query_generation(void **state)
{
    struct err err = ERR_INIT;
    uint64_t g = 0;

    (void)state;
    assert_int_equal(httpd_query_generation(&g, "generation=42", &err), 0);
    assert_int_equal(g, 42);
    assert_int_equal(httpd_query_generation(&g, "generation=0", &err), 0);
    assert_int_equal(g, 0);
    assert_int_equal(httpd_query_generation(&g, NULL, &err), ERR_INVAL);
    assert_string_equal(err.msg, "missing query parameter generation");
    const char *bad[] = {"generation=-1", "generation=1x", "generation=",
                         "generation=01", "generation=1&x=2",
                         "generation=9223372036854775808", "gen=1",
                         "x=1&generation=1", "generation=1.0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&err);
        assert_int_equal(httpd_query_generation(&g, bad[i], &err), ERR_INVAL);
        assert_int_equal(err.code, ERR_INVAL);
        assert_non_null(strstr(err.msg, "generation"));
    }
}

static void test_httpd__path_sha256(void **state)
{
    static const char hex[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char path[200];
    const char *p;
    struct sha256 h;
    struct err err = ERR_INIT;

    (void)state;
    snprintf(path, sizeof(path), "%s/copy-from-depot", hex);
    p = path;
    assert_int_equal(httpd_path_sha256(&h, &p, &err), 0);
    assert_string_equal(p, "/copy-from-depot");
    const char *bad[] = {"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA"
                         "495991B7852B855",
                         "e3b0", "..", "%2e%2e", "", "/x",
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca"
                         "495991b7852b8550"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = bad[i];
        err_clear(&err);
        assert_int_equal(httpd_path_sha256(&h, &p, &err), ERR_INVAL);
        assert_string_equal(err.msg, "sha256 in path must be 64 lowercase "
                                     "hex characters");
    }
    assert_true(httpd_path_prefix(&p, "/artifacts/abc", "/artifacts/"));
    assert_string_equal(p, "abc");
    assert_false(httpd_path_prefix(&p, "/artifact", "/artifacts/"));
}

/* ---- live server ---- */

static struct event_base *base;
static struct httpd *srv;
static pthread_t loop_thread;
static atomic_ullong streamed;
static atomic_int stream_calls;

static int on_data(struct httpd_req *r, struct evbuffer *data,
                   struct err *err, void *arg)
{
    (void)r;
    (void)err;
    (void)arg;
    atomic_fetch_add(&streamed, evbuffer_get_length(data));
    atomic_fetch_add(&stream_calls, 1);
    evbuffer_drain(data, evbuffer_get_length(data));
    return 0;
}

static void on_abort(struct httpd_req *r, void *arg)
{
    (void)r;
    (void)arg;
}

static void srv_headers(struct httpd_req *r, void *arg)
{
    const char *p = httpd_req_path(r);
    struct err err = ERR_INIT;

    (void)arg;
    if (strcmp(p, "/reject") == 0) {
        err_set_coded(&err, ERR_CONFLICT, "CONFIG_GENERATION",
                      "generation 1 is not the current generation 2");
        httpd_req_reject(r, &err);
    } else if (strcmp(p, "/busy") == 0) {
        err_set(&err, ERR_BUSY, "too many writes in flight");
        httpd_req_reject(r, &err);
    } else if (strcmp(p, "/stream") == 0 || strcmp(p, "/reject-late") == 0) {
        httpd_req_stream(r, on_data, on_abort, NULL);
    } else if (strcmp(p, "/small") == 0) {
        httpd_req_body_cap(r, 10);
    }
}

static void srv_request(struct httpd_req *r, void *arg)
{
    const char *p = httpd_req_path(r);
    json_t *v;
    size_t len;

    (void)arg;
    if (strcmp(p, "/json") == 0 || strcmp(p, "/stream") == 0 ||
        strcmp(p, "/small") == 0) {
        httpd_req_body(r, &len);
        v = json_pack("{s:b, s:I, s:I}", "ok", 1, "body", (json_int_t)len,
                      "streamed", (json_int_t)atomic_load(&streamed));
        httpd_reply_json(r, 200, v);
        json_decref(v);
        return;
    }
    httpd_reply_error(r, 404, NULL, "no such endpoint");
}

#define TEST_ROUTE(path, cap)                                           \
    {.name = "test", .methods = HTTPD_M_GET | HTTPD_M_PUT,              \
     .pattern = (path), .body_cap = (cap), .on_headers = srv_headers,    \
     .on_request = srv_request, .roles = HTTPD_ROLE_ALL}

static const struct httpd_route test_routes[] = {
    TEST_ROUTE("/json", 0),
    TEST_ROUTE("/reject", 0),
    TEST_ROUTE("/busy", 0),
    TEST_ROUTE("/small", 0),
    TEST_ROUTE("/stream", HTTPD_BODY_LISTENER),
    TEST_ROUTE("/reject-late", HTTPD_BODY_LISTENER),
};

static void *loop_main(void *arg)
{
    (void)arg;
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int setup(void **state)
{
    struct httpd_opts o = {.host = "127.0.0.1", .port = 0, .name = "test",
                           .max_body_bytes = 1u << 30};
    struct httpd_service svc = {test_routes,
                                sizeof(test_routes) / sizeof(test_routes[0]),
                                NULL, NULL, NULL, 0};
    struct err err = ERR_INIT;

    (void)state;
    mem_init();
    evthread_use_pthreads();
    base = event_base_new();
    assert_non_null(base);
    assert_int_equal(httpd_new(&srv, base, &o, &svc, &err), 0);
    assert_true(httpd_port(srv) > 0);
    assert_int_equal(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    event_base_loopbreak(base);
    pthread_join(loop_thread, NULL);
    httpd_free(srv);
    event_base_free(base);
    return 0;
}

struct resp {
    long status;
    char request_id[40];
    char retry_after[16];
    bool conn_close;
};

static void on_hdr(struct resp *rs, const char *p, size_t len)
{
    char line[256];

    snprintf(line, sizeof(line), "%.*s", (int)len, p);
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "x-request-id: ", 14) == 0)
        snprintf(rs->request_id, sizeof(rs->request_id), "%s", line + 14);
    if (strncasecmp(line, "retry-after: ", 13) == 0)
        snprintf(rs->retry_after, sizeof(rs->retry_after), "%s", line + 13);
    if (strcasecmp(line, "connection: close") == 0)
        rs->conn_close = true;
}

/* PUT len bytes of 'x' (len < 0: GET) to path; returns the parsed body. */
static json_t *request(struct resp *rs, const char *path, long len)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    const struct buf *hd, *body;
    char url[128];
    char *data = NULL;
    json_t *v;

    memset(rs, 0, sizeof(*rs));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
             (unsigned)httpd_port(srv), path);
    sp.url = url;
    sp.total_ms = 20000;
    sp.keep_headers = true;
    sp.sink.cap = 1 << 20;
    if (len >= 0) {
        data = mem_alloc((size_t)len + 1);
        assert_non_null(data);
        memset(data, 'x', (size_t)len);
        sp.method = "PUT";
        sp.body.kind = HTTPC_BODY_MEM;
        sp.body.data = data;
        sp.body.len = (uint64_t)len;
    }
    assert_int_equal(httpc_new(&h, &sp, NULL), 0);
    assert_int_equal(httpc_run(h, NULL), 0);
    rs->status = httpc_status(h);
    hd = httpc_headers_raw(h);
    for (size_t i = 0, st = 0; i < hd->len; i++)
        if (hd->data[i] == '\n') {
            on_hdr(rs, hd->data + st, i + 1 - st);
            st = i + 1;
        }
    body = httpc_body(h);
    v = jsonu_loadb(body->data ? body->data : "", body->len, 1 << 20, NULL);
    httpc_free(h);
    mem_free(data);
    return v;
}

static void test_httpd__json_reply_has_request_id(void **state)
{
    struct resp rs;
    json_t *v;

    (void)state;
    v = request(&rs, "/json", -1);
    assert_int_equal(rs.status, 200);
    assert_int_equal(strlen(rs.request_id), 16);
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
    v = request(&rs, "/nope", -1);
    assert_int_equal(rs.status, 404);
    assert_string_equal(jsonu_str(v, "request_id"), rs.request_id);
    assert_string_equal(jsonu_str(v, "message"), "no such endpoint");
    assert_null(json_object_get(v, "error_code"));
    json_decref(v);
}

static void test_httpd__reject_at_header_time(void **state)
{
    struct resp rs;
    json_t *v;
    int calls = atomic_load(&stream_calls);

    (void)state;
    /* 4 MiB body: curl sends Expect: 100-continue; nothing is read. */
    v = request(&rs, "/reject", 4 << 20);
    assert_int_equal(rs.status, 409);
    assert_true(rs.conn_close);
    assert_non_null(v);
    assert_string_equal(jsonu_str(v, "error_code"), "CONFIG_GENERATION");
    assert_string_equal(jsonu_str(v, "message"),
                        "generation 1 is not the current generation 2");
    assert_string_equal(jsonu_str(v, "request_id"), rs.request_id);
    assert_int_equal(atomic_load(&stream_calls), calls);
    json_decref(v);
    /* small body, no Expect */
    v = request(&rs, "/reject", 100);
    assert_int_equal(rs.status, 409);
    json_decref(v);
}

static void test_httpd__busy_has_retry_after(void **state)
{
    struct resp rs;
    json_t *v = request(&rs, "/busy", 1000);

    (void)state;
    assert_int_equal(rs.status, 429);
    assert_string_equal(rs.retry_after, "1");
    assert_string_equal(jsonu_str(v, "message"), "too many writes in flight");
    json_decref(v);
}

static void test_httpd__stream_body(void **state)
{
    struct resp rs;
    json_t *v;
    unsigned long long before = atomic_load(&streamed);
    json_int_t n = 0;

    (void)state;
    v = request(&rs, "/stream", 3 << 20);
    assert_int_equal(rs.status, 200);
    assert_int_equal(json_unpack(v, "{s:I}", "streamed", &n), 0);
    assert_int_equal((unsigned long long)n - before, 3u << 20);
    assert_false(rs.conn_close);
    json_decref(v);
}

static void test_httpd__body_cap(void **state)
{
    struct resp rs;
    json_t *v;

    (void)state;
    v = request(&rs, "/small", 10);
    assert_int_equal(rs.status, 200);
    assert_int_equal(json_integer_value(json_object_get(v, "body")), 10);
    json_decref(v);
    v = request(&rs, "/small", 11);
    assert_int_equal(rs.status, 413);
    assert_non_null(strstr(jsonu_str(v, "message"), "10-byte cap"));
    json_decref(v);
}

/* Defaults sized from the open-file limit; raising it to the hard one. */
static void test_httpd__issue_10_default_conns(void **state)
{
    struct rlimit rl, low;
    uint64_t now = 0;

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 1024)
        TESTUTIL_SKIP("open-file hard limit %llu is under 1024",
                      (unsigned long long)rl.rlim_max);
    low = rl;
    low.rlim_cur = 1024;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(httpd_limits_default_conns(2), (1024 - 64) / 4);
    assert_int_equal(httpd_limits_default_conns(1), (1024 - 64) / 2);
    low.rlim_cur = 100;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(httpd_limits_default_conns(2), 16); /* the floor */
    assert_int_equal(httpd_limits_raise_nofile(&now), 0);
    assert_int_equal(now, (uint64_t)rl.rlim_max);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(low.rlim_cur, rl.rlim_max);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max >= 64 + 2 * 4096)
        assert_int_equal(httpd_limits_default_conns(1), 4096); /* cap */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* ---- connection limits: a server of its own ---- */

static int limits_setup(unsigned max, unsigned per_peer)
{
    struct httpd_opts o = {.host = "127.0.0.1", .name = "lim",
                           .max_body_bytes = 1u << 20};
    struct httpd_service svc = {
        .routes = test_routes,
        .nroutes = sizeof(test_routes) / sizeof(test_routes[0])};
    struct err err = ERR_INIT;

    o.limits.max_conns = max;
    o.limits.max_conns_per_peer = per_peer;
    base = event_base_new();
    assert_non_null(base);
    assert_int_equal(httpd_new(&srv, base, &o, &svc, &err), 0);
    assert_int_equal(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
    return 0;
}

/* Stop the loop (the stats are then safe to read) and the counters. */
static void limits_stop(struct httpd_stats *st)
{
    event_base_loopbreak(base);
    pthread_join(loop_thread, NULL);
    httpd_stats(srv, st);
    httpd_free(srv);
    event_base_free(base);
    srv = NULL;
    base = NULL;
}

static int raw_connect(const char *from)
{
    struct sockaddr_in src = {0}, dst = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    src.sin_family = AF_INET;
    inet_pton(AF_INET, from, &src.sin_addr);
    dst.sin_family = AF_INET;
    dst.sin_port = htons(httpd_port(srv));
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
    return fd;
}

/* A connection in a request body (busy, never closed to make room). */
static int busy_connect(const char *from)
{
    static const char head[] = "PUT /stream HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 1000\r\n\r\nabc";
    int fd = raw_connect(from);
    int calls = atomic_load(&stream_calls);

    assert_int_equal(send(fd, head, sizeof(head) - 1, 0),
                     (ssize_t)sizeof(head) - 1);
    /* busy once its first body bytes reached the handler (5 s at most) */
    for (int i = 0; i < 5000 && atomic_load(&stream_calls) == calls; i++) {
        struct pollfd none = {-1, 0, 0};

        poll(&none, 0, 1);
    }
    assert_true(atomic_load(&stream_calls) > calls);
    return fd;
}

/* Whether the server closed fd within ms (EOF or reset). */
static bool closed_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;

    return poll(&p, 1, ms) == 1 && recv(fd, &c, 1, 0) <= 0;
}

/* A GET on a new connection is answered (the server still serves). */
static bool answered(const char *from)
{
    static const char req[] = "GET /json HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = raw_connect(from);
    struct pollfd p = {fd, POLLIN, 0};
    char buf[16] = {0};
    bool ok;

    assert_int_equal(send(fd, req, sizeof(req) - 1, 0),
                     (ssize_t)sizeof(req) - 1);
    ok = poll(&p, 1, 5000) == 1 && recv(fd, buf, 12, 0) == 12 &&
         strncmp(buf, "HTTP/1.1 200", 12) == 0;
    close(fd);
    return ok;
}

static void test_httpd__issue_10_listener_limit(void **state)
{
    struct httpd_stats st;
    int b1, b2, idle, extra;

    (void)state;
    limits_setup(3, 3);
    b1 = busy_connect("127.0.0.1");
    b2 = busy_connect("127.0.0.2");
    idle = raw_connect("127.0.0.3");
    /* full: the idle one is closed for the new one, the busy ones stay */
    assert_true(answered("127.0.0.4"));
    assert_true(closed_within(idle, 2000));
    assert_false(closed_within(b1, 100));
    assert_false(closed_within(b2, 100));
    /* full of busy connections: a new one is refused at once */
    extra = busy_connect("127.0.0.5"); /* takes the freed place */
    idle = raw_connect("127.0.0.6");
    assert_true(closed_within(idle, 2000));
    limits_stop(&st);
    assert_int_equal(st.max_conns, 3);
    assert_true(st.evicted >= 1);
    assert_int_equal(st.refused_listener, 1);
    close(b1);
    close(b2);
    close(extra);
    close(idle);
}

static void test_httpd__issue_10_peer_limit(void **state)
{
    struct httpd_stats st;
    int b1, idle, other;

    (void)state;
    limits_setup(10, 1);
    idle = raw_connect("127.0.0.1");
    /* the peer's idle connection makes room for its new one */
    assert_true(answered("127.0.0.1"));
    assert_true(closed_within(idle, 2000));
    b1 = busy_connect("127.0.0.1");
    idle = raw_connect("127.0.0.1");
    assert_true(closed_within(idle, 2000)); /* refused: its one is busy */
    other = raw_connect("127.0.0.2");       /* another peer is not */
    assert_false(closed_within(other, 200));
    assert_false(closed_within(b1, 100));
    limits_stop(&st);
    assert_true(st.evicted >= 1);
    assert_int_equal(st.refused_peer, 1);
    assert_int_equal(st.refused_listener, 0);
    close(b1);
    close(idle);
    close(other);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_httpd__request_id),
        cmocka_unit_test(test_httpd__error_json_shape),
        cmocka_unit_test(test_httpd__query_generation),
        cmocka_unit_test(test_httpd__path_sha256),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(test_httpd__json_reply_has_request_id),
        cmocka_unit_test(test_httpd__reject_at_header_time),
        cmocka_unit_test(test_httpd__busy_has_retry_after),
        cmocka_unit_test(test_httpd__stream_body),
        cmocka_unit_test(test_httpd__body_cap),
    };
    const struct CMUnitTest limits[] = {
        cmocka_unit_test(test_httpd__issue_10_default_conns),
        cmocka_unit_test(test_httpd__issue_10_listener_limit),
        cmocka_unit_test(test_httpd__issue_10_peer_limit),
    };
    int rc;

    httpc_global_init();
    rc = cmocka_run_group_tests(pure, NULL, NULL);
    rc |= cmocka_run_group_tests(live, setup, teardown);
    rc |= cmocka_run_group_tests(limits, NULL, NULL);
    httpc_global_cleanup();
    return testutil_exit(rc);
}
