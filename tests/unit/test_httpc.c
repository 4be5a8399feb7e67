/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of common/httpc (the request spec, the blocking driver and
 * the curl-multi driver on libevent) against a tiny server in this test
 * (a listening socket on port 0, one thread per connection): bodies from
 * memory, a file and an fd range; sinks to a buffer, a file and a
 * callback that pauses; the response cap; a redirect returned as is;
 * non-http(s) URLs refused; connect and no-progress timeouts; response
 * headers; many concurrent requests on the loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/limits.h"
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

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

/* Read the request head, and its body when it has a Content-Length. */
static size_t read_request(int fd, char *req, size_t cap, size_t *body_off)
{
    size_t got = 0, want = 0;
    char *end = NULL, *cl;

    while (got + 1 < cap) {
        ssize_t k = recv(fd, req + got, cap - 1 - got, 0);

        if (k <= 0)
            break;
        got += (size_t)k;
        req[got] = '\0';
        if (!end && (end = strstr(req, "\r\n\r\n")) != NULL) {
            *body_off = (size_t)(end + 4 - req);
            cl = strcasestr(req, "\r\ncontent-length:");
            want = *body_off + (cl && cl < end ? strtoul(cl + 17, NULL, 10)
                                               : 0);
        }
        if (end && got >= want)
            break;
    }
    req[got] = '\0';
    return got;
}

static void send_pattern(int fd, size_t n)
{
    char buf[8192];
    size_t off = 0;

    while (off < n) {
        size_t m = n - off < sizeof(buf) ? n - off : sizeof(buf);

        for (size_t i = 0; i < m; i++)
            buf[i] = (char)((off + i) & 0xff);
        send_all(fd, buf, m);
        off += m;
    }
}

static void wait_closed(struct conn *c)
{
    char b;

    while (!c->s->stop) {
        struct pollfd p = {c->fd, POLLIN, 0};

        if (poll(&p, 1, 50) > 0 && recv(c->fd, &b, 1, 0) <= 0)
            break;
    }
}

/*
 * "/body/N": N bytes of (i & 0xff); "/stall": 10 of 1000 bytes, then
 * silence; "/redirect": 302 to /body/10; "/retry": 429 with Retry-After
 * and a text body; "/echo": the request body back; "/head": the request
 * head back (what a server records of the headers).
 */
static void *conn_run(void *arg)
{
    struct conn *c = arg;
    char *req = mem_alloc(1 << 16);
    char head[256];
    size_t off = 0, n = req ? read_request(c->fd, req, 1 << 16, &off) : 0;
    const char *path = req ? strchr(req, ' ') : NULL;

    path = path ? path + 1 : "";
    if (n && !strncmp(path, "/body/", 6)) {
        n = strtoul(path + 6, NULL, 10);
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
                 "%zu\r\nConnection: close\r\n\r\n", n);
        send_all(c->fd, head, strlen(head));
        send_pattern(c->fd, n);
    } else if (n && !strncmp(path, "/stall", 6)) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
                 "1000\r\nConnection: close\r\n\r\n0123456789");
        send_all(c->fd, head, strlen(head));
        wait_closed(c);
    } else if (n && !strncmp(path, "/redirect", 9)) {
        snprintf(head, sizeof(head), "HTTP/1.1 302 Found\r\nLocation: "
                 "/body/10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        send_all(c->fd, head, strlen(head));
    } else if (n && !strncmp(path, "/retry", 6)) {
        snprintf(head, sizeof(head), "HTTP/1.1 429 Too Many\r\nRetry-After: "
                 "7\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
                 "Connection: close\r\n\r\nbusy");
        send_all(c->fd, head, strlen(head));
    } else if (n && !strncmp(path, "/head", 5)) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
                 "%zu\r\nConnection: close\r\n\r\n", off);
        send_all(c->fd, head, strlen(head));
        send_all(c->fd, req, off);
    } else if (n && !strncmp(path, "/echo", 5)) {
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
                 "%zu\r\nConnection: close\r\n\r\n", n - off);
        send_all(c->fd, head, strlen(head));
        send_all(c->fd, req + off, n - off);
    }
    close(c->fd);
    mem_free(req);
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

