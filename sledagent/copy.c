/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy: copy-from-depot transfers and the GET /copies registry (see
 * copy.h). Each copy owns one common/httpc request and one store write;
 * data flows from the request's sink callback to store_write_data, with
 * backpressure by HTTPC_PAUSE and httpc_unpause from the store's flow
 * callback.
 * The source's Content-Length is checked against space and quota
 * (store_write_set_expected_len) before the 202. The receive rate limit
 * is divided among the running copies. A copy of an artifact this sled
 * holds in trash/ downloads nothing: it waits for the restore
 * (store_restore_wait), is answered 202 once it is done and shows in the
 * registry as "done" with 0 bytes and "from_trash": true; if the restore
 * fails it falls back to the download. Loop thread only.
 */
#include "sledagent/copy.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/prom.h"
#include "common/sha256.h"
#include "common/tls.h"
#include "sledagent/copy_swarm.h"
#include "sledagent/store/store.h"

enum copy_state { COPY_RUNNING, COPY_DONE, COPY_FAILED };

/* A revocation set shared by the copies that started with it: httpc
 * borrows it for the life of a request (copies_set_revoked). */
struct revref {
    struct tls_revoked *set;
    unsigned refs;
};
static const char *state_names[] = {"running", "done", "failed"};

struct copy {
    struct copy *next;          /* registry, newest first */
    struct copies *cs;
    struct httpd_req *r;        /* until the 202/502 reply */
    struct store_write *w;      /* until finish or abort */
    struct httpc *req;          /* while the transfer runs */
    struct revref *rev;         /* the set req checks against */
    struct evbuffer *chunk;
    enum copy_state state;
    bool answered;              /* source sent a 2xx header */
    bool paused;
    bool finishing;
    bool from_trash;            /* answered by a restore from trash/ */
    bool restore_wait;          /* store_restore_wait callback owed */
    struct store *st;           /* for the fallback download */
    struct sha256 h;
    uint64_t generation;
    uint64_t bytes;
    int64_t total;
    int64_t length;             /* the artifact's, from the request; -1 */
    int64_t failed_ms;          /* monotonic, when it failed because of
                                   its source ("source ..."); 0: not so */
    char hex[SHA256_HEX_LEN + 1];
    char source[COPY_SOURCE_URL_MAX];
    char source_id[TLS_ID_MAX + 1]; /* expected sled; "": any sled */
    char url[256];
    char error[ERR_MSG_MAX];
};

struct copies {
    struct httpc_loop *loop;
    struct copies_opts opts;
    struct copy *list;
    struct revref *rev;         /* current; NULL: none revoked */
    struct swarm *swarms;       /* copy_swarm.c's */
    uint64_t recv_cap;          /* in force: max_recv_bps, or less while a
                                   PUT body takes the link (inbound.c) */
    bool room;                  /* room left for a PUT (copies_leave_room) */
    int64_t tokens, tokens_ms;  /* then: the piece launch budget, and when
                                   it was last refilled */
    uint64_t bytes_total;
    uint64_t pieces_yielded;    /* piece requests dropped for a PUT */
    uint64_t started, done, failed;
};

int copies_new(struct copies **out, struct httpc_loop *loop,
               const struct copies_opts *opts)
{
    struct copies *cs = mem_calloc(1, sizeof(*cs));

    *out = NULL;
    if (!cs)
        return ERR_NOMEM;
    cs->loop = loop;
    cs->opts = *opts;
    cs->recv_cap = opts->max_recv_bps;
    if (!cs->opts.connect_secs)
        cs->opts.connect_secs = 15;
    if (!cs->opts.stall_secs)
        cs->opts.stall_secs = 60;
    *out = cs;
    return 0;
}

uint64_t copies_min_rate(const struct copies *cs, uint64_t share)
{
    uint64_t m = cs->opts.min_recv_bps;

    /* a legitimate copy slowed by our own cap is not a trickling source */
    if (share && m > share / 2)
        m = share / 2;
    return m;
}

static void revref_unref(struct revref *r)
{
    if (r && --r->refs == 0) {
        tls_revoked_free(r->set);
        mem_free(r);
    }
}

int copies_set_revoked(struct copies *cs, struct tls_revoked *set)
{
    struct revref *r = NULL;

    if (set && !(r = mem_calloc(1, sizeof(*r)))) {
        tls_revoked_free(set);
        return ERR_NOMEM;
    }
    if (r) {
        r->set = set;
        r->refs = 1;
    }
    revref_unref(cs->rev);
    cs->rev = r;
    return 0;
}

