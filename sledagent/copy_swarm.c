/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm: swarming copies (see copy_swarm.h; the design is
 * docs/REPLICATION.md "Swarming copies"). One struct swarm per copy:
 *
 *  1. manifest: GET /artifact/sha256/{h}/pieces?piece_size=P from the
 *     candidates in order, accepted when sha256(bytes) is the manifest hash
 *     the controller sent and pieces_parse names h and its length; a
 *     candidate that sends other bytes is dropped ("bad manifest"); tried
 *     again in rounds until connect_secs passed (a PUT target may not have
 *     begun). Then the write (begun with the length, space reserved before
 *     anyone was contacted) becomes positional and the caller gets 202.
 *  2. availability: GET /have of each active candidate at start and every
 *     SWARM_HAVE_MS while pieces are missing; holders[i] counts them.
 *  3. selection: a free slot takes the missing piece not in flight with the
 *     fewest holders among the candidates that can take a request (ties:
 *     random), from the least busy of them (ties: random).
 *  4. fetch: GET with one Range into a piece buffer (a longer body is a bad
 *     source); the buffer goes to store_write_piece, which checks it
 *     against the manifest on the write's worker before writing a byte (so
 *     hashing stays off the loop and a corrupt piece is never stored).
 *  5. failures: transport error, stall (SWARM_STALL_SECS without a byte),
 *     5xx or a short body back off the source (1 s doubling to 30 s, with
 *     jitter) and SWARM_FAILS in a row drop it; 429 waits Retry-After; a
 *     404/416 clears the piece from its bitmap (three count as a failure);
 *     a piece that fails verification drops its source at once, logged as
 *     copy_bad_source. The piece goes back to the pool each time.
 *  6. every piece written: store_write_finish (fsync, whole sha256 against
 *     h, rename, directory fsync).
 *
 * Memory per copy: slots piece buffers (SWARM_INFLIGHT, fewer for pieces
 * over SWARM_BUF_BYTES / SWARM_INFLIGHT) counting the pieces being
 * written, the manifest, holders (2 bytes a piece), two bytes a piece of
 * flags and one bitmap per candidate. Loop thread only.
 */
#include "sledagent/copy_swarm.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/rng.h"
#include "common/sha256.h"
#include "sledagent/copy.h"
#include "sledagent/copy_source.h"
#include "sledagent/store/store.h"

#define SWARM_TICK_MS 50
/* a source that answered 429 is asked again after this */
#define SWARM_BUSY_MS 250
#define SWARM_BACKOFF_MAX_MS 30000
#define SWARM_HAVE_CAP (64u * 1024)
#define SWARM_MANIFEST_RETRY_MS 200
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
static const char *const sw_names[] = {"running", "running", "running",
                                       "done", "failed"};
enum src_state { SRC_ACTIVE, SRC_BACKOFF, SRC_DROPPED };
static const char *const src_names[] = {"active", "backoff", "dropped"};

struct swarm;

struct swarm_source {
    struct swarm *sw;
    int idx;
    struct copy_source src;
    uint8_t *have;              /* its last bitmap; NULL: none yet */
    bool complete;              /* it holds the whole artifact */
    struct httpc *have_req;
    int64_t have_ms;            /* when its bitmap was last asked for */
    unsigned inflight, fails, misses;
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
    struct httpc *mreq;         /* the manifest request */
    unsigned mnext;             /* next candidate to ask for it */
    int64_t mdeadline_ms, mretry_ms;
    int64_t gain_ms;            /* start, or the last piece verified */
    uint64_t bytes;
    struct rng rng;
    struct revref *rev;         /* the revocations its requests check */
    char error[ERR_MSG_MAX];
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool bit(const uint8_t *b, uint64_t i)
{
    return (b[i / 8] >> (i % 8)) & 1u;
}

static bool src_has(const struct swarm_source *s, uint32_t i)
{
    return s->state != SRC_DROPPED &&
           (s->complete || (s->have && bit(s->have, i)));
}

bool copy_swarm_requested(const json_t *body)
{
    return json_is_object(body) && json_object_get(body, "pieces") != NULL;
}

/* ---- the request body --------------------------------------------------- */

static int parse_u64_member(uint64_t *out, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return v && json_is_integer(v) ? jsonu_u64(out, v) : ERR_INVAL;
}

static int parse_sources(struct swarm *sw, const json_t *arr, bool tls,
                         struct err *err)
{
    size_t i;
    const json_t *e;

    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) >= COPY_SWARM_SOURCES)
        return err_set(err, ERR_INVAL, "pieces.sources must be an array of "
                       "at most %d sources", COPY_SWARM_SOURCES - 1);
    json_array_foreach(arr, i, e) {
        json_t *one = json_object();
        const json_t *url = json_object_get(e, "depot_base_url");
        const json_t *id = json_object_get(e, "sled_id");
        int rc;

        if (!one)
            return err_set(err, ERR_NOMEM, "out of memory");
        if (!json_is_object(e) || !url ||
            json_object_size(e) != 1u + (id != NULL)) {
            json_decref(one);
            return err_set(err, ERR_INVAL, "each of pieces.sources must be "
                           "{\"depot_base_url\", \"sled_id\"?}");
        }
        json_object_set(one, "depot_base_url", (json_t *)url);
        if (id)
            json_object_set(one, "source_sled_id", (json_t *)id);
        rc = copy_source_parse(&sw->src[sw->nsrc].src, one, tls, err);
        json_decref(one);
        if (rc < 0)
            return rc;
        sw->nsrc++;
    }
    return 0;
}

