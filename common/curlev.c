/* SPDX-License-Identifier: MPL-2.0 */
/*
 * curlev: libcurl multi on libevent (see curlev.h). Owns the multi handle,
 * one struct event per socket curl watches, the timeout timer and a small
 * record per transfer. Loop thread only.
 */
#include "common/curlev.h"

#include <stdbool.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

struct xfer {
    struct xfer *next, *prev;
    CURL *easy;
    curlev_done_fn done;
    void *arg;
};

struct sock {
    struct event *ev;
    curl_socket_t fd;
};

struct curlev {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct xfer *xfers; /* doubly linked list of running transfers */
    unsigned running;
    bool in_action;     /* inside curl_multi_socket_action */
};

static void check_done(struct curlev *cv)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(cv->multi, &left)) != NULL) {
        struct xfer *x = NULL;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(cv->multi, easy);
        if (!x)
            continue;
        if (x->prev)
            x->prev->next = x->next;
        else
            cv->xfers = x->next;
        if (x->next)
            x->next->prev = x->prev;
        cv->running--;
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        {
            curlev_done_fn done = x->done;
            void *arg = x->arg;

            mem_free(x);
            done(easy, res, arg);
        }
    }
}

static void action(struct curlev *cv, curl_socket_t fd, int flags)
{
    int still;

    cv->in_action = true;
    curl_multi_socket_action(cv->multi, fd, flags, &still);
    cv->in_action = false;
    check_done(cv);
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
    struct curlev *cv = arg;
    int flags = 0;

    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    action(cv, (curl_socket_t)fd, flags);
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
    struct curlev *cv = userp;
    struct sock *s = socketp;
    short kind = EV_PERSIST;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            event_free(s->ev);
            mem_free(s);
            curl_multi_assign(cv->multi, fd, NULL);
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
        curl_multi_assign(cv->multi, fd, s);
    } else {
        event_free(s->ev);
        s->ev = NULL;
    }
    s->ev = event_new(cv->base, fd, kind, on_sock_event, cv);
    if (!s->ev || event_add(s->ev, NULL) < 0)
        return -1;
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct curlev *cv = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(cv->timer);
        return 0;
    }
    /* timeout 0 means "act now": schedule rather than recurse into curl. */
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(cv->timer, &tv) < 0 ? -1 : 0;
}

int curlev_new(struct curlev **out, struct event_base *base)
{
    struct curlev *cv = mem_calloc(1, sizeof(*cv));
    int rc = 0;

    *out = NULL;
    if (!cv)
        return ERR_NOMEM;
    cv->base = base;
    cv->multi = curl_multi_init();
    cv->timer = evtimer_new(base, on_timer, cv);
    if (!cv->multi || !cv->timer) {
        rc = ERR_NOMEM;
        goto out;
    }
    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv);
    curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv);
    *out = cv;
    cv = NULL;
out:
    curlev_free(cv);
    return rc;
}

int curlev_add(struct curlev *cv, CURL *easy, curlev_done_fn done, void *arg)
{
    struct xfer *x = mem_calloc(1, sizeof(*x));

    if (!x)
        return ERR_NOMEM;
    x->easy = easy;
    x->done = done;
    x->arg = arg;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(cv->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        mem_free(x);
        return ERR_INTERNAL;
    }
    x->next = cv->xfers;
    if (cv->xfers)
        cv->xfers->prev = x;
    cv->xfers = x;
    cv->running++;
    return 0;
}

void curlev_remove(struct curlev *cv, CURL *easy)
{
    struct xfer *x = NULL;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    if (!x)
        return;
    curl_multi_remove_handle(cv->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    if (x->prev)
        x->prev->next = x->next;
    else
        cv->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    cv->running--;
    mem_free(x);
}

void curlev_unpause(struct curlev *cv, CURL *easy)
{
    static const struct timeval now = {0, 0};

    curl_easy_pause(easy, CURLPAUSE_CONT);
    /* curl delivers held data on the next socket action; make sure one
     * happens even if the socket stays quiet. */
    if (!cv->in_action)
        evtimer_add(cv->timer, &now);
}

unsigned curlev_running(const struct curlev *cv)
{
    return cv->running;
}

void curlev_free(struct curlev *cv)
{
    if (!cv)
        return;
    while (cv->xfers)
        curlev_remove(cv, cv->xfers->easy);
    if (cv->multi)
        curl_multi_cleanup(cv->multi);
    if (cv->timer)
        event_free(cv->timer);
    mem_free(cv);
}