static void url_of(char *out, size_t cap, const struct server *s,
                   const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
}

/* ---- blocking driver ---- */

/* Run spec blocking; returns httpc_run's code, *out the request. */
static int run_blocking(struct httpc **out, struct httpc_spec *sp,
                        struct err *err)
{
    int rc = httpc_new(out, sp, err);

    if (rc < 0)
        return rc;
    return httpc_run(*out, err);
}

static void test_httpc__get_to_buffer(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    char url[128];
    const struct buf *b;

    url_of(url, sizeof(url), *state, "/body/100000");
    sp.url = url;
    assert_int_equal(run_blocking(&h, &sp, &err), 0);
    assert_int_equal(httpc_status(h), 200);
    assert_int_equal(httpc_content_length(h), 100000);
    b = httpc_body(h);
    assert_int_equal(b->len, 100000);
    for (size_t i = 0; i < b->len; i++)
        assert_int_equal((unsigned char)b->data[i], i & 0xff);
    httpc_free(h);
}

static void test_httpc__response_cap(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    char url[128];

    url_of(url, sizeof(url), *state, "/body/5000");
    sp.url = url;
    sp.sink.cap = 4096;
    assert_int_equal(run_blocking(&h, &sp, &err), ERR_LIMIT);
    assert_non_null(strstr(err.msg, "response body over 4096 bytes"));
    assert_non_null(strstr(err.msg, url));
    assert_false(httpc_peer_failed(h));
    httpc_free(h);
    /* truncate: the first cap bytes, no error. */
    sp.sink.truncate = true;
    assert_int_equal(run_blocking(&h, &sp, &err), 0);
    assert_true(httpc_truncated(h));
    assert_int_equal(httpc_body(h)->len, 4096);
    assert_int_equal(httpc_body_total(h), 5000);
    httpc_free(h);
}

static void test_httpc__redirect_not_followed(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    char url[128];

    url_of(url, sizeof(url), *state, "/redirect");
    sp.url = url;
    sp.keep_headers = true;
    assert_int_equal(run_blocking(&h, &sp, &err), 0);
    assert_int_equal(httpc_status(h), 302);
    assert_int_equal(httpc_body(h)->len, 0);
    assert_non_null(strstr(httpc_headers_raw(h)->data, "Location: /body/10"));
    httpc_free(h);
}

static void test_httpc__other_schemes_refused(void **state)
{
    static const char *urls[] = {"file:///etc/passwd", "ftp://127.0.0.1/x",
                                 "gopher://127.0.0.1/x"};
    struct httpc *h = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
        struct err err = ERR_INIT;

        sp.url = urls[i];
        assert_int_equal(run_blocking(&h, &sp, &err), ERR_INVAL);
        assert_non_null(strstr(err.msg, "only http and https are allowed"));
        assert_int_equal(httpc_status(h), 0);
        httpc_free(h);
    }
}

static void test_httpc__response_headers(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    char url[128];

    url_of(url, sizeof(url), *state, "/retry");
    sp.url = url;
    assert_int_equal(run_blocking(&h, &sp, &err), 0);
    assert_int_equal(httpc_status(h), 429);
    assert_int_equal(httpc_retry_after(h), 7);
    assert_string_equal(httpc_content_type(h), "text/plain");
    assert_int_equal(httpc_content_length(h), 4);
    assert_memory_equal(httpc_body(h)->data, "busy", 4);
    httpc_free(h);
}

static void test_httpc__connect_refused(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    int port, fd = bound_socket(&port); /* bound, never listening */
    char url[128];

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/body/1", port);
    sp.url = url;
    assert_int_equal(run_blocking(&h, &sp, &err), ERR_UPSTREAM);
    assert_true(httpc_peer_failed(h));
    assert_string_equal(httpc_curl_text(h), "Couldn't connect to server");
    assert_non_null(strstr(err.msg, url));
    httpc_free(h);
    close(fd);
}

