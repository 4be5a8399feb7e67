/* SPDX-License-Identifier: MPL-2.0 */
/*
 * http_client: libcurl easy requests (memory or generated bodies, threaded
 * variant) and a raw TCP sender for malformed HTTP. See http_client.h.
 */
#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/testutil.h"

#define DEFAULT_TIMEOUT_MS 120000L
#define DEFAULT_MAX_BODY (64u * 1024 * 1024)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
}

struct xfer {
    const struct http_client_req *req;
    struct http_client_resp *resp;
    uint64_t offset; /* upload position */
    size_t max_body;
    int oom;
};

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t cap = size * nmemb;
    size_t n;

    if (x->req->gen) {
        long r = x->req->gen(ptr, cap, x->offset, x->req->gen_arg);

        if (r < 0)
            return CURL_READFUNC_ABORT;
        n = (size_t)r;
    } else {
        size_t left = x->req->body_len - (size_t)x->offset;

        n = left < cap ? left : cap;
        memcpy(ptr, (const char *)x->req->body + x->offset, n);
    }
    x->offset += n;
    return n;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    size_t keep = 0;

    if (x->resp->body.len < x->max_body)
        keep = x->max_body - x->resp->body.len;
    if (keep > n)
        keep = n;
    if (keep && buf_append(&x->resp->body, ptr, keep) < 0) {
        x->oom = 1;
        return 0;
    }
    x->resp->body_total += n;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;

    /* A new status line (after 100 Continue) starts a new header block. */
    if (n >= 5 && !memcmp(ptr, "HTTP/", 5))
        buf_reset(&x->resp->headers);
    if (buf_append(&x->resp->headers, ptr, n) < 0) {
        x->oom = 1;
        return 0;
    }
    return n;
}

void http_client_resp_release(struct http_client_resp *resp)
{
    buf_release(&resp->body);
    buf_release(&resp->headers);
    resp->status = 0;
    resp->body_total = 0;
}

int http_client_request(struct http_client_resp *resp,
                        const struct http_client_req *req, struct err *err)
{
    struct curl_slist *hdrs = NULL;
    struct xfer x = {req, resp, 0, 0, 0};
    CURL *c = NULL;
    CURLcode cc;
    int rc = 0;

    pthread_once(&init_once, global_init);
    http_client_resp_release(resp);
    x.max_body = req->max_resp_body ? req->max_resp_body : DEFAULT_MAX_BODY;
    c = curl_easy_init();
    if (!c) {
        rc = err_set(err, ERR_NOMEM, "curl_easy_init");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    /* Paths are sent exactly as given (../ and %2e are test inputs). */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    if (req->gen || req->body) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &x);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)(req->gen ? req->content_length
                                               : req->body_len));
        hdrs = curl_slist_append(hdrs, "Expect:");
    }
    if (req->method && !strcmp(req->method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (req->method && strcmp(req->method, "GET"))
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->max_send_bps)
        curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
                         (curl_off_t)req->max_send_bps);
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, req->headers[i]);
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (x.oom) {
        rc = err_set(err, ERR_NOMEM, "response buffer");
        goto out;
    }
    if (resp->status == 0) {
        rc = err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_IO,
                     "%s %s: %s", req->method ? req->method : "GET",
                     req->url, curl_easy_strerror(cc));
    }
out:
    curl_slist_free_all(hdrs);
    if (c)
        curl_easy_cleanup(c);
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
