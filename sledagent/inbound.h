/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inbound: this sled's link into it, shared between the controller's PUT
 * bodies and the sled's own copies. The PUT is the rack's scarcest flow
 * (the controller sends each byte once, and every other sled's swarm
 * copy of that artifact waits on it), while copies are pulls the sled
 * paces itself. So while a PUT body flows, the copies together receive at
 * most link - (the PUTs' rate over the last second) - headroom, at least
 * INBOUND_FLOOR_DIV-th of the link (copies_leave_room): a trickle. The
 * headroom is half the link: a PUT at half the link or more leaves the
 * copies the trickle alone, since whatever they take of a link the PUT
 * could fill comes off the PUT, the one flow every sled waits on; a slow
 * PUT (a slow controller) leaves them the rest (decision 63). A new PUT
 * counts as filling the link for its first second, so the copies make
 * room before its flow ramps up. When no PUT flows the copies get the
 * sled's --rate-limit back (or no cap). Off (every call a no-op) without
 * a known link rate. Loop thread only.
 */
#ifndef SLEDAGENT_INBOUND_H
#define SLEDAGENT_INBOUND_H

#include <stddef.h>
#include <stdint.h>

struct copies;
struct event_base;
struct inbound;

#define INBOUND_TICK_MS 250
#define INBOUND_TICKS 4        /* the PUT rate is averaged over these */
#define INBOUND_HEADROOM_DIV 2  /* link / this: room for the PUT to grow */
#define INBOUND_FLOOR_DIV 1024  /* the copies' cap never goes under this */

/* link_bps: the rate of the link into the sled (0: off). cs is borrowed.
 * Returns 0 or ERR_NOMEM. */
int inbound_new(struct inbound **out, struct event_base *base,
                struct copies *cs, uint64_t link_bps);
void inbound_free(struct inbound *in);

/* A PUT body starts flowing, n of its bytes arrived, it stopped (ended,
 * failed or its client went away): every begin has one end. */
void inbound_put_begin(struct inbound *in);
void inbound_put_bytes(struct inbound *in, size_t n);
void inbound_put_end(struct inbound *in);

/* The copies' cap for a PUT rate of put_bps on a link of link_bps. */
uint64_t inbound_copies_cap(uint64_t link_bps, uint64_t put_bps);

#endif