struct revref *copies_rev_hold(struct copies *cs)
{
    if (cs->rev)
        cs->rev->refs++;
    return cs->rev;
}

const struct tls_revoked *copies_rev_set(const struct revref *r)
{
    return r ? r->set : NULL;
}

void copies_rev_drop(struct revref *r)
{
    revref_unref(r);
}

/* The transfer is over or cancelled: free it and its set reference. */
static void drop_req(struct copy *c)
{
    httpc_free(c->req); /* cancels a running one: no done call */
    c->req = NULL;
    revref_unref(c->rev);
    c->rev = NULL;
}

static void trim(struct copies *cs)
{
    unsigned kept = 0;
    struct copy **pp = &cs->list;

    while (*pp) {
        struct copy *c = *pp;

        if (c->state != COPY_RUNNING && !c->restore_wait &&
            ++kept > COPY_KEEP) {
            *pp = c->next;
            if (c->chunk)
                evbuffer_free(c->chunk);
            mem_free(c);
            continue;
        }
        pp = &c->next;
    }
}

static void reply(struct copy *c, int status, const char *msg)
{
    struct httpd_req *r = c->r;
    json_t *v;

    if (!r)
        return;
    c->r = NULL;
    if (status == 202) {
        v = json_object();
        httpd_reply_json(r, 202, v);
        json_decref(v);
    } else {
        httpd_reply_error(r, status, NULL, msg);
    }
    httpd_req_unref(r);
}

static void rate_update(struct copies *cs);

/* Fail the copy; a caller still waiting gets `status`. */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int copies_failed_sources(const struct copies *cs, struct buf *out)
{
    int64_t since = mono_ms() - 1000LL * COPY_SOURCE_FAILED_SECS;
    unsigned n = 0;
    int rc = buf_puts(out, "[");

    for (const struct copy *c = cs->list; rc == 0 && c; c = c->next) {
        bool dup = false;

        if (!c->failed_ms || c->failed_ms < since)
            continue;
        for (const struct copy *d = cs->list; d != c && !dup; d = d->next)
            dup = d->failed_ms >= since && d->failed_ms &&
                  !strcmp(d->source, c->source);
        if (dup)
            continue;
        rc = buf_printf(out, "%s\"%s\"", n++ ? "," : "", c->source);
    }
    if (rc == 0) /* and the swarm copies' first sources */
        rc = copy_swarm_failed_sources(cs->swarms, since, out, &n);
    return rc < 0 ? rc : buf_puts(out, "]");
}

static void set_failed_status(struct copy *c, int status, const char *msg)
{
    if (c->state != COPY_RUNNING)
        return;
    c->state = COPY_FAILED;
    c->cs->failed++;
    snprintf(c->error, sizeof(c->error), "%s", msg);
    if (strncmp(msg, "source ", 7) == 0)
        c->failed_ms = mono_ms();
    log_info("copy_failed", "{s:s, s:s, s:I, s:s}", "sha256", c->hex,
             "source", c->source, "bytes", (json_int_t)c->bytes, "error",
             c->error);
    reply(c, status, c->error);
    rate_update(c->cs);
}

static void set_failed(struct copy *c, const char *msg)
{
    set_failed_status(c, 502, msg);
}

/* Every running transfer's cap to share (0: uncapped). */
static void rate_apply(struct copies *cs, uint64_t share)
{
    for (struct copy *c = cs->list; c; c = c->next)
        if (c->state == COPY_RUNNING && c->req) {
            httpc_set_recv_bps(c->req, share);
            httpc_set_min_recv_bps(c->req, copies_min_rate(cs, share));
        }
    copy_swarm_set_recv_bps(cs->swarms, share, copies_min_rate(cs, share));
}

/*
 * The receive cap in force (the sled's --rate-limit, or what a PUT body
 * leaves of its link: copies_leave_room) is shared by the running
 * transfers: each whole copy and each piece request of a swarm copy
 * (copy_swarm.c) gets cap / (running transfers), updated whenever one
 * starts or ends or the cap changes (httpc_set_recv_bps: curl reads the
 * cap on every progress check, so a running transfer picks the new share
 * up at once). No cap: every transfer is uncapped.
 */
