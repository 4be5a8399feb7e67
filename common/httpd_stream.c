/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_stream: connections of the httpd server (see httpd.h for why this
 * is not evhttp): accept, parse the request line and headers (at most
 * LIMIT_HTTP_HEADERS), route at header time, read Content-Length bodies
 * into a bounded buffer or stream them to a callback with pause/resume
 * backpressure, write replies (file segments stay zero-copy), keep-alive,
 * idle timeouts, rate-limit group. One request at a time per connection
 * (no pipelining: the next request is read after the reply was written).
 * Loop thread only.
 */
#include "common/httpd.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common/err.h"
#include "common/httpd_internal.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"

enum conn_state { C_HEAD, C_BODY, C_HANDLER, C_WRITING };

struct httpd_conn {
    struct httpd_conn *next, *prev;
    struct httpd *h;
    struct bufferevent *bev;
    struct event *kick;      /* re-run input processing after a resume */
    struct httpd_req *r;
    enum conn_state state;
    bool close_after;
};

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

static void conn_free(struct httpd_conn *c)
{
    struct httpd_req *r = c->r;

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
    if (c->prev)
        c->prev->next = c->next;
    else if (c->h)
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->kick)
        event_free(c->kick);
    bufferevent_free(c->bev);
    mem_free(c);
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

static enum httpd_method method_of(const char *m)
{
    static const struct { const char *s; enum httpd_method m; } t[] = {
        {"GET", HTTPD_GET}, {"HEAD", HTTPD_HEAD}, {"PUT", HTTPD_PUT},
        {"POST", HTTPD_POST}, {"DELETE", HTTPD_DELETE}};

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(m, t[i].s) == 0)
            return t[i].m;
    return HTTPD_OTHER;
}

/* Parse the head (NUL-terminated, CRLFs inside) into r. 0 or ERR_INVAL. */
static int parse_head(struct httpd_req *r, struct err *err)
{
    char *p = r->head_text, *eol, *sp1, *sp2, *target, *q;

    eol = strstr(p, "\r\n");
    if (!eol)
        return err_set(err, ERR_INVAL, "bad request line");
    *eol = '\0';
    sp1 = strchr(p, ' ');
    sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
        return err_set(err, ERR_INVAL, "bad request line");
    *sp1 = '\0';
    *sp2 = '\0';
    if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0)
        return err_set(err, ERR_INVAL, "unsupported HTTP version");
    r->http10 = strcmp(sp2 + 1, "HTTP/1.0") == 0;
    r->method_name = p;
    r->method = method_of(p);
    r->head = r->method == HTTPD_HEAD;
    target = sp1 + 1;
    if (target[0] != '/')
        return err_set(err, ERR_INVAL, "request target must be a path");
    q = strchr(target, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    r->path = target;
    p = eol + 2;
    while (*p) {
        char *colon, *v, *end;

        eol = strstr(p, "\r\n");
        if (!eol || eol == p)
            break; /* the empty line ending the head */
        *eol = '\0';
        colon = strchr(p, ':');
        if (!colon || colon == p || r->nhdr == HTTPD_MAX_HEADERS)
            return err_set(err, ERR_INVAL, "bad or too many header lines");
        *colon = '\0';
        if (strcspn(p, " \t") != strlen(p))
            return err_set(err, ERR_INVAL, "bad header name");
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        r->hname[r->nhdr] = p;
        r->hval[r->nhdr] = v;
        r->nhdr++;
        p = eol + 2;
    }
    return 0;
}

static void dispatch(struct httpd_conn *c)
{
    struct httpd_req *r = c->r;

    c->state = C_HANDLER;
    bufferevent_disable(c->bev, EV_READ);
    r->dispatched = true;
    r->body_done = true;
    if (r->mode == BODY_REJECTED) {
        httpd_reply_err(r, &r->reject);
        return;
    }
    c->h->ops.on_request(r, c->h->arg);
}

static void bad_request(struct httpd_conn *c, int code, const char *msg)
{
    struct httpd_req *r = c->r;
    struct err err = ERR_INIT;

    err_set(&err, code, "%s", msg);
    httpd_req_reject(r, &err);
    c->close_after = true;
    dispatch(c);
}

