/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_stream: connections of the httpd server (see httpd.h for why this
 * is not evhttp): accept, hand the request head to httpd_parse (at most
 * LIMIT_HTTP_HEADERS), route at header time, read Content-Length and
 * chunked bodies (decoded by httpd_chunked as they arrive) into a bounded
 * buffer or stream them to a callback with pause/resume backpressure,
 * write replies (file bodies fed by httpd_file.c), keep-alive,
 * idle timeouts, rate-limit group. One request at a time per connection
 * (no pipelining: the next request is read after the reply was written).
 * Replies to heads over LIMIT_HTTP_HEADERS (431) and malformed request
 * lines (400), the lingering close after a reply whose request body was
 * not read, and the count of reply body bytes actually sent (sent hook).
 * Loop thread only.
 */
#include "common/httpd.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "common/err.h"
#include "common/httpd_internal.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"

/*
 * Bytes handed to one writev/sendfile (libevent's default is 16 KiB): a
 * 35 KB GET /artifacts reply left in three writevs, each its own trip
 * through the TCP stack (65 % of the agent's CPU at ~20k replies/s). A
 * reply up to this size now leaves in one call. A rate-limit group still caps each write.
 */
#define HTTPD_MAX_SINGLE_WRITE (256 * 1024)

/*
 * Accept queue. With 128, a burst of 500 TLS handshakes filled it and a
 * legitimate client's SYN was dropped until its 1 s retransmit
 * (test_tls_agent__handshake_flood); the kernel caps it at somaxconn.
 */
#define HTTPD_LISTEN_BACKLOG 1024

/*
 * TLS replies are handed to the SSL bufferevent this much at a time: it
 * passes each buffer chain whole to SSL_write, so a depot file segment
 * given at once bypassed the rate-limit group and max_single_write (a
 * 3 MB reply at 1 MB/s left in 36 ms).
 */
#define HTTPD_TLS_CHUNK (128 * 1024)

static void conn_process(struct httpd_conn *c);

void httpd_req_ref(struct httpd_req *r)
{
    r->refs++;
}

void httpd_req_unref(struct httpd_req *r)
{
    if (!r || --r->refs > 0)
        return;
    if (r->body)
        evbuffer_free(r->body);
    buf_release(&r->out_headers);
    mem_free(r->head_text);
    mem_free(r);
}

/* Report the reply body bytes of r that left our buffers. */
static void report_sent(struct httpd_conn *c, struct httpd_req *r,
                        bool complete)
{
    uint64_t sent = r->body_queued, left;

    if (!r->replied || !c->h || !c->h->sent_hook)
        return;
    if (!complete) {
        left = evbuffer_get_length(bufferevent_get_output(c->bev)) +
               (c->pending ? evbuffer_get_length(c->pending) : 0) +
               c->file_left;
        sent = left < sent ? sent - left : 0;
    }
    c->h->sent_hook(r, sent, c->h->sent_hook_arg);
}

static void conn_free(struct httpd_conn *c)
{
    struct httpd_req *r = c->r;

    if (r && c->state == C_WRITING)
        report_sent(c, r, false);
    if (r) {
        if (!r->dispatched && r->mode == BODY_STREAM && r->abort_fn) {
            httpd_abort_fn fn = r->abort_fn;

            r->abort_fn = NULL;
            fn(r, r->stream_arg);
        }
        r->conn = NULL;
        c->r = NULL;
        httpd_req_unref(r);
    }
    httpd__conn_uncounted(c);
    if (c->prev)
        c->prev->next = c->next;
    else if (c->h)
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->kick)
        event_free(c->kick);
    httpd__file_drop(c);
    if (c->pending)
        evbuffer_free(c->pending);
    /*
     * Leave the rate-limit group now: bufferevent_free() only drops a
     * reference, and a bufferevent with deferred callbacks pending stays a
     * member until the loop runs them, so the group (freed at shutdown
     * right after the connections) would abort on a non-empty member list.
     */
    if (c->h && c->h->rate_group)
        bufferevent_remove_from_rate_limit_group(c->bev);
    bufferevent_free(c->bev);
    mem_free(c);
}