static void rate_update(struct copies *cs)
{
    unsigned running = 0;
    uint64_t share;

    /* uncapped: a transfer starts so (copies_leave_room lifted any cap) */
    if (!cs->recv_cap)
        return;
    for (const struct copy *c = cs->list; c; c = c->next)
        running += c->state == COPY_RUNNING && c->req;
    running += copy_swarm_transfers(cs->swarms);
    if (!running)
        return;
    share = cs->recv_cap / running;
    if (share < 1024)
        share = 1024;
    /* room left for a PUT: the cap may be a trickle, under which curl
     * would wait seconds after each 16 KiB read (and only wake up then,
     * the room long gone); the launch budget and the yield hold the swarm
     * copies under it, this floor bounds a whole copy's wait */
    if (cs->room && share < COPY_ROOM_SHARE_MIN)
        share = COPY_ROOM_SHARE_MIN;
    rate_apply(cs, share);
}

void copies_leave_room(struct copies *cs, uint64_t cap)
{
    uint64_t bps = cap ? cap : cs->opts.max_recv_bps;
    bool was = cs->room;

    if (cap && !cs->room) {
        cs->tokens = 0;
        cs->tokens_ms = mono_ms();
    }
    cs->room = cap != 0;
    /* a PUT begins: the pieces in flight would come in alongside it for
     * as long as they take, so they go back to the pool at once */
    if (cs->room && !was)
        cs->pieces_yielded += copy_swarm_yield(cs->swarms);
    if (bps == cs->recv_cap && was == cs->room)
        return;
    cs->recv_cap = bps;
    if (bps)
        rate_update(cs);
    else
        rate_apply(cs, 0);
}

/*
 * While room is left for a PUT, a swarm piece request of len bytes is
 * launched only with the budget positive (it may go negative by one
 * piece), refilled at the cap and holding at most a quarter second of
 * it: the pieces asked for, not only curl's per-transfer limiter (which
 * a kept-alive connection's window of data already sent overruns), keep
 * the copies under the cap.
 */
bool copies_launch_take(struct copies *cs, uint64_t len)
{
    int64_t now, max;

    if (!cs->room)
        return true;
    now = mono_ms();
    max = (int64_t)(cs->recv_cap / 4);
    cs->tokens += (int64_t)cs->recv_cap * (now - cs->tokens_ms) / 1000;
    cs->tokens_ms = now;
    if (cs->tokens > max)
        cs->tokens = max;
    if (cs->tokens <= 0)
        return false;
    cs->tokens -= (int64_t)len;
    return true;
}

uint64_t copies_recv_cap(const struct copies *cs)
{
    return cs->recv_cap;
}

void copies_rate_changed(struct copies *cs)
{
    rate_update(cs);
}

static void on_flow(bool pause, void *arg)
{
    struct copy *c = arg;

    c->paused = pause;
    if (!pause && c->req)
        httpc_unpause(c->req);
}

/* The source's final header block: a 2xx with room for its length. */
static int on_headers(struct httpc *h, void *arg)
{
    struct copy *c = arg;
    long code = httpc_status(h);
    int64_t len = httpc_content_length(h);
    struct err err = ERR_INIT;
    char msg[200];

    if (code < 200 || code > 299) {
        snprintf(msg, sizeof(msg), "source %.100s answered HTTP %ld for %.64s",
                 c->source, code, c->hex);
        set_failed(c, msg);
        return ERR_UPSTREAM; /* abort the transfer */
    }
    c->total = len;
    /* The request named the artifact's length: the write was begun with
     * it (reserved, and no byte past it is written); the source must
     * announce the same or nothing. */
    if (c->length >= 0 && len >= 0 && len != c->length) {
        snprintf(msg, sizeof(msg), "source %.100s announced %lld bytes, the "
                 "artifact has %lld", c->source, (long long)len,
                 (long long)c->length);
        set_failed(c, msg);
        return ERR_UPSTREAM;
    }
    /* Check and reserve the space before the 202, so a copy that cannot
     * fit gets 507 (413 over the cap) instead of failing later. Without a
     * Content-Length the writer checks space as the bytes arrive. */
    if (len >= 0 && c->length < 0 && c->w &&
        store_write_set_expected_len(c->w, len, &err) < 0) {
        set_failed_status(c, err_http_status(err.code), err.msg);
        return err.code;
    }
    c->answered = true;
    reply(c, 202, NULL);
    return 0;
}

