/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpc: the request spec turned into a curl easy handle, the body and
 * sink callbacks, the response header parsing, the result mapped to
 * ERR_* codes, and the blocking driver (see httpc.h). The event-loop
 * driver is httpc_loop.c. A request is used by one thread at a time.
 */
#include "common/httpc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/httpc_internal.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/parse.h"

static size_t fail(struct httpc *h, int rc, const char *msg)
{
    if (!h->fail_rc) {
        h->fail_rc = rc;
        snprintf(h->fail_msg, sizeof(h->fail_msg), "%s", msg);
    }
    return 0;
}

static size_t read_fd(struct httpc *h, char *p, size_t room, int fd)
{
    uint64_t left = h->s.body.len - h->body_pos;
    size_t want = left < room ? (size_t)left : room;
    ssize_t k;

    if (!want)
        return 0;
    do
        k = pread(fd, p, want, (off_t)(h->s.body.off + h->body_pos));
    while (k < 0 && errno == EINTR);
    if (k <= 0) {
        fail(h, ERR_IO, k < 0 ? strerror(errno)
                              : "request body shorter than its length");
        return CURL_READFUNC_ABORT;
    }
    h->body_pos += (uint64_t)k;
    return (size_t)k;
}

static size_t on_read(char *p, size_t sz, size_t n, void *arg)
{
    struct httpc *h = arg;
    size_t room = sz * n, k = 0;
    int rc;

    switch (h->s.body.kind) {
    case HTTPC_BODY_MEM:
        k = h->s.body.len - h->body_pos;
        if (k > room)
            k = room;
        memcpy(p, (const char *)h->s.body.data + h->body_pos, k);
        h->body_pos += k;
        return k;
    case HTTPC_BODY_FILE:
        return read_fd(h, p, room, h->body_fd);
    case HTTPC_BODY_FD:
        return read_fd(h, p, room, h->s.body.fd);
    case HTTPC_BODY_READ:
        rc = h->s.read(&k, p, room, h->s.arg);
        if (rc == HTTPC_PAUSE)
            return CURL_READFUNC_PAUSE;
        if (rc < 0) {
            fail(h, rc, "the request body source stopped the transfer");
            return CURL_READFUNC_ABORT;
        }
        h->body_pos += k;
        return k;
    case HTTPC_BODY_NONE:
        break;
    }
    return 0;
}

static size_t sink_buf(struct httpc *h, const char *p, size_t len)
{
    size_t cap = h->s.sink.cap ? h->s.sink.cap : LIMIT_HTTP_RESPONSE;
    size_t keep = len;
    char msg[64];

    if (h->resp.len + len > cap) {
        if (!h->s.sink.truncate) {
            snprintf(msg, sizeof(msg), "response body over %zu bytes", cap);
            return fail(h, ERR_LIMIT, msg);
        }
        h->truncated = true;
        keep = cap - h->resp.len;
    }
    if (keep && buf_append(&h->resp, p, keep) < 0)
        return fail(h, ERR_NOMEM, "out of memory for the response body");
    return len;
}

static size_t sink_fd(struct httpc *h, const char *p, size_t len, int fd)
{
    size_t done = 0;

    while (done < len) {
        ssize_t k = write(fd, p + done, len - done);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return fail(h, ERR_IO, strerror(errno));
        done += (size_t)k;
    }
    return len;
}

static size_t on_write(char *p, size_t sz, size_t n, void *arg)
{
    struct httpc *h = arg;
    size_t len = sz * n, r = len;
    int rc;

    switch (h->s.sink.kind) {
    case HTTPC_SINK_BUF:
        r = sink_buf(h, p, len);
        break;
    case HTTPC_SINK_FD:
        r = sink_fd(h, p, len, h->s.sink.fd);
        break;
    case HTTPC_SINK_FILE:
        r = sink_fd(h, p, len, h->sink_fd);
        break;
    case HTTPC_SINK_FN:
        rc = h->s.write(p, len, h->s.arg);
        if (rc == HTTPC_PAUSE)
            return CURL_WRITEFUNC_PAUSE;
        if (rc < 0)
            r = fail(h, rc, "the response sink stopped the transfer");
        break;
    case HTTPC_SINK_DISCARD:
        break;
    }
    if (r == len)
        h->body_total += len;
    return r;
}