void httpd__conn_close(struct httpd_conn *c)
{
    conn_free(c);
}

void httpd_req_reject(struct httpd_req *r, const struct err *err)
{
    r->mode = BODY_REJECTED;
    r->reject = *err;
    if (!r->reject.code)
        r->reject.code = ERR_INTERNAL;
}

void httpd_req_body_cap(struct httpd_req *r, size_t cap)
{
    r->body_cap = cap;
}

void httpd_req_stream(struct httpd_req *r, httpd_data_fn data_fn,
                      httpd_abort_fn abort_fn, void *arg)
{
    r->mode = BODY_STREAM;
    r->data_fn = data_fn;
    r->abort_fn = abort_fn;
    r->stream_arg = arg;
}

void httpd_req_pause_read(struct httpd_req *r, bool pause)
{
    struct httpd_conn *c = r->conn;

    if (!c || c->r != r || r->body_done || r->paused == pause)
        return;
    r->paused = pause;
    if (pause) {
        bufferevent_disable(c->bev, EV_READ);
    } else {
        bufferevent_enable(c->bev, EV_READ);
        /* Bytes may already wait in the input buffer: handle them from
         * the loop, not from inside the caller's callback. */
        event_active(c->kick, EV_TIMEOUT, 0);
    }
}

static void dispatch(struct httpd_conn *c)
{
    struct httpd_req *r = c->r;

    c->state = C_HANDLER;
    bufferevent_disable(c->bev, EV_READ);
    r->dispatched = true;
    r->body_done = true;
    if (r->mode == BODY_REJECTED) {
        if (r->reject_status)
            httpd_reply_error(r, r->reject_status,
                              r->reject.error_code[0] ? r->reject.error_code
                                                      : NULL,
                              r->reject.msg);
        else
            httpd_reply_err(r, &r->reject);
        return;
    }
    httpd__route_request(r);
}

static void bad_request(struct httpd_conn *c, int code, const char *msg)
{
    struct httpd_req *r = c->r;
    struct err err = ERR_INIT;

    err_set(&err, code, "%s", msg);
    httpd_req_reject(r, &err);
    c->close_after = true;
    c->linger = true;
    c->linger_left = HTTPD_LINGER_MAX_BYTES;
    dispatch(c);
}

/* A new request record on c (head_text owned, NUL-terminated). */
static struct httpd_req *req_new(struct httpd_conn *c, size_t head_len)
{
    struct httpd_req *r = mem_calloc(1, sizeof(*r));

    if (!r || !(r->head_text = mem_alloc(head_len + 1))) {
        mem_free(r);
        return NULL;
    }
    r->head_text[0] = '\0';
    r->h = c->h;
    r->conn = c;
    r->refs = 1;
    r->body_cap = LIMIT_JSON_BODY;
    r->peer = c->peer;
    httpd_request_id(r->id);
    c->r = r;
    c->state = C_HEAD;
    return r;
}

/*
 * The head cannot be served (over LIMIT_HTTP_HEADERS: 431; a malformed
 * request line: 400): drop what arrived, reply with a JSON error and
 * close with a linger. There is no parsed request: method and path are
 * empty.
 */
static void bad_head(struct httpd_conn *c, int status, const char *msg)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct httpd_req *r = req_new(c, 0);

    httpd__idle_leave(c);
    httpd__head_done(c);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (!r) {
        conn_free(c);
        return;
    }
    err_set(&r->reject, ERR_INVAL, "%s", msg);
    r->mode = BODY_REJECTED;
    r->reject_status = status;
    c->close_after = true;
    c->linger = true;
    c->linger_left = HTTPD_LINGER_MAX_BYTES;
    dispatch(c);
}

/* A request field at the parser's offsets, NUL-terminated in place (the
 * byte after a field is a delimiter, never part of another field). */