static void start_request(struct httpd_conn *c, size_t head_len)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct httpd_req *r = mem_calloc(1, sizeof(*r));
    struct err err = ERR_INIT;
    const char *v;
    uint64_t clen = 0;
    int crc;

    if (!r || !(r->head_text = mem_alloc(head_len + 1))) {
        mem_free(r);
        conn_free(c);
        return;
    }
    evbuffer_remove(in, r->head_text, head_len);
    r->head_text[head_len] = '\0';
    r->h = c->h;
    r->conn = c;
    r->refs = 1;
    r->body_cap = LIMIT_JSON_BODY;
    httpd_request_id(r->id);
    c->r = r;
    c->state = C_HEAD;
    if (parse_head(r, &err) < 0) {
        httpd_req_reject(r, &err);
        c->close_after = true;
        dispatch(c);
        return;
    }
    v = httpd_req_header(r, "Connection");
    if ((v && strcasecmp(v, "close") == 0) ||
        (r->http10 && !(v && strcasecmp(v, "keep-alive") == 0)))
        c->close_after = true;
    crc = httpd_req_content_length(r, &clen);
    if (httpd_req_header(r, "Transfer-Encoding")) {
        bad_request(c, ERR_INVAL, "Transfer-Encoding is not supported; "
                                  "send the body with a Content-Length");
        return;
    }
    if (crc == ERR_INVAL) {
        bad_request(c, ERR_INVAL, "bad Content-Length");
        return;
    }
    r->body_len = crc == 0 ? clen : 0;
    c->h->ops.on_headers(r, c->h->arg);
    if (r->mode == BODY_BUFFER && r->body_len > r->body_cap) {
        err_set(&err, ERR_TOOBIG, "body of %llu bytes is over the %zu-byte "
                "cap of this endpoint", (unsigned long long)r->body_len,
                r->body_cap);
        httpd_req_reject(r, &err);
    }
    if (r->mode == BODY_STREAM && r->body_len > c->h->max_body) {
        err_set(&err, ERR_TOOBIG, "body of %llu bytes is over the %llu-byte "
                "cap", (unsigned long long)r->body_len,
                (unsigned long long)c->h->max_body);
        httpd_req_reject(r, &err);
    }
    if (r->mode == BODY_REJECTED) {
        /* The body (if any) is never read: reply and close. */
        if (r->body_len > 0)
            c->close_after = true;
        dispatch(c);
        return;
    }
    if (r->body_len == 0) {
        dispatch(c);
        return;
    }
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

static void conn_process(struct httpd_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    for (;;) {
        if (c->state == C_HEAD) {
            struct evbuffer_ptr pos;

            if (evbuffer_get_length(in) == 0)
                return;
            pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (pos.pos < 0) {
                if (evbuffer_get_length(in) > LIMIT_HTTP_HEADERS) {
                    /* No request to answer yet: make one for the error. */
                    conn_free(c);
                }
                return;
            }
            if ((size_t)pos.pos + 4 > LIMIT_HTTP_HEADERS) {
                conn_free(c);
                return;
            }
            start_request(c, (size_t)pos.pos + 4);
            continue;
        }
        if (c->state == C_BODY) {
            if (c->r->paused || evbuffer_get_length(in) == 0)
                return;
            read_body(c);
            continue;
        }
        return;
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_process(arg);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct httpd_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->state == C_BODY || c->state == C_HEAD)
        conn_process(c);
}

static void on_written(struct bufferevent *bev, void *arg)
{
    struct httpd_conn *c = arg;
    struct httpd_req *r = c->r;

    (void)bev;
    if (c->state != C_WRITING)
        return;
    c->r = NULL;
    if (r) {
        r->conn = NULL;
        httpd_req_unref(r);
    }
    if (c->close_after) {
        conn_free(c);
        return;
    }
    c->state = C_HEAD;
    bufferevent_enable(c->bev, EV_READ);
    conn_process(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct httpd_conn *c = arg;

    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if ((what & BEV_EVENT_TIMEOUT) && c->state == C_HANDLER)
            return; /* waiting on our own handler is not idleness */
        conn_free(c);
    }
}

void httpd__send(struct httpd_req *r, int status, const char *ctype,
                 struct evbuffer *body)
{
    struct httpd_conn *c = r->conn;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t blen = body ? evbuffer_get_length(body) : 0;
    bool close_now;

    /* A body we did not (fully) read must not be parsed as the next
     * request: close after this reply. */
    if (r->body_seen < r->body_len)
        c->close_after = true;
    close_now = c->close_after;
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nx-request-id: %s\r\n",
                        status, httpd_reason(status), r->id);
    if (ctype)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
    if (status != 204 && status >= 200)
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", blen);
    if (r->out_headers.len)
        evbuffer_add(out, r->out_headers.data, r->out_headers.len);
    evbuffer_add_printf(out, "Connection: %s\r\n\r\n",
                        close_now ? "close" : "keep-alive");
    if (body && !r->head && status != 204)
        evbuffer_add_buffer(out, body);
    c->state = C_WRITING;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
    if (evbuffer_get_length(out) == 0)
        on_written(c->bev, c);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct httpd *h = arg;
    struct httpd_conn *c = mem_calloc(1, sizeof(*c));
    struct timeval idle = {(time_t)h->idle_secs, 0};

    (void)lev;
    (void)sa;
    (void)salen;
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->h = h;
    c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->kick = event_new(h->base, -1, 0, on_kick, c);
    if (!c->bev || !c->kick) {
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
    bufferevent_setcb(c->bev, on_read, on_written, on_event, c);
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
}

int httpd_new(struct httpd **out, struct event_base *base,
              const struct httpd_opts *opts, const struct httpd_ops *ops,
              void *arg, struct err *err)
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
    h->ops = *ops;
    h->arg = arg;
    h->rate_group = opts->rate_group;
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
                                     128, (struct sockaddr *)&ss, sl);
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
    h->port = ntohs(ss.ss_family == AF_INET
                        ? ((struct sockaddr_in *)&ss)->sin_port
                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = h;
    h = NULL;
out:
    if (h) {
        if (h->lev)
            evconnlistener_free(h->lev);
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
    if (h && h->lev)
        evconnlistener_disable(h->lev);
}

void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    evconnlistener_free(h->lev);
    while (h->conns)
        conn_free(h->conns);
    mem_free(h);
}