/* "Retry-After: 12" (delta-seconds; an HTTP date counts as absent). */
static void parse_retry_after(struct httpc *h, const char *p, size_t len)
{
    char val[24];
    size_t k = 0;
    uint64_t v;

    p += 12;
    len -= 12;
    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (k < len && k + 1 < sizeof(val) && p[k] >= '0' && p[k] <= '9') {
        val[k] = p[k];
        k++;
    }
    val[k] = '\0';
    if (k && parse_u64(&v, val) == 0)
        h->retry_after = v;
}

/* The end of a header block: record the final one and tell the user. */
static size_t headers_end(struct httpc *h, size_t len)
{
    curl_off_t cl = -1;
    long code = 0;
    int rc;

    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 100 && code < 200)
        return len;
    h->status = code;
    curl_easy_getinfo(h->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    h->content_length = cl;
    if (h->s.on_headers && (rc = h->s.on_headers(h, h->s.arg)) < 0)
        return fail(h, rc, "the response header handler stopped the transfer");
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct httpc *h = arg;
    size_t len = sz * n;

    /* A new status line (after 100 Continue) starts a new block. */
    if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
        h->retry_after = 0;
        buf_reset(&h->raw_headers);
    }
    if (h->s.keep_headers && buf_append(&h->raw_headers, p, len) < 0)
        return fail(h, ERR_NOMEM, "out of memory for the response headers");
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12))
        parse_retry_after(h, p, len);
    if (len <= 2 && (p[0] == '\r' || p[0] == '\n'))
        return headers_end(h, len);
    return len;
}

static int on_xfer(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                   curl_off_t ultotal, curl_off_t ulnow)
{
    struct httpc *h = arg;

    (void)dltotal;
    (void)ultotal;
    h->s.on_progress(ulnow > 0 ? (uint64_t)ulnow : 0,
                     dlnow > 0 ? (uint64_t)dlnow : 0, h->s.arg);
    return 0;
}

static int add_header(struct httpc *h, const char *line)
{
    struct curl_slist *l = curl_slist_append(h->hdrs, line);

    if (!l)
        return ERR_NOMEM;
    h->hdrs = l;
    return 0;
}

/* Method, body and the header list. */
static int setup_request(struct httpc *h, struct err *err)
{
    const struct httpc_body *b = &h->s.body;
    char ct[160];
    int rc = 0;

    if (!strcmp(h->method, "HEAD"))
        curl_easy_setopt(h->easy, CURLOPT_NOBODY, 1L);
    else if (strcmp(h->method, "GET") != 0)
        curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, h->method);
    if (b->kind != HTTPC_BODY_NONE || !strcmp(h->method, "POST") ||
        !strcmp(h->method, "PUT")) {
        curl_easy_setopt(h->easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h->easy, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h->easy, CURLOPT_READDATA, h);
        curl_easy_setopt(h->easy, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)(b->kind == HTTPC_BODY_NONE ? 0 : b->len));
        /* curl would wait up to 1 s for "100 Continue" on large bodies. */
        rc = add_header(h, "Expect:");
    }
    if (rc == 0 && b->content_type) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", b->content_type);
        rc = add_header(h, ct);
    }
    if (rc == 0 && h->s.api_version[0]) {
        char av[HTTPC_API_VERSION_MAX + 16];

        snprintf(av, sizeof(av), "api-version: %s", h->s.api_version);
        rc = add_header(h, av);
    }
    h->s.api_version = NULL;
    for (size_t i = 0; rc == 0 && h->s.headers && h->s.headers[i]; i++)
        rc = add_header(h, h->s.headers[i]);
    h->s.headers = NULL;
    if (rc < 0)
        return err_set(err, rc, "out of memory");
    if (h->hdrs)
        curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->hdrs);
    return 0;
}

/* Limits, timeouts, rates and the callbacks (TLS: httpc_tls.c). */
static void setup_transfer(struct httpc *h)
{
    CURL *e = h->easy;
    const struct httpc_spec *s = &h->s;

    curl_easy_setopt(e, CURLOPT_URL, h->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    if (s->connect_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
    if (s->stall_secs > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, s->stall_secs);
        httpc_set_min_recv_bps(h, s->min_recv_bps);
    }
    if (s->total_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->total_ms);
    httpc_set_recv_bps(h, s->max_recv_bps);
    httpc_set_send_bps(h, s->max_send_bps);
    if (s->upload_buffer)
        curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)s->upload_buffer);
    if (s->path_as_is)
        curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    if (s->no_proxy)
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
    if (s->on_progress) {
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, h);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    }
}