static const char *field(struct httpd_req *r, struct httpd_span s)
{
    r->head_text[s.off + s.len] = '\0';
    return r->head_text + s.off;
}

/* Point r's request fields into its head_text (nothing before the request
 * line was accepted; the headers before a refused one after). */
static void req_fill(struct httpd_req *r, const struct httpd_head *ph)
{
    if (!ph->method)
        return;
    r->http10 = ph->http10;
    r->method = ph->method;
    r->head = ph->method == HTTPD_HEAD;
    r->method_name = field(r, ph->method_name);
    r->path = field(r, ph->path);
    r->query = ph->has_query ? field(r, ph->query) : NULL;
    for (unsigned i = 0; i < ph->nhdr; i++) {
        r->hname[i] = field(r, ph->name[i]);
        r->hval[i] = field(r, ph->value[i]);
    }
    r->nhdr = ph->nhdr;
}

static void start_request(struct httpd_conn *c, size_t head_len)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct httpd_req *r = req_new(c, head_len);
    struct err err = ERR_INIT;
    struct httpd_head ph;
    const char *v;
    int prc;

    if (!r) {
        conn_free(c);
        return;
    }
    httpd__idle_leave(c);
    httpd__head_done(c);
    evbuffer_remove(in, r->head_text, head_len);
    r->head_text[head_len] = '\0';
    prc = httpd_parse_head(&ph, r->head_text, head_len, &err);
    req_fill(r, &ph);
    if (prc < 0) {
        /* Also a Transfer-Encoding or a bad or second Content-Length. */
        httpd_req_reject(r, &err);
        r->reject_status = httpd_parse_status(prc);
        c->close_after = true;
        c->linger = true;
        c->linger_left = HTTPD_LINGER_MAX_BYTES;
        dispatch(c);
        return;
    }
    v = httpd_req_header(r, "Connection");
    if ((v && strcasecmp(v, "close") == 0) ||
        (r->http10 && !(v && strcasecmp(v, "keep-alive") == 0)))
        c->close_after = true;
    r->body_len = ph.content_length;
    r->chunked = ph.chunked;
    httpd__route_headers(r);
    if (r->mode == BODY_REJECTED) {
        /* The body (if any) is never read: reply and close. */
        if (r->body_len > 0 || r->chunked)
            c->close_after = true;
        dispatch(c);
        return;
    }
    if (r->body_len == 0 && !r->chunked) {
        dispatch(c);
        return;
    }
    if (r->chunked)
        httpd_chunked_init(&r->chunk, r->body_cap);
    v = httpd_req_header(r, "Expect");
    if (v && strcasecmp(v, "100-continue") == 0 &&
        evbuffer_get_length(in) == 0)
        bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    r->body = evbuffer_new();
    if (!r->body) {
        bad_request(c, ERR_NOMEM, "out of memory");
        return;
    }
    c->state = C_BODY;
    httpd__rate_start(c);
}

static void stop_body(struct httpd_conn *c, const struct err *err)
{
    struct httpd_req *r = c->r;

    r->mode = BODY_REJECTED;
    r->reject = *err;
    r->abort_fn = NULL;
    c->close_after = true;
    dispatch(c);
}

static void read_body(struct httpd_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct httpd_req *r = c->r;
    struct err err = ERR_INIT;
    size_t avail = evbuffer_get_length(in);
    uint64_t left = r->body_len - r->body_seen;
    size_t n = avail < left ? avail : (size_t)left;

    if (n == 0)
        return;
    r->body_seen += n;
    if (r->mode == BODY_STREAM) {
        evbuffer_remove_buffer(in, r->body, n);
        if (r->data_fn(r, r->body, &err, r->stream_arg) < 0) {
            stop_body(c, &err);
            return;
        }
        evbuffer_drain(r->body, evbuffer_get_length(r->body));
    } else if (evbuffer_remove_buffer(in, r->body, n) != (int)n) {
        err_set(&err, ERR_NOMEM, "out of memory buffering the body");
        stop_body(c, &err);
        return;
    }
    if (r->body_seen == r->body_len)
        dispatch(c);
}

