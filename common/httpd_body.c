/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_body: reading a request body on an httpd connection: a
 * Content-Length body or a chunked one (decoded by httpd_chunked as it
 * arrives) into a bounded buffer, or streamed to the route's callback
 * with pause/resume backpressure; the handler's choices at header time
 * (reject, body cap, stream); refusing a body that fails. Loop thread
 * only.
 */
#include "common/httpd.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/err.h"
#include "common/httpd_conn.h"
#include "common/httpd_internal.h"

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

static void stop_body(struct httpd_conn *c, const struct err *err)
{
    struct httpd_req *r = c->r;

    r->mode = BODY_REJECTED;
    r->reject = *err;
    r->abort_fn = NULL;
    c->close_after = true;
    httpd__dispatch(c);
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
        httpd__dispatch(c);
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
        httpd__dispatch(c);
}

void httpd__body_take(struct httpd_conn *c)
{
    if (c->r->chunked)
        read_chunked(c);
    else
        read_body(c);
}
