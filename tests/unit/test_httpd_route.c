/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Tests of common/httpd_route: the matcher (every capture type, good and
 * bad; 404, 405 with its method set, 400 for a malformed capture;
 * precedence), the Allow list, and a live server answering 404, 405 with
 * Allow, 400 and 413 by itself, the gate, and the captures handed to a
 * handler; API versions by header (issue 12): the pure choice, and the
 * server's api-version on every reply, 400 for garbage and unknown ones.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/support/http_client.h"

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define UUID "0123abcd-4567-89ab-cdef-0123456789ab"

static void on_req(struct httpd_req *r, void *arg);

#define R(label, m, path, msg)                                           \
    {.name = (label), .methods = (m), .pattern = (path),                \
     .on_request = on_req, .bad_capture = (msg), .roles = HTTPD_ROLE_ALL}

static const struct httpd_route table[] = {
    R("cfg", HTTPD_M_GET, "/config", NULL),
    R("cfg", HTTPD_M_PUT, "/config", NULL),
    R("put", HTTPD_M_PUT, "/artifacts/{sha256}", NULL),
    R("copy", HTTPD_M_POST, "/artifacts/{sha256}/copy", NULL),
    R("sled", HTTPD_M_PUT, "/sleds/{id}", "sled id must be a UUID"),
    R("root", HTTPD_M_DELETE, "/roots/{uuid}", NULL),
    R("prune", HTTPD_M_POST, "/repos/{version}/prune", NULL),
    R("gen_any", HTTPD_M_POST, "/gen/{generation}", NULL),
    R("gen_bump", HTTPD_M_POST, "/gen/bump", NULL),
    R("gen_get", HTTPD_M_GET, "/gen/{generation}", NULL),
    R("root_path", HTTPD_M_GET, "/", NULL),
    {.name = "small", .methods = HTTPD_M_PUT, .pattern = "/small",
     .body_cap = 10, .on_request = on_req, .roles = HTTPD_ROLE_ALL},
    {.name = "new", .methods = HTTPD_M_GET, .pattern = "/new",
     .on_request = on_req, .roles = HTTPD_ROLE_ALL, .since = "1.2.0"},
};

/* The live server's API versions: an older one still served, the latest. */
static const char *const versions[] = {"1.0.0", "1.2.0"};

#define NT (sizeof(table) / sizeof(table[0]))

static enum httpd_match_result match(struct httpd_match *m,
                                     enum httpd_method meth,
                                     const char *path, struct err *err)
{
    err_clear(err);
    return httpd_route_match(m, table, NT, meth, path, err);
}

static void test_httpd_route__sha256_capture(void **state)
{
    static const char *bad[] = {
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "e3b0", "", "..", "%2e%2e", HEX64 "0",
        "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    struct httpd_match m;
    struct err err = ERR_INIT;
    char path[256];

    (void)state;
    assert_int_equal(match(&m, HTTPD_PUT, "/artifacts/" HEX64, &err),
                     HTTPD_MATCHED);
    assert_string_equal(m.route->name, "put");
    assert_int_equal(m.ncap, 1);
    assert_string_equal(m.cap[0], HEX64);
    assert_int_equal(match(&m, HTTPD_POST, "/artifacts/" HEX64 "/copy",
                           &err), HTTPD_MATCHED);
    assert_string_equal(m.route->name, "copy");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* bad hash: 400 whatever the method and whatever follows */
        snprintf(path, sizeof(path), "/artifacts/%s", bad[i]);
        assert_int_equal(match(&m, HTTPD_GET, path, &err),
                         HTTPD_BAD_CAPTURE);
        assert_int_equal(err.code, ERR_INVAL);
        assert_string_equal(err.msg, "sha256 in path must be 64 lowercase "
                                     "hex characters");
        snprintf(path, sizeof(path), "/artifacts/%s/anything", bad[i]);
        assert_int_equal(match(&m, HTTPD_POST, path, &err),
                         HTTPD_BAD_CAPTURE);
    }
}