/*
 * The framing of a chunked body failed, or it is over the cap: the
 * handler of a stream drops what it has (its abort_fn, as when the client
 * goes away), the client gets the decoder's answer and the connection
 * closes (the rest of the body is not read).
 */
static void chunked_refused(struct httpd_conn *c, const struct err *err)
{
    struct httpd_req *r = c->r;
    httpd_abort_fn fn = r->abort_fn;

    if (r->mode == BODY_STREAM && fn) {
        r->abort_fn = NULL;
        fn(r, r->stream_arg);
    }
    stop_body(c, err);
}

/*
 * Decode what arrived of a chunked body, one input chain at a time:
 * framing bytes are dropped, and the body bytes go to r->body, which then
 * goes to the stream handler in one call, as one read of a Content-Length
 * body does. A chain holding only body bytes moves (no copy); the body
 * bytes of a chain shared with framing are copied into packed chains.
 * Moving those too kept each split chain's whole allocation for a part of
 * it in the writer's backlog: 4 KiB chunks raised the agent's peak RSS by
 * 4 MiB over a Content-Length PUT (64 KiB chunks: about 0.5 MiB).
 */
static void read_chunked(struct httpd_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct httpd_req *r = c->r;
    struct err err = ERR_INIT;
    struct httpd_chunked_step st;
    struct evbuffer_iovec v;
    int rc = 0;

    while (rc == 0 && evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
        rc = httpd_chunked_decode(&r->chunk, &st, v.iov_base, v.iov_len,
                                  &err);
        if (rc < 0)
            break;
        if (st.data_len == v.iov_len) {
            if (evbuffer_remove_buffer(in, r->body, st.data_len) !=
                (int)st.data_len)
                rc = ERR_NOMEM;
        } else {
            if (st.data_len > 0 &&
                evbuffer_add(r->body,
                             (const char *)v.iov_base + st.used - st.data_len,
                             st.data_len) < 0)
                rc = ERR_NOMEM;
            evbuffer_drain(in, st.used);
        }
        if (rc < 0) {
            err_set(&err, ERR_NOMEM, "out of memory buffering the body");
            break;
        }
        r->body_seen += st.data_len;
        if (st.used == 0)
            break; /* nothing consumed (cannot happen with bytes in) */
    }
    if (rc < 0) {
        chunked_refused(c, &err);
        return;
    }
    if (r->mode == BODY_STREAM && evbuffer_get_length(r->body) > 0) {
        if (r->data_fn(r, r->body, &err, r->stream_arg) < 0) {
            stop_body(c, &err);
            return;
        }
        evbuffer_drain(r->body, evbuffer_get_length(r->body));
    }
    if (rc == 1)
        dispatch(c);
}

/*
 * Whether the input of c starts with a complete head (its length in
 * *head_len). An early refusal (431 over LIMIT_HTTP_HEADERS, 400 for a
 * malformed request line as soon as it is in) is replied here, so a
 * garbage line is refused at once rather than after the idle timeout.
 */
static bool head_ready(struct httpd_conn *c, size_t *head_len)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t n = evbuffer_get_length(in);
    struct err err = ERR_INIT;
    const char *data;
    int rc;

    if (n == 0)
        return false;
    if (n > HTTPD_PARSE_SCAN_MAX)
        n = HTTPD_PARSE_SCAN_MAX;
    data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    if (!data) {
        conn_free(c);
        return false;
    }
    rc = httpd_parse_scan(head_len, data, n, &err);
    if (rc < 0) {
        bad_head(c, httpd_parse_status(rc), err.msg);
        return false;
    }
    return *head_len > 0;
}