static int parse_body(struct swarm *sw, const json_t *body, bool tls,
                      struct err *err)
{
    const json_t *p = json_object_get(body, "pieces");
    const json_t *sources = json_object_get(p, "sources");
    const char *mhex = jsonu_str(p, "manifest_sha256");
    uint64_t psize = 0, count = 0;
    json_t *first = NULL;
    int rc;

    if (!json_is_object(p) || !mhex ||
        sha256_from_hex(&sw->mid, mhex) < 0 ||
        parse_u64_member(&psize, p, "piece_size") < 0 ||
        parse_u64_member(&sw->length, p, "length") < 0 ||
        json_object_size(p) != 3u + (sources != NULL) ||
        !pieces_size_valid(psize) ||
        pieces_count(&count, sw->length, psize) < 0 || sw->length > INT64_MAX)
        return err_set(err, ERR_INVAL, "pieces must be {\"manifest_sha256\", "
                       "\"piece_size\", \"length\", \"sources\"?} with a "
                       "valid piece size and at most %u pieces",
                       (unsigned)LIMIT_PIECES);
    sw->psize = (uint32_t)psize;
    sw->count = (uint32_t)count;
    first = json_copy((json_t *)body);
    if (!first)
        return err_set(err, ERR_NOMEM, "out of memory");
    json_object_del(first, "pieces");
    rc = copy_source_parse(&sw->src[0].src, first, tls, err);
    json_decref(first);
    if (rc < 0)
        return rc;
    sw->nsrc = 1;
    rc = parse_sources(sw, sources, tls, err);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < sw->nsrc; i++)
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(sw->src[i].src.base, sw->src[j].src.base))
                return err_set(err, ERR_INVAL, "a source is named twice");
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void reply(struct swarm *sw, int status, const char *msg)
{
    struct httpd_req *r = sw->r;

    if (!r)
        return;
    sw->r = NULL;
    if (status == 202) {
        json_t *v = json_object();

        httpd_reply_json(r, 202, v);
        json_decref(v);
    } else {
        httpd_reply_error(r, status, NULL, msg);
    }
    httpd_req_unref(r);
}

static void cancel_requests(struct swarm *sw)
{
    for (unsigned k = 0; k < SWARM_INFLIGHT; k++) {
        struct swarm_req *q = &sw->req[k];

        if (!q->h)
            continue;
        httpc_free(q->h);
        q->h = NULL;
        mem_free(q->buf);
        q->buf = NULL;
        sw->src[q->src].inflight--;
        sw->busy[q->piece] = 0;
    }
    for (unsigned i = 0; i < sw->nsrc; i++) {
        httpc_free(sw->src[i].have_req);
        sw->src[i].have_req = NULL;
    }
    httpc_free(sw->mreq);
    sw->mreq = NULL;
}

static void stop(struct swarm *sw)
{
    cancel_requests(sw);
    if (sw->tick)
        event_del(sw->tick);
    copies_rate_changed(sw->cs);
}

static void sw_fail(struct swarm *sw, int status, const char *msg)
{
    if (sw->state == SW_DONE || sw->state == SW_FAILED)
        return;
    snprintf(sw->error, sizeof(sw->error), "%s", msg);
    log_info("copy_failed", "{s:s, s:s, s:s, s:I, s:s}", "sha256", sw->hex,
             "mode", "swarm", "source", sw->src[0].src.base, "bytes",
             (json_int_t)sw->bytes, "error", sw->error);
    stop(sw);
    if (sw->w && sw->state != SW_FINISHING) {
        store_write_abort(sw->w);
        sw->w = NULL;
    }
    sw->state = SW_FAILED;
    reply(sw, status, sw->error);
}

static void recount(struct swarm *sw)
{
    if (!sw->holders)
        return;
    for (uint32_t i = 0; i < sw->count; i++) {
        uint16_t n = 0;

        for (unsigned s = 0; s < sw->nsrc; s++)
            n += src_has(&sw->src[s], i);
        sw->holders[i] = n;
    }
}