/* A listener whose accept queue is full drops SYNs: connects hang. */
static void test_httpc__connect_timeout(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    struct sockaddr_in sa;
    int port, lfd = bound_socket(&port), cl[8];
    struct timeval t0, t1;
    char url[128];

    (void)state;
    assert_int_equal(listen(lfd, 0), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 8; i++) {
        cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(cl[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/body/1", port);
    sp.url = url;
    sp.connect_ms = 300;
    gettimeofday(&t0, NULL);
    assert_int_equal(run_blocking(&h, &sp, &err), ERR_TIMEOUT);
    gettimeofday(&t1, NULL);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    assert_true(httpc_peer_failed(h));
    httpc_free(h);
    for (int i = 0; i < 8; i++)
        close(cl[i]);
    close(lfd);
}

static void test_httpc__stall_timeout(void **state)
{
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    struct timeval t0, t1;
    char url[128];

    url_of(url, sizeof(url), *state, "/stall");
    sp.url = url;
    sp.stall_secs = 1;
    gettimeofday(&t0, NULL);
    assert_int_equal(run_blocking(&h, &sp, &err), ERR_TIMEOUT);
    gettimeofday(&t1, NULL);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    assert_int_equal(httpc_status(h), 200);
    assert_int_equal(httpc_body(h)->len, 10);
    assert_non_null(strstr(err.msg, "GET "));
    httpc_free(h);
}

static void echo_check(struct server *s, struct httpc_spec *sp,
                       const char *want, size_t len)
{
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    char url[128];

    url_of(url, sizeof(url), s, "/echo");
    sp->method = "PUT";
    sp->url = url;
    assert_int_equal(run_blocking(&h, sp, &err), 0);
    assert_int_equal(httpc_status(h), 200);
    assert_int_equal(httpc_body(h)->len, len);
    assert_memory_equal(httpc_body(h)->data, want, len);
    httpc_free(h);
}

static void test_httpc__body_sources(void **state)
{
    char path[] = "/tmp/test_httpc_XXXXXX";
    const char *text = "0123456789abcdefghij";
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, 20), 20);
    sp.body.kind = HTTPC_BODY_MEM;
    sp.body.data = "hello";
    sp.body.len = 5;
    echo_check(*state, &sp, "hello", 5);
    memset(&sp, 0, sizeof(sp));
    sp.api_version = HTTPC_API_VERSION_NONE;
    sp.body.kind = HTTPC_BODY_FILE;
    sp.body.path = path;
    echo_check(*state, &sp, text, 20);
    memset(&sp, 0, sizeof(sp));
    sp.api_version = HTTPC_API_VERSION_NONE;
    sp.body.kind = HTTPC_BODY_FD;
    sp.body.fd = fd;
    sp.body.off = 5;
    sp.body.len = 7;
    echo_check(*state, &sp, text + 5, 7);
    close(fd);
    unlink(path);
}

static void test_httpc__sink_to_file(void **state)
{
    char path[] = "/tmp/test_httpc_XXXXXX";
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    unsigned char got[300];
    char url[128];
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    url_of(url, sizeof(url), *state, "/body/300");
    sp.url = url;
    sp.sink.kind = HTTPC_SINK_FILE;
    sp.sink.path = path;
    assert_int_equal(run_blocking(&h, &sp, &err), 0);
    httpc_free(h);
    fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, got, sizeof(got)), 300);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(got[i], i & 0xff);
    close(fd);
    unlink(path);
}

/* Streams "abc" three times, a few bytes per call. */
static int read_abc(size_t *out, char *dst, size_t cap, void *arg)
{
    unsigned *sent = arg;
    size_t k = 0;

    while (k < cap && k < 2 && *sent < 9)
        dst[k++] = "abc"[(*sent)++ % 3];
    *out = k;
    return 0;
}

static void test_httpc__read_callback_to_fd(void **state)
{
    char path[] = "/tmp/test_httpc_XXXXXX";
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    unsigned sent = 0;
    char url[128], got[16] = "";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    url_of(url, sizeof(url), *state, "/echo");
    sp.method = "POST";
    sp.url = url;
    sp.body.kind = HTTPC_BODY_READ;
    sp.body.len = 9;
    sp.read = read_abc;
    sp.arg = &sent;
    sp.sink.kind = HTTPC_SINK_FD;
    sp.sink.fd = fd;
    assert_int_equal(run_blocking(&h, &sp, &err), 0);
    assert_int_equal(httpc_status(h), 200);
    assert_int_equal(httpc_body_total(h), 9);
    httpc_free(h);
    assert_int_equal(pread(fd, got, sizeof(got) - 1, 0), 9);
    assert_string_equal(got, "abcabcabc");
    close(fd);
    unlink(path);
}