static void conn_process(struct httpd_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    if (c->h && c->h->tls && (c->state == C_HEAD || c->state == C_BODY))
        httpd__tls_read_pending(c->bev);
    for (;;) {
        if (c->state == C_HEAD) {
            size_t head_len = 0;

            if (evbuffer_get_length(in) > 0)
                httpd__head_started(c);
            if (!head_ready(c, &head_len))
                return;
            start_request(c, head_len);
            continue;
        }
        if (c->state == C_BODY) {
            if (c->r->paused || evbuffer_get_length(in) == 0)
                return;
            if (c->r->chunked)
                read_chunked(c);
            else
                read_body(c);
            continue;
        }
        return;
    }
}

/* Discard what arrived while lingering; close once enough was read. */
static void linger_drain(struct httpd_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t n = evbuffer_get_length(in);

    evbuffer_drain(in, n);
    c->linger_left = n < c->linger_left ? c->linger_left - n : 0;
    if (c->linger_left == 0)
        conn_free(c);
}

/*
 * The reply is out: shut down our side and discard the client's unread
 * bytes for a bounded time and size, so closing does not reset the
 * connection (a reset makes the client's kernel drop the reply it has not
 * read yet).
 */
static void linger_start(struct httpd_conn *c)
{
    struct timeval tv = {HTTPD_LINGER_SECS, 0};

    c->state = C_LINGER;
    if (c->h->tls)
        httpd__tls_close_notify(c->bev);
    if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) < 0 ||
        event_add(c->kick, &tv) < 0) {
        conn_free(c);
        return;
    }
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_enable(c->bev, EV_READ);
    linger_drain(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct httpd_conn *c = arg;

    (void)bev;
    if (c->state == C_LINGER)
        linger_drain(c);
    else
        conn_process(c);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct httpd_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->state == C_HANDSHAKE)
        httpd__handshake_timeout(c);
    if (c->state == C_LINGER || c->state == C_HANDSHAKE)
        conn_free(c); /* the linger time or handshake deadline is over */
    else if (c->state == C_BODY || c->state == C_HEAD)
        conn_process(c);
}

static void on_written(struct bufferevent *bev, void *arg)
{
    struct httpd_conn *c = arg;
    struct httpd_req *r = c->r;

    (void)bev;
    if (c->state != C_WRITING)
        return;
    if (c->file_open) {
        httpd__file_feed(c);
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
            return;
    }
    if (c->file_bad) {
        conn_free(c); /* short of the Content-Length: no keep-alive */
        return;
    }
    if (c->pending && evbuffer_get_length(c->pending) > 0) {
        evbuffer_remove_buffer(c->pending, bufferevent_get_output(c->bev),
                               HTTPD_TLS_CHUNK);
        return;
    }
    c->r = NULL;
    if (r) {
        report_sent(c, r, true);
        r->conn = NULL;
        httpd_req_unref(r);
    }
    if (c->close_after && c->linger) {
        linger_start(c);
        return;
    }
    if (c->close_after) {
        conn_free(c);
        return;
    }
    c->state = C_HEAD;
    httpd__idle_enter(c);
    bufferevent_enable(c->bev, EV_READ);
    conn_process(c);
}

/* The TLS handshake is done: who is the peer; now serve requests. */
static void handshake_done(struct httpd_conn *c)
{
    struct timeval idle = {(time_t)c->h->idle_secs, 0};

    event_del(c->kick);
    httpd__tls_peer(&c->peer, c->bev);
    c->state = C_HEAD;
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    conn_process(c);
}