/* Open a FILE body or sink. */
static int open_files(struct httpc *h, struct err *err)
{
    struct stat st;

    if (h->s.body.kind == HTTPC_BODY_FILE) {
        h->body_fd = open(h->s.body.path, O_RDONLY | O_CLOEXEC);
        if (h->body_fd < 0 || fstat(h->body_fd, &st) < 0)
            return err_set(err, ERR_IO, "%s: %s", h->s.body.path,
                           strerror(errno));
        h->s.body.off = 0;
        h->s.body.len = (uint64_t)st.st_size;
    }
    if (h->s.sink.kind == HTTPC_SINK_FILE) {
        h->sink_fd = open(h->s.sink.path,
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (h->sink_fd < 0)
            return err_set(err, ERR_IO, "%s: %s", h->s.sink.path,
                           strerror(errno));
    }
    h->s.body.path = NULL;
    h->s.sink.path = NULL;
    return 0;
}

void httpc_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void httpc_global_cleanup(void)
{
    httpc_tls_reload();
    curl_global_cleanup();
}

/* The api-version of s: given, short, printable, and not also in the
 * extra headers (two would be refused by the server); with "" the extra
 * headers are sent as given (tests send bad ones on purpose). */
static int check_api_version(const struct httpc_spec *s, struct err *err)
{
    const char *v = s->api_version;

    if (!v)
        return err_set(err, ERR_INVAL, "%s: request names no api-version",
                       s->url);
    if (strlen(v) > HTTPC_API_VERSION_MAX)
        return err_set(err, ERR_INVAL, "%s: api-version too long", s->url);
    for (const char *c = v; *c; c++)
        if (*c <= ' ' || *c > '~')
            return err_set(err, ERR_INVAL, "%s: bad api-version", s->url);
    for (size_t i = 0; v[0] && s->headers && s->headers[i]; i++)
        if (!strncasecmp(s->headers[i], "api-version:", 12))
            return err_set(err, ERR_INVAL, "%s: api-version given as a "
                           "header: set httpc_spec.api_version", s->url);
    return 0;
}

static int check_spec(const struct httpc_spec *s, struct err *err)
{
    if (!s->url)
        return err_set(err, ERR_INVAL, "request without a URL");
    int rc = check_api_version(s, err);

    if (rc < 0)
        return rc;
    if (s->method && strlen(s->method) >= HTTPC_METHOD_MAX)
        return err_set(err, ERR_INVAL, "method too long");
    if ((s->body.kind == HTTPC_BODY_READ && !s->read) ||
        (s->sink.kind == HTTPC_SINK_FN && !s->write) ||
        (s->body.kind == HTTPC_BODY_FILE && !s->body.path) ||
        (s->sink.kind == HTTPC_SINK_FILE && !s->sink.path))
        return err_set(err, ERR_INVAL, "%s: incomplete request spec", s->url);
    return 0;
}

int httpc_new(struct httpc **out, const struct httpc_spec *spec,
              struct err *err)
{
    struct httpc *h = NULL;
    int rc = check_spec(spec, err);

    *out = NULL;
    if (rc < 0)
        return rc;
    h = mem_calloc(1, sizeof(*h));
    if (!h)
        return err_set(err, ERR_NOMEM, "out of memory");
    h->s = *spec;
    h->body_fd = -1;
    h->sink_fd = -1;
    h->content_length = -1;
    snprintf(h->method, sizeof(h->method), "%s",
             spec->method ? spec->method : "GET");
    h->s.method = h->method;
    h->url = mem_strdup(spec->url);
    h->s.url = h->url;
    h->easy = curl_easy_init();
    if (!h->url || !h->easy) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = open_files(h, err)) < 0 || (rc = setup_request(h, err)) < 0)
        goto out;
    setup_transfer(h);
    if ((rc = httpc__tls_setup(h, err)) < 0)
        goto out;
    *out = h;
    h = NULL;
out:
    httpc_free(h);
    return rc;
}

void httpc__finish(struct httpc *h, CURLcode res)
{
    h->res = res;
    /* Also after a failed transfer: a partial answer keeps its status. */
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);
}

