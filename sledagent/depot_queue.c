/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot_queue: the depot's bounded queue of ranged reads waiting for a
 * stream (depot_queue.h). Each held read has one timer: its deadline
 * (429), or, set to fire at once, its wake-up by a stream that ended
 * (depot_serve_range again, from the loop rather than inside the
 * server's sent hook).
 */
#include "sledagent/depot_queue.h"

#include <unistd.h>

#include <event2/event.h>

#include "common/httpd.h"
#include "common/mem.h"
#include "sledagent/agent_internal.h"
#include "sledagent/depot.h"

struct piece_wait {
    struct piece_wait *next;
    struct agent *a;
    struct httpd_req *r;
    struct event *ev;
    struct depot_range rg;
    const void *peer;
    bool woken;
};

static void unlink_wait(struct piece_wait *w)
{
    struct piece_wait **p = &w->a->piece_waits;

    while (*p && *p != w)
        p = &(*p)->next;
    if (*p)
        *p = w->next;
    w->a->npiece_waits--;
    if (w->woken)
        w->a->depot_woken--;
}

static void wait_free(struct piece_wait *w)
{
    httpd_req_unref(w->r);
    event_free(w->ev);
    mem_free(w);
}

static void reply_busy(struct httpd_req *r)
{
    httpd_req_add_header(r, "Retry-After", "1");
    httpd_reply_error(r, 429, NULL, "too many ranged reads");
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct piece_wait *w = arg;
    struct agent *a = w->a;
    bool woken = w->woken;

    (void)fd;
    (void)what;
    unlink_wait(w);
    if (woken && httpd_req_open(w->r)) {
        depot_serve_range(w->r, a, &w->rg, true);
    } else {
        close(w->rg.fd);
        if (!woken)
            reply_busy(w->r);
    }
    wait_free(w);
    /* the stream it was woken for is still free (the client went, or the
     * piece was refused after all): the next one gets it */
    if (woken && a->depot_ranged + a->depot_woken < DEPOT_PIECE_STREAMS)
        depot_queue_wake(a);
}

bool depot_queue_hold(struct agent *a, struct httpd_req *r,
                      const struct depot_range *rg)
{
    struct timeval tv = {DEPOT_PIECE_QUEUE_MS / 1000,
                         (DEPOT_PIECE_QUEUE_MS % 1000) * 1000};
    const void *peer = httpd_req_peer_key(r);
    struct piece_wait *w, **tail = &a->piece_waits;
    unsigned same = 0;

    if (a->npiece_waits >= DEPOT_PIECE_QUEUE || !peer)
        return false;
    for (; *tail; tail = &(*tail)->next)
        same += (*tail)->peer == peer;
    if (same >= DEPOT_PIECE_QUEUE_PER_PEER)
        return false;
    w = mem_calloc(1, sizeof(*w));
    if (!w)
        return false;
    w->ev = evtimer_new(a->base, on_timer, w);
    if (!w->ev || evtimer_add(w->ev, &tv) < 0) {
        if (w->ev)
            event_free(w->ev);
        mem_free(w);
        return false;
    }
    w->a = a;
    w->r = r;
    w->rg = *rg;
    w->peer = peer;
    httpd_req_ref(r);
    *tail = w; /* oldest first */
    a->npiece_waits++;
    return true;
}

void depot_queue_wake(struct agent *a)
{
    static const struct timeval now = {0, 0};

    for (struct piece_wait *w = a->piece_waits; w; w = w->next)
        if (!w->woken) {
            w->woken = true;
            a->depot_woken++;
            evtimer_add(w->ev, &now);
            return;
        }
}

void depot_queue_end_all(struct agent *a)
{
    while (a->piece_waits) {
        struct piece_wait *w = a->piece_waits;

        unlink_wait(w);
        close(w->rg.fd);
        httpd_reply_error(w->r, 503, NULL, "the agent is stopping");
        wait_free(w);
    }
}
