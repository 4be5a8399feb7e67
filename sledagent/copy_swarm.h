/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm: the swarming copy of one artifact (issue 13; docs/
 * REPLICATION.md "Swarming copies"): a copy-from-depot request with a
 * "pieces" member names up to COPY_SWARM_SOURCES candidate depots and the
 * manifest hash; the sled fetches the manifest (checked against that
 * hash), then the pieces from several candidates at once with Range
 * requests on common/httpc's loop driver, rarest first, into a positional
 * store write (sledagent/store/writer_pieces.c) that checks every piece
 * before writing it and the whole sha256 before the rename. A source that
 * fails, stalls or serves bad bytes loses that piece to another one; it is
 * dropped and reported in GET /copies. Loop thread only.
 */
#ifndef SLEDAGENT_COPY_SWARM_H
#define SLEDAGENT_COPY_SWARM_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct buf;
struct copies;
struct err;
struct event_base;
struct httpd_req;
struct sha256;
struct store;
struct swarm;

/* candidate sources of one swarm copy (the first one included) */
#define COPY_SWARM_SOURCES 8
/* piece requests in flight per copy (and at most as many pieces being
 * written: a fetch waits only when that many are) */
#define SWARM_INFLIGHT 4
/* bytes of piece buffers per copy (one piece when pieces are larger) */
#define SWARM_BUF_BYTES (16u * 1024 * 1024)
/* piece requests of one copy to one source at once */
#define SWARM_PER_SOURCE 2
/* a source's /have is read again this often while pieces are missing */
#define SWARM_HAVE_MS 500
/* no byte of a piece for this long: that request failed */
#define SWARM_STALL_SECS 5
/* consecutive failures that drop a source */
#define SWARM_FAILS 3
/* finished swarm copies kept for GET /copies */
#define SWARM_KEEP 64

/* Whether a copy-from-depot body asks for a swarm copy ("pieces"). */
bool copy_swarm_requested(const json_t *body);

/*
 * Handle a copy-from-depot request whose body has "pieces": parse it (the
 * first source by copy_source_parse's rules, each other one too; a URL
 * twice is ERR_INVAL), restore from trash/ instead when the artifact is
 * there (copies_start_restore), else begin the store write with the
 * length (the store's checks and reservation before anyone is contacted),
 * register the copy and fetch its manifest. r (held) gets 202 once the
 * manifest is verified, 502 when no candidate gave it within
 * connect_secs. Returns 0, or the error (err set; the caller replies):
 * ERR_INVAL (400), the codes of store_write_begin, ERR_NOMEM.
 */
int copy_swarm_start(struct copies *cs, struct store *st,
                     struct event_base *base, struct httpd_req *r,
                     const struct sha256 *h, uint64_t generation,
                     const json_t *body, bool tls, struct err *err);

/* Append the GET /copies entries of the swarm copies. 0 or ERR_NOMEM. */
int copy_swarm_json(const struct swarm *list, json_t *arr);
/*
 * The first source (the controller's) of each swarm copy that failed
 * because of it (an error starting "source ") at or after since_ms
 * (CLOCK_MONOTONIC), as JSON strings appended to out after *n entries
 * (a comma first when *n > 0), each URL once and none already in out.
 * 0 or ERR_NOMEM.
 */
int copy_swarm_failed_sources(const struct swarm *list, int64_t since_ms,
                              struct buf *out, unsigned *n);
/* Piece requests running (they share --rate-limit with whole copies). */
unsigned copy_swarm_transfers(const struct swarm *list);
/* Give every running piece request the receive cap bps and the minimum
 * rate min_bps (copies_min_rate). */
/* Room is left for a PUT (copies_leave_room): every running swarm copy
 * drops its piece requests in flight; the pieces go back to the pool and
 * no source is blamed. Returns how many were dropped. */
unsigned copy_swarm_yield(struct swarm *list);
void copy_swarm_set_recv_bps(struct swarm *list, uint64_t bps,
                             uint64_t min_bps);
/* Cancel every running swarm copy (before store_close). */
void copy_swarm_cancel_all(struct swarm *list);
/* Free them all (after store_close). */
void copy_swarm_free_all(struct swarm *list);

#endif
