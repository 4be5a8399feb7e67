/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of the PUT body path of the reconciliation task's execute
 * phase (replicator/task/sledreq.c): the staged file is opened and read
 * on a worker, never on the event loop. A FIFO stands in for a slow
 * disk: the writer sends half the body, then waits until the loop has
 * ticked a timer several times before it sends the rest; a loop blocked
 * in a read never ticks and the writer gives up waiting. Also: every
 * byte arrives with the right Content-Length, a missing file ends the
 * request without contacting the server, and freeing a request while a
 * read is in flight leaks nothing. The server is a socket in a thread of
 * this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "common/httpc.h"
#include "common/mem.h"
#include "common/workq.h"
#include "replicator/task/sledreq.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define BODY_LEN (256u * 1024)

/* ---- a one-request-per-connection server counting body bytes ---- */

struct server {
    int lfd, port;
    pthread_t th;
    atomic_int conns;
    atomic_ulong body_bytes;
    atomic_ulong content_length;
};

static void *server_run(void *arg)
{
    struct server *s = arg;

    for (;;) {
        char buf[16384];
        size_t have = 0, head_end = 0, body = 0, clen = 0;
        int fd = accept(s->lfd, NULL, NULL);
        const char *cl;

        if (fd < 0)
            return NULL;
        atomic_fetch_add(&s->conns, 1);
        /* read the head */
        while (!head_end && have < sizeof(buf) - 1) {
            ssize_t k = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
            char *e;

            if (k <= 0)
                break;
            have += (size_t)k;
            buf[have] = '\0';
            e = strstr(buf, "\r\n\r\n");
            if (e)
                head_end = (size_t)(e - buf) + 4;
        }
        cl = head_end ? strcasestr(buf, "content-length:") : NULL;
        if (cl)
            clen = strtoul(cl + 15, NULL, 10);
        atomic_store(&s->content_length, clen);
        body = have - head_end;
        while (head_end && body < clen) {
            ssize_t k = recv(fd, buf, sizeof(buf), 0);

            if (k <= 0)
                break;
            body += (size_t)k;
        }
        atomic_store(&s->body_bytes, body);
        if (head_end) {
            static const char rep[] = "HTTP/1.1 200 OK\r\nContent-Length: 2"
                                      "\r\nConnection: close\r\n\r\n{}";

            (void)!send(fd, rep, sizeof(rep) - 1, MSG_NOSIGNAL);
        }
        close(fd);
    }
}

static void server_start(struct server *s)
{
    memset(s, 0, sizeof(*s));
    s->lfd = http_client_listener(&s->port, 16);
    assert_int_equal(pthread_create(&s->th, NULL, server_run, s), 0);
}

static void server_stop(struct server *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    close(s->lfd);
    pthread_join(s->th, NULL);
}

/* ---- the loop side ---- */

struct fix {
    struct event_base *base;
    struct httpc_loop *cv;
    struct workq *wq;
    struct server srv;
    char *tmp;
    char url[96];
    struct event *tick;
    atomic_int ticks;
    bool done;
    long status;
    char error[256];
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct fix *f = arg;

    (void)fd;
    (void)what;
    atomic_fetch_add(&f->ticks, 1);
}

static void on_done(struct sledreq *q, void *arg)
{
    struct fix *f = arg;

    f->done = true;
    f->status = sledreq_status(q);
    snprintf(f->error, sizeof(f->error), "%s", sledreq_error(q));
    event_base_loopbreak(f->base);
}

static int setup(void **state)
{
    struct fix *f = mem_calloc(1, sizeof(*f));
    struct timeval tv = {0, 20000};

    if (!f)
        return -1;
    f->base = event_base_new();
    if (!f->base || httpc_loop_new(&f->cv, f->base) < 0 ||
        workq_new(&f->wq, f->base, 1) < 0 ||
        testutil_tmpdir(&f->tmp, "xupload") < 0)
        return -1;
    server_start(&f->srv);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/artifacts/x",
             f->srv.port);
    f->tick = event_new(f->base, -1, EV_PERSIST, on_tick, f);
    if (!f->tick || event_add(f->tick, &tv) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    event_free(f->tick);
    workq_free(f->wq);
    httpc_loop_free(f->cv);
    event_base_free(f->base);
    server_stop(&f->srv);
    testutil_rmrf(f->tmp);
    mem_free(f->tmp);
    mem_free(f);
    return 0;
}

static void run_until_done(struct fix *f, long timeout_ms)
{
    int64_t end = testutil_now_ms() + timeout_ms;

    while (!f->done && testutil_now_ms() < end) {
        struct timeval tv = {0, 100000};

        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
    }
}

static struct sledreq *put(struct fix *f, const char *path, uint64_t len)
{
    struct sledreq_opts o;
    struct sledreq *q = NULL;

