/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm_fetch: steps 3-5 of a swarming copy (copy_swarm.c): the
 * rarest missing piece a free candidate has (ties at random), from the
 * least busy of them, fetched with one Range into a piece buffer and
 * handed to store_write_piece (which verifies it before a byte is
 * written); 429, 404/416, bad bytes, stalls and errors handled per
 * source.
 */
#include "sledagent/copy_swarm_internal.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/hex.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "sledagent/store/store.h"

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
        sw->gain_ms = swarm_now_ms();
        sw->bytes += len;
        s->pieces++;
        s->bytes += len;
    } else if (rc == ERR_VERIFY) {
        snprintf(msg, sizeof(msg), "piece %u: %s", (unsigned)piece,
                 err ? err->msg : "failed verification");
        swarm_drop_source(s, msg);
    } else {
        swarm_fail(sw, 500, err ? err->msg : "the write failed");
        return;
    }
    swarm_schedule(sw);
    swarm_check_end(sw);
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
    copies_count_bytes(q->sw->cs, len);
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
                  (json_int_t)(swarm_now_ms() - q->started_ms));
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
        swarm_drop_source(s, msg);
    } else if (status == 206 && got == len && rc == 0) {
        s->fails = 0;
        s->misses = 0;
        s->busy = 0;
        sw->busy[piece] = 1;
        sw->from[piece] = (uint8_t)q->src;
        sw->writing++;
        if (store_write_piece(sw->w, piece, buf, len, piece_written, sw,
                              &err) < 0) {
            sw->writing--;
            sw->busy[piece] = 0;
            swarm_fail(sw, 500, err.msg);
            return;
        }
    } else if (status == 429) {
        mem_free(buf);
        /* all its streams busy, or this piece already on its way from it
         * to another copy (depot.c): take this piece from another holder
         * (its next bitmap lists it again) */
        if (s->have && !s->complete) {
            s->have[piece / 8] &= (uint8_t)~(1u << (piece % 8));
            swarm_recount(sw);
        }
        s->state = SRC_BACKOFF;
        /* busy, not failing: its piece streams end every fraction of a
         * second, so ask again after SWARM_BUSY_MS, not Retry-After's
         * whole second (unless it asks for longer; capped like a
         * backoff) */
        if (retry_after > SWARM_BACKOFF_MAX_MS / 1000)
            retry_after = 1;
        /* SWARM_BUSY_MS doubling while it stays busy, to 2 s */
        s->retry_at_ms = swarm_now_ms() + (retry_after > 1
                                         ? 1000 * (int64_t)retry_after
                                         : (int64_t)SWARM_BUSY_MS
                                               << (s->busy < 3 ? s->busy
                                                               : 3));
        s->busy++;
    } else if (status == 404 || status == 416) {
        mem_free(buf);
        if (s->have)
            s->have[piece / 8] &= (uint8_t)~(1u << (piece % 8));
        s->complete = false;
        s->have_ms = 0; /* read its bitmap again, at once */
        s->have_ok = false;
        if (++s->misses >= 3) {
            s->misses = 0;
            swarm_source_failed(s, "source lost pieces it listed");
        }
        swarm_recount(sw);
    } else {
        mem_free(buf);
        snprintf(msg, sizeof(msg), "piece %u: %s", (unsigned)piece,
                 status >= 500 ? "server error"
                 : rc == ERR_TIMEOUT ? "stalled"
                 : got < len && status == 206 ? "short body"
                                               : "source unreachable");
        swarm_source_failed(s, msg);
    }
    swarm_schedule(sw);
    swarm_check_end(sw);
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
            ok = can_take(&sw->src[s]) && swarm_src_has(&sw->src[s], i);
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

        if (!can_take(c) || !swarm_src_has(c, piece))
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
    q->started_ms = swarm_now_ms();
    q->longer = false;
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s", s->src.base,
             sw->hex);
    snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
             (unsigned long long)off, (unsigned long long)(off + len - 1));
    sp.url = url;
    sp.api_version = API_VERSION_DEPOT;
    sp.headers = hdrs;
    sp.sink.kind = HTTPC_SINK_FN;
    sp.write = req_data;
    sp.on_headers = req_headers;
    sp.arg = q;
    sp.stall_secs = SWARM_STALL_SECS;
    /* the receive cap is shared by every transfer (copies_rate_changed
     * right after the start gives this one its share) */
    sp.max_recv_bps = copies_recv_cap(sw->cs);
    /* a trickling holder fails the piece request (then backs off) */
    sp.min_recv_bps = copies_min_rate(sw->cs, sp.max_recv_bps);
    swarm_fill_tls(&sp, sw, s);
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

void swarm_schedule(struct swarm *sw)
{
    int64_t now = swarm_now_ms();
    unsigned used = 0;

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
            swarm_have_ask(c);
    }
    /* a piece being written holds its buffer but no longer its slot: the
     * link keeps fetching while the worker writes (up to slots pieces
     * written at once, so at most 2 x slots buffers) */
    if (sw->writing >= sw->slots)
        return;
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
        if (src < 0 || !copies_launch_take(sw->cs, sw->psize) ||
            launch(sw, &sw->req[k], (uint32_t)piece, src) < 0)
            break;
        used++;
    }
}
