/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_send: writing a reply on an httpd connection: the status line
 * and headers (Content-Length, keep-alive or close, the close after a
 * request body that was not read), a buffer body (TLS: handed over
 * HTTPD_TLS_CHUNK at a time) or a file body (fed by httpd_file.c), and
 * the count of reply body bytes actually sent (sent hook). Loop thread
 * only.
 */
#include "common/httpd.h"

#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/httpd_conn.h"
#include "common/httpd_internal.h"

/* Report the reply body bytes of r that left our buffers. */
void httpd__report_sent(struct httpd_conn *c, struct httpd_req *r,
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

/* The reply is queued: write it, then httpd__on_written. */
static void send_start(struct httpd_conn *c)
{
    c->state = C_WRITING;
    httpd__rate_start(c);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        httpd__on_written(c->bev, c);
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
