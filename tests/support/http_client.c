/* SPDX-License-Identifier: MPL-2.0 */
/*
 * http_client: blocking requests over common/httpc (memory or generated
 * bodies, threaded variant) and a raw TCP sender for malformed HTTP. See
 * http_client.h.
 */
#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "tests/support/testutil.h"

#define DEFAULT_TIMEOUT_MS 120000L
#define DEFAULT_MAX_BODY (64u * 1024 * 1024)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    httpc_global_init();
}

struct gen_src {
    const struct http_client_req *req;
    uint64_t offset;
};

static int gen_read(size_t *out, char *dst, size_t cap, void *arg)
{
    struct gen_src *g = arg;
    long r = g->req->gen(dst, cap, g->offset, g->req->gen_arg);

    if (r < 0)
        return ERR_IO;
    *out = (size_t)r;
    g->offset += (uint64_t)r;
    return 0;
}

void http_client_resp_release(struct http_client_resp *resp)
{
    buf_release(&resp->body);
    buf_release(&resp->headers);
    resp->status = 0;
    resp->body_total = 0;
}

/* http_client_set_tls; no cert_file: plaintext. */
static struct httpc_tls default_tls;

void http_client_set_tls(const struct httpc_tls *t)
{
    struct httpc_tls none = {0};

    default_tls = t ? *t : none;
}

static void spec_init(struct httpc_spec *sp, const struct http_client_req *req,
                      struct gen_src *g)
{
    sp->method = req->method;
    sp->url = req->url;
    sp->headers = req->headers;
    /* a test names its version in headers or in api_version, or none (the
     * unversioned default is under test too) */
    sp->api_version = req->api_version ? req->api_version
                                       : HTTPC_API_VERSION_NONE;
    sp->total_ms = req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    sp->connect_ms = 10000L;
    sp->max_send_bps = req->max_send_bps;
    sp->sink.kind = HTTPC_SINK_BUF;
    sp->sink.cap = req->max_resp_body ? req->max_resp_body : DEFAULT_MAX_BODY;
    sp->sink.truncate = true; /* body_total counts what was dropped */
    sp->keep_headers = true;
    /* Paths are sent exactly as given (../ and %2e are test inputs). */
    sp->path_as_is = true;
    sp->tls = req->tls.cert_file ? req->tls : default_tls;
    if (req->gen) {
        sp->body.kind = HTTPC_BODY_READ;
        sp->body.len = req->content_length;
        sp->read = gen_read;
        sp->arg = g;
    } else if (req->body) {
        sp->body.kind = HTTPC_BODY_MEM;
        sp->body.data = req->body;
        sp->body.len = req->body_len;
    }
}

long http_client_pieces_gen(void *buf, size_t cap, uint64_t offset,
                            void *arg)
{
    struct http_client_pieces *p = arg;
    size_t n = p->len - (size_t)offset;

    if (n > cap)
        n = cap;
    if (n > p->piece)
        n = p->piece;
    memcpy(buf, p->data + offset, n);
    return (long)n;
}

int http_client_request(struct http_client_resp *resp,
                        const struct http_client_req *req, struct err *err)
{
    struct httpc_spec sp = {0};
    struct gen_src g = {req, 0};
    struct httpc *h = NULL;
    const struct buf *hd;
    int rc;

    pthread_once(&init_once, global_init);
    http_client_resp_release(resp);
    spec_init(&sp, req, &g);
    if ((rc = httpc_new(&h, &sp, err)) < 0)
        goto out;
    rc = httpc_run(h, NULL);
    resp->status = httpc_status(h);
    httpc_body_take(&resp->body, h);
    resp->body_total = httpc_body_total(h);
    hd = httpc_headers_raw(h);
    if (rc == ERR_NOMEM || buf_append(&resp->headers, hd->data, hd->len) < 0)
        rc = err_set(err, ERR_NOMEM, "response buffer");
    else if (resp->status == 0)
        rc = err_set(err, rc == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_IO,
                     "%s %s: %s", req->method ? req->method : "GET",
                     req->url, httpc_tls_refused(h) ? httpc_tls_refused(h)
                                                    : httpc_curl_text(h));
    else
        rc = 0;
out:
    httpc_free(h);
    return rc;
}

int http_client_get(struct http_client_resp *resp, const char *url)
{
    struct http_client_req req = {0};

    req.url = url;
    return http_client_request(resp, &req, NULL);
}

int http_client_send(struct http_client_resp *resp, const char *method,
                     const char *url, const void *body, size_t len)
{
    struct http_client_req req = {0};

    req.method = method;
    req.url = url;
    req.body = body ? body : (len == 0 && method && strcmp(method, "GET") &&
                              strcmp(method, "DELETE") ? "" : NULL);
    req.body_len = len;
    return http_client_request(resp, &req, NULL);
}

