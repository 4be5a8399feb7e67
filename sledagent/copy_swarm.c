/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm: swarming copies (see copy_swarm.h; the design is
 * docs/REPLICATION.md "Swarming copies"): the request body, the copy's
 * lifecycle (failures of sources, the end, the tick) and the API. One
 * struct swarm per copy (copy_swarm_internal.h); step 1 is
 * copy_swarm_manifest.c, step 2 copy_swarm_have.c, steps 3-5
 * copy_swarm_fetch.c:
 *
 *  1. manifest: GET /artifact/sha256/{h}/pieces?piece_size=P from the
 *     candidates in order, accepted when sha256(bytes) is the manifest hash
 *     the controller sent and pieces_parse names h and its length; a
 *     candidate that sends other bytes is dropped ("bad manifest"); tried
 *     again in rounds until connect_secs passed (a PUT target may not have
 *     begun); one that has not answered in SWARM_MANIFEST_HEDGE_MS has the
 *     next asked too, the first match wins. Then the write (begun with the
 *     length, space reserved before anyone was contacted) becomes
 *     positional and the caller gets 202.
 *  2. availability: GET /have of each active candidate at start, then a
 *     long-poll (?after=N) while pieces are missing; holders[i] counts
 *     them.
 *  3. selection: a free slot takes the missing piece not in flight with the
 *     fewest holders among the candidates that can take a request (ties:
 *     random), from the least busy of them (ties: random).
 *  4. fetch: GET with one Range into a piece buffer (a longer body is a bad
 *     source); the buffer goes to store_write_piece, which checks it
 *     against the manifest on the write's worker before writing a byte (so
 *     hashing stays off the loop and a corrupt piece is never stored).
 *  5. failures: transport error, stall (SWARM_STALL_SECS without a byte),
 *     5xx or a short body back off the source (1 s doubling to 30 s, with
 *     jitter) and SWARM_FAILS in a row drop it; 429 waits SWARM_BUSY_MS
 *     (doubling to 2 s while it stays busy) and the piece is asked of
 *     another holder; a
 *     404/416 clears the piece from its bitmap (three count as a failure);
 *     a piece that fails verification drops its source at once, logged as
 *     copy_bad_source. The piece goes back to the pool each time.
 *  6. every piece written: store_write_finish (fsync, whole sha256 against
 *     h, rename, directory fsync).
 *
 * Memory per copy: slots piece buffers being fetched (SWARM_INFLIGHT,
 * fewer for pieces over SWARM_BUF_BYTES / SWARM_INFLIGHT) and as many
 * more being written (none fetched while slots are written), the
 * manifest, holders (2 bytes a piece), two bytes a piece of
 * flags and one bitmap per candidate. Loop thread only.
 */
#include "sledagent/copy_swarm_internal.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/hex.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "sledagent/store/store.h"

static const char *const sw_names[] = {"running", "running", "running",
                                       "done", "failed"};
static const char *const src_names[] = {"active", "backoff", "dropped"};

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
    if (sw->src[0].src.length >= 0 &&
        (uint64_t)sw->src[0].src.length != sw->length)
        return err_set(err, ERR_INVAL, "length and pieces.length differ");
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

void swarm_reply(struct swarm *sw, int status, const char *msg)
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

/* The piece requests in flight back to the pool (their sources unblamed);
 * how many there were. */
static unsigned cancel_pieces(struct swarm *sw)
{
    unsigned n = 0;

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
        n++;
    }
    return n;
}

static void cancel_requests(struct swarm *sw)
{
    (void)cancel_pieces(sw);
    for (unsigned i = 0; i < sw->nsrc; i++) {
        httpc_free(sw->src[i].have_req);
        sw->src[i].have_req = NULL;
    }
    swarm_manifest_cancel(sw);
}

static void stop(struct swarm *sw)
{
    cancel_requests(sw);
    if (sw->tick)
        event_del(sw->tick);
    copies_rate_changed(sw->cs);
}

void swarm_fail(struct swarm *sw, int status, const char *msg)
{
    if (sw->state == SW_DONE || sw->state == SW_FAILED)
        return;
    snprintf(sw->error, sizeof(sw->error), "%s", msg);
    if (strncmp(msg, "source ", 7) == 0)
        sw->failed_ms = swarm_now_ms();
    log_info("copy_failed", "{s:s, s:s, s:s, s:I, s:s}", "sha256", sw->hex,
             "mode", "swarm", "source", sw->src[0].src.base, "bytes",
             (json_int_t)sw->bytes, "error", sw->error);
    stop(sw);
    if (sw->w && sw->state != SW_FINISHING) {
        store_write_abort(sw->w);
        sw->w = NULL;
    }
    sw->state = SW_FAILED;
    swarm_reply(sw, status, sw->error);
}

void swarm_recount(struct swarm *sw)
{
    if (!sw->holders)
        return;
    for (uint32_t i = 0; i < sw->count; i++) {
        uint16_t n = 0;

        for (unsigned s = 0; s < sw->nsrc; s++)
            n += swarm_src_has(&sw->src[s], i);
        sw->holders[i] = n;
    }
}

