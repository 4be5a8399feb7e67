/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inbound: what a PUT body leaves of the sled's link to its copies. See
 * inbound.h. Loop thread only.
 */
#include "sledagent/inbound.h"

#include <event2/event.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "sledagent/copy.h"

struct inbound {
    struct copies *cs;
    struct event *tick;
    uint64_t link_bps;
    unsigned puts;                   /* bodies flowing */
    uint64_t bytes;                  /* this tick's */
    uint64_t ring[INBOUND_TICKS];    /* the last ticks' bytes */
    unsigned next;
};

uint64_t inbound_copies_cap(uint64_t link_bps, uint64_t put_bps)
{
    uint64_t floor = link_bps / INBOUND_FLOOR_DIV;
    uint64_t taken = put_bps + link_bps / INBOUND_HEADROOM_DIV;

    if (floor < 1024)
        floor = 1024;
    return taken + floor > link_bps ? floor : link_bps - taken;
}

static uint64_t put_rate(const struct inbound *in)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < INBOUND_TICKS; i++)
        sum += in->ring[i];
    return sum * 1000 / (INBOUND_TICKS * INBOUND_TICK_MS);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct inbound *in = arg;

    (void)fd;
    (void)what;
    in->ring[in->next] = in->bytes;
    in->next = (in->next + 1) % INBOUND_TICKS;
    in->bytes = 0;
    copies_leave_room(in->cs, inbound_copies_cap(in->link_bps,
                                                 put_rate(in)));
}

int inbound_new(struct inbound **out, struct event_base *base,
                struct copies *cs, uint64_t link_bps)
{
    struct inbound *in = mem_calloc(1, sizeof(*in));

    *out = NULL;
    if (!in)
        return ERR_NOMEM;
    in->cs = cs;
    in->link_bps = link_bps;
    if (link_bps && !(in->tick = event_new(base, -1, EV_PERSIST, on_tick,
                                           in))) {
        mem_free(in);
        return ERR_NOMEM;
    }
    *out = in;
    return 0;
}

void inbound_free(struct inbound *in)
{
    if (!in)
        return;
    if (in->tick)
        event_free(in->tick);
    mem_free(in);
}

void inbound_put_begin(struct inbound *in)
{
    const struct timeval tv = {0, INBOUND_TICK_MS * 1000};

    if (!in->tick || in->puts++)
        return;
    /* A new PUT is taken to fill the link until a second of it says
     * otherwise: the copies make room at once (floor), before its flow
     * ramps up into a queue full of theirs, and get back what it leaves
     * as its measured rate replaces the assumed one. */
    for (unsigned i = 0; i < INBOUND_TICKS; i++)
        in->ring[i] = in->link_bps * INBOUND_TICK_MS / 1000;
    in->bytes = 0;
    evtimer_add(in->tick, &tv);
    copies_leave_room(in->cs, inbound_copies_cap(in->link_bps,
                                                 put_rate(in)));
    log_debug("inbound_put_first", "{s:I}", "copies_cap",
              (json_int_t)copies_recv_cap(in->cs));
}

void inbound_put_bytes(struct inbound *in, size_t n)
{
    if (in->tick)
        in->bytes += n;
}

void inbound_put_end(struct inbound *in)
{
    if (!in->tick || !in->puts || --in->puts)
        return;
    evtimer_del(in->tick);
    copies_leave_room(in->cs, 0);
    log_debug("inbound_put_last", "{s:I}", "copies_cap",
              (json_int_t)copies_recv_cap(in->cs));
}
