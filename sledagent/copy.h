/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy: copy-from-depot (DESIGN.md section 2): an HTTP transfer on
 * common/httpc's loop driver from a peer's depot into a store write begun
 * by the caller, replying 202 to the API request once the source answered with
 * a 2xx header whose Content-Length fits (507 no space or quota, 413 over
 * the cap, 502 otherwise), plus the registry behind GET /copies
 * (running copies and the last COPY_KEEP finished ones). Loop thread only.
 */
#ifndef SLEDAGENT_COPY_H
#define SLEDAGENT_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/httpc.h"
#include "sledagent/copy_source.h"

struct buf;
struct copies;
struct httpc_loop;
struct httpd_req;
struct err;
struct sha256;
struct store;
struct store_write;
struct tls_revoked;

#define COPY_KEEP 256
/* while room is left for a PUT, a running transfer's share never goes
 * under this (bytes/s; copy.c rate_update) */
#define COPY_ROOM_SHARE_MIN 16384u

struct copies_opts {
    unsigned connect_secs;  /* default 15 */
    unsigned stall_secs;    /* no-progress timeout, default 60, and the
                               window of min_recv_bps */
    /* A source averaging under this over stall_secs (a swarm piece
     * request: over SWARM_STALL_SECS) fails the copy or the request; at
     * most half of a copy's share of max_recv_bps. 0: 1 byte/s. */
    uint64_t min_recv_bps;
    uint64_t max_recv_bps;  /* shared by the running copies (each gets
                               max_recv_bps / running), 0 = unlimited */
    /* Mutual TLS to the source depots: our files (copied by value, the
     * strings borrowed; no cert_file: plaintext). The source must present
     * a sled certificate, of the id the request names when it names one. */
    struct httpc_tls tls;
};

/* The minimum rate of one transfer given its receive share (0: none). */
uint64_t copies_min_rate(const struct copies *cs, uint64_t share);

/* The receive cap the copies share now (0: none; max_recv_bps, or what
 * copies_leave_room left them). */
uint64_t copies_recv_cap(const struct copies *cs);

/*
 * Leave room on the link for PUT bodies (inbound.c): cap > 0, the copies
 * together receive at most cap (curl's limiter on each transfer, at
 * least COPY_ROOM_SHARE_MIN, and copies_launch_take on swarm piece
 * requests), applied to the running transfers at once, and the swarm
 * copies' piece requests in flight go back to the pool
 * (copy_swarm_yield); cap 0, back to max_recv_bps and no launch budget.
 */
void copies_leave_room(struct copies *cs, uint64_t cap);

/* Whether a swarm piece request of len bytes may start now (always, but
 * while room is left for a PUT); when it may, len is taken from the
 * budget. */
bool copies_launch_take(struct copies *cs, uint64_t len);

/* Returns 0 or ERR_NOMEM. */
int copies_new(struct copies **out, struct httpc_loop *loop,
               const struct copies_opts *opts);

/*
 * Start copying h from src (its base "http(s)://IP:PORT", checked by
 * copy_source_parse, and its optional sled id) into w (ownership
 * of w passes to the copy). r (may be NULL) gets the 202 or 502 reply; a
 * reference is held until then. Returns 0, or ERR_NOMEM/ERR_INTERNAL with
 * w aborted and nothing replied.
 */
int copies_start(struct copies *cs, struct httpd_req *r, struct store_write *w,
                 const struct sha256 *h, uint64_t generation,
                 const struct copy_source *src);

/*
 * A copy of h that sits in trash/ here (or is being restored from it):
 * nothing is downloaded. Registers the copy (source noted, "running",
 * 0 bytes) and waits for the restore (store_restore_wait); once it is
 * done the copy is "done" with 0 bytes and "from_trash": true and r (may
 * be NULL) gets 202 {}; if the restore failed the copy downloads from
 * src after all, as copies_start. Returns 0; ERR_NOTFOUND if there
 * is nothing to restore (use copies_start); the refusals of
 * store_restore_wait (ERR_UNAVAIL, ERR_INVAL, ERR_CONFLICT) or ERR_NOMEM
 * with err set and nothing replied.
 */
int copies_start_restore(struct copies *cs, struct store *st,
                         struct httpd_req *r, const struct sha256 *h,
                         uint64_t generation, const struct copy_source *src,
                         struct err *err);

/*
 * The revocation set the copy client checks sources against from now on
 * (ownership of set passes to cs; NULL: none revoked). Copies already
 * connected keep the set they started with (it lives until they end);
 * every new connection and every request is checked against the new
 * one. Returns 0 or ERR_NOMEM (set freed, the old set stays).
 */
int copies_set_revoked(struct copies *cs, struct tls_revoked *set);

/*
 * (ext, issue 10) The depot bases of the sources whose copies failed
 * because of them (too slow, unreachable, a bad answer: an error that
 * starts with "source ") in the last COPY_SOURCE_FAILED_SECS, each once,
 * as a JSON array appended to out: GET /artifacts' "copy_sources_failed",
 * from which the controller's planner learns what to avoid; swarm
 * copies count with their first source (copy_swarm_failed_sources). 0 or
 * ERR_NOMEM.
 */
#define COPY_SOURCE_FAILED_SECS 600
int copies_failed_sources(const struct copies *cs, struct buf *out);

/* GET /copies body: a new JSON array. NULL on ERR_NOMEM. */
json_t *copies_json(const struct copies *cs);

/* Prometheus lines: copies by state, bytes copied. */
int copies_metrics(const struct copies *cs, struct buf *out);

/* Cancel running transfers and abort their writes (before store_close). */
void copies_cancel_all(struct copies *cs);

/* For copy_swarm.c: the loop driver, the options, the head of its list of
 * swarm copies (owned by copy_swarm.c, freed by copies_free). */
struct httpc_loop *copies_loop(struct copies *cs);
const struct copies_opts *copies_opts(const struct copies *cs);
struct swarm **copies_swarms(struct copies *cs);
/* Count len bytes received by a swarm copy in sledagent_copy_bytes_total
 * (whole copies count theirs as they arrive). */
void copies_count_bytes(struct copies *cs, uint64_t len);

/* For copy_swarm.c: a reference to the revocation set in force now (the
 * pushed list and --tls-revoked, copies_set_revoked), NULL when none is
 * revoked; a swarm copy checks every request's source against the set
 * held when it started, as a whole copy does for its one transfer. */
struct revref;
struct revref *copies_rev_hold(struct copies *cs);
const struct tls_revoked *copies_rev_set(const struct revref *r);
void copies_rev_drop(struct revref *r);
/* A transfer started or ended: share --rate-limit again among them all. */
void copies_rate_changed(struct copies *cs);

/* Free (after store_close). NULL is a no-op. */
void copies_free(struct copies *cs);

#endif
