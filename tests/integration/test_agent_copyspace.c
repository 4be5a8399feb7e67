/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of copy-from-depot against free space and quota
 * (DESIGN.md section 3, docs/API.md): a copy whose source announces a
 * Content-Length that does not fit the target's --quota-bytes gets 507
 * instead of 202 and stores nothing; one that fits is accepted; a source
 * without Content-Length (a fake depot in a thread of this test) that
 * sends more than the quota allows makes the copy fail cleanly on the
 * target (state "failed", no final file, tmp/ emptied).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define MIB (1024u * 1024)

static const char *const quota_args[] = {"--quota-bytes", "2097152", NULL};

/* The GET /copies entry of hex: its state and error into out/err_out. */
static bool copy_entry(struct agentproc *a, const char *hex, char *state,
                       size_t cap, char *err_out, size_t ecap)
{
    json_t *v = agenttest_copies(a), *e = agenttest_copy_of(v, hex);
    const char *s = json_string_value(json_object_get(e, "state"));
    const char *m = json_string_value(json_object_get(e, "error"));

    if (s) {
        snprintf(state, cap, "%s", s);
        snprintf(err_out, ecap, "%s", m ? m : "");
    }
    json_decref(v);
    return s != NULL;
}

struct state_arg {
    struct agentproc *a;
    const char *hex;
    const char *want;
    char err[512];
};

static bool copy_in_state(void *arg)
{
    struct state_arg *s = arg;
    char st[32];

    return copy_entry(s->a, s->hex, st, sizeof(st), s->err,
                      sizeof(s->err)) && !strcmp(st, s->want);
}

static void test_agent_copyspace__507_before_202(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const size_t big = 3 * MIB, small = 1 * MIB;
    char *data = mem_alloc(big);
    char hbig[SHA256_HEX_LEN + 1], hsmall[SHA256_HEX_LEN + 1];
    const char *cfg[2] = {hbig, hsmall};
    struct err e = ERR_INIT;
    struct agenttest_count c;

    assert_non_null(data);
    testutil_random(data, big);
    testutil_sha256_hex(hbig, data, big);
    testutil_sha256_hex(hsmall, data, small);
    /* The source (no quota) holds both. */
    assert_int_equal(agentproc_new(&f->b, NULL), 0);
    assert_int_equal(agentproc_start(f->b), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->b, hbig, 1, data, big, NULL),
                     200);
    assert_int_equal(agentproc_put_artifact(f->b, hsmall, 1, data, small,
                                            NULL), 200);
    /* The target has a 2 MiB quota: 3 MiB cannot fit. */
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(
        agenttest_post_copy(f->a, hbig, 1, agentproc_depot_url(f->b), &r),
        507);
    if (agentproc_check_error(&r, &e) < 0)
        fail_msg("%s", e.msg);
    agenttest_assert_nothing_stored(f->a, hbig);
    /* 1 MiB fits. */
    assert_int_equal(
        agenttest_post_copy(f->a, hsmall, 1, agentproc_depot_url(f->b), &r),
        202);
    c.a = f->a;
    c.hex = hsmall;
    c.want = 2;
    assert_true(testutil_wait_for(agenttest_count_is, &c, 30000));
    assert_int_equal(agentproc_check_files(f->a, NULL, &e), 0);
    http_client_resp_release(&r);
    mem_free(data);
    f->passed = true;
}

/* A depot that answers one GET with 200, no Content-Length, `len` bytes
 * of data, then closes. */
struct fake_depot {
    int lfd;
    int port;
    const char *data;
    size_t len;
    pthread_t th;
};

static void *fake_depot_run(void *arg)
{
    struct fake_depot *d = arg;
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: "
                               "application/octet-stream\r\n"
                               "Connection: close\r\n\r\n";
    struct pollfd pfd = {d->lfd, POLLIN, 0};
    char req[4096];
    size_t off = 0;
    int fd;

    if (poll(&pfd, 1, 20000) <= 0)
        return NULL;
    fd = accept(d->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    recv(fd, req, sizeof(req), 0);
    if (send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL) > 0)
        while (off < d->len) {
            size_t n = d->len - off < 65536 ? d->len - off : 65536;
            ssize_t k = send(fd, d->data + off, n, MSG_NOSIGNAL);

            if (k <= 0)
                break;
            off += (size_t)k;
        }
    close(fd);
    return NULL;
}

static void fake_depot_start(struct fake_depot *d)
{
    d->lfd = http_client_listener(&d->port, 4);
    assert_int_equal(pthread_create(&d->th, NULL, fake_depot_run, d), 0);
}

static void test_agent_copyspace__no_length_source_over_quota(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const size_t len = 3 * MIB;
    char *data = mem_alloc(len), base[64];
    char hex[SHA256_HEX_LEN + 1];
    const char *cfg[1] = {hex};
    struct fake_depot d = {0};
    struct state_arg s;

    assert_non_null(data);
    testutil_random(data, len);
    testutil_sha256_hex(hex, data, len);
    d.data = data;
    d.len = len;
    fake_depot_start(&d);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", d.port);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    /* Unknown length: accepted, then refused as the bytes pass the quota. */
    assert_int_equal(agenttest_post_copy(f->a, hex, 1, base, &r), 202);
    s.a = f->a;
    s.hex = hex;
    s.want = "failed";
    if (!testutil_wait_for(copy_in_state, &s, 30000))
        fail_msg("copy of a 3 MiB body past a 2 MiB quota did not fail");
    if (!strstr(s.err, "space") && !strstr(s.err, "quota"))
        fail_msg("copy error does not name space or quota: %s", s.err);
    agenttest_assert_nothing_stored(f->a, hex);
    pthread_join(d.th, NULL);
    close(d.lfd);
    assert_true(agentproc_alive(f->a));
    http_client_resp_release(&r);
    mem_free(data);
    f->passed = true;
}

#define T(fn) cmocka_unit_test_prestate_setup_teardown(                   \
    fn, agentproc_fixture_setup, agentproc_fixture_teardown,              \
    (void *)quota_args)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_agent_copyspace__507_before_202),
        T(test_agent_copyspace__no_length_source_over_quota),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