    memset(&o, 0, sizeof(o));
    o.method = "PUT";
    o.url = f->url;
    o.upload_path = path;
    o.upload_len = len;
    o.wq = f->wq;
    assert_int_equal(sledreq_start(&q, f->cv, &o, on_done, f), 0);
    assert_non_null(q);
    assert_false(f->done); /* never from inside start */
    return q;
}

struct writer {
    char *path;
    struct fix *f;
    bool waited_out; /* the loop did not tick while the body was half in */
};

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    char *buf = mem_alloc(BODY_LEN / 2);
    int fd = open(w->path, O_WRONLY | O_CLOEXEC);
    int64_t deadline = testutil_now_ms() + 3000;
    int start;

    if (!buf || fd < 0) {
        mem_free(buf);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    memset(buf, 'a', BODY_LEN / 2);
    (void)!write(fd, buf, BODY_LEN / 2);
    /* The reader now waits for the rest: the loop must keep ticking. */
    testutil_sleep_ms(50);
    start = atomic_load(&w->f->ticks);
    while (atomic_load(&w->f->ticks) < start + 5) {
        if (testutil_now_ms() > deadline) {
            w->waited_out = true;
            break;
        }
        testutil_sleep_ms(5);
    }
    (void)!write(fd, buf, BODY_LEN / 2);
    close(fd);
    mem_free(buf);
    return NULL;
}

/* A staged file that reads slowly (a FIFO) does not stall the loop. */
static void test_execute_upload__loop_never_reads_disk(void **state)
{
    struct fix *f = *state;
    struct writer w = {NULL, f, false};
    struct sledreq *q;
    pthread_t th;

    w.path = testutil_join(f->tmp, "slow.fifo");
    assert_int_equal(mkfifo(w.path, 0600), 0);
    assert_int_equal(pthread_create(&th, NULL, writer_run, &w), 0);
    q = put(f, w.path, BODY_LEN);
    run_until_done(f, 15000);
    pthread_join(th, NULL);
    assert_false(w.waited_out);
    assert_true(f->done);
    assert_int_equal(f->status, 200);
    assert_int_equal(atomic_load(&f->srv.content_length), BODY_LEN);
    assert_int_equal(atomic_load(&f->srv.body_bytes), BODY_LEN);
    sledreq_free(q);
    mem_free(w.path);
}

/* A regular file of several pieces arrives whole. */
static void test_execute_upload__file_arrives_whole(void **state)
{
    struct fix *f = *state;
    const size_t len = 5 * SLEDREQ_CHUNK + 123;
    char *path = testutil_join(f->tmp, "staged");
    char *data = mem_alloc(len);
    struct sledreq *q;

    assert_non_null(data);
    testutil_pattern(data, len, 7, 0);
    assert_int_equal(testutil_write_file(path, data, len), 0);
    q = put(f, path, len);
    run_until_done(f, 15000);
    assert_true(f->done);
    assert_int_equal(f->status, 200);
    assert_int_equal(atomic_load(&f->srv.body_bytes), len);
    sledreq_free(q);
    mem_free(data);
    mem_free(path);
}

/* A missing or short staged file fails without bothering the sled (or
 * with an aborted body), with a reason. */
static void test_execute_upload__unreadable(void **state)
{
    struct fix *f = *state;
    char *path = testutil_join(f->tmp, "absent");
    struct sledreq *q = put(f, path, 1000);

    run_until_done(f, 15000);
    assert_true(f->done);
    assert_int_equal(f->status, 0);
    assert_non_null(strstr(f->error, "cannot read the staged file"));
    assert_int_equal(atomic_load(&f->srv.conns), 0);
    sledreq_free(q);
    /* shorter than its recorded length */
    f->done = false;
    assert_int_equal(testutil_write_file(path, "abc", 3), 0);
    q = put(f, path, 3 * SLEDREQ_CHUNK);
    run_until_done(f, 15000);
    assert_true(f->done);
    assert_int_equal(f->status, 0);
    assert_non_null(strstr(f->error, "shorter than its length"));
    sledreq_free(q);
    mem_free(path);
}

/* Freed while its first read is in flight: the worker's piece is
 * dropped when it returns (no leak, no use after free: ASan). */
static void test_execute_upload__free_during_read(void **state)
{
    struct fix *f = *state;
    char *path = testutil_join(f->tmp, "never.fifo");
    struct sledreq *q;
    int fd;

    assert_int_equal(mkfifo(path, 0600), 0);
    q = put(f, path, 1000);
    sledreq_free(q);
    /* unblock the worker's open/read */
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    close(fd);
    run_until_done(f, 300);
    assert_false(f->done);
    mem_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_execute_upload__loop_never_reads_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_execute_upload__file_arrives_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_execute_upload__unreadable,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_execute_upload__free_during_read, setup, teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