static const char *handshake_error(struct bufferevent *bev)
{
    static char why[160];
    unsigned long e = bufferevent_get_openssl_error(bev);

    if (!e)
        return "connection closed or timed out";
    ERR_error_string_n(e, why, sizeof(why));
    return why;
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct httpd_conn *c = arg;

    (void)bev;
    if ((what & BEV_EVENT_CONNECTED) && c->state == C_HANDSHAKE) {
        handshake_done(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (c->state == C_HANDSHAKE)
            log_debug("tls_handshake_failed", "{s:s, s:s}", "listener",
                      c->h->name, "reason", handshake_error(c->bev));
        if (c->state == C_HANDSHAKE && (what & BEV_EVENT_TIMEOUT))
            httpd__handshake_timeout(c);
        if ((what & BEV_EVENT_TIMEOUT) && c->state == C_HANDLER)
            return; /* waiting on our own handler is not idleness */
        conn_free(c);
    }
}

/* The status line and headers of r's reply, with a body of blen bytes. */
static void send_head(struct httpd_req *r, int status, const char *ctype,
                      uint64_t blen)
{
    struct httpd_conn *c = r->conn;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    bool close_now;

    /* A body we did not (fully) read must not be parsed as the next
     * request: close after this reply. */
    if (r->chunked && !httpd_chunked_done(&r->chunk)) {
        c->close_after = true;
        c->linger = true;
        c->linger_left = HTTPD_LINGER_MAX_BYTES;
    } else if (r->body_seen < r->body_len) {
        uint64_t left = r->body_len - r->body_seen;

        c->close_after = true;
        c->linger = true;
        c->linger_left = left < HTTPD_LINGER_MAX_BYTES
                             ? left
                             : HTTPD_LINGER_MAX_BYTES;
    }
    close_now = c->close_after;
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nx-request-id: %s\r\n",
                        status, httpd_reason(status), r->id);
    if (ctype)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
    if (status != 204 && status >= 200)
        evbuffer_add_printf(out, "Content-Length: %llu\r\n",
                            (unsigned long long)blen);
    if (r->out_headers.len)
        evbuffer_add(out, r->out_headers.data, r->out_headers.len);
    evbuffer_add_printf(out, "Connection: %s\r\n\r\n",
                        close_now ? "close" : "keep-alive");
}

/* The reply is queued: write it, then on_written. */
static void send_start(struct httpd_conn *c)
{
    c->state = C_WRITING;
    httpd__rate_start(c);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        on_written(c->bev, c);
}

void httpd__send_file(struct httpd_req *r, int status, const char *ctype,
                      int fd, uint64_t off, uint64_t len)
{
    struct httpd_conn *c = r->conn;

    send_head(r, status, ctype, len);
    if (r->head || status == 204 || len == 0) {
        close(fd);
    } else {
        r->body_queued = len;
        httpd__file_set(c, fd, off, len);
        httpd__file_feed(c);
    }
    send_start(c);
}

void httpd__send(struct httpd_req *r, int status, const char *ctype,
                 struct evbuffer *body)
{
    struct httpd_conn *c = r->conn;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t blen = body ? evbuffer_get_length(body) : 0;

    send_head(r, status, ctype, blen);
    if (body && !r->head && status != 204) {
        r->body_queued = blen;
        if (c->h->tls && blen > HTTPD_TLS_CHUNK &&
            (c->pending || (c->pending = evbuffer_new()))) {
            evbuffer_add_buffer(c->pending, body);
            evbuffer_remove_buffer(c->pending, out, HTTPD_TLS_CHUNK);
        } else {
            evbuffer_add_buffer(out, body);
        }
    }
    send_start(c);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct httpd *h = arg;
    struct httpd_conn *c = NULL;
    struct timeval idle = {(time_t)h->idle_secs, 0};

