/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_agent_copylimits: issue 10 deliver 3 and 5, copy sources that
 * would squat a sledagent's write slots and space, built in the test (a
 * thread serving any number of copy connections):
 *  - a source that announces 8 MiB and trickles 2 bytes/s fails the copy
 *    under --copy-min-rate (averaged over --copy-stall-timeout), reported
 *    in GET /copies; meanwhile its reservation holds the quota (a PUT
 *    gets 507), once it failed a PUT that needs that space succeeds,
 *    tmp/ is empty and the log stayed small;
 *  - copies never take every write slot: with --max-writes 4 three
 *    trickling copies hold the copies' three slots, a fourth copy gets
 *    429 and the controller's PUT is still served;
 *  - a copy never writes more than the artifact's length named in the
 *    request: a source without Content-Length that never ends fails the
 *    copy at that length (nothing kept), and one that announces another
 *    length is refused before the 202.
 * Test thread, and the source's thread.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/mem.h"
#include "common/sha256.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define MIB (1024u * 1024)
#define SRC_CONNS 8
#define WAIT_MS 60000
#define LOG_BYTES_MAX (256 * 1024)

/*
 * The hostile source: every connection gets a 200 with Content-Length
 * announce (-1: none), then `trickle` bytes per second (0: as fast as
 * the copy reads, without end).
 */
struct source {
    int lfd;
    int port;
    int64_t announce;
    unsigned trickle;
    volatile int stop;
    int fds[SRC_CONNS];
    int nfds;
    pthread_t th;
};

static void source_greet(struct source *s, int fd)
{
    char req[4096], head[256];
    int n;

    (void)recv(fd, req, sizeof(req), 0);
    if (s->announce >= 0)
        n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length:"
                     " %lld\r\n\r\n", (long long)s->announce);
    else
        n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: "
                     "close\r\n\r\n");
    (void)send(fd, head, (size_t)n, MSG_NOSIGNAL);
}

static void *source_run(void *arg)
{
    static char junk[65536];
    struct source *s = arg;

    while (!s->stop) {
        struct pollfd pfd = {s->lfd, POLLIN, 0};

        if (poll(&pfd, 1, s->trickle ? 1000 : 0) > 0 && s->nfds < SRC_CONNS) {
            int fd = accept(s->lfd, NULL, NULL);

            if (fd >= 0) {
                source_greet(s, fd);
                s->fds[s->nfds++] = fd;
            }
        }
        for (int i = 0; i < s->nfds; i++) {
            if (s->fds[i] < 0)
                continue;
            if (send(s->fds[i], junk, s->trickle ? s->trickle : sizeof(junk),
                     MSG_NOSIGNAL) < 0) {
                close(s->fds[i]);
                s->fds[i] = -1;
            }
        }
        if (!s->trickle && s->nfds == 0)
            poll(&pfd, 1, 100);
        if (!s->trickle && s->nfds > 0 && s->fds[s->nfds - 1] < 0)
            poll(NULL, 0, 20); /* served; wait for stop */
    }
    for (int i = 0; i < s->nfds; i++)
        if (s->fds[i] >= 0)
            close(s->fds[i]);
    return NULL;
}

static void source_start(struct source *s, int64_t announce, unsigned trickle)
{
    memset(s, 0, sizeof(*s));
    s->announce = announce;
    s->trickle = trickle;
    s->lfd = http_client_listener(&s->port, 16);
    assert_int_equal(pthread_create(&s->th, NULL, source_run, s), 0);
}

static void source_stop(struct source *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->lfd);
}

/* POST copy-from-depot of hex from the source; length < 0: not named. */
static long post_copy(struct agentproc *a, const char *hex,
                      const struct source *s, int64_t length)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256], body[256];
    long st = -1;

    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot?generation=1",
             agentproc_api_url(a), hex);
    if (length >= 0)
        snprintf(body, sizeof(body), "{\"depot_base_url\": "
                 "\"http://127.0.0.1:%d\", \"length\": %lld}", s->port,
                 (long long)length);
    else
        snprintf(body, sizeof(body), "{\"depot_base_url\": "
                 "\"http://127.0.0.1:%d\"}", s->port);
    if (http_client_send(&r, "POST", url, body, strlen(body)) == 0)
        st = r.status;
    http_client_resp_release(&r);
    return st;
}

struct copy_want {
    struct agentproc *a;
    const char *hex;
    const char *state;
    char error[512];
    long long bytes;
};

/* testutil_wait_for: the newest GET /copies entry of hex is in state. */
static bool copy_is(void *arg)
{
    struct copy_want *w = arg;
    json_t *v = agenttest_copies(w->a), *e = agenttest_copy_of(v, w->hex);
    const char *s = json_string_value(json_object_get(e, "state"));
    const char *m = json_string_value(json_object_get(e, "error"));
    bool yes = false;

    if (e) {
        yes = s && !strcmp(s, w->state);
        snprintf(w->error, sizeof(w->error), "%s", m ? m : "");
        w->bytes = (long long)json_integer_value(json_object_get(e, "bytes"));
    }
    json_decref(v);
    return yes;
}

static void random_hex(char hex[SHA256_HEX_LEN + 1])
{
    char b[32];

    testutil_random(b, sizeof(b));
    testutil_sha256_hex(hex, b, sizeof(b));
}

static long log_size(const struct agentproc *a)
{
    struct stat sb;

    return stat(agentproc_log_path(a), &sb) == 0 ? (long)sb.st_size : -1;
}

