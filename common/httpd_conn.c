/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_conn: the life of one connection of the httpd server (see
 * httpd.h for why this is not evhttp): accept (TCP_NODELAY, the
 * rate-limit group, the idle timeout), the TLS handshake and its
 * deadline, the input loop (a request head, then its body: httpd_head.c,
 * httpd_body.c), after the reply (httpd_send.c) keep-alive or close, the
 * lingering close after a reply whose request body was not read, and
 * freeing the connection (a stream handler still waiting gets its
 * abort_fn). One request at a time per connection (no pipelining: the
 * next request is read after the reply was written). Loop thread only.
 */
#include "common/httpd.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "common/httpd_conn.h"
#include "common/httpd_internal.h"
#include "common/log.h"
#include "common/mem.h"

/*
 * Bytes handed to one writev/sendfile (libevent's default is 16 KiB): a
 * 35 KB GET /artifacts reply left in three writevs, each its own trip
 * through the TCP stack (65 % of the agent's CPU at ~20k replies/s). A
 * reply up to this size now leaves in one call. A rate-limit group still caps each write.
 */
#define HTTPD_MAX_SINGLE_WRITE (256 * 1024)

static void conn_free(struct httpd_conn *c)
{
    struct httpd_req *r = c->r;

    if (r && c->state == C_WRITING)
        httpd__report_sent(c, r, false);
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

static void conn_process(struct httpd_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    if (c->h && c->h->tls && (c->state == C_HEAD || c->state == C_BODY))
        httpd__tls_read_pending(c->bev);
    for (;;) {
        if (c->state == C_HEAD) {
            if (evbuffer_get_length(in) > 0)
                httpd__head_started(c);
            if (!httpd__head_take(c))
                return;
            continue;
        }
        if (c->state == C_BODY) {
            if (c->r->paused || evbuffer_get_length(in) == 0)
                return;
            httpd__body_take(c);
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

void httpd__on_written(struct bufferevent *bev, void *arg)
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
        httpd__report_sent(c, r, true);
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

void httpd__on_accept(struct evconnlistener *lev, evutil_socket_t fd,
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
    bufferevent_setcb(c->bev, on_read, httpd__on_written, on_event, c);
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