static int on_data(const char *p, size_t len, void *arg)
{
    struct copy *c = arg;
    int rc;

    if (c->state != COPY_RUNNING || !c->w)
        return ERR_INTERNAL;
    if (c->paused)
        return HTTPC_PAUSE;
    if (evbuffer_add(c->chunk, p, len) < 0) {
        set_failed(c, "out of memory");
        return ERR_NOMEM;
    }
    rc = store_write_data(c->w, c->chunk);
    if (rc < 0) {
        set_failed(c, rc == ERR_NOSPACE
                          ? "no dataset has free space or quota left for "
                            "the artifact (source sent no Content-Length)"
                          : "source sent more bytes than allowed");
        return rc;
    }
    c->bytes += len;
    c->cs->bytes_total += len;
    return 0;
}

static void on_finished(int rc, const struct err *err, unsigned datasets,
                        unsigned successful, void *arg)
{
    struct copy *c = arg;

    c->w = NULL;
    if (rc < 0) {
        set_failed(c, err && err->msg[0] ? err->msg : err_name(rc));
    } else if (c->state == COPY_RUNNING) {
        c->state = COPY_DONE;
        c->cs->done++;
        log_info("copy_done", "{s:s, s:s, s:I, s:i, s:i}", "sha256", c->hex,
                 "source", c->source, "bytes", (json_int_t)c->bytes,
                 "datasets", (int)datasets, "successful_writes",
                 (int)successful);
    }
    trim(c->cs);
}

/*
 * Whether httpc's TLS refusal is of a rack member: its chain verified to
 * the rack CA, then its identity was refused (revoked, another sled, not
 * a sled: httpc_tls.c's "peer refused: ..." and "peer is ..."). Only that
 * reason is given to the caller: it says nothing about ports outside the
 * rack, unlike a failed chain or handshake.
 */
static bool rack_peer_refused(const char *why)
{
    return why && (strncmp(why, "peer refused: ", 14) == 0 ||
                   strncmp(why, "peer is ", 8) == 0);
}

static void on_done(struct httpc *h, void *arg)
{
    struct copy *c = arg;
    struct err e = ERR_INIT;
    bool ok = httpc_result(h, &e) == 0;
    char msg[ERR_MSG_MAX];

    /* The caller (and GET /copies) learns only that the source failed:
     * curl's detail (refused, timed out, no route, TLS) would make this
     * agent a port scanner. The detail goes to the log. */
    snprintf(msg, sizeof(msg), "source %.100s unreachable", c->source);
    if (!ok && e.code == ERR_TIMEOUT && c->answered)
        snprintf(msg, sizeof(msg), "source %.100s too slow: under %llu "
                 "bytes/s over %u s", c->source,
                 (unsigned long long)(c->cs->opts.min_recv_bps
                                          ? c->cs->opts.min_recv_bps
                                          : 1),
                 c->cs->opts.stall_secs);
    else if (!ok && rack_peer_refused(httpc_tls_refused(h)))
        snprintf(msg, sizeof(msg), "source %.100s refused: %s", c->source,
                 httpc_tls_refused(h));
    if (!ok)
        log_warn("copy_source_failed", "{s:s, s:s, s:s}", "sha256", c->hex,
                 "source", c->source, "error", e.msg);
    (void)h; /* c->req */
    drop_req(c);
    rate_update(c->cs);
    if (!ok || c->state != COPY_RUNNING || !c->answered) {
        if (c->state == COPY_RUNNING)
            set_failed(c, msg);
        if (c->w)
            store_write_abort(c->w);
        c->w = NULL;
        trim(c->cs);
        return;
    }
    c->finishing = true;
    store_write_finish(c->w, on_finished, c);
}

/* Start the transfer of c into w (ownership of w passes to c). On error
 * w is aborted and the request freed. */
