/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of the sledagent's depot and copy paths (DESIGN.md
 * section 2): depot GET with Content-Length, Range (206, 416), 404 and 400;
 * POST copy-from-depot between two real agents (202, background copy,
 * GET /copies), its checks before contacting the source, 502 for an
 * unreachable source or one lacking the artifact; GET /metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define HX "4444444444444444444444444444444444444444444444444444444444444444"

static long depot_get(struct agentproc *a, const char *hex, const char *range,
                      struct http_client_resp *r)
{
    struct http_client_req req = {0};
    char url[256], hdr[128];
    const char *hdrs[2] = {NULL, NULL};

    snprintf(url, sizeof(url), "%s/artifact/sha256/%s",
             agentproc_depot_url(a), hex);
    if (range) {
        snprintf(hdr, sizeof(hdr), "Range: %s", range);
        hdrs[0] = hdr;
        req.headers = hdrs;
    }
    req.url = url;
    if (http_client_request(r, &req, NULL) < 0)
        return -1;
    return r->status;
}

/* A stored artifact on f->a under generation 1. */
static void stored_artifact(struct agentproc *a, struct agenttest_art *x,
                            size_t len)
{
    const char *cfg[1];

    agenttest_art_make(x, len);
    cfg[0] = x->hex;
    assert_int_equal(agentproc_put_config(a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(a, x->hex, 1, x->data, x->len,
                                            NULL), 200);
}

static void test_agent_depot__get_and_range(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char hv[128], want[128];
    struct agenttest_art x;

    stored_artifact(f->a, &x, 100000);
    assert_int_equal(depot_get(f->a, x.hex, NULL, &r), 200);
    assert_true(http_client_header(&r, "x-request-id", NULL, 0));
    assert_true(http_client_header(&r, "Content-Length", hv, sizeof(hv)));
    assert_string_equal(hv, "100000");
    assert_true(http_client_header(&r, "Content-Type", hv, sizeof(hv)));
    assert_string_equal(hv, "application/octet-stream");
    assert_int_equal(r.body.len, x.len);
    assert_memory_equal(r.body.data, x.data, x.len);

    /* Closed range. */
    assert_int_equal(depot_get(f->a, x.hex, "bytes=10-99", &r), 206);
    assert_true(http_client_header(&r, "Content-Range", hv, sizeof(hv)));
    assert_string_equal(hv, "bytes 10-99/100000");
    assert_int_equal(r.body.len, 90);
    assert_memory_equal(r.body.data, x.data + 10, 90);
    /* Open-ended range. */
    assert_int_equal(depot_get(f->a, x.hex, "bytes=99000-", &r), 206);
    assert_true(http_client_header(&r, "Content-Range", hv, sizeof(hv)));
    assert_string_equal(hv, "bytes 99000-99999/100000");
    assert_int_equal(r.body.len, 1000);
    assert_memory_equal(r.body.data, x.data + 99000, 1000);
    /* Suffix range. */
    assert_int_equal(depot_get(f->a, x.hex, "bytes=-10", &r), 206);
    assert_true(http_client_header(&r, "Content-Range", hv, sizeof(hv)));
    snprintf(want, sizeof(want), "bytes %zu-%zu/%zu", x.len - 10, x.len - 1,
             x.len);
    assert_string_equal(hv, want);
    assert_int_equal(r.body.len, 10);
    assert_memory_equal(r.body.data, x.data + x.len - 10, 10);
    /* End past the size is clamped. */
    assert_int_equal(depot_get(f->a, x.hex, "bytes=99990-200000", &r), 206);
    assert_int_equal(r.body.len, 10);
    /* Unsatisfiable. */
    assert_int_equal(depot_get(f->a, x.hex, "bytes=100000-", &r), 416);
    assert_int_equal(depot_get(f->a, x.hex, "bytes=200000-300000", &r), 416);
    assert_true(agentproc_alive(f->a));
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_depot__errors(void **state)
{
    static const char *const bad[] = {
        "ABCDEF4444444444444444444444444444444444444444444444444444444444",
        "444444444444444444444444444444444444444444444444444444444444444",
        "44444444444444444444444444444444444444444444444444444444444444444",
        "..%2fA%2fartifact-config.json",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..",
        "tmp",
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;

    /* Unknown hash: 404 before and after a config that does not list it. */
    assert_int_equal(depot_get(f->a, HX, NULL, &r), 404);
    agenttest_assert_error_shape(&r);
    stored_artifact(f->a, &x, 1000);
    assert_int_equal(depot_get(f->a, HX, NULL, &r), 404);
    agenttest_assert_error_shape(&r);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long st = depot_get(f->a, bad[i], NULL, &r);

        if (st != 400)
            fail_msg("depot GET <%s>: status %ld, want 400", bad[i], st);
        agenttest_assert_error_shape(&r);
    }
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static long post_copy(struct agentproc *a, const char *hex, const char *query,
                      const char *body, struct http_client_resp *r)
{
    char url[256];

    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot%s",
             agentproc_api_url(a), hex, query);
    if (http_client_send(r, "POST", url, body, strlen(body)) < 0)
        return -1;
    return r->status;
}

static void copy_body(char *out, size_t cap, const char *base)
{
    snprintf(out, cap, "{\"depot_base_url\": \"%s\"}", base);
}

/* GET /copies has an entry for hex in state want. */
static bool copies_state(struct agentproc *a, const char *hex,
                         const char *want)
{
    json_t *v = agenttest_copies(a), *e;
    size_t i;
    bool found = false;

    json_array_foreach(v, i, e) {
        const char *h = json_string_value(json_object_get(e, "sha256"));
        const char *s = json_string_value(json_object_get(e, "state"));

        if (h && s && !strcmp(h, hex) && !strcmp(s, want))
            found = true;
    }
    json_decref(v);
    return found;
}

static int start_second(struct agentproc_fixture *f)
{
    int rc = agentproc_new(&f->b, NULL);

    return rc < 0 ? rc : agentproc_start(f->b);
}

static void test_agent_depot__copy_between_agents(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_count c;
    char body[256];
    const char *cfg[1];
    struct agenttest_art x;
    json_t *v;

    assert_int_equal(start_second(f), 0);
    stored_artifact(f->a, &x, 3u * 1024 * 1024 + 17);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    copy_body(body, sizeof(body), agentproc_depot_url(f->a));
    assert_int_equal(post_copy(f->b, x.hex, "?generation=1", body, &r), 202);
    assert_true(http_client_header(&r, "x-request-id", NULL, 0));
    v = http_client_json(&r);
    assert_true(json_is_object(v));
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);
    c.a = f->b;
    c.hex = x.hex;
    c.want = 2;
    if (!testutil_wait_for(agenttest_count_is, &c, 60000))
        fail_msg("copy not complete after 60 s: count %ld",
                 agentproc_count(f->b, x.hex));
    assert_true(copies_state(f->b, x.hex, "done"));
    for (int i = 0; i < 2; i++) {
        char *path = agentproc_path(f->b, i, x.hex);
        char *got = NULL;
        size_t len = 0;

        assert_int_equal(testutil_read_file(&got, &len, path), 0);
        assert_int_equal(len, x.len);
        assert_memory_equal(got, x.data, x.len);
        mem_free(got);
        mem_free(path);
    }
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_depot__copy_checks_and_502(void **state)
{
    static const char *const bad_bodies[] = {
        "not json", "{}", "{\"depot_base_url\": 5}", "[]",
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char body[256], dead[128];
    const char *cfg[1];
    struct agenttest_art x;
    int dead_fd = -1;
    long st;

    agenttest_art_make(&x, 10000);
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d",
             http_client_refused_port(&dead_fd));
    copy_body(body, sizeof(body), dead);
    /* No config: 400 (not 502: checked before contacting the source). */
    assert_int_equal(post_copy(f->a, x.hex, "?generation=1", body, &r), 400);
    agenttest_assert_error_shape(&r);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 204);
    assert_int_equal(post_copy(f->a, x.hex, "?generation=1", body, &r), 409);
    agenttest_assert_error_shape(&r);
    assert_int_equal(post_copy(f->a, x.hex, "?generation=3", body, &r), 409);
    assert_int_equal(post_copy(f->a, x.hex, "", body, &r), 400);
    assert_int_equal(post_copy(f->a, x.hex, "?generation=x", body, &r), 400);
    assert_int_equal(post_copy(f->a, HX, "?generation=2", body, &r), 400);
    agenttest_assert_error_shape(&r);
    assert_int_equal(post_copy(f->a, "ABC", "?generation=2", body, &r), 400);
    assert_int_equal(post_copy(f->a, "..%2f..%2fx", "?generation=2", body,
                               &r), 400);
    for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
        st = post_copy(f->a, x.hex, "?generation=2", bad_bodies[i], &r);
        if (st != 400)
            fail_msg("copy body <%s>: status %ld, want 400", bad_bodies[i],
                     st);
    }
    /* Unreachable source: 502. */
    assert_int_equal(post_copy(f->a, x.hex, "?generation=2", body, &r), 502);
    agenttest_assert_error_shape(&r);
    /* A live source that lacks the artifact (404): 502. */
    assert_int_equal(start_second(f), 0);
    copy_body(body, sizeof(body), agentproc_depot_url(f->b));
    assert_int_equal(post_copy(f->a, x.hex, "?generation=2", body, &r), 502);
    agenttest_assert_error_shape(&r);
    assert_int_equal(agentproc_count(f->a, x.hex), 0);
    /* And once the source has it, the same request works. */
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->b, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(post_copy(f->a, x.hex, "?generation=2", body, &r), 202);
    {
        struct agenttest_count c = {f->a, x.hex, 2};

        assert_true(testutil_wait_for(agenttest_count_is, &c, 30000));
    }
    close(dead_fd);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_depot__metrics(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128], ct[128];
    struct agenttest_art x;

    stored_artifact(f->a, &x, 123456);
    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(f->a));
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    assert_true(http_client_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(r.body.data);
    assert_non_null(strstr(r.body.data, "# TYPE "));
    /* Bytes written: at least the artifact's size (once per dataset or
     * once per request, either way >= 123456). */
    if (agenttest_metric_max(r.body.data, "bytes", "writ") < 123456.0)
        fail_msg("no metric for bytes written >= 123456 in:\n%s",
                 r.body.data);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_depot__get_and_range),
        AGENTTEST(test_agent_depot__errors),
        AGENTTEST(test_agent_depot__copy_between_agents),
        AGENTTEST(test_agent_depot__copy_checks_and_502),
        AGENTTEST(test_agent_depot__metrics),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
