/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_net: the network of a netns rack (`rack-sim up --net netns`, root
 * only). Every member (sled K, replicator I, the database) runs in its own
 * network namespace, wired by a veth pair to a bridge in a rack namespace
 * that has no address and no route of its own. Addresses are IPv6
 * unique-local in the shape of the reference underlay: the rack's /48
 * (fd + 40 bits of sha256 of the rack directory, so two racks never clash),
 * one /64 per member (sled K: :0x101+K:, replicator I: :0x201+I:, the
 * database :0x301:, the host end :1:), the member on ::1 of it. The root
 * namespace gets one veth into the bridge and one route, to the rack's
 * /48. Every namespace and the host veth are named from the same hash
 * ("rs" + 8 hex, RACK_NET_PFX_LEN chars), so `down` and the next `up`
 * find and remove what a SIGKILLed rack-sim left. The link model and
 * partitions live in rack_link. Commands run `ip` (output to D/net.log).
 * Main thread, except rack_net_enter (a forked child before exec).
 */
#ifndef SIM_RACK_NET_H
#define SIM_RACK_NET_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct err;
struct rack;

#define RACK_NET_PFX_LEN 10 /* "rs" + 8 hex */
#define RACK_NET_ADDR_MAX 48
#define RACK_NET_NAME_MAX 32

/* Member kinds: 's' sled, 'r' replicator, 'd' database, 'k' the rack
 * namespace (bridge), 'h' the host end (address only). */

/* "rsXXXXXXXX": the name prefix of r's namespaces and host veth. */
void rack_net_prefix(char out[RACK_NET_PFX_LEN + 1], const struct rack *r);

/* The rack's /48 as "fdXX:XXXX:XXXX::/48". */
void rack_net_prefix48(char *out, size_t cap, const struct rack *r);

/* Namespace name of member kind/i ("rsXXXXXXXX-s3", "...-rack"). */
void rack_net_ns(char *out, size_t cap, const struct rack *r, char kind,
                 size_t i);

/* IPv6 address of member kind/i (no brackets, no length). */
void rack_net_addr(char *out, size_t cap, const struct rack *r, char kind,
                   size_t i);

/* Name of the host end of the rack's veth in the root namespace. */
void rack_net_host_link(char *out, size_t cap, const struct rack *r);

/*
 * The host the member listens on and is reached at: its address on a
 * netns rack, 127.0.0.1 on a loopback rack. With brackets (for URLs and
 * "HOST:PORT") when bracket and the address is IPv6.
 */
void rack_member_host(char *out, size_t cap, const struct rack *r, char kind,
                      size_t i, bool bracket);

/*
 * Whether this process can build a netns rack: root, and `ip` and `tc`
 * installed. Errors: ERR_INVAL with the reason (non-root: "the loopback
 * rack is the only mode ...").
 */
int rack_net_check(struct err *err);

/*
 * Build r's network: remove leftovers first (rack_net_down), then the
 * rack namespace and bridge, a namespace, veth and address per member,
 * the host veth and route. Errors: ERR_IO (an `ip` command failed: the
 * message names it and D/net.log).
 */
int rack_net_up(const struct rack *r, struct err *err);

/*
 * Add member kind/i to r's running network: its namespace, veth into the
 * bridge, address and route (a sled added to a running rack). Errors:
 * ERR_IO.
 */
int rack_net_member_up(const struct rack *r, char kind, size_t i,
                       struct err *err);

/* Whether member kind/i's namespace exists. */
bool rack_net_ns_exists(const struct rack *r, char kind, size_t i);

/*
 * Remove every namespace named with r's prefix and the host veth (which
 * takes the route and every veth with it). Safe when none exist.
 * Returns 0 or ERR_IO (something could not be removed).
 */
int rack_net_down(const struct rack *r, struct err *err);

/* How many namespaces and links named with r's prefix exist now. */
size_t rack_net_leftovers(const struct rack *r);

/*
 * Run `ip` (tool "ip") or `tc` with the space-separated arguments of fmt
 * (no argument may hold a space), output appended to D/net.log. Returns
 * 0, or ERR_IO when it failed (message: the command line).
 */
int rack_net_run(const struct rack *r, const char *tool, struct err *err,
                 const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * In a forked child: join namespace name (by its /run/netns path).
 * Async-signal-safe. Returns 0 or -1 with errno.
 */
int rack_net_enter(const char *name);

/*
 * Run fn(arg) with this process in namespace name (the database's
 * postmaster, forked by pgembed, stays in it), then return to the
 * namespace it was in. Returns fn's result, or ERR_IO if the namespace
 * could not be entered.
 */
int rack_net_within(const char *name, int (*fn)(void *arg), void *arg,
                    struct err *err);

/* Set "namespace" and "address" of member kind/i in status object o. */
void rack_net_member_json(json_t *o, const struct rack *r, char kind,
                          size_t i);

/*
 * The "net" block of `status --json`: {"mode": "loopback"} or {"mode":
 * "netns", "prefix", "rack_namespace", "host_link", "host_address",
 * "db_namespace", "db_address"}. A new reference (NULL: ERR_NOMEM).
 */
json_t *rack_net_json(const struct rack *r);

#endif
