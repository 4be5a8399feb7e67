/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of common/curlev (libcurl multi on libevent) against a tiny
 * server in this test (a listening socket, one thread per connection):
 * a GET completes with its body, a refused connect reports an error,
 * pause/resume delivers every byte, a stalled source trips the
 * no-progress timeout, and many concurrent transfers complete.
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
#include <poll.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "common/curlev.h"
#include "common/mem.h"

#define MAX_CONNS 128

struct server {
    int lfd, port;
    pthread_t th;
    pthread_t conns[MAX_CONNS];
    unsigned nconns;
    volatile bool stop;
};

struct conn {
    struct server *s;
    int fd;
};

/* "GET /body/N" sends N bytes of (i & 0xff); "/stall" 10 bytes of 1000. */
static void *conn_run(void *arg)
{
    struct conn *c = arg;
    char req[2048], head[256], buf[8192];
    ssize_t k = recv(c->fd, req, sizeof(req) - 1, 0);
    size_t n = 0, off = 0;

    if (k > 0) {
        req[k] = '\0';
        if (strncmp(req, "GET /body/", 10) == 0)
            n = strtoul(req + 10, NULL, 10);
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
                 "%zu\r\nConnection: close\r\n\r\n",
                 strncmp(req, "GET /stall", 10) == 0 ? (size_t)1000 : n);
        send(c->fd, head, strlen(head), MSG_NOSIGNAL);
        if (strncmp(req, "GET /stall", 10) == 0) {
            send(c->fd, "0123456789", 10, MSG_NOSIGNAL);
            while (!c->s->stop) {
                struct pollfd p = {c->fd, POLLIN, 0};

                if (poll(&p, 1, 50) > 0 && recv(c->fd, buf, 1, 0) <= 0)
                    break;
            }
        }
        while (off < n) {
            size_t m = n - off < sizeof(buf) ? n - off : sizeof(buf);

            for (size_t i = 0; i < m; i++)
                buf[i] = (char)((off + i) & 0xff);
            if (send(c->fd, buf, m, MSG_NOSIGNAL) <= 0)
                break;
            off += m;
        }
    }
    close(c->fd);
    mem_free(c);
    return NULL;
}

static void *accept_run(void *arg)
{
    struct server *s = arg;

    while (!s->stop) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        struct conn *c;
        int fd;

        if (poll(&p, 1, 50) <= 0)
            continue;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        c = mem_calloc(1, sizeof(*c));
        if (!c || s->nconns == MAX_CONNS) {
            mem_free(c);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        if (pthread_create(&s->conns[s->nconns], NULL, conn_run, c) == 0)
            s->nconns++;
        else
            close(fd), mem_free(c);
    }
    return NULL;
}

