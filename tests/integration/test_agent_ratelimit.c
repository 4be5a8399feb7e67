/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box test of --rate-limit (docs/API.md): with 2 MiB/s, a 6 MiB PUT
 * and a 6 MiB depot GET each take about 2 s (the bucket holds one second
 * of burst), a copy pulling 6 MiB from a rate-limited source as well, and
 * two concurrent copies into a rate-limited agent share its rate (3 MiB
 * each: about 3 s nominal, ~1.6 s measured as curl allows a burst; each
 * copy at the whole rate finished in ~0.8 s). With --link-rate, a PUT
 * body arriving lowers the copies' receive cap by its rate and the
 * headroom, and the cap comes back when the body stops (inbound.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define MIB (1024u * 1024)

static const char *const limited_args[] = {"--rate-limit", "2097152", NULL};
static const char *const link_args[] = {"--link-rate", "2097152", NULL};

struct count_arg {
    struct agentproc *a;
    const char *h1, *h2;
};

static bool both_stored(void *arg)
{
    struct count_arg *c = arg;

    return agentproc_count(c->a, c->h1) == 2 &&
           (!c->h2 || agentproc_count(c->a, c->h2) == 2);
}

static void assert_secs(int64_t ms, double lo, double hi, const char *what)
{
    if (ms < lo * 1000 || ms > hi * 1000)
        fail_msg("%s took %.2f s, want %.1f..%.1f s", what, ms / 1000.0, lo,
                 hi);
}

static void test_agent_ratelimit__put_get_copies(void **state)
{
    struct agentproc_fixture *f = *state;
    const size_t big = 6 * MIB, part = 3 * MIB;
    char *data = mem_alloc(big + part), url[256];
    char hx[SHA256_HEX_LEN + 1], hy[SHA256_HEX_LEN + 1];
    char hz[SHA256_HEX_LEN + 1];
    const char *cfg[3] = {hx, hy, hz};
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct count_arg c;
    int64_t t0;

    assert_non_null(data);
    testutil_random(data, big + part);
    testutil_sha256_hex(hx, data, big);
    testutil_sha256_hex(hy, data, part);
    testutil_sha256_hex(hz, data + big, part);
    /* f->a is limited to 2 MiB/s, f->b is not. */
    assert_int_equal(agentproc_new(&f->b, NULL), 0);
    assert_int_equal(agentproc_start(f->b), 0);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 3), 204);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 3), 204);

    t0 = testutil_now_ms();
    assert_int_equal(agentproc_put_artifact(f->a, hx, 1, data, big, NULL),
                     200);
    assert_secs(testutil_now_ms() - t0, 1.8, 8, "6 MiB PUT at 2 MiB/s");

    snprintf(url, sizeof(url), "%s/artifact/sha256/%s",
             agentproc_depot_url(f->a), hx);
    t0 = testutil_now_ms();
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_total, big);
    assert_secs(testutil_now_ms() - t0, 1.8, 8, "6 MiB GET at 2 MiB/s");

    /* A copy pulling from the limited source. */
    t0 = testutil_now_ms();
    assert_int_equal(
        agenttest_post_copy(f->b, hx, 1, agentproc_depot_url(f->a), NULL),
        202);
    c.a = f->b;
    c.h1 = hx;
    c.h2 = NULL;
    assert_true(testutil_wait_for(both_stored, &c, 20000));
    assert_secs(testutil_now_ms() - t0, 1.8, 10,
                "6 MiB copy from a 2 MiB/s source");

    /* Two copies into the limited agent share its 2 MiB/s. */
    assert_int_equal(agentproc_put_artifact(f->b, hy, 1, data, part, NULL),
                     200);
    assert_int_equal(agentproc_put_artifact(f->b, hz, 1, data + big, part,
                                            NULL), 200);
    t0 = testutil_now_ms();
    assert_int_equal(
        agenttest_post_copy(f->a, hy, 1, agentproc_depot_url(f->b), NULL),
        202);
    assert_int_equal(
        agenttest_post_copy(f->a, hz, 1, agentproc_depot_url(f->b), NULL),
        202);
    c.a = f->a;
    c.h1 = hy;
    c.h2 = hz;
    assert_true(testutil_wait_for(both_stored, &c, 30000));
    assert_secs(testutil_now_ms() - t0, 1.25, 12,
                "two 3 MiB copies into a 2 MiB/s agent");
    http_client_resp_release(&r);
    mem_free(data);
    f->passed = true;
}

/*
 * SIGTERM while rate-limited transfers are open exits 0. Regression: the
 * connections' bufferevents stayed members of the rate-limit group until
 * their deferred callbacks ran, and freeing the group at shutdown aborted
 * ("Assertion 0 == g->n_members failed", exit 134).
 */