/* ---- the loop driver ---- */

struct xfer {
    struct event_base *base;
    struct httpc *h;
    unsigned *left;
    int rc;
    bool done, bad_data, pause_once, paused;
    size_t got;
};

static int on_data(const char *p, size_t len, void *arg)
{
    struct xfer *x = arg;

    if (x->pause_once) {
        x->pause_once = false;
        x->paused = true;
        return HTTPC_PAUSE;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] != ((x->got + i) & 0xff))
            x->bad_data = true;
    x->got += len;
    return 0;
}

static void on_done(struct httpc *h, void *arg)
{
    struct xfer *x = arg;

    x->rc = httpc_result(h, NULL);
    x->done = true;
    if (--*x->left == 0)
        event_base_loopbreak(x->base);
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

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct xfer *x = arg;

    (void)fd;
    (void)what;
    if (x->paused) {
        x->paused = false;
        httpc_unpause(x->h);
    }
}

static void run_loop(struct server *s, struct xfer *xs, unsigned n,
                     const char *path, bool resume)
{
    struct event_base *base = event_base_new();
    struct httpc_loop *l = NULL;
    struct event *ev = NULL;
    struct timeval tv = {0, 200000};
    unsigned left = n;
    char url[128];

    assert_int_equal(httpc_loop_new(&l, base), 0);
    url_of(url, sizeof(url), s, path);
    for (unsigned i = 0; i < n; i++) {
        struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};

        sp.url = url;
        sp.sink.kind = HTTPC_SINK_FN;
        sp.write = on_data;
        sp.arg = &xs[i];
        xs[i].base = base;
        xs[i].left = &left;
        assert_int_equal(httpc_new(&xs[i].h, &sp, NULL), 0);
        assert_int_equal(httpc_start(l, xs[i].h, on_done, &xs[i]), 0);
        assert_true(httpc_running(xs[i].h));
    }
    if (resume) {
        ev = evtimer_new(base, on_resume, &xs[0]);
        evtimer_add(ev, &tv);
    }
    run(base);
    assert_int_equal(left, 0);
    assert_int_equal(httpc_loop_running(l), 0);
    for (unsigned i = 0; i < n; i++)
        httpc_free(xs[i].h);
    if (ev)
        event_free(ev);
    httpc_loop_free(l);
    event_base_free(base);
}

static void test_httpc__loop_pause_resume(void **state)
{
    struct xfer x = {0};

    x.pause_once = true;
    run_loop(*state, &x, 1, "/body/200000", true);
    assert_true(x.done);
    assert_int_equal(x.rc, 0);
    assert_int_equal(x.got, 200000);
    assert_false(x.bad_data);
}

static void test_httpc__loop_many_concurrent(void **state)
{
    struct xfer xs[40];

    memset(xs, 0, sizeof(xs));
    run_loop(*state, xs, 40, "/body/65537", false);
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(xs[i].rc, 0);
        assert_int_equal(xs[i].got, 65537);
        assert_false(xs[i].bad_data);
    }
}