static int bound_socket(int *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int setup(void **state)
{
    struct server *s = mem_calloc(1, sizeof(*s));

    if (!s)
        return -1;
    s->lfd = bound_socket(&s->port);
    if (listen(s->lfd, 128) < 0 ||
        pthread_create(&s->th, NULL, accept_run, s) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct server *s = *state;

    s->stop = true;
    pthread_join(s->th, NULL);
    for (unsigned i = 0; i < s->nconns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->lfd);
    mem_free(s);
    return 0;
}

struct xfer {
    struct event_base *base;
    struct curlev *cv;
    CURL *easy;
    unsigned *left;
    CURLcode res;
    bool done, bad_data, pause_once, paused;
    size_t got;
    char url[128];
};

static size_t on_write(char *p, size_t sz, size_t n, void *arg)
{
    struct xfer *x = arg;

    if (x->pause_once) {
        x->pause_once = false;
        x->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    for (size_t i = 0; i < sz * n; i++)
        if ((unsigned char)p[i] != ((x->got + i) & 0xff))
            x->bad_data = true;
    x->got += sz * n;
    return sz * n;
}

static void on_done(CURL *easy, CURLcode res, void *arg)
{
    struct xfer *x = arg;

    x->res = res;
    x->done = true;
    curl_easy_cleanup(easy);
    x->easy = NULL;
    if (--*x->left == 0)
        event_base_loopbreak(x->base);
}

static void xfer_start(struct xfer *x, const char *url, long stall_secs)
{
    snprintf(x->url, sizeof(x->url), "%s", url);
    x->easy = curl_easy_init();
    assert_non_null(x->easy);
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    if (stall_secs) {
        curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, stall_secs);
    }
    assert_int_equal(curlev_add(x->cv, x->easy, on_done, x), 0);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Run the loop until every transfer ended or 15 s passed. */
static void run(struct event_base *base)
{
    struct timeval tv = {15, 0};
    struct event *wd = evtimer_new(base, on_watchdog, base);

    evtimer_add(wd, &tv);
    event_base_dispatch(base);
    event_free(wd);
}

static void run_n(struct server *s, struct xfer *xs, unsigned n,
                  const char *path, long stall)
{
    struct event_base *base = event_base_new();
    struct curlev *cv = NULL;
    unsigned left = n;
    char url[128];

    assert_non_null(base);
    assert_int_equal(curlev_new(&cv, base), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
    for (unsigned i = 0; i < n; i++) {
        xs[i].base = base;
        xs[i].cv = cv;
        xs[i].left = &left;
        xfer_start(&xs[i], url, stall);
    }
    run(base);
    assert_int_equal(left, 0);
    assert_int_equal(curlev_running(cv), 0);
    curlev_free(cv);
    event_base_free(base);
}

static void test_curlev__get_body(void **state)
{
    struct xfer x = {0};

    run_n(*state, &x, 1, "/body/300000", 0);
    assert_int_equal(x.res, CURLE_OK);
    assert_int_equal(x.got, 300000);
    assert_false(x.bad_data);
}

static void test_curlev__connect_refused(void **state)
{
    struct server dead = {0};
    struct xfer x = {0};
    int fd = bound_socket(&dead.port); /* bound, never listening */

    (void)state;
    run_n(&dead, &x, 1, "/body/10", 0);
    assert_int_equal(x.res, CURLE_COULDNT_CONNECT);
    assert_int_equal(x.got, 0);
    close(fd);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct xfer *x = arg;

    (void)fd;
    (void)what;
    if (x->easy && x->paused) {
        x->paused = false;
        curlev_unpause(x->cv, x->easy);
    }
}

static void test_curlev__pause_resume(void **state)
{
    struct server *s = *state;
    struct event_base *base = event_base_new();
    struct curlev *cv = NULL;
    struct xfer x = {0};
    struct timeval tv = {0, 200000};
    struct event *ev;
    unsigned left = 1;
    char url[128];

    assert_int_equal(curlev_new(&cv, base), 0);
    x.base = base;
    x.cv = cv;
    x.left = &left;
    x.pause_once = true;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/body/200000", s->port);
    xfer_start(&x, url, 0);
    ev = evtimer_new(base, on_resume, &x);
    evtimer_add(ev, &tv);
    run(base);
    assert_true(x.done);
    assert_int_equal(x.res, CURLE_OK);
    assert_int_equal(x.got, 200000);
    assert_false(x.bad_data);
    event_free(ev);
    curlev_free(cv);
    event_base_free(base);
}

static void test_curlev__stall_times_out(void **state)
{
    struct xfer x = {0};
    struct timeval t0, t1;

    gettimeofday(&t0, NULL);
    run_n(*state, &x, 1, "/stall", 1);
    gettimeofday(&t1, NULL);
    assert_int_equal(x.res, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(x.got, 10);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
}

static void test_curlev__many_concurrent(void **state)
{
    struct xfer xs[40];

    memset(xs, 0, sizeof(xs));
    run_n(*state, xs, 40, "/body/65537", 0);
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(xs[i].res, CURLE_OK);
        assert_int_equal(xs[i].got, 65537);
        assert_false(xs[i].bad_data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_curlev__get_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_curlev__connect_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_curlev__pause_resume, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_curlev__stall_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_curlev__many_concurrent, setup,
                                        teardown),
    };
    int rc;

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