static void drop_source(struct swarm_source *s, const char *msg)
{
    struct swarm *sw = s->sw;

    if (s->state == SRC_DROPPED)
        return;
    s->state = SRC_DROPPED;
    snprintf(s->error, sizeof(s->error), "%s", msg);
    log_warn("copy_bad_source", "{s:s, s:s, s:s, s:s}", "sha256", sw->hex,
             "source", s->src.base, "sled_id", s->src.sled_id, "error",
             s->error);
    httpc_free(s->have_req);
    s->have_req = NULL;
    recount(sw);
}

/* A failure of s that is not its bytes' fault: back off, or drop. */
static void source_failed(struct swarm_source *s, const char *msg)
{
    int64_t ms;

    if (s->state == SRC_DROPPED)
        return;
    if (++s->fails >= SWARM_FAILS) {
        drop_source(s, msg);
        return;
    }
    ms = 1000ll << (s->fails - 1);
    if (ms > SWARM_BACKOFF_MAX_MS)
        ms = SWARM_BACKOFF_MAX_MS;
    ms += rng_below(&s->sw->rng, (uint32_t)(ms / 4 + 1));
    s->state = SRC_BACKOFF;
    s->retry_at_ms = now_ms() + ms;
    snprintf(s->error, sizeof(s->error), "%s", msg);
}

static void schedule(struct swarm *sw);
static void check_end(struct swarm *sw);

/* ---- the manifest ------------------------------------------------------- */

static void manifest_next(struct swarm *sw);

static void fill_tls(struct httpc_spec *sp, const struct swarm *sw,
                     const struct swarm_source *s)
{
    const struct copies_opts *o = copies_opts(sw->cs);

    sp->connect_ms = 1000L * (long)o->connect_secs;
    if (o->tls.cert_file) {
        sp->tls = o->tls;
        sp->tls.roles = HTTPC_ROLE(TLS_ROLE_SLED);
        sp->tls.peer_id = s->src.sled_id[0] ? s->src.sled_id : NULL;
        sp->tls.revoked = copies_rev_set(sw->rev);
    }
}

static int manifest_accept(struct swarm *sw, const struct buf *b,
                           struct err *err)
{
    struct sha256 got;
    int rc;

    if (sha256_digest(&got, b->data, b->len) < 0)
        return err_set(err, ERR_INTERNAL, "sha256 failed");
    if (!sha256_eq(&got, &sw->mid))
        return err_set(err, ERR_VERIFY, "bad manifest");
    rc = pieces_parse(&sw->m, b->data, b->len, &sw->h, (int64_t)sw->length,
                      err);
    if (rc == 0 &&
        (sw->m.piece_size != sw->psize || sw->m.count != sw->count)) {
        pieces_release(&sw->m);
        rc = err_set(err, ERR_VERIFY, "bad manifest");
    }
    return rc;
}

static void start_running(struct swarm *sw)
{
    struct err err = ERR_INIT;

    sw->holders = mem_calloc(sw->count + 1, sizeof(*sw->holders));
    sw->busy = mem_calloc(sw->count + 1, 1);
    sw->from = mem_calloc(sw->count + 1, 1);
    for (unsigned i = 0; i < sw->nsrc; i++) {
        if (!sw->holders || !sw->busy || !sw->from)
            break;
        sw->src[i].have = mem_calloc(sw->count / 8 + 1, 1);
        if (!sw->src[i].have) {
            sw_fail(sw, 500, "out of memory");
            return;
        }
    }
    if (!sw->holders || !sw->busy || !sw->from) {
        sw_fail(sw, 500, "out of memory");
        return;
    }
    if (store_write_set_pieces(sw->w, &sw->m, &err) < 0) {
        sw_fail(sw, err_http_status(err.code), err.msg);
        return;
    }
    sw->state = SW_RUNNING;
    sw->gain_ms = now_ms();
    log_info("copy_started", "{s:s, s:s, s:s, s:i, s:i}", "sha256", sw->hex,
             "mode", "swarm", "source", sw->src[0].src.base, "sources",
             (int)sw->nsrc, "pieces", (int)sw->count);
    reply(sw, 202, NULL);
    schedule(sw); /* asks every candidate for its bitmap */
    check_end(sw);
}

static void manifest_done(struct httpc *h, void *arg)
{
    struct swarm *sw = arg;
    struct swarm_source *s = &sw->src[sw->mnext];
    struct err err = ERR_INIT;
    int rc = httpc_result(h, &err);
    long status = httpc_status(h);

    sw->mreq = NULL;
    if (rc == 0 && status == 200) {
        rc = manifest_accept(sw, httpc_body(h), &err);
        if (rc == 0) {
            httpc_free(h);
            start_running(sw);
            return;
        }
        drop_source(s, "bad manifest");
    }
    httpc_free(h);
    sw->mnext++;
    manifest_next(sw);
}