static void test_httpd_route__uuid_capture(void **state)
{
    static const char *bad[] = {
        "0123abcd-4567-89ab-cdef-0123456789a",
        "0123abcd45678-9ab-cdef-0123456789ab",
        "0123abcd-4567-89ab-cdef-0123456789abc",
        "0123abcg-4567-89ab-cdef-0123456789ab", "", "nope"};
    struct httpd_match m;
    struct err err = ERR_INIT;
    char path[128];

    (void)state;
    assert_int_equal(match(&m, HTTPD_PUT, "/sleds/" UUID, &err),
                     HTTPD_MATCHED);
    assert_string_equal(m.cap[0], UUID);
    assert_int_equal(match(&m, HTTPD_PUT,
                           "/sleds/0123ABCD-4567-89AB-CDEF-0123456789AB",
                           &err), HTTPD_MATCHED);
    assert_int_equal(match(&m, HTTPD_DELETE, "/roots/" UUID, &err),
                     HTTPD_MATCHED);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/sleds/%s", bad[i]);
        assert_int_equal(match(&m, HTTPD_PUT, path, &err),
                         HTTPD_BAD_CAPTURE);
        assert_string_equal(err.msg, "sled id must be a UUID");
        snprintf(path, sizeof(path), "/roots/%s", bad[i]);
        assert_int_equal(match(&m, HTTPD_DELETE, path, &err),
                         HTTPD_BAD_CAPTURE);
        assert_string_equal(err.msg, "id in path must be a UUID");
    }
}

static void test_httpd_route__segment_capture(void **state)
{
    struct httpd_match m;
    struct err err = ERR_INIT;
    char path[600];

    (void)state;
    assert_int_equal(match(&m, HTTPD_POST, "/repos/1.2.0/prune", &err),
                     HTTPD_MATCHED);
    assert_string_equal(m.cap[0], "1.2.0");
    /* percent-decoded, '+' stays itself (a path, not a query) */
    assert_int_equal(match(&m, HTTPD_POST, "/repos/a%2Fb+c%20d/prune", &err),
                     HTTPD_MATCHED);
    assert_string_equal(m.cap[0], "a/b+c d");
    /* empty: no segment there, 404 as before */
    assert_int_equal(match(&m, HTTPD_POST, "/repos//prune", &err),
                     HTTPD_NO_ROUTE);
    assert_int_equal(match(&m, HTTPD_POST, "/repos/a/b/prune", &err),
                     HTTPD_NO_ROUTE);
    /* bad escape, decoded NUL, over HTTPD_CAPTURE_MAX: 400 */
    assert_int_equal(match(&m, HTTPD_POST, "/repos/%zz/prune", &err),
                     HTTPD_BAD_CAPTURE);
    assert_int_equal(err.code, ERR_INVAL);
    assert_int_equal(match(&m, HTTPD_POST, "/repos/a%00/prune", &err),
                     HTTPD_BAD_CAPTURE);
    memset(path, 0, sizeof(path));
    memcpy(path, "/repos/", 7);
    memset(path + 7, 'v', HTTPD_CAPTURE_MAX);
    memcpy(path + 7 + HTTPD_CAPTURE_MAX, "/prune", 7);
    assert_int_equal(match(&m, HTTPD_POST, path, &err), HTTPD_BAD_CAPTURE);
    assert_int_equal(err.code, ERR_LIMIT);
    path[7 + HTTPD_CAPTURE_MAX - 1] = '\0';
    memcpy(path + 7 + HTTPD_CAPTURE_MAX - 1, "/prune", 7);
    assert_int_equal(match(&m, HTTPD_POST, path, &err), HTTPD_MATCHED);
    assert_int_equal(strlen(m.cap[0]), HTTPD_CAPTURE_MAX - 1);
}

static void test_httpd_route__404_405_allow(void **state)
{
    static const char *none[] = {"/nope", "/config/", "/configs", "//config",
                                 "/config/x", "/artifacts", "/artifacts/",
                                 "/artifacts/" HEX64 "/other", "/Config"};
    struct httpd_match m;
    struct err err = ERR_INIT;
    char allow[64];

    (void)state;
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        assert_int_equal(match(&m, HTTPD_GET, none[i], &err),
                         i == 6 ? HTTPD_BAD_CAPTURE : HTTPD_NO_ROUTE);
    assert_int_equal(match(&m, HTTPD_DELETE, "/config", &err),
                     HTTPD_NO_METHOD);
    assert_int_equal(m.allow, HTTPD_M_GET | HTTPD_M_PUT);
    assert_string_equal(m.route->name, "cfg");
    assert_int_equal(match(&m, HTTPD_OTHER, "/config", &err),
                     HTTPD_NO_METHOD);
    assert_int_equal(match(&m, HTTPD_HEAD, "/config", &err),
                     HTTPD_NO_METHOD); /* HEAD only where listed */
    assert_int_equal(match(&m, HTTPD_GET, "/artifacts/" HEX64, &err),
                     HTTPD_NO_METHOD);
    assert_int_equal(m.allow, HTTPD_M_PUT);
    assert_int_equal(match(&m, HTTPD_GET, "/", &err), HTTPD_MATCHED);
    httpd_route_allow(allow, sizeof(allow), HTTPD_M_DELETE | HTTPD_M_GET |
                      HTTPD_M_PUT | HTTPD_M_HEAD | HTTPD_M_POST);
    assert_string_equal(allow, "GET, HEAD, PUT, POST, DELETE");
    httpd_route_allow(allow, sizeof(allow), HTTPD_M_GET | HTTPD_M_PUT);
    assert_string_equal(allow, "GET, PUT");
    httpd_route_allow(allow, 10, HTTPD_M_GET | HTTPD_M_HEAD | HTTPD_M_PUT);
    assert_string_equal(allow, "GET, HEAD"); /* whole names that fit */
}