/* GET /artifacts' "copy_sources_failed" names the source s. */
static bool list_names_failed_source(struct agentproc *a,
                                     const struct source *s)
{
    json_t *l = NULL, *v;
    char want[64];
    size_t i;
    bool yes = false;

    snprintf(want, sizeof(want), "http://127.0.0.1:%d", s->port);
    if (agentproc_list(a, &l) != 200)
        return false;
    json_array_foreach(json_object_get(l, "copy_sources_failed"), i, v)
        yes |= json_is_string(v) && !strcmp(json_string_value(v), want);
    json_decref(l);
    return yes;
}

/* a 6 s window: the PUT that checks the reservation is made well
 * before the copy fails, even on a loaded machine */
static const char *const trickle_args[] = {
    "--copy-stall-timeout", "6", "--copy-min-rate", "65536",
    "--quota-bytes", "12582912", NULL};

static void test_agent_copylimits__trickle_fails(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art put;
    struct source s;
    char hex[SHA256_HEX_LEN + 1];
    const char *cfg[2];
    struct copy_want w = {0};
    long log0;

    agenttest_art_make(&put, 6 * MIB);
    random_hex(hex);
    cfg[0] = hex;
    cfg[1] = put.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    log0 = log_size(f->a);
    source_start(&s, 8 * MIB, 2);
    assert_int_equal(post_copy(f->a, hex, &s, -1), 202);
    /* 8 MiB reserved of the 12 MiB quota: the 6 MiB PUT does not fit */
    assert_int_equal(agentproc_put_artifact(f->a, put.hex, 1, put.data,
                                            put.len, NULL), 507);
    w.a = f->a;
    w.hex = hex;
    w.state = "failed";
    if (!testutil_wait_for(copy_is, &w, WAIT_MS))
        fail_msg("a source trickling 2 bytes/s still holds its copy");
    printf("# copy error: %s\n", w.error);
    assert_non_null(strstr(w.error, "too slow"));
    /* the list tells the controller which source to avoid */
    assert_true(list_names_failed_source(f->a, &s));
    /* its reservation and write slot are free */
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->a, 10000));
    assert_int_equal(agentproc_put_artifact(f->a, put.hex, 1, put.data,
                                            put.len, NULL), 200);
    source_stop(&s);
    printf("# log bytes while the source trickled: %ld\n",
           log_size(f->a) - log0);
    assert_true(log_size(f->a) - log0 < LOG_BYTES_MAX);
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&put);
    f->passed = true;
}

static const char *const slots_args[] = {
    "--max-writes", "4", "--copy-min-rate", "0", NULL};

static void test_agent_copylimits__slots_kept_for_puts(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art put;
    struct source s;
    char hex[4][SHA256_HEX_LEN + 1], url[256], body[128];
    const char *cfg[5];
    json_t *v;

    agenttest_art_make(&put, MIB);
    for (int i = 0; i < 4; i++) {
        random_hex(hex[i]);
        cfg[i] = hex[i];
    }
    cfg[4] = put.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 5), 204);
    source_start(&s, MIB, 2);
    for (int i = 0; i < 3; i++)
        assert_int_equal(post_copy(f->a, hex[i], &s, -1), 202);
    /* the copies' slots (4 - 1 kept for PUTs) are taken */
    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot?generation=1",
             agentproc_api_url(f->a), hex[3]);
    snprintf(body, sizeof(body), "{\"depot_base_url\": "
             "\"http://127.0.0.1:%d\"}", s.port);
    assert_int_equal(http_client_send(&r, "POST", url, body, strlen(body)),
                     0);
    assert_int_equal(r.status, 429);
    v = http_client_json(&r);
    assert_non_null(strstr(json_string_value(json_object_get(v, "message")),
                           "kept for PUTs"));
    json_decref(v);
    http_client_resp_release(&r);
    /* the controller's PUT still gets a slot */
    assert_int_equal(agentproc_put_artifact(f->a, put.hex, 1, put.data,
                                            put.len, NULL), 200);
    source_stop(&s); /* the copies fail: their source is gone */
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->a, WAIT_MS));
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&put);
    f->passed = true;
}

static void test_agent_copylimits__length_caps_the_copy(void **state)
{
    struct agentproc_fixture *f = *state;
    struct source s;
    char hex[2][SHA256_HEX_LEN + 1];
    const char *cfg[2];
    struct copy_want w = {0};

    random_hex(hex[0]);
    random_hex(hex[1]);
    cfg[0] = hex[0];
    cfg[1] = hex[1];
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    /* no Content-Length and no end: stopped at the named length */
    source_start(&s, -1, 0);
    assert_int_equal(post_copy(f->a, hex[0], &s, (int64_t)MIB), 202);
    w.a = f->a;
    w.hex = hex[0];
    w.state = "failed";
    if (!testutil_wait_for(copy_is, &w, WAIT_MS))
        fail_msg("an endless source was not stopped at the length");
    printf("# endless source: %lld bytes, %s\n", w.bytes, w.error);
    assert_true(w.bytes <= (long long)MIB + 65536);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->a, 10000));
    source_stop(&s);
    /* announcing another length than the artifact's: refused */
    source_start(&s, 2 * MIB, 0);
    assert_int_equal(post_copy(f->a, hex[1], &s, (int64_t)MIB), 502);
    source_stop(&s);
    assert_int_equal(agentproc_count(f->a, hex[0]), 0);
    assert_int_equal(agentproc_count(f->a, hex[1]), 0);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->a, 10000));
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST_ARGS(test_agent_copylimits__trickle_fails, trickle_args),
        AGENTTEST_ARGS(test_agent_copylimits__slots_kept_for_puts,
                       slots_args),
        AGENTTEST(test_agent_copylimits__length_caps_the_copy),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