/* Ask the next candidate for the manifest; after a round, wait a little
 * and go round again until the deadline. */
static void manifest_next(struct swarm *sw)
{
    struct httpc_spec sp = {0};
    char url[COPY_SOURCE_URL_MAX + 160];
    struct swarm_source *s;

    while (sw->mnext < sw->nsrc && sw->src[sw->mnext].state == SRC_DROPPED)
        sw->mnext++;
    if (sw->mnext >= sw->nsrc) {
        sw->mnext = 0;
        if (now_ms() >= sw->mdeadline_ms) {
            sw_fail(sw, 502, "no candidate gave a manifest matching "
                    "manifest_sha256");
            return;
        }
        sw->mretry_ms = now_ms() + SWARM_MANIFEST_RETRY_MS; /* the tick */
        return;
    }
    s = &sw->src[sw->mnext];
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s/pieces?piece_size=%u",
             s->src.base, sw->hex, (unsigned)sw->psize);
    sp.url = url;
    sp.sink.kind = HTTPC_SINK_BUF;
    sp.sink.cap = PIECES_DOC_MAX;
    sp.total_ms = 1000L * (long)copies_opts(sw->cs)->connect_secs;
    fill_tls(&sp, sw, s);
    if (httpc_new(&sw->mreq, &sp, NULL) < 0 ||
        httpc_start(copies_loop(sw->cs), sw->mreq, manifest_done, sw) < 0) {
        httpc_free(sw->mreq);
        sw->mreq = NULL;
        sw_fail(sw, 500, "cannot start the manifest request");
    }
}

/* ---- availability ------------------------------------------------------- */

/* s's /have document: complete, or its bitmap of our manifest. */
static void have_parse(struct swarm_source *s, const struct buf *b)
{
    struct swarm *sw = s->sw;
    char mhex[SHA256_HEX_LEN + 1];
    json_t *v = jsonu_loadb(b->data, b->len, SWARM_HAVE_CAP, NULL);
    const char *hx = jsonu_str(v, "have");
    const char *mh = jsonu_str(v, "manifest_sha256");
    size_t n = 0;

    sha256_to_hex(mhex, &sw->mid);
    s->have_ok = false;
    if (v && json_is_true(json_object_get(v, "complete"))) {
        s->complete = true;
    } else if (hx && mh && !strcmp(mh, mhex) &&
               strlen(hx) == 2 * ((size_t)(sw->count + 7) / 8)) {
        if (hex_decode(s->have, sw->count / 8 + 1, &n, hx, strlen(hx)) < 0)
            memset(s->have, 0, sw->count / 8 + 1);
        else
            s->have_ok = true;
    } else {
        /* another manifest, or nothing: no piece we can use */
        memset(s->have, 0, sw->count / 8 + 1);
    }
    s->have_n = 0;
    for (uint32_t i = 0; i < sw->count; i++)
        s->have_n += bit(s->have, i);
    json_decref(v);
}

/*
 * s answered 404 to /have: it has nothing of the artifact. A source that
 * had pieces (or all of it) lost them: its write failed or was aborted (a
 * PUT whose body went bad, started copies depend on it; plan.h), and so
 * does every later 404: a failure each (3 drop it). One that never had any
 * may be about to begin (a PUT target before the PUT's headers, a copy
 * target before its manifest): a failure only after SWARM_ABSENT_MS.
 */
static void have_absent(struct swarm_source *s)
{
    struct swarm *sw = s->sw;
    size_t nbytes = sw->count / 8 + 1;
    int64_t now = now_ms();
    bool had = s->complete;

    for (size_t i = 0; i < nbytes && !had; i++)
        had = s->have[i] != 0;
    memset(s->have, 0, nbytes);
    s->complete = false;
    if (had || s->lost) {
        s->lost = true;
        source_failed(s, "source lost the artifact");
        return;
    }
    if (!s->absent_ms) {
        s->absent_ms = now;
    } else if (now - s->absent_ms >= SWARM_ABSENT_MS) {
        s->absent_ms = 0;
        source_failed(s, "source has none of the artifact");
    }
}

static void have_done(struct httpc *h, void *arg)
{
    struct swarm_source *s = arg;
    struct swarm *sw = s->sw;
    long status = httpc_status(h);
    int rc = httpc_result(h, NULL);

    s->have_req = NULL;
    if (rc == 0 && status == 200) {
        s->absent_ms = 0;
        have_parse(s, httpc_body(h));
    } else if (rc == 0 && status == 404) {
        s->have_ok = false;
        have_absent(s);
    } else if (rc == 0 && status == 400 && s->have_ok) {
        /* a depot without the long-poll: poll it */
        s->no_wait = true;
        s->have_ok = false;
    } else if (rc == 0 && status == 429) {
        /* busy: next round */
    } else {
        source_failed(s, "source unreachable");
    }
    httpc_free(h);
    recount(sw);
    schedule(sw);
    check_end(sw);
}

