/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpc_loop: the event-loop driver of common/httpc (see httpc.h): a curl
 * multi handle driven by a libevent event_base through
 * curl_multi_socket_action(), one event per socket curl asks about and one
 * timer for curl's timeout, so transfers never block the loop. Owns the
 * multi handle, the socket events, the timer and the list of running
 * requests. Loop thread only; the requests' callbacks and done run on it,
 * from inside curl_multi_socket_action().
 */
#include "common/httpc.h"

#include <stdbool.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/httpc_internal.h"
#include "common/limits.h"
#include "common/mem.h"

/* Idle connections kept alive by one loop: one per sled of a full rack. */
#define HTTPC_LOOP_MAX_IDLE LIMIT_SLEDS_PER_RACK

struct sock {
    struct event *ev;
    curl_socket_t fd;
};

struct httpc_loop {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct httpc *reqs;  /* doubly linked list of running requests */
    unsigned running;
    bool in_action;      /* inside curl_multi_socket_action */
};

static void unlink_req(struct httpc_loop *l, struct httpc *h)
{
    curl_multi_remove_handle(l->multi, h->easy);
    if (h->prev)
        h->prev->next = h->next;
    else
        l->reqs = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->next = h->prev = NULL;
    h->running = false;
    l->running--;
}

static void check_done(struct httpc_loop *l)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
        struct httpc *h = NULL;
        CURLcode res = msg->data.result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        if (!h || !h->running) {
            curl_multi_remove_handle(l->multi, msg->easy_handle);
            continue;
        }
        unlink_req(l, h);
        httpc__finish(h, res);
        h->done(h, h->done_arg);
    }
}

static void action(struct httpc_loop *l, curl_socket_t fd, int flags)
{
    int still;

    l->in_action = true;
    curl_multi_socket_action(l->multi, fd, flags, &still);
    l->in_action = false;
    check_done(l);
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
    struct httpc_loop *l = arg;
    int flags = 0;

    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    action(l, (curl_socket_t)fd, flags);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                   void *socketp)
{
    struct httpc_loop *l = userp;
    struct sock *s = socketp;
    short kind = EV_PERSIST;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            event_free(s->ev);
            mem_free(s);
            curl_multi_assign(l->multi, fd, NULL);
        }
        return 0;
    }
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (!s) {
        s = mem_calloc(1, sizeof(*s));
        if (!s)
            return -1;
        s->fd = fd;
        curl_multi_assign(l->multi, fd, s);
    } else {
        event_free(s->ev);
        s->ev = NULL;
    }
    s->ev = event_new(l->base, fd, kind, on_sock_event, l);
    if (!s->ev || event_add(s->ev, NULL) < 0)
        return -1;
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct httpc_loop *l = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(l->timer);
        return 0;
    }
    /* timeout 0 means "act now": schedule rather than recurse into curl. */
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(l->timer, &tv) < 0 ? -1 : 0;
}

int httpc_loop_new(struct httpc_loop **out, struct event_base *base)
{
    struct httpc_loop *l = mem_calloc(1, sizeof(*l));
    int rc = 0;

    *out = NULL;
    if (!l)
        return ERR_NOMEM;
    l->base = base;
    l->multi = curl_multi_init();
    l->timer = evtimer_new(base, on_timer, l);
    if (!l->multi || !l->timer) {
        rc = ERR_NOMEM;
        goto out;
    }
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    /* Keep one idle connection per peer between rounds. curl's default
     * cache is 4x the handles added at the moment, so it shrinks as a
     * round's requests finish and closes connections the next round
     * needs (a full TLS handshake each). */
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS,
                      (long)HTTPC_LOOP_MAX_IDLE);
    *out = l;
    l = NULL;
out:
    httpc_loop_free(l);
    return rc;
}

int httpc_start(struct httpc_loop *l, struct httpc *h, httpc_done_fn done,
                void *arg)
{
    if (h->running)
        return ERR_INTERNAL;
    h->loop = l;
    h->done = done;
    h->done_arg = arg;
    curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
    if (curl_multi_add_handle(l->multi, h->easy) != CURLM_OK)
        return ERR_INTERNAL;
    h->running = true;
    h->next = l->reqs;
    if (l->reqs)
        l->reqs->prev = h;
    l->reqs = h;
    l->running++;
    return 0;
}

void httpc__loop_remove(struct httpc *h)
{
    if (h->running)
        unlink_req(h->loop, h);
}

bool httpc_running(const struct httpc *h)
{
    return h->running;
}

void httpc_unpause(struct httpc *h)
{
    static const struct timeval now = {0, 0};

    curl_easy_pause(h->easy, CURLPAUSE_CONT);
    /* curl delivers held data on the next socket action; make sure one
     * happens even if the socket stays quiet. */
    if (h->loop && !h->loop->in_action)
        evtimer_add(h->loop->timer, &now);
}

unsigned httpc_loop_running(const struct httpc_loop *l)
{
    return l->running;
}

void httpc_loop_free(struct httpc_loop *l)
{
    if (!l)
        return;
    while (l->reqs)
        unlink_req(l, l->reqs);
    if (l->multi)
        curl_multi_cleanup(l->multi);
    if (l->timer)
        event_free(l->timer);
    mem_free(l);
}