static void test_httpd_route__precedence(void **state)
{
    struct httpd_match m;
    struct err err = ERR_INIT;
    struct httpd_route bad_first[] = {
        R("strict", HTTPD_M_GET, "/x/{sha256}", NULL),
        R("loose", HTTPD_M_GET, "/x/{name}", NULL)};

    (void)state;
    /* a literal beats a capture, whatever the table order */
    assert_int_equal(match(&m, HTTPD_POST, "/gen/bump", &err),
                     HTTPD_MATCHED);
    assert_string_equal(m.route->name, "gen_bump");
    assert_int_equal(m.ncap, 0);
    assert_int_equal(match(&m, HTTPD_POST, "/gen/7", &err), HTTPD_MATCHED);
    assert_string_equal(m.route->name, "gen_any");
    assert_string_equal(m.cap[0], "7");
    /* the method picks among the patterns a path matches */
    assert_int_equal(match(&m, HTTPD_GET, "/gen/bump", &err),
                     HTTPD_MATCHED);
    assert_string_equal(m.route->name, "gen_get");
    assert_string_equal(m.cap[0], "bump");
    assert_int_equal(match(&m, HTTPD_DELETE, "/gen/bump", &err),
                     HTTPD_NO_METHOD);
    assert_int_equal(m.allow, HTTPD_M_GET | HTTPD_M_POST);
    /* a full match elsewhere beats a malformed capture */
    assert_int_equal(httpd_route_match(&m, bad_first, 2, HTTPD_GET,
                                       "/x/name", &err), HTTPD_MATCHED);
    assert_string_equal(m.route->name, "loose");
    assert_int_equal(httpd_route_match(&m, bad_first, 1, HTTPD_GET,
                                       "/x/name", &err), HTTPD_BAD_CAPTURE);
}

/* issue 12: which version a request is served at, and the refusals. */
static void test_httpd_route__issue_12_api_version_pick(void **state)
{
    static const char *const garbage[] = {
        "", "1", "1.0", "1.0.0.0", "v1.0.0", "01.0.0", "1.00.0", "1.0.0-rc1",
        "1.0.0+build", " 1.0.0", "1.0.0 ", "4294967296.0.0",
        "99999999999999999999.0.0", "1..0", "a.b.c", "-1.0.0", "1.0.",
        ".1.0", "1.0.0\n", "\xff"};
    static const char *const unknown[] = {"2.0.0", "1.1.0", "0.0.0",
                                          "1.2.1", "4294967295.0.0"};
    const char *v;
    struct err err = ERR_INIT;

    (void)state;
    /* absent: the latest */
    assert_int_equal(httpd_api_version_pick(&v, versions, 2, NULL, &err), 0);
    assert_string_equal(v, "1.2.0");
    assert_int_equal(httpd_api_version_pick(&v, versions, 2, "1.0.0", &err),
                     0);
    assert_ptr_equal(v, versions[0]);
    assert_int_equal(httpd_api_version_pick(&v, versions, 2, "1.2.0", &err),
                     0);
    assert_ptr_equal(v, versions[1]);
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        err_clear(&err);
        assert_int_equal(httpd_api_version_pick(&v, versions, 2, garbage[i],
                                                &err), ERR_INVAL);
        assert_string_equal(err.error_code, "BAD_API_VERSION");
        assert_string_equal(err.msg, "header api-version must be a version "
                                     "MAJOR.MINOR.PATCH (latest: 1.2.0)");
    }
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        err_clear(&err);
        assert_int_equal(httpd_api_version_pick(&v, versions, 2, unknown[i],
                                                &err), ERR_INVAL);
        assert_string_equal(err.error_code, "UNSUPPORTED_API_VERSION");
        assert_non_null(strstr(err.msg, "is not served here; this service "
                                        "serves 1.0.0, 1.2.0 (latest "
                                        "1.2.0)"));
    }
    assert_string_equal(err.msg, "API version 4294967295.0.0 is not served "
                                 "here; this service serves 1.0.0, 1.2.0 "
                                 "(latest 1.2.0)");
    assert_true(httpd_api_version_cmp("1.10.0", "1.9.0") > 0);
    assert_true(httpd_api_version_cmp("1.0.0", "1.0.1") < 0);
    assert_int_equal(httpd_api_version_cmp("3.2.1", "3.2.1"), 0);
    assert_true(httpd_api_version_cmp("x", "0.0.0") < 0);
}