static void have_ask(struct swarm_source *s)
{
    struct swarm *sw = s->sw;
    struct httpc_spec sp = {0};
    char url[COPY_SOURCE_URL_MAX + 120];

    s->have_ms = now_ms();
    if (s->have_ok && !s->no_wait)
        snprintf(url, sizeof(url), "%s/artifact/sha256/%s/have?after=%u",
                 s->src.base, sw->hex, (unsigned)s->have_n);
    else
        snprintf(url, sizeof(url), "%s/artifact/sha256/%s/have",
                 s->src.base, sw->hex);
    sp.url = url;
    sp.sink.kind = HTTPC_SINK_BUF;
    sp.sink.cap = SWARM_HAVE_CAP;
    sp.stall_secs = SWARM_STALL_SECS;
    fill_tls(&sp, sw, s);
    if (httpc_new(&s->have_req, &sp, NULL) < 0 ||
        httpc_start(copies_loop(sw->cs), s->have_req, have_done, s) < 0) {
        httpc_free(s->have_req);
        s->have_req = NULL;
    }
}

/* ---- pieces ------------------------------------------------------------- */

static void piece_written(int rc, const struct err *err, uint32_t piece,
                          void *arg)
{
    struct swarm *sw = arg;
    struct swarm_source *s = &sw->src[sw->from[piece]];
    char msg[ERR_MSG_MAX];
    uint64_t off = 0, len = 0;

    sw->writing--;
    sw->busy[piece] = 0;
    pieces_range(&off, &len, sw->length, sw->psize, piece);
    if (rc == 0) {
        sw->verified++;
        sw->gain_ms = now_ms();
        sw->bytes += len;
        s->pieces++;
        s->bytes += len;
    } else if (rc == ERR_VERIFY) {
        snprintf(msg, sizeof(msg), "piece %u: %s", (unsigned)piece,
                 err ? err->msg : "failed verification");
        drop_source(s, msg);
    } else {
        sw_fail(sw, 500, err ? err->msg : "the write failed");
        return;
    }
    schedule(sw);
    check_end(sw);
}

static int req_headers(struct httpc *h, void *arg)
{
    (void)arg;
    return httpc_status(h) == 206 ? 0 : ERR_UPSTREAM;
}

static int req_data(const char *p, size_t len, void *arg)
{
    struct swarm_req *q = arg;

    if (len > q->len - q->got) {
        q->longer = true;
        return ERR_LIMIT;
    }
    memcpy(q->buf + q->got, p, len);
    q->got += len;
    return 0;
}

static void req_done(struct httpc *h, void *arg)
{
    struct swarm_req *q = arg;
    struct swarm *sw = q->sw;
    struct swarm_source *s = &sw->src[q->src];
    struct err err = ERR_INIT;
    int rc = httpc_result(h, &err);
    long status = httpc_status(h);
    uint32_t piece = q->piece;
    char msg[ERR_MSG_MAX];
    uint8_t *buf = q->buf;
    size_t got = q->got, len = q->len;
    bool longer = q->longer;
    uint64_t retry_after = httpc_retry_after(h);

    if (log_enabled(LOG_DEBUG))
        log_debug("swarm_piece", "{s:s, s:i, s:s, s:i, s:I, s:I}", "sha256",
                  sw->hex, "piece", (int)piece, "source", s->src.base,
                  "status", (int)status, "bytes", (json_int_t)got, "ms",
                  (json_int_t)(now_ms() - q->started_ms));
    httpc_free(h);
    q->h = NULL;
    q->buf = NULL;
    s->inflight--;
    sw->busy[piece] = 0;
    copies_rate_changed(sw->cs);
    if (longer) {
        mem_free(buf);
        snprintf(msg, sizeof(msg), "piece %u: more bytes than the piece",
                 (unsigned)piece);
        drop_source(s, msg);
    } else if (status == 206 && got == len && rc == 0) {
        s->fails = 0;
        s->misses = 0;
        sw->busy[piece] = 1;
        sw->from[piece] = (uint8_t)q->src;
        sw->writing++;
        if (store_write_piece(sw->w, piece, buf, len, piece_written, sw,
                              &err) < 0) {
            sw->writing--;
            sw->busy[piece] = 0;
            sw_fail(sw, 500, err.msg);
            return;
        }
    } else if (status == 429) {
        mem_free(buf);
        /* all its streams busy, or this piece already on its way from it
         * to another copy (depot.c): take this piece from another holder
         * (its next bitmap lists it again) */
        if (s->have && !s->complete) {
            s->have[piece / 8] &= (uint8_t)~(1u << (piece % 8));
            recount(sw);
        }
        s->state = SRC_BACKOFF;
        /* busy, not failing: its piece streams end every fraction of a
         * second, so ask again after SWARM_BUSY_MS, not Retry-After's
         * whole second (unless it asks for longer; capped like a
         * backoff) */
        if (retry_after > SWARM_BACKOFF_MAX_MS / 1000)
            retry_after = 1;
        s->retry_at_ms = now_ms() + (retry_after > 1
                                         ? 1000 * (int64_t)retry_after
                                         : SWARM_BUSY_MS);
    } else if (status == 404 || status == 416) {
        mem_free(buf);
        if (s->have)
            s->have[piece / 8] &= (uint8_t)~(1u << (piece % 8));
        s->complete = false;
        s->have_ms = 0; /* read its bitmap again, at once */
        s->have_ok = false;
        if (++s->misses >= 3) {
            s->misses = 0;
            source_failed(s, "source lost pieces it listed");
        }
        recount(sw);
    } else {
        mem_free(buf);
        snprintf(msg, sizeof(msg), "piece %u: %s", (unsigned)piece,
                 status >= 500 ? "server error"
                 : rc == ERR_TIMEOUT ? "stalled"
                 : got < len && status == 206 ? "short body"
                                               : "source unreachable");
        source_failed(s, msg);
    }
    schedule(sw);
    check_end(sw);
}