static void test_agent_ratelimit__sigterm_with_transfers(void **state)
{
    struct agentproc_fixture *f = *state;
    const size_t len = 3 * MIB;
    char *data = mem_alloc(len), url[256], hx[SHA256_HEX_LEN + 1];
    const char *cfg[1] = {hx};
    struct http_client_async *gets[3];
    struct http_client_req req = {0};

    assert_non_null(data);
    testutil_random(data, len);
    testutil_sha256_hex(hx, data, len);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, hx, 1, data, len, NULL),
                     200);
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s",
             agentproc_depot_url(f->a), hx);
    req.url = url;
    req.timeout_ms = 30000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(http_client_start(&gets[i], &req), 0);
    testutil_sleep_ms(700); /* the three GETs are mid-body at 2 MiB/s */
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    for (int i = 0; i < 3; i++) {
        struct http_client_resp r = HTTP_CLIENT_RESP_INIT;

        http_client_join(gets[i], &r);
        http_client_resp_release(&r);
    }
    mem_free(data);
    f->passed = true;
}

/* The copies' receive cap a's /metrics shows (-1: none shown). */
static double recv_cap(struct agentproc *a)
{
    return agenttest_agent_metric(
        a, "sledagent_copies_recv_cap_bytes_per_second");
}

struct cap_arg {
    struct agentproc *a;
    double want;
};

static bool cap_is(void *arg)
{
    struct cap_arg *c = arg;

    return recv_cap(c->a) == c->want;
}

/*
 * 2 MiB/s link, no cap of its own: the copies are uncapped (0) until a
 * PUT body starts; then link/1024 (the floor: a new PUT counts as filling
 * the link for a second), link - link/2 (1048576) once a second passed
 * with nothing arrived, link - 512 KiB - link/2 (524288) while 512 KiB
 * that arrived at once are in the last second's window, link - link/2
 * again once they left the window, the floor while 2 MiB are in it. Two
 * PUTs: the cap stays until the last one stops (the first one's client
 * gone mid-body, the second one complete), then no cap.
 */
static void test_agent_ratelimit__put_takes_link(void **state)
{
    struct agentproc_fixture *f = *state;
    const size_t len = 4 * MIB;
    char *data = mem_alloc(len), hx[SHA256_HEX_LEN + 1], head[512];
    char hy[SHA256_HEX_LEN + 1];
    const char *cfg[2] = {hx, hy};
    struct cap_arg c = {f->a, 0};
    int fd = -1, fd2 = -1;

    assert_non_null(data);
    testutil_random(data, len);
    testutil_sha256_hex(hx, data, len);
    testutil_sha256_hex(hy, data, len / 2);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_true(recv_cap(f->a) == 0);

    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->a)),
                     0);
    snprintf(head, sizeof(head), "PUT /artifacts/%s?generation=1 HTTP/1.1\r\n"
             "Host: x\r\nContent-Length: %zu\r\n\r\n", hx, len);
    assert_int_equal(http_client_raw_send(fd, head, strlen(head)), 0);
    c.want = 2097152 / 1024;
    assert_true(testutil_wait_for(cap_is, &c, 5000));
    c.want = 2097152 - 1048576;
    assert_true(testutil_wait_for(cap_is, &c, 5000));

    assert_int_equal(http_client_raw_send(fd, data, MIB / 2), 0);
    c.want = 2097152 - 524288 - 1048576;
    assert_true(testutil_wait_for(cap_is, &c, 5000));
    c.want = 2097152 - 1048576;
    assert_true(testutil_wait_for(cap_is, &c, 5000));
    /* a second at the link's rate: the copies keep link/1024 */
    assert_int_equal(http_client_raw_send(fd, data + MIB / 2, 2 * MIB), 0);
    c.want = 2097152 / 1024;
    assert_true(testutil_wait_for(cap_is, &c, 5000));

    /* a second PUT; the first one's client goes away: still capped */
    assert_int_equal(http_client_raw_connect(&fd2, agentproc_api_port(f->a)),
                     0);
    snprintf(head, sizeof(head), "PUT /artifacts/%s?generation=1 HTTP/1.1\r\n"
             "Host: x\r\nContent-Length: %zu\r\n\r\n", hy, len / 2);
    assert_int_equal(http_client_raw_send(fd2, head, strlen(head)), 0);
    testutil_sleep_ms(300);
    close(fd);
    c.want = 2097152 - 1048576;
    assert_true(testutil_wait_for(cap_is, &c, 5000));

    /* the second body completes: its artifact is stored, no cap */
    assert_int_equal(http_client_raw_send(fd2, data, len / 2), 0);
    c.want = 0;
    assert_true(testutil_wait_for(cap_is, &c, 5000));
    assert_true(testutil_wait_for(agenttest_count_is,
                                  &(struct agenttest_count){f->a, hy, 2},
                                  10000));
    assert_int_equal(agentproc_count(f->a, hx), 0);
    close(fd2);
    mem_free(data);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(
            test_agent_ratelimit__put_get_copies, agentproc_fixture_setup,
            agentproc_fixture_teardown, (void *)limited_args),
        cmocka_unit_test_prestate_setup_teardown(
            test_agent_ratelimit__sigterm_with_transfers,
            agentproc_fixture_setup, agentproc_fixture_teardown,
            (void *)limited_args),
        cmocka_unit_test_prestate_setup_teardown(
            test_agent_ratelimit__put_takes_link, agentproc_fixture_setup,
            agentproc_fixture_teardown, (void *)link_args),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
