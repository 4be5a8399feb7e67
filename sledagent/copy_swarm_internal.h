/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm_internal: the state of one swarming copy (struct swarm, its
 * candidates and piece requests) shared by copy_swarm.c (the request
 * body, lifecycle, end and API), copy_swarm_manifest.c (fetching and
 * checking the manifest), copy_swarm_have.c (the candidates' bitmaps) and
 * copy_swarm_fetch.c (choosing, fetching and writing pieces). Loop thread
 * only.
 */
#ifndef SLEDAGENT_COPY_SWARM_INTERNAL_H
#define SLEDAGENT_COPY_SWARM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/pieces.h"
#include "common/rng.h"
#include "common/sha256.h"
#include "sledagent/copy.h"
#include "sledagent/copy_source.h"
#include "sledagent/copy_swarm.h"

struct buf;
struct httpc;
struct httpc_spec;
struct httpd_req;
struct revref;
struct store;
struct store_write;

#define SWARM_TICK_MS 50
/* a source that answered 429 is asked again after this */
#define SWARM_BUSY_MS 250
#define SWARM_BACKOFF_MAX_MS 30000
#define SWARM_HAVE_CAP (64u * 1024)
#define SWARM_MANIFEST_RETRY_MS 200
/* a candidate that has not answered for the manifest this long is not
 * waited for alone: the next one is asked too (a request stuck behind a
 * full link queue or a lost SYN held whole copies for seconds) */
#define SWARM_MANIFEST_HEDGE_MS 1000
/* a candidate whose /have says 404 this long in a row (it never had any
 * of the artifact: a PUT target whose PUT never began, a copy target
 * that never got its manifest) counts one failure */
#define SWARM_ABSENT_MS 30000
/* the first candidate (the holder or PUT target the planner named) is
 * dropped, none is complete, and no piece was verified this long: the
 * others are waiting for the same lost source (a started PUT that
 * failed); fail, so that the next activation re-plans */
#define SWARM_ORPHAN_MS 10000

enum sw_state { SW_MANIFEST, SW_RUNNING, SW_FINISHING, SW_DONE, SW_FAILED };
enum src_state { SRC_ACTIVE, SRC_BACKOFF, SRC_DROPPED };

struct swarm;

struct swarm_source {
    struct swarm *sw;
    int idx;
    struct copy_source src;
    uint8_t *have;              /* its last bitmap; NULL: none yet */
    bool complete;              /* it holds the whole artifact */
    struct httpc *have_req;
    struct httpc *mreq;         /* its manifest request, in flight */
    int64_t have_ms;            /* when its bitmap was last asked for */
    unsigned inflight, fails, misses;
    unsigned busy;              /* 429s in a row */
    int64_t retry_at_ms;
    enum src_state state;
    uint64_t pieces, bytes;
    char error[ERR_MSG_MAX];
    uint32_t have_n;            /* pieces in its last bitmap */
    bool have_ok;               /* its last /have was a bitmap: ask with
                                   ?after=have_n, the depot holds it */
    bool no_wait;               /* it refused ?after= (400): poll */
    int64_t absent_ms;          /* since when /have is 404; 0: it is not */
    bool lost;                  /* had pieces, then 404: its write is gone */
};

struct swarm_req {
    struct swarm *sw;
    struct httpc *h;            /* NULL: the slot is free */
    uint32_t piece;
    int src;
    uint8_t *buf;
    size_t got, len;
    int64_t started_ms;
    bool longer;                /* the source sent more than the piece */
};

struct swarm {
    struct swarm *next;         /* copies_swarms(cs), newest first */
    struct copies *cs;
    struct store *st;
    struct httpd_req *r;        /* until the 202/502 */
    struct store_write *w;      /* until finish or abort */
    struct event *tick;
    enum sw_state state;
    struct sha256 h, mid;
    char hex[SHA256_HEX_LEN + 1];
    uint64_t generation, length;
    uint32_t psize, count, verified;
    struct pieces m;
    uint16_t *holders;          /* per piece: candidates that have it */
    uint8_t *busy;              /* per piece: requested or being written */
    uint8_t *from;              /* per piece: the source it came from */
    struct swarm_source src[COPY_SWARM_SOURCES];
    unsigned nsrc;
    struct swarm_req req[SWARM_INFLIGHT];
    unsigned slots, writing;
    unsigned mnext;             /* next candidate to ask for it */
    unsigned minflight;         /* manifest requests in flight */
    int64_t mdeadline_ms, mretry_ms;
    int64_t masked_ms;          /* when a candidate was last asked */
    int64_t gain_ms;            /* start, or the last piece verified */
    int64_t failed_ms;          /* when it failed because of src[0] */
    uint64_t bytes;
    struct rng rng;
    struct revref *rev;         /* the revocations its requests check */
    char error[ERR_MSG_MAX];
};

static inline int64_t swarm_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline bool swarm_bit(const uint8_t *b, uint64_t i)
{
    return (b[i / 8] >> (i % 8)) & 1u;
}

static inline bool swarm_src_has(const struct swarm_source *s, uint32_t i)
{
    return s->state != SRC_DROPPED &&
           (s->complete || (s->have && swarm_bit(s->have, i)));
}

/* copy_swarm.c: the copy's lifecycle */
void swarm_reply(struct swarm *sw, int status, const char *msg);
void swarm_fail(struct swarm *sw, int status, const char *msg);
/* holders[] again from every candidate's bitmap */
void swarm_recount(struct swarm *sw);
/* s sent bad bytes or a bad manifest: never asked again (logged) */
void swarm_drop_source(struct swarm_source *s, const char *msg);
/* a failure of s that is not its bytes' fault: back off, or drop */
void swarm_source_failed(struct swarm_source *s, const char *msg);
/* every piece written: finish; no source left, or orphaned: fail */
void swarm_check_end(struct swarm *sw);
/* the connect bound and, on TLS, the client identity and revocations */
void swarm_fill_tls(struct httpc_spec *sp, const struct swarm *sw,
                    const struct swarm_source *s);
/* copy_swarm_manifest.c: ask the next candidate for the manifest; once
 * one matches, the copy runs */
void swarm_manifest_next(struct swarm *sw);
void swarm_manifest_tick(struct swarm *sw);
void swarm_manifest_cancel(struct swarm *sw);
/* copy_swarm_have.c: ask s for its bitmap (a long-poll once it sent one) */
void swarm_have_ask(struct swarm_source *s);
/* copy_swarm_fetch.c: refresh bitmaps due, fill the free request slots */
void swarm_schedule(struct swarm *sw);

#endif