static bool can_take(const struct swarm_source *s)
{
    return s->state == SRC_ACTIVE && s->inflight < SWARM_PER_SOURCE;
}

/*
 * The rarest missing piece some free candidate has, ties broken at random
 * (reservoir sampling); -1 if none. Random, not lowest-index, ties: copies
 * that start together from one holder then fetch different pieces from it
 * and trade them, instead of all asking it for piece 0 at once.
 */
static int64_t pick_piece(struct swarm *sw)
{
    int64_t best = -1;
    uint32_t ties = 0;

    for (uint32_t i = 0; i < sw->count; i++) {
        bool ok = false;

        if (sw->busy[i] || store_write_has_piece(sw->w, i) ||
            sw->holders[i] == 0 ||
            (best >= 0 && sw->holders[i] > sw->holders[best]))
            continue;
        for (unsigned s = 0; s < sw->nsrc && !ok; s++)
            ok = can_take(&sw->src[s]) && src_has(&sw->src[s], i);
        if (!ok)
            continue;
        if (best < 0 || sw->holders[i] < sw->holders[best]) {
            best = i;
            ties = 1;
        } else if (rng_below(&sw->rng, ++ties) == 0) {
            best = i;
        }
    }
    return best;
}

static int pick_source(struct swarm *sw, uint32_t piece)
{
    int best = -1;
    unsigned ties = 0;

    for (unsigned s = 0; s < sw->nsrc; s++) {
        const struct swarm_source *c = &sw->src[s];

        if (!can_take(c) || !src_has(c, piece))
            continue;
        if (best < 0 || c->inflight < sw->src[best].inflight) {
            best = (int)s;
            ties = 1;
        } else if (c->inflight == sw->src[best].inflight &&
                   rng_below(&sw->rng, ++ties) == 0) {
            best = (int)s; /* reservoir: uniform among equals */
        }
    }
    return best;
}

static int launch(struct swarm *sw, struct swarm_req *q, uint32_t piece,
                  int src)
{
    const struct copies_opts *o = copies_opts(sw->cs);
    struct swarm_source *s = &sw->src[src];
    struct httpc_spec sp = {0};
    char url[COPY_SOURCE_URL_MAX + 100], range[80];
    const char *hdrs[2] = {range, NULL};
    uint64_t off = 0, len = 0;
    pieces_range(&off, &len, sw->length, sw->psize, piece);
    q->buf = mem_alloc((size_t)len);
    if (!q->buf)
        return ERR_NOMEM;
    q->sw = sw;
    q->piece = piece;
    q->src = src;
    q->got = 0;
    q->len = (size_t)len;
    q->started_ms = now_ms();
    q->longer = false;
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s", s->src.base,
             sw->hex);
    snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
             (unsigned long long)off, (unsigned long long)(off + len - 1));
    sp.url = url;
    sp.headers = hdrs;
    sp.sink.kind = HTTPC_SINK_FN;
    sp.write = req_data;
    sp.on_headers = req_headers;
    sp.arg = q;
    sp.stall_secs = SWARM_STALL_SECS;
    /* the receive cap is shared by every transfer (copies_rate_changed
     * right after the start gives this one its share) */
    sp.max_recv_bps = o->max_recv_bps;
    fill_tls(&sp, sw, s);
    if (httpc_new(&q->h, &sp, NULL) < 0 ||
        httpc_start(copies_loop(sw->cs), q->h, req_done, q) < 0) {
        httpc_free(q->h);
        q->h = NULL;
        mem_free(q->buf);
        q->buf = NULL;
        return ERR_NOMEM;
    }
    s->inflight++;
    sw->busy[piece] = 1;
    copies_rate_changed(sw->cs);
    return 0;
}