static int copy_launch(struct copy *c, struct store_write *w)
{
    struct copies *cs = c->cs;
    struct httpc_spec sp = {0};
    int rc;

    c->w = w;
    snprintf(c->url, sizeof(c->url), "%s/artifact/sha256/%s", c->source,
             c->hex);
    sp.url = c->url;
    /* The reference's repo depot (dropshot, ClientSpecifiesVersionInHeader
     * without a default) refuses a request without the header with 400;
     * 1.0.0 is its only version and ours. */
    sp.api_version = API_VERSION_DEPOT;
    sp.sink.kind = HTTPC_SINK_FN;
    sp.write = on_data;
    sp.on_headers = on_headers;
    sp.arg = c;
    sp.connect_ms = 1000L * (long)cs->opts.connect_secs;
    /* No total timeout: large copies are slow, stalled ones are not. */
    sp.stall_secs = (long)cs->opts.stall_secs;
    sp.max_recv_bps = cs->recv_cap;
    sp.min_recv_bps = copies_min_rate(cs, cs->recv_cap);
    if (cs->opts.tls.cert_file) {
        sp.tls = cs->opts.tls;
        sp.tls.roles = HTTPC_ROLE(TLS_ROLE_SLED);
        sp.tls.peer_id = c->source_id[0] ? c->source_id : NULL;
        sp.tls.revoked = cs->rev ? cs->rev->set : NULL;
        c->rev = cs->rev;
        if (c->rev)
            c->rev->refs++;
    }
    if ((rc = httpc_new(&c->req, &sp, NULL)) < 0)
        goto fail;
    store_write_set_flow(w, on_flow, c);
    if ((rc = httpc_start(cs->loop, c->req, on_done, c)) < 0)
        goto fail;
    return 0;
fail:
    store_write_abort(w);
    c->w = NULL;
    drop_req(c);
    return rc;
}

static struct copy *copy_new(struct copies *cs, const struct sha256 *h,
                             uint64_t generation,
                             const struct copy_source *src)
{
    struct copy *c = mem_calloc(1, sizeof(*c));

    if (!c || !(c->chunk = evbuffer_new())) {
        mem_free(c);
        return NULL;
    }
    c->cs = cs;
    c->h = *h;
    c->generation = generation;
    c->total = -1;
    sha256_to_hex(c->hex, h);
    snprintf(c->source, sizeof(c->source), "%s", src->base);
    snprintf(c->source_id, sizeof(c->source_id), "%s", src->sled_id);
    c->length = src->length;
    return c;
}

static void copy_register(struct copy *c, struct httpd_req *r)
{
    struct copies *cs = c->cs;

    if (r) {
        httpd_req_ref(r);
        c->r = r;
    }
    c->next = cs->list;
    cs->list = c;
    cs->started++;
}

int copies_start(struct copies *cs, struct httpd_req *r, struct store_write *w,
                 const struct sha256 *h, uint64_t generation,
                 const struct copy_source *src)
{
    struct copy *c = copy_new(cs, h, generation, src);
    int rc;

    if (!c) {
        store_write_abort(w);
        return ERR_NOMEM;
    }
    rc = copy_launch(c, w);
    if (rc < 0) {
        evbuffer_free(c->chunk);
        mem_free(c);
        return rc;
    }
    copy_register(c, r);
    rate_update(cs);
    log_info("copy_started", "{s:s, s:s, s:I}", "sha256", c->hex, "source",
             c->source, "generation", (json_int_t)generation);
    return 0;
}

/* The restore a copy waited for is over: done, or download after all. */
static void on_restored(int rc, const struct err *err, unsigned datasets,
                        unsigned copies, void *arg)
{
    struct copy *c = arg;
    struct store_write *w = NULL;
    struct err e = ERR_INIT;

    c->restore_wait = false;
    if (c->state != COPY_RUNNING) /* cancelled (agent shutting down) */
        goto out;
    if (rc == 0) {
        c->state = COPY_DONE;
        c->from_trash = true;
        c->cs->done++;
        log_info("copy_done", "{s:s, s:s, s:I, s:i, s:i, s:b}", "sha256",
                 c->hex, "source", c->source, "bytes", (json_int_t)0,
                 "datasets", (int)datasets, "successful_writes", (int)copies,
                 "from_trash", 1);
        reply(c, 202, NULL);
        goto out;
    }
    log_info("copy_restore_failed", "{s:s, s:s}", "sha256", c->hex, "error",
             err ? err->msg : "");
    if (rc == ERR_UNAVAIL) {
        set_failed_status(c, 503, err ? err->msg : "store closing");
        goto out;
    }
    if (store_write_begin_copy(c->st, &w, &c->h, c->generation, c->length,
                               &e) < 0) {
        set_failed_status(c, err_http_status(e.code), e.msg);
        goto out;
    }
    if (copy_launch(c, w) < 0) {
        set_failed_status(c, 500, "cannot start the copy");
        goto out;
    }
    rate_update(c->cs);
    log_info("copy_started", "{s:s, s:s, s:I}", "sha256", c->hex, "source",
             c->source, "generation", (json_int_t)c->generation);
out:
    trim(c->cs);
}