/* ---- live server ---- */

static struct event_base *base;
static struct httpd *srv;
static pthread_t loop_thread;
static bool stopping;

static void on_req(struct httpd_req *r, void *arg)
{
    struct sha256 h;
    json_t *v;

    (void)arg;
    v = json_pack("{s:s, s:s?, s:b}", "route", httpd_req_route(r),
                  "cap0", httpd_req_capture(r, 0), "sha",
                  httpd_req_sha256(&h, r, 0) == 0);
    httpd_reply_json(r, 200, v);
    json_decref(v);
}

static int gate(struct httpd_req *r, struct err *err, void *arg)
{
    (void)r;
    (void)arg;
    return stopping ? err_set(err, ERR_UNAVAIL, "shutting down") : 0;
}

static void *loop_main(void *arg)
{
    (void)arg;
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int setup(void **state)
{
    struct httpd_opts o = {.host = "127.0.0.1", .name = "test"};
    struct httpd_service svc = {table, NT, gate, NULL, versions, 2};
    struct err err = ERR_INIT;

    (void)state;
    mem_init();
    evthread_use_pthreads();
    base = event_base_new();
    assert_non_null(base);
    assert_int_equal(httpd_new(&srv, base, &o, &svc, &err), 0);
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
    char allow[64];
    char version[64]; /* the reply's api-version, "" when none */
};

/* method path [body of len 'x' bytes] with headers (NULL-ended, may be
 * NULL); returns the parsed JSON reply. */
static json_t *send_req_h(struct resp *rs, const char *method,
                          const char *path, long len,
                          const char *const *headers)
{
    struct http_client_resp hr = {0};
    struct http_client_req rq = {0};
    struct err err = ERR_INIT;
    char url[512], data[64];
    json_t *v;

    memset(rs, 0, sizeof(*rs));
    memset(data, 'x', sizeof(data));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
             (unsigned)httpd_port(srv), path);
    rq.method = method;
    rq.url = url;
    rq.timeout_ms = 20000;
    rq.headers = headers;
    if (len >= 0) {
        rq.body = data;
        rq.body_len = (size_t)len;
    }
    assert_int_equal(http_client_request(&hr, &rq, &err), 0);
    rs->status = hr.status;
    if (!http_client_header(&hr, "Allow", rs->allow, sizeof(rs->allow)))
        rs->allow[0] = '\0';
    if (!http_client_header(&hr, "api-version", rs->version,
                            sizeof(rs->version)))
        rs->version[0] = '\0';
    v = http_client_json(&hr);
    http_client_resp_release(&hr);
    return v;
}

static json_t *send_req(struct resp *rs, const char *method,
                        const char *path, long len)
{
    return send_req_h(rs, method, path, len, NULL);
}

/* issue 12: every reply names the version it was served at; garbage and
 * unknown versions are a JSON 400 before any route work; a route newer
 * than the request's version is not there. */