static void schedule(struct swarm *sw)
{
    int64_t now = now_ms();
    unsigned used = sw->writing;

    if (sw->state != SW_RUNNING)
        return;
    for (unsigned s = 0; s < sw->nsrc; s++) {
        struct swarm_source *c = &sw->src[s];

        if (c->state == SRC_BACKOFF && now >= c->retry_at_ms)
            c->state = SRC_ACTIVE;
        /* a source that sent a bitmap is asked again at once: its depot
         * holds the request until it has more (depot_have.c) */
        if (c->state == SRC_ACTIVE && !c->complete && !c->have_req &&
            ((c->have_ok && !c->no_wait) || c->have_ms == 0 ||
             now - c->have_ms >= SWARM_HAVE_MS))
            have_ask(c);
    }
    for (unsigned k = 0; k < SWARM_INFLIGHT; k++)
        used += sw->req[k].h != NULL;
    for (unsigned k = 0; k < SWARM_INFLIGHT && used < sw->slots; k++) {
        int64_t piece;
        int src;

        if (sw->req[k].h)
            continue;
        piece = pick_piece(sw);
        if (piece < 0)
            break;
        src = pick_source(sw, (uint32_t)piece);
        if (src < 0 || launch(sw, &sw->req[k], (uint32_t)piece, src) < 0)
            break;
        used++;
    }
}

static void on_finished(int rc, const struct err *err, unsigned datasets,
                        unsigned successful, void *arg)
{
    struct swarm *sw = arg;

    sw->w = NULL;
    if (rc < 0) {
        sw->state = SW_RUNNING; /* let sw_fail record it */
        sw_fail(sw, 502, err && err->msg[0] ? err->msg : err_name(rc));
        return;
    }
    sw->state = SW_DONE;
    stop(sw);
    log_info("copy_done", "{s:s, s:s, s:I, s:i, s:i}", "sha256", sw->hex,
             "mode", "swarm", "bytes", (json_int_t)sw->bytes, "datasets",
             (int)datasets, "successful_writes", (int)successful);
}