int copies_start_restore(struct copies *cs, struct store *st,
                         struct httpd_req *r, const struct sha256 *h,
                         uint64_t generation, const struct copy_source *src,
                         struct err *err)
{
    struct copy *c = copy_new(cs, h, generation, src);
    int rc;

    if (!c)
        return err_set(err, ERR_NOMEM, "out of memory");
    c->st = st;
    rc = store_restore_wait(st, h, generation, on_restored, c, err);
    if (rc < 0) {
        evbuffer_free(c->chunk);
        mem_free(c);
        return rc;
    }
    c->restore_wait = true;
    copy_register(c, r);
    log_info("copy_from_trash", "{s:s, s:s, s:I}", "sha256", c->hex,
             "source", c->source, "generation", (json_int_t)generation);
    return 0;
}

json_t *copies_json(const struct copies *cs)
{
    json_t *arr = json_array();

    for (const struct copy *c = cs->list; arr && c; c = c->next) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "sha256",
                              c->hex, "source", c->source, "state",
                              state_names[c->state], "bytes",
                              (json_int_t)c->bytes, "total",
                              (json_int_t)c->total, "generation",
                              (json_int_t)c->generation);

        if (!o || (c->error[0] && json_object_set_new(
                                      o, "error", json_string(c->error)) < 0) ||
            (c->from_trash &&
             json_object_set_new(o, "from_trash", json_true()) < 0) ||
            json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (arr && copy_swarm_json(cs->swarms, arr) < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int copies_metrics(const struct copies *cs, struct buf *out)
{
    static const char *const states[] = {"started", "done", "failed"};
    const uint64_t n[] = {cs->started, cs->done, cs->failed};
    unsigned running = 0;
    struct prom p;

    for (const struct copy *c = cs->list; c; c = c->next)
        running += c->state == COPY_RUNNING;
    prom_init(&p, out);
    prom_family(&p, "sledagent_copies", PROM_GAUGE, NULL);
    prom_u64(&p, "sledagent_copies",
             (const char *const[]){"state", "running", NULL}, running);
    prom_family(&p, "sledagent_copies_total", PROM_COUNTER, NULL);
    for (size_t i = 0; i < 3; i++)
        prom_u64(&p, "sledagent_copies_total",
                 (const char *const[]){"state", states[i], NULL}, n[i]);
    prom_counter(&p, "sledagent_copy_bytes_total", NULL, cs->bytes_total);
    prom_counter(&p, "sledagent_copy_pieces_yielded_total", NULL,
                 cs->pieces_yielded);
    /* what the copies may receive together now (inbound.h), 0: no cap */
    prom_gauge(&p, "sledagent_copies_recv_cap_bytes_per_second", NULL,
               cs->recv_cap);
    return prom_rc(&p);
}

struct httpc_loop *copies_loop(struct copies *cs)
{
    return cs->loop;
}

const struct copies_opts *copies_opts(const struct copies *cs)
{
    return &cs->opts;
}

void copies_count_bytes(struct copies *cs, uint64_t len)
{
    cs->bytes_total += len;
}

struct swarm **copies_swarms(struct copies *cs)
{
    return &cs->swarms;
}

void copies_cancel_all(struct copies *cs)
{
    if (cs)
        copy_swarm_cancel_all(cs->swarms);
    for (struct copy *c = cs ? cs->list : NULL; c; c = c->next) {
        if (c->restore_wait)
            set_failed(c, "agent shutting down");
        if (c->req) {
            drop_req(c); /* cancels it: no done call */
            set_failed(c, "agent shutting down");
            if (c->w && !c->finishing)
                store_write_abort(c->w);
            if (!c->finishing)
                c->w = NULL;
        }
    }
}

void copies_free(struct copies *cs)
{
    if (!cs)
        return;
    copy_swarm_free_all(cs->swarms);
    while (cs->list) {
        struct copy *c = cs->list;

        cs->list = c->next;
        if (c->chunk)
            evbuffer_free(c->chunk);
        if (c->r)
            httpd_req_unref(c->r);
        revref_unref(c->rev);
        mem_free(c);
    }
    revref_unref(cs->rev);
    mem_free(cs);
}