static void test_httpd_route__issue_12_api_version_server(void **state)
{
    static const struct {
        const char *const hdr[3];
        const char *path;
        long status;
        const char *version, *code;
    } cases[] = {
        {{NULL}, "/config", 200, "1.2.0", NULL},
        {{"api-version: 1.2.0", NULL}, "/config", 200, "1.2.0", NULL},
        {{"API-Version: 1.0.0", NULL}, "/config", 200, "1.0.0", NULL},
        {{"api-version: garbage", NULL}, "/config", 400, "1.2.0",
         "BAD_API_VERSION"},
        {{"api-version: 1.0", NULL}, "/nope", 400, "1.2.0",
         "BAD_API_VERSION"},
        {{"api-version;", NULL}, "/config", 400, "1.2.0", "BAD_API_VERSION"},
        {{"api-version: 1.0.0", "api-version: 1.0.0", NULL}, "/config", 400,
         "1.2.0", "BAD_API_VERSION"},
        {{"api-version: 9.0.0", NULL}, "/config", 400, "1.2.0",
         "UNSUPPORTED_API_VERSION"},
        {{"api-version: 1.1.0", NULL}, "/artifacts/x", 400, "1.2.0",
         "UNSUPPORTED_API_VERSION"},
        /* a good version still gets the server's own answers */
        {{"api-version: 1.0.0", NULL}, "/nope", 404, "1.0.0", NULL},
        {{NULL}, "/new", 200, "1.2.0", NULL},
        {{"api-version: 1.2.0", NULL}, "/new", 200, "1.2.0", NULL},
        {{"api-version: 1.0.0", NULL}, "/new", 404, "1.0.0", NULL},
    };
    struct resp rs;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = send_req_h(&rs, "GET", cases[i].path, -1,
                               cases[i].hdr[0] ? cases[i].hdr : NULL);

        if (rs.status != cases[i].status)
            fail_msg("case %zu: status %ld", i, rs.status);
        assert_string_equal(rs.version, cases[i].version);
        assert_non_null(v);
        if (cases[i].code) {
            assert_string_equal(jsonu_str(v, "error_code"), cases[i].code);
            assert_non_null(jsonu_str(v, "message"));
            assert_non_null(jsonu_str(v, "request_id"));
        }
        json_decref(v);
    }
    stopping = true;
    {
        json_t *v = send_req_h(&rs, "GET", "/config", -1, NULL);

        assert_int_equal(rs.status, 503);
        assert_string_equal(rs.version, "1.2.0");
        json_decref(v);
    }
    stopping = false;
}

static void expect(const char *method, const char *path, long len,
                   long status, const char *key, const char *value)
{
    struct resp rs;
    json_t *v = send_req(&rs, method, path, len);

    assert_int_equal(rs.status, status);
    assert_non_null(v);
    if (key)
        assert_string_equal(jsonu_str(v, key), value);
    json_decref(v);
}

static void test_httpd_route__server_answers(void **state)
{
    struct resp rs;
    json_t *v;

    (void)state;
    expect("GET", "/nope", -1, 404, "message", "no such endpoint");
    expect("PUT", "/nope", 20, 404, "message", "no such endpoint");
    expect("GET", "/artifacts/" HEX64 "x", -1, 400, "message",
           "sha256 in path must be 64 lowercase hex characters");
    expect("PUT", "/sleds/x", 2, 400, "message", "sled id must be a UUID");
    expect("PUT", "/small", 11, 413, NULL, NULL);
    expect("PUT", "/small", 10, 200, "route", "small");
    expect("PUT", "/artifacts/" HEX64, -1, 200, "cap0", HEX64);
    expect("POST", "/repos/v%201/prune", -1, 200, "cap0", "v 1");
    v = send_req(&rs, "DELETE", "/config", -1);
    assert_int_equal(rs.status, 405);
    assert_string_equal(rs.allow, "GET, PUT");
    assert_string_equal(jsonu_str(v, "message"), "method not allowed");
    json_decref(v);
    v = send_req(&rs, "PUT", "/artifacts/" HEX64, -1);
    assert_true(json_is_true(json_object_get(v, "sha")));
    json_decref(v);
    v = send_req(&rs, "POST", "/repos/v1/prune", -1);
    assert_true(json_is_false(json_object_get(v, "sha")));
    json_decref(v);
    stopping = true;
    expect("GET", "/config", -1, 503, "message", "shutting down");
    stopping = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpd_route__sha256_capture),
        cmocka_unit_test(test_httpd_route__uuid_capture),
        cmocka_unit_test(test_httpd_route__segment_capture),
        cmocka_unit_test(test_httpd_route__404_405_allow),
        cmocka_unit_test(test_httpd_route__precedence),
        cmocka_unit_test(test_httpd_route__issue_12_api_version_pick),
        cmocka_unit_test_setup_teardown(test_httpd_route__server_answers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_httpd_route__issue_12_api_version_server, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