/* Freeing a running request cancels it: no done call, loop empty. */
static void test_httpc__loop_cancel(void **state)
{
    struct event_base *base = event_base_new();
    struct httpc_loop *l = NULL;
    struct httpc_spec sp = {.api_version = HTTPC_API_VERSION_NONE};
    struct xfer x = {0};
    unsigned left = 1;
    char url[128];

    assert_int_equal(httpc_loop_new(&l, base), 0);
    url_of(url, sizeof(url), *state, "/stall");
    sp.url = url;
    x.left = &left;
    assert_int_equal(httpc_new(&x.h, &sp, NULL), 0);
    assert_int_equal(httpc_start(l, x.h, on_done, &x), 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    httpc_free(x.h);
    assert_int_equal(httpc_loop_running(l), 0);
    assert_false(x.done);
    httpc_loop_free(l);
    event_base_free(base);
}

/* The request head "/head" recorded for spec sp (NUL-ended, owned). */
static char *recorded_head(struct server *s, struct httpc_spec *sp)
{
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    char url[128], *out;

    url_of(url, sizeof(url), s, "/head");
    sp->url = url;
    assert_int_equal(run_blocking(&h, sp, &err), 0);
    assert_int_equal(httpc_status(h), 200);
    out = mem_alloc(httpc_body(h)->len + 1);
    assert_non_null(out);
    memcpy(out, httpc_body(h)->data, httpc_body(h)->len);
    out[httpc_body(h)->len] = '\0';
    httpc_free(h);
    return out;
}

/* How many header lines of head are named name (case-insensitive). */
static unsigned header_count(const char *head, const char *name)
{
    unsigned n = 0;
    size_t l = strlen(name);

    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        n += !strncasecmp(p + 2, name, l) && p[2 + l] == ':';
    return n;
}

/* Every request names the api-version its caller speaks (docs/API.md "API
 * versions"): exactly one header with the spec's version; none only when
 * asked (""); a spec that names none, names it as an extra header too, or
 * a malformed one, is refused before anything is sent. */
static void test_httpc__api_version(void **state)
{
    struct httpc_spec sp = {0};
    struct httpc *h = NULL;
    struct err err = ERR_INIT;
    const char *dup[] = {"API-Version: 1.0.0", NULL};
    char url[128], *head;

    sp.api_version = "1.2.0";
    head = recorded_head(*state, &sp);
    assert_int_equal(header_count(head, "api-version"), 1);
    assert_non_null(strstr(head, "\r\napi-version: 1.2.0\r\n"));
    mem_free(head);
    /* on a PUT with a body too */
    memset(&sp, 0, sizeof(sp));
    sp.api_version = "48.0.0";
    sp.method = "PUT";
    sp.body.kind = HTTPC_BODY_MEM;
    sp.body.data = "x";
    sp.body.len = 1;
    head = recorded_head(*state, &sp);
    assert_int_equal(header_count(head, "api-version"), 1);
    assert_non_null(strstr(head, "\r\napi-version: 48.0.0\r\n"));
    mem_free(head);
    memset(&sp, 0, sizeof(sp));
    sp.api_version = HTTPC_API_VERSION_NONE;
    head = recorded_head(*state, &sp);
    assert_int_equal(header_count(head, "api-version"), 0);
    mem_free(head);

    url_of(url, sizeof(url), *state, "/head");
    memset(&sp, 0, sizeof(sp));
    sp.url = url;
    assert_int_equal(httpc_new(&h, &sp, &err), ERR_INVAL);
    assert_null(h);
    assert_non_null(strstr(err.msg, "names no api-version"));
    sp.api_version = "1.0.0";
    sp.headers = dup;
    assert_int_equal(httpc_new(&h, &sp, &err), ERR_INVAL);
    assert_non_null(strstr(err.msg, "api-version given as a header"));
    sp.headers = NULL;
    sp.api_version = "1.0.0\r\nX-Evil: 1";
    assert_int_equal(httpc_new(&h, &sp, &err), ERR_INVAL);
    assert_non_null(strstr(err.msg, "bad api-version"));
    sp.api_version = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0";
    assert_int_equal(httpc_new(&h, &sp, &err), ERR_INVAL);
    assert_null(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_httpc__get_to_buffer),
        T(test_httpc__api_version),
        T(test_httpc__response_cap),
        T(test_httpc__redirect_not_followed),
        T(test_httpc__other_schemes_refused),
        T(test_httpc__response_headers),
        T(test_httpc__connect_refused),
        T(test_httpc__connect_timeout),
        T(test_httpc__stall_timeout),
        T(test_httpc__body_sources),
        T(test_httpc__sink_to_file),
        T(test_httpc__read_callback_to_fd),
        T(test_httpc__loop_pause_resume),
        T(test_httpc__loop_many_concurrent),
        T(test_httpc__loop_cancel),
#undef T
    };

    int rc;

    httpc_global_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    httpc_global_cleanup();
    return rc;
}