static void check_end(struct swarm *sw)
{
    bool alive = false;

    if (sw->state != SW_RUNNING)
        return;
    if (store_write_pieces_done(sw->w) == sw->count) {
        sw->state = SW_FINISHING;
        cancel_requests(sw);
        store_write_finish(sw->w, on_finished, sw);
        return;
    }
    for (unsigned s = 0; s < sw->nsrc; s++)
        alive |= sw->src[s].state != SRC_DROPPED;
    if (!alive) {
        sw_fail(sw, 502, "no source left");
        return;
    }
    if (sw->src[0].state == SRC_DROPPED && sw->gain_ms &&
        now_ms() - sw->gain_ms >= SWARM_ORPHAN_MS) {
        for (unsigned s = 0; s < sw->nsrc; s++)
            if (sw->src[s].complete)
                return;
        sw_fail(sw, 502, "first source lost, no progress from the others");
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct swarm *sw = arg;

    (void)fd;
    (void)what;
    if (sw->state == SW_MANIFEST && !sw->mreq && sw->mretry_ms &&
        now_ms() >= sw->mretry_ms) {
        sw->mretry_ms = 0;
        manifest_next(sw);
    }
    schedule(sw);
    check_end(sw);
}

/* ---- API ---------------------------------------------------------------- */

static void swarm_free(struct swarm *sw)
{
    cancel_requests(sw);
    if (sw->tick)
        event_free(sw->tick);
    for (unsigned i = 0; i < COPY_SWARM_SOURCES; i++)
        mem_free(sw->src[i].have);
    mem_free(sw->holders);
    mem_free(sw->busy);
    mem_free(sw->from);
    pieces_release(&sw->m);
    copies_rev_drop(sw->rev);
    if (sw->r)
        httpd_req_unref(sw->r);
    mem_free(sw);
}

/* Keep the running copies and the last SWARM_KEEP finished ones. */
static void trim(struct swarm **list)
{
    unsigned kept = 0;

    while (*list) {
        struct swarm *sw = *list;

        if ((sw->state == SW_DONE || sw->state == SW_FAILED) && !sw->w &&
            ++kept > SWARM_KEEP) {
            *list = sw->next;
            swarm_free(sw);
            continue;
        }
        list = &sw->next;
    }
}

int copy_swarm_start(struct copies *cs, struct store *st,
                     struct event_base *base, struct httpd_req *r,
                     const struct sha256 *h, uint64_t generation,
                     const json_t *body, bool tls, struct err *err)
{
    struct swarm *sw = mem_calloc(1, sizeof(*sw));
    struct timeval tv = {0, SWARM_TICK_MS * 1000};
    struct swarm **list = copies_swarms(cs);
    int rc;

    if (!sw)
        return err_set(err, ERR_NOMEM, "out of memory");
    sw->cs = cs;
    sw->st = st;
    sw->rev = copies_rev_hold(cs);
    sw->h = *h;
    sw->generation = generation;
    sha256_to_hex(sw->hex, h);
    rc = parse_body(sw, body, tls, err);
    if (rc < 0)
        goto fail;
    /* held in trash/: restore it, download nothing */
    rc = copies_start_restore(cs, st, r, h, generation, &sw->src[0].src, err);
    if (rc == 0 || err->code != ERR_NOTFOUND)
        goto fail;
    *err = (struct err)ERR_INIT;
    rc = store_write_begin(st, &sw->w, h, generation, (int64_t)sw->length,
                           err);
    if (rc < 0)
        goto fail;
    for (unsigned i = 0; i < sw->nsrc; i++) {
        sw->src[i].sw = sw;
        sw->src[i].idx = (int)i;
    }
    sw->slots = SWARM_BUF_BYTES / sw->psize;
    if (sw->slots > SWARM_INFLIGHT)
        sw->slots = SWARM_INFLIGHT;
    if (sw->slots == 0)
        sw->slots = 1;
    rng_init(&sw->rng, (uint64_t)now_ms() ^ (uint64_t)(uintptr_t)sw);
    sw->mdeadline_ms =
        now_ms() + 1000ll * (int64_t)copies_opts(cs)->connect_secs;
    sw->tick = event_new(base, -1, EV_PERSIST, on_tick, sw);
    if (!sw->tick || event_add(sw->tick, &tv) < 0) {
        store_write_abort(sw->w);
        sw->w = NULL;
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (r) {
        httpd_req_ref(r);
        sw->r = r;
    }
    sw->next = *list;
    *list = sw;
    trim(list);
    manifest_next(sw);
    return 0;
fail:
    swarm_free(sw);
    return rc == 0 ? 0 : rc;
}

int copy_swarm_json(const struct swarm *list, json_t *arr)
{
    for (const struct swarm *sw = list; sw; sw = sw->next) {
        json_t *srcs = json_array();
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:{s:I, s:I}}", "sha256",
            sw->hex, "source", sw->src[0].src.base, "state",
            sw_names[sw->state], "bytes", (json_int_t)sw->bytes, "total",
            (json_int_t)sw->length, "generation", (json_int_t)sw->generation,
            "mode", "swarm", "pieces", "total", (json_int_t)sw->count,
            "verified", (json_int_t)sw->verified);

        for (unsigned i = 0; srcs && i < sw->nsrc; i++) {
            const struct swarm_source *s = &sw->src[i];
            json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:I}",
                                  "depot_base_url", s->src.base, "sled_id",
                                  s->src.sled_id, "state",
                                  src_names[s->state], "pieces",
                                  (json_int_t)s->pieces, "bytes",
                                  (json_int_t)s->bytes);

            if (e && s->error[0] && s->state != SRC_ACTIVE)
                json_object_set_new(e, "error", json_string(s->error));
            if (!e || json_array_append_new(srcs, e) < 0) {
                json_decref(srcs);
                srcs = NULL;
            }
        }
        if (!o || !srcs) {
            json_decref(o);
            json_decref(srcs);
            return ERR_NOMEM;
        }
        if (json_object_set_new(o, "sources", srcs) < 0 ||
            (sw->error[0] &&
             json_object_set_new(o, "error", json_string(sw->error)) < 0) ||
            json_array_append_new(arr, o) < 0) {
            json_decref(o);
            return ERR_NOMEM;
        }
    }
    return 0;
}

unsigned copy_swarm_transfers(const struct swarm *list)
{
    unsigned n = 0;

    for (const struct swarm *sw = list; sw; sw = sw->next)
        for (unsigned k = 0; k < SWARM_INFLIGHT; k++)
            n += sw->req[k].h != NULL;
    return n;
}

void copy_swarm_set_recv_bps(struct swarm *list, uint64_t bps)
{
    for (struct swarm *sw = list; sw; sw = sw->next)
        for (unsigned k = 0; k < SWARM_INFLIGHT; k++)
            if (sw->req[k].h)
                httpc_set_recv_bps(sw->req[k].h, bps);
}

void copy_swarm_cancel_all(struct swarm *list)
{
    for (struct swarm *sw = list; sw; sw = sw->next)
        sw_fail(sw, 503, "agent shutting down");
}

void copy_swarm_free_all(struct swarm *list)
{
    while (list) {
        struct swarm *next = list->next;

        swarm_free(list);
        list = next;
    }
}
