/* SPDX-License-Identifier: MPL-2.0 */
/*
 * recv_bucket: the shared, work-conserving receive cap (recv_bucket.h).
 * Tokens are added lazily from the monotonic clock on every take; a
 * one-shot timer fires when a paused transfer can go on.
 */
#include "sledagent/recv_bucket.h"

#include <time.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/mem.h"

struct recv_bucket {
    struct event *timer;
    recv_bucket_resume_fn resume;
    void *arg;
    uint64_t bps;
    int64_t tokens;             /* bytes; may be negative */
    int64_t last_us;            /* when tokens were last added */
    bool waiting;               /* a transfer paused: resume is due */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t burst(const struct recv_bucket *b)
{
    int64_t m = (int64_t)(b->bps * RECV_BUCKET_BURST_MS / 1000);

    return m > 0 ? m : 1;
}

static void refill(struct recv_bucket *b)
{
    int64_t t = now_us(), add;

    if (t <= b->last_us)
        return;
    add = (int64_t)((double)b->bps * (double)(t - b->last_us) / 1e6);
    if (add <= 0)
        return; /* keep last_us: the fraction adds up */
    b->tokens += add;
    if (b->tokens > burst(b))
        b->tokens = burst(b);
    b->last_us = t;
}

static void arm(struct recv_bucket *b)
{
    int64_t wait_us = 1000;
    struct timeval tv;

    /* until the bucket is back above zero, at most one burst's time */
    if (b->tokens < 0 && b->bps)
        wait_us += (int64_t)((double)-b->tokens * 1e6 / (double)b->bps);
    if (wait_us > RECV_BUCKET_BURST_MS * 1000)
        wait_us = RECV_BUCKET_BURST_MS * 1000;
    tv.tv_sec = 0;
    tv.tv_usec = (suseconds_t)wait_us;
    evtimer_add(b->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct recv_bucket *b = arg;

    (void)fd;
    (void)what;
    refill(b);
    if (b->bps && b->tokens <= 0) {
        arm(b);
        return;
    }
    b->waiting = false;
    b->resume(b->arg);
}

int recv_bucket_new(struct recv_bucket **out, struct event_base *base,
                    recv_bucket_resume_fn resume, void *arg)
{
    struct recv_bucket *b = mem_calloc(1, sizeof(*b));

    *out = NULL;
    if (!b)
        return ERR_NOMEM;
    b->timer = evtimer_new(base, on_timer, b);
    if (!b->timer) {
        mem_free(b);
        return ERR_NOMEM;
    }
    b->resume = resume;
    b->arg = arg;
    b->last_us = now_us();
    *out = b;
    return 0;
}

void recv_bucket_set_rate(struct recv_bucket *b, uint64_t bps)
{
    if (bps == b->bps)
        return;
    refill(b);
    b->last_us = now_us(); /* the new rate counts from now */
    b->bps = bps;
    if (b->tokens > burst(b))
        b->tokens = burst(b);
    if (!bps && b->waiting) {
        /* no cap any more: whoever paused goes on now */
        b->tokens = 0;
        arm(b);
    }
}

bool recv_bucket_take(struct recv_bucket *b, size_t len)
{
    if (!b->bps)
        return true;
    refill(b);
    if (b->tokens <= 0) {
        if (!b->waiting) {
            b->waiting = true;
            arm(b);
        }
        return false;
    }
    b->tokens -= (int64_t)len;
    return true;
}

void recv_bucket_free(struct recv_bucket *b)
{
    if (!b)
        return;
    event_free(b->timer);
    mem_free(b);
}