int httpc_run(struct httpc *h, struct err *err)
{
    httpc__finish(h, curl_easy_perform(h->easy));
    return httpc_result(h, err);
}

static int map_res(CURLcode res)
{
    switch (res) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return ERR_TIMEOUT;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return ERR_INVAL;
    case CURLE_OUT_OF_MEMORY:
        return ERR_NOMEM;
    case CURLE_READ_ERROR:
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        return ERR_IO;
    default:
        return ERR_UPSTREAM;
    }
}

int httpc_result(const struct httpc *h, struct err *err)
{
    int rc;

    /* A refused TLS peer: say who it was rather than curl's text. */
    if (h->tls_fail[0])
        return err_set(err, ERR_UPSTREAM, "%s %s: %s", h->method, h->url,
                       h->tls_fail);
    if (h->fail_rc)
        return err_set(err, h->fail_rc, "%s %s: %s", h->method, h->url,
                       h->fail_msg);
    rc = map_res(h->res);
    if (rc == ERR_INVAL && h->res == CURLE_UNSUPPORTED_PROTOCOL)
        return err_set(err, rc, "%s %s: only http and https are allowed",
                       h->method, h->url);
    if (rc < 0)
        return err_set(err, rc, "%s %s: %s", h->method, h->url,
                       httpc_curl_detail(h));
    return 0;
}

bool httpc_peer_failed(const struct httpc *h)
{
    int rc = map_res(h->res);

    if (h->tls_fail[0])
        return true;
    return !h->fail_rc &&
           (rc == ERR_TIMEOUT || rc == ERR_UPSTREAM || rc == ERR_INVAL);
}

const char *httpc_curl_text(const struct httpc *h)
{
    return curl_easy_strerror(h->res);
}

const char *httpc_curl_detail(const struct httpc *h)
{
    return h->errbuf[0] ? h->errbuf : curl_easy_strerror(h->res);
}

const char *httpc_tls_refused(const struct httpc *h)
{
    return h->tls_fail[0] ? h->tls_fail : NULL;
}

long httpc_status(const struct httpc *h)
{
    return h->status;
}

int64_t httpc_content_length(const struct httpc *h)
{
    return h->content_length;
}

const char *httpc_content_type(const struct httpc *h)
{
    char *ct = NULL;

    if (curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
        return NULL;
    return ct;
}

uint64_t httpc_retry_after(const struct httpc *h)
{
    return h->retry_after;
}

const struct buf *httpc_body(const struct httpc *h)
{
    return &h->resp;
}

bool httpc_truncated(const struct httpc *h)
{
    return h->truncated;
}

uint64_t httpc_body_total(const struct httpc *h)
{
    return h->body_total;
}

void httpc_body_take(struct buf *out, struct httpc *h)
{
    struct buf empty = BUF_INIT;

    buf_release(out);
    *out = h->resp;
    h->resp = empty;
}

const struct buf *httpc_headers_raw(const struct httpc *h)
{
    return &h->raw_headers;
}

void httpc_set_recv_bps(struct httpc *h, uint64_t bps)
{
    curl_easy_setopt(h->easy, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)bps);
}

void httpc_set_min_recv_bps(struct httpc *h, uint64_t bps)
{
    /* curl averages the speed over its last seconds and fails a transfer
     * under the limit for LOW_SPEED_TIME (paused transfers excepted) */
    if (h->s.stall_secs <= 0)
        return;
    if (bps < 1)
        bps = 1;
    if (bps > LONG_MAX)
        bps = LONG_MAX;
    curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_LIMIT, (long)bps);
}

void httpc_set_send_bps(struct httpc *h, uint64_t bps)
{
    curl_easy_setopt(h->easy, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)bps);
}

void httpc_free(struct httpc *h)
{
    if (!h)
        return;
    if (h->running)
        httpc__loop_remove(h);
    if (h->easy)
        curl_easy_cleanup(h->easy);
    curl_slist_free_all(h->hdrs);
    httpc__tls_release(h);
    if (h->body_fd >= 0)
        close(h->body_fd);
    if (h->sink_fd >= 0)
        close(h->sink_fd);
    buf_release(&h->resp);
    buf_release(&h->raw_headers);
    mem_free(h->url);
    mem_free(h);
}
