/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_head: the request record of the httpd server and its head: find
 * a complete head in a connection's input (at most LIMIT_HTTP_HEADERS;
 * 431 over it, 400 for a malformed request line as soon as it is in),
 * hand it to httpd_parse, keep-alive from Connection, route at header
 * time, 100-continue, then the body (httpd_body.c) or the handler at
 * once (dispatch). References of the request record. Loop thread only.
 */
#include "common/httpd.h"

#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/err.h"
#include "common/httpd_conn.h"
#include "common/httpd_internal.h"
#include "common/limits.h"
#include "common/mem.h"

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

void httpd__dispatch(struct httpd_conn *c)
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
    httpd__dispatch(c);
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
        httpd__conn_close(c);
        return;
    }
    err_set(&r->reject, ERR_INVAL, "%s", msg);
    r->mode = BODY_REJECTED;
    r->reject_status = status;
    c->close_after = true;
    c->linger = true;
    c->linger_left = HTTPD_LINGER_MAX_BYTES;
    httpd__dispatch(c);
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
        httpd__conn_close(c);
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
        httpd__dispatch(c);
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
        httpd__dispatch(c);
        return;
    }
    if (r->body_len == 0 && !r->chunked) {
        httpd__dispatch(c);
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
        httpd__conn_close(c);
        return false;
    }
    rc = httpd_parse_scan(head_len, data, n, &err);
    if (rc < 0) {
        bad_head(c, httpd_parse_status(rc), err.msg);
        return false;
    }
    return *head_len > 0;
}

bool httpd__head_take(struct httpd_conn *c)
{
    size_t head_len = 0;

    if (!head_ready(c, &head_len))
        return false;
    start_request(c, head_len);
    return true;
}