bool http_client_header(const struct http_client_resp *resp,
                        const char *name, char *out, size_t cap)
{
    const char *p = resp->headers.data;
    size_t nl = strlen(name);

    if (cap)
        out[0] = '\0';
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t line = eol ? (size_t)(eol - p) : strlen(p);

        if (line > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *end = p + line;
            size_t n;

            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' '))
                end--;
            n = (size_t)(end - v);
            if (cap) {
                if (n >= cap)
                    n = cap - 1;
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return true;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return false;
}

json_t *http_client_json(const struct http_client_resp *resp)
{
    if (!resp->body.data)
        return NULL;
    return json_loadb(resp->body.data, resp->body.len, 0, NULL);
}

struct http_client_async {
    pthread_t thread;
    const struct http_client_req *req;
    struct http_client_resp resp;
    int rc;
    volatile int done;
    pthread_mutex_t lock;
};

static void *async_main(void *arg)
{
    struct http_client_async *a = arg;
    int rc = http_client_request(&a->resp, a->req, NULL);

    pthread_mutex_lock(&a->lock);
    a->rc = rc;
    a->done = 1;
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

int http_client_start(struct http_client_async **out,
                      const struct http_client_req *req)
{
    struct http_client_async *a = mem_calloc(1, sizeof(*a));

    *out = NULL;
    if (!a)
        return ERR_NOMEM;
    pthread_once(&init_once, global_init);
    a->req = req;
    pthread_mutex_init(&a->lock, NULL);
    if (pthread_create(&a->thread, NULL, async_main, a) != 0) {
        pthread_mutex_destroy(&a->lock);
        mem_free(a);
        return ERR_IO;
    }
    *out = a;
    return 0;
}

bool http_client_done(struct http_client_async *a)
{
    bool d;

    pthread_mutex_lock(&a->lock);
    d = a->done != 0;
    pthread_mutex_unlock(&a->lock);
    return d;
}

int http_client_join(struct http_client_async *a,
                     struct http_client_resp *resp)
{
    int rc;

    pthread_join(a->thread, NULL);
    rc = a->rc;
    if (resp) {
        http_client_resp_release(resp);
        *resp = a->resp;
    } else {
        http_client_resp_release(&a->resp);
    }
    pthread_mutex_destroy(&a->lock);
    mem_free(a);
    return rc;
}

/* A socket bound to a free loopback port (its number returned),
 * listening unless backlog < 0. */
static int loopback_socket(int *fd_out, int backlog)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (backlog >= 0)
        assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *fd_out = fd;
    return ntohs(sa.sin_port);
}

int http_client_refused_port(int *fd_out)
{
    return loopback_socket(fd_out, -1);
}

int http_client_listener(int *port_out, int backlog)
{
    int fd = -1;

    *port_out = loopback_socket(&fd, backlog);
    return fd;
}

int http_client_raw_connect(int *fd_out, int port)
{
    struct sockaddr_in sa;
    int fd;

    pthread_once(&init_once, global_init);
    *fd_out = -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ERR_IO;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return ERR_IO;
    }
    *fd_out = fd;
    return 0;
}

int http_client_raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Whether raw holds a full response: headers and Content-Length bytes. */
static bool raw_complete(const struct buf *raw)
{
    const char *end, *p;
    unsigned long long cl = 0;
    bool have_cl = false;

    if (!raw->data)
        return false;
    end = strstr(raw->data, "\r\n\r\n");
    if (!end)
        return false;
    for (p = raw->data; p && p < end; p = strstr(p, "\r\n")) {
        if (*p == '\r')
            p += 2;
        if (!strncasecmp(p, "Content-Length:", 15)) {
            have_cl = sscanf(p + 15, " %llu", &cl) == 1;
        }
    }
    if (!have_cl)
        return false;
    return raw->len >= (size_t)(end + 4 - raw->data) + cl;
}

int http_client_raw_recv(struct buf *out, int fd, long timeout_ms)
{
    int64_t deadline = testutil_now_ms() + timeout_ms;
    char chunk[4096];

    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int64_t left = deadline - testutil_now_ms();
        ssize_t r;
        int pr;

        if (raw_complete(out))
            return 0;
        if (left <= 0)
            return ERR_TIMEOUT;
        pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            return ERR_TIMEOUT;
        r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ERR_IO;
        if (r == 0)
            return 0;
        if (buf_append(out, chunk, (size_t)r) < 0)
            return ERR_NOMEM;
    }
}

int http_client_raw_status(const struct buf *raw)
{
    int major, minor, status;

    if (!raw->data)
        return 0;
    if (sscanf(raw->data, "HTTP/%d.%d %d", &major, &minor, &status) != 3)
        return 0;
    return status;
}

bool http_client_raw_closed(int fd, long timeout_ms)
{
    int64_t deadline = testutil_now_ms() + timeout_ms;
    char chunk[4096];

    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int64_t left = deadline - testutil_now_ms();
        ssize_t r;
        int pr;

        if (left <= 0)
            return false;
        pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            return false;
        r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return true;
        /* Data (a response) before the close: keep reading. */
    }
}
