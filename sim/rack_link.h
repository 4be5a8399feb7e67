/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_link: the kernel link model and the real faults of a netns rack
 * (rack_net). Each sled's link is its veth pair; both ends get the same
 * tc tree, so each direction is shaped on its own: on the sled's eth0
 * (traffic out of the sled) and on the bridge port sK in the rack
 * namespace (traffic into it):
 *
 *   root 1: htb, default class 1:10
 *     1:10 htb rate R (uncapped: 100gbit) -> 10: netem delay/jitter, or
 *          bfifo of 100 ms at R (capped), or htb's default (uncapped)
 *     1:20 htb (the cut class)            -> 20: pfifo limit 0 (drops all)
 *
 * Delay and jitter need the kernel's netem (absent on some kernels: then
 * --delay fails saying so). Random loss is an nftables netdev table in
 * the rack namespace on the bridge port (hooks egress and ingress: both
 * directions, on the wire, ICMPv6 spared), with drop counters.
 * A partition is u32 filters sending the cut traffic to 1:20: everything
 * (the whole link), or what goes to / comes from one peer's address
 * (--from), on one end only for --one-way; neighbour discovery (ICMPv6
 * 135/136) always passes so a one-way cut drops IP traffic, not the
 * neighbour cache. The processes keep running. `heal` removes the filters.
 * A flapping link is a small rack-sim process (`link-flap-run`, recorded
 * in the state) that cuts and restores the link every SECS seconds.
 * Main thread only.
 */
#ifndef SIM_RACK_LINK_H
#define SIM_RACK_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;
struct rack;
struct rack_link;

/* Bytes per second: digits with an optional K, M or G (x1024 each).
 * Returns 0 or ERR_INVAL. */
int rack_link_parse_rate(uint64_t *out, const char *s);

/* A duration in microseconds: "5" (ms), "5ms", "0.5ms", "300us", "1s".
 * At most 60 s. Returns 0 or ERR_INVAL. */
int rack_link_parse_us(unsigned *out, const char *s);

/* A loss percentage ("5", "5%", "0.25") in thousandths of a percent,
 * at most 100 %. Returns 0 or ERR_INVAL. */
int rack_link_parse_loss(unsigned *out, const char *s);

/*
 * Build sled k's tc tree on both ends with r->sleds[k].link, and its cut
 * filters. Errors: ERR_IO (a tc command failed; D/net.log).
 */
int rack_link_setup(const struct rack *r, size_t k, struct err *err);

/*
 * The controller's link gets the rack's cap too (r->link_rate and
 * r->link_delay_us), in the direction out of it only, as --rate-limit caps
 * the PUTs of `replicator serve` and not the operator's uploads: the same
 * tree on replicator i's eth0, without cuts. Errors: ERR_IO.
 */
int rack_link_setup_repl(const struct rack *r, size_t i, struct err *err);

/* Change sled k's rate and netem parameters to r->sleds[k].link. */
int rack_link_apply(const struct rack *r, size_t k, struct err *err);

/*
 * Cut sled k's link: from every peer (from < 0) or only sled from, in
 * direction dir ('b' both, 'i' into the sled, 'o' out of it); recorded in
 * r->sleds[k].cuts (caller saves). Errors: ERR_INVAL (no room, sled
 * itself), ERR_IO.
 */
int rack_link_cut(struct rack *r, size_t k, int from, char dir,
                  struct err *err);

/* Stop any flapping and remove every cut of sled k. */
int rack_link_heal(struct rack *r, size_t k, struct err *err);

/*
 * Flap sled k's whole link every secs seconds (0: stop flapping and
 * heal) by starting `rack-sim link-flap-run`. Errors: ERR_IO.
 */
int rack_link_flap(struct rack *r, size_t k, unsigned secs,
                   struct err *err);

/* The flapping process itself: cut, sleep secs, restore, sleep secs,
 * until SIGTERM; then restores the link. Returns 0. */
int rack_link_flap_run(const struct rack *r, size_t k, unsigned secs);

/* Stop sled k's flapper if one runs (no tc change). */
void rack_link_flap_stop(struct rack *r, size_t k);

/* The "link" block of a sled in `status --json`. New reference. */
json_t *rack_link_json(const struct rack *r, size_t k);

#endif