void swarm_drop_source(struct swarm_source *s, const char *msg)
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
    swarm_recount(sw);
}

/* A failure of s that is not its bytes' fault: back off, or drop. */
void swarm_source_failed(struct swarm_source *s, const char *msg)
{
    int64_t ms;

    if (s->state == SRC_DROPPED)
        return;
    if (++s->fails >= SWARM_FAILS) {
        swarm_drop_source(s, msg);
        return;
    }
    ms = 1000ll << (s->fails - 1);
    if (ms > SWARM_BACKOFF_MAX_MS)
        ms = SWARM_BACKOFF_MAX_MS;
    ms += rng_below(&s->sw->rng, (uint32_t)(ms / 4 + 1));
    s->state = SRC_BACKOFF;
    s->retry_at_ms = swarm_now_ms() + ms;
    snprintf(s->error, sizeof(s->error), "%s", msg);
}

static void on_finished(int rc, const struct err *err, unsigned datasets,
                        unsigned successful, void *arg)
{
    struct swarm *sw = arg;

    sw->w = NULL;
    if (rc < 0) {
        sw->state = SW_RUNNING; /* let sw_fail record it */
        swarm_fail(sw, 502, err && err->msg[0] ? err->msg : err_name(rc));
        return;
    }
    sw->state = SW_DONE;
    stop(sw);
    log_info("copy_done", "{s:s, s:s, s:I, s:i, s:i}", "sha256", sw->hex,
             "mode", "swarm", "bytes", (json_int_t)sw->bytes, "datasets",
             (int)datasets, "successful_writes", (int)successful);
}

void swarm_check_end(struct swarm *sw)
{
    char msg[ERR_MSG_MAX];
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
    /* Both failures name the first source (the controller's, which its
     * planner then avoids: an error starting "source ", srcavoid.h). */
    if (!alive) {
        snprintf(msg, sizeof(msg), "source %.100s failed (%.100s); no "
                 "source left", sw->src[0].src.base, sw->src[0].error);
        swarm_fail(sw, 502, msg);
        return;
    }
    if (sw->src[0].state == SRC_DROPPED && sw->gain_ms &&
        swarm_now_ms() - sw->gain_ms >= SWARM_ORPHAN_MS) {
        /* a dropped holder stays marked complete: it is no help */
        for (unsigned s = 0; s < sw->nsrc; s++)
            if (sw->src[s].complete && sw->src[s].state != SRC_DROPPED)
                return;
        snprintf(msg, sizeof(msg), "source %.100s lost (%.100s), no "
                 "progress from the others", sw->src[0].src.base,
                 sw->src[0].error);
        swarm_fail(sw, 502, msg);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct swarm *sw = arg;

    (void)fd;
    (void)what;
    if (sw->state == SW_MANIFEST)
        swarm_manifest_tick(sw);
    swarm_schedule(sw);
    swarm_check_end(sw);
}

void swarm_fill_tls(struct httpc_spec *sp, const struct swarm *sw,
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
    rc = store_write_begin_copy(st, &sw->w, h, generation,
                                (int64_t)sw->length, err);
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
    rng_init(&sw->rng, (uint64_t)swarm_now_ms() ^ (uint64_t)(uintptr_t)sw);
    sw->mdeadline_ms =
        swarm_now_ms() + 1000ll * (int64_t)copies_opts(cs)->connect_secs;
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
    swarm_manifest_next(sw);
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

int copy_swarm_failed_sources(const struct swarm *list, int64_t since_ms,
                              struct buf *out, unsigned *n)
{
    char quoted[COPY_SOURCE_URL_MAX + 3];

    for (const struct swarm *sw = list; sw; sw = sw->next) {
        if (!sw->failed_ms || sw->failed_ms < since_ms)
            continue;
        snprintf(quoted, sizeof(quoted), "\"%s\"", sw->src[0].src.base);
        if (out->len && memmem(out->data, out->len, quoted, strlen(quoted)))
            continue;
        if (buf_printf(out, "%s%s", (*n)++ ? "," : "", quoted) < 0)
            return ERR_NOMEM;
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

unsigned copy_swarm_yield(struct swarm *list)
{
    unsigned n = 0;

    for (struct swarm *sw = list; sw; sw = sw->next)
        if (sw->state == SW_RUNNING)
            n += cancel_pieces(sw);
    return n;
}

void copy_swarm_set_recv_bps(struct swarm *list, uint64_t bps,
                             uint64_t min_bps)
{
    for (struct swarm *sw = list; sw; sw = sw->next)
        for (unsigned k = 0; k < SWARM_INFLIGHT; k++)
            if (sw->req[k].h) {
                httpc_set_recv_bps(sw->req[k].h, bps);
                httpc_set_min_recv_bps(sw->req[k].h, min_bps);
            }
}

void copy_swarm_cancel_all(struct swarm *list)
{
    for (struct swarm *sw = list; sw; sw = sw->next)
        swarm_fail(sw, 503, "agent shutting down");
}

void copy_swarm_free_all(struct swarm *list)
{
    while (list) {
        struct swarm *next = list->next;

        swarm_free(list);
        list = next;
    }
}
