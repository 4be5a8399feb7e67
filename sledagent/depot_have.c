/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot_have: the depot's GET /artifact/sha256/{sha256}/have (issue 13)
 * and its long-poll. Without a query it answers at once (store_have).
 * With `?after=N` it holds the request until more than N pieces are
 * verified here, the write of the artifact ends (complete, or gone), or
 * DEPOT_HAVE_WAIT_MS passed, checking every DEPOT_HAVE_CHECK_MS (a count
 * under the write's mutex: no file is opened), then answers the same
 * document. A swarm copy asks again with the count it was sent as soon as
 * it has an answer, so it learns of a piece a peer verified within a
 * check period instead of a polling period (copy_swarm.c). At most
 * DEPOT_HAVE_WAITS requests are held; beyond that they are answered at
 * once. Loop thread only.
 */
#include "sledagent/depot_have.h"

#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/sha256.h"
#include "sledagent/agent_internal.h"
#include "sledagent/store/store.h"

struct have_wait {
    struct have_wait *next;
    struct agent *a;
    struct httpd_req *r;
    struct event *ev;
    struct sha256 h;
    uint32_t after;
    int64_t deadline_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void answer(struct agent *a, struct httpd_req *r,
                   const struct sha256 *h)
{
    struct err err = ERR_INIT;
    struct buf doc = BUF_INIT;

    if (store_have(a->st, h, &doc, &err) < 0)
        httpd_reply_err(r, &err);
    else
        httpd_reply_data(r, 200, "application/json", doc.data, doc.len);
    buf_release(&doc);
}

/* Whether w can be answered now: more than `after` pieces, or no write. */
static bool ready(const struct have_wait *w)
{
    uint32_t n = 0;

    return store_have_count(w->a->st, &w->h, &n) < 0 || n > w->after ||
           now_ms() >= w->deadline_ms;
}

static void wait_end(struct have_wait *w)
{
    struct have_wait **p = &w->a->have_waits;

    while (*p && *p != w)
        p = &(*p)->next;
    if (*p)
        *p = w->next;
    w->a->nhave_waits--;
    answer(w->a, w->r, &w->h);
    httpd_req_unref(w->r);
    event_free(w->ev);
    mem_free(w);
}

static void on_check(evutil_socket_t fd, short what, void *arg)
{
    struct have_wait *w = arg;

    (void)fd;
    (void)what;
    if (ready(w))
        wait_end(w);
}

/* The query: none (*after = -1), or exactly "after=N", N < 2^32. */
static int have_query(int64_t *after, const char *q, struct err *err)
{
    static const char key[] = "after=";
    uint64_t v = 0;

    *after = -1;
    if (!q || !*q)
        return 0;
    if (strncmp(q, key, sizeof(key) - 1) != 0 ||
        parse_u64(&v, q + sizeof(key) - 1) < 0 || v > UINT32_MAX)
        return err_set(err, ERR_INVAL, "query must be after=N, N a count "
                       "of pieces");
    *after = (int64_t)v;
    return 0;
}

void depot_have(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    struct timeval tv = {0, DEPOT_HAVE_CHECK_MS * 1000};
    struct have_wait *w;
    struct sha256 h;
    int64_t after;

    httpd_req_sha256(&h, r, 0);
    if (have_query(&after, httpd_req_query(r), &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    if (after < 0 || a->nhave_waits >= DEPOT_HAVE_WAITS) {
        answer(a, r, &h);
        return;
    }
    w = mem_calloc(1, sizeof(*w));
    if (!w) {
        answer(a, r, &h);
        return;
    }
    w->a = a;
    w->r = r;
    w->h = h;
    w->after = (uint32_t)after;
    w->deadline_ms = now_ms() + DEPOT_HAVE_WAIT_MS;
    if (ready(w)) {
        mem_free(w);
        answer(a, r, &h);
        return;
    }
    w->ev = event_new(a->base, -1, EV_PERSIST, on_check, w);
    if (!w->ev || event_add(w->ev, &tv) < 0) {
        if (w->ev)
            event_free(w->ev);
        mem_free(w);
        answer(a, r, &h);
        return;
    }
    httpd_req_ref(r);
    w->next = a->have_waits;
    a->have_waits = w;
    a->nhave_waits++;
}

void depot_have_end_all(struct agent *a)
{
    while (a->have_waits)
        wait_end(a->have_waits);
}