    (void)lev;
    (void)salen;
    /* At a connection limit with no idle connection to close: close this
     * one at once (the client sees its connection closed, not a hang). */
    if (!httpd__admit(h, sa)) {
        evutil_closesocket(fd);
        return;
    }
    c = mem_calloc(1, sizeof(*c));
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    /*
     * Replies leave in several segments; without TCP_NODELAY the last one
     * waits for the peer's delayed ACK (~40 ms per keep-alive reply over
     * 16 KiB: GET /artifacts fell from ~2900 to ~320 requests/s).
     */
    if (sa && sa->sa_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    c->h = h;
    if (h->tls) {
        c->bev = httpd__tls_accept(h, fd);
        c->state = C_HANDSHAKE;
        idle.tv_sec = (time_t)h->handshake_secs;
    } else {
        c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    c->kick = event_new(h->base, -1, 0, on_kick, c);
    if (!c->bev || !c->kick || httpd__conn_counted(c, sa) < 0) {
        httpd__conn_uncounted(c);
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (c->kick)
            event_free(c->kick);
        mem_free(c);
        return;
    }
    if (h->rate_group)
        bufferevent_add_to_rate_limit_group(c->bev, h->rate_group);
    bufferevent_set_max_single_write(c->bev, HTTPD_MAX_SINGLE_WRITE);
    bufferevent_setcb(c->bev, on_read, on_written, on_event, c);
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    /* a deadline, not an idle timeout: a client trickling its handshake
     * does not keep the connection */
    if (h->tls)
        event_add(c->kick, &idle);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    httpd__idle_enter(c);
}

int httpd_new(struct httpd **out, struct event_base *base,
              const struct httpd_opts *opts, const struct httpd_service *svc,
              struct err *err)
{
    struct httpd *h = mem_calloc(1, sizeof(*h));
    struct sockaddr_storage ss;
    int sl = (int)sizeof(ss);
    socklen_t gl = sizeof(ss);
    char spec[300];
    int rc = 0;

    *out = NULL;
    if (!h)
        return err_set(err, ERR_NOMEM, "out of memory");
    h->base = base;
    h->svc = *svc;
    h->rate_group = opts->rate_group;
    h->tls = opts->tls;
    h->handshake_secs = opts->handshake_secs ? opts->handshake_secs
                                             : LIMIT_TLS_HANDSHAKE_SECS;
    h->idle_secs = opts->idle_secs ? opts->idle_secs : LIMIT_HTTP_IDLE_SECS;
    h->max_body = opts->max_body_bytes ? opts->max_body_bytes
                                       : LIMIT_ARTIFACT_BODY_DEFAULT;
    snprintf(h->name, sizeof(h->name), "%s", opts->name ? opts->name : "http");
    snprintf(spec, sizeof(spec), strchr(opts->host, ':') ? "[%s]:%u" : "%s:%u",
             opts->host, (unsigned)opts->port);
    memset(&ss, 0, sizeof(ss));
    if (strchr(opts->host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(opts->port);
        sl = (int)sizeof(*s6);
        if (evutil_inet_pton(AF_INET6, opts->host, &s6->sin6_addr) != 1)
            rc = ERR_INVAL;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(opts->port);
        sl = (int)sizeof(*s4);
        if (evutil_inet_pton(AF_INET, *opts->host ? opts->host : "0.0.0.0",
                             &s4->sin_addr) != 1)
            rc = ERR_INVAL;
    }
    if (rc < 0) {
        rc = err_set(err, ERR_INVAL, "bad listen address %s (numeric IP "
                     "expected)", spec);
        goto out;
    }
    h->lev = evconnlistener_new_bind(base, on_accept, h,
                                     LEV_OPT_CLOSE_ON_FREE |
                                         LEV_OPT_REUSEABLE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     HTTPD_LISTEN_BACKLOG,
                                     (struct sockaddr *)&ss, sl);
    if (!h->lev) {
        rc = err_set(err, ERR_IO, "cannot listen on %s: %s", spec,
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        goto out;
    }
    if (getsockname(evconnlistener_get_fd(h->lev), (struct sockaddr *)&ss,
                    &gl) < 0) {
        rc = err_set(err, ERR_IO, "getsockname failed");
        goto out;
    }
    if (httpd__limits_start(h, opts) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    h->port = ntohs(ss.ss_family == AF_INET
                        ? ((struct sockaddr_in *)&ss)->sin_port
                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = h;
    h = NULL;
out:
    if (h) {
        if (h->lev)
            evconnlistener_free(h->lev);
        httpd__limits_stop(h);
        mem_free(h);
    }
    return rc;
}

uint16_t httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_stop_accepting(struct httpd *h)
{
    if (h && h->lev) {
        h->stopped = true;
        evconnlistener_disable(h->lev);
    }
}

void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    evconnlistener_free(h->lev);
    while (h->conns)
        conn_free(h->conns);
    httpd__limits_stop(h);
    mem_free(h);
}
