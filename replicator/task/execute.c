/* SPDX-License-Identifier: MPL-2.0 */
/*
 * execute: the request scheduler of one activation (see execute.h). Each
 * request is a small state machine (waiting -> running -> [polling] ->
 * ok | failed | skipped, with busy back-off); targets own the GET /copies
 * poller. Loop thread only.
 */
#include "replicator/task/execute.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/httpc.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "replicator/task/collect.h"
#include "replicator/task/plan.h"
#include "replicator/task/sledreq.h"
#include "replicator/task/srcavoid.h"
#include "replicator/task/status.h"
#include "replicator/task/swarm_ring.h"

#define EXEC_BUSY_MAX_SECS 5

enum xstate { X_WAITING = 0, X_RUNNING, X_POLLING, X_BACKOFF, X_OK,
              X_FAILED, X_SKIPPED };

struct xreq {
    struct execute *e;
    size_t idx;
    enum xstate state;
    struct sledreq *q;
    struct event *timer;     /* busy back-off */
    unsigned busy;
    bool needed;             /* a later request depends on this one */
    uint64_t last_bytes;
    int64_t last_progress_ms;
};

struct xtarget {
    struct execute *e;
    size_t idx;
    bool down;              /* unreachable: gone for the rest of the run */
    char why[160];
    unsigned writes;        /* running or polling requests writing here */
    unsigned reads;         /* copies reading from here */
    unsigned polling;
    struct sledreq *poll;
    bool poll_list;         /* poll is GET /artifacts (else /copies) */
    struct event *timer;
};

struct execute {
    struct execute_opts o;
    struct xreq *reqs;
    struct xtarget *targets;
    size_t n, n_targets, ended;
    unsigned inflight;
    unsigned puts_running;  /* PUTs sharing rate_limit_bps */
    struct execute_result res;
    execute_done_fn done;
    void *arg;
    bool finished;
    bool pumping;
};

static void pump(struct execute *e);

static const struct plan_request *preq(const struct xreq *x)
{
    return &x->e->o.plan->reqs[x->idx];
}

static enum status_op op_of(const struct plan_request *r)
{
    return r->kind == PLAN_PUT ? STATUS_OP_PUT
           : r->kind == PLAN_COPY ? STATUS_OP_COPY
                                  : STATUS_OP_RECOPY;
}

/*
 * The controller link cap: rate_limit_bps divided evenly among the PUTs
 * running now, recomputed whenever one starts or ends (DESIGN 9,
 * docs/REPLICATION.md "Controller link cap"). Loop.
 */
static void rebalance_puts(struct execute *e)
{
    uint64_t share;

    if (!e->o.rate_limit_bps || !e->puts_running)
        return;
    share = e->o.rate_limit_bps / e->puts_running;
    if (share == 0)
        share = 1;
    for (size_t i = 0; i < e->n; i++) {
        struct xreq *x = &e->reqs[i];

        if (x->state == X_RUNNING && x->q && preq(x)->kind == PLAN_PUT)
            sledreq_set_send_bps(x->q, share);
    }
}

static void release_slots(struct xreq *x)
{
    struct execute *e = x->e;
    const struct plan_request *r = preq(x);

    e->inflight--;
    e->targets[r->target].writes--;
    if (r->source >= 0)
        e->targets[r->source].reads--;
    if (r->kind == PLAN_PUT && x->state == X_RUNNING && e->puts_running) {
        e->puts_running--;
        rebalance_puts(e);
    }
}

static void end(struct xreq *x, enum xstate st, const char *error)
{
    struct execute *e = x->e;
    const struct plan_request *r = preq(x);
    const struct collect_sled *t = &e->o.sleds[r->target];
    struct status_entry se;
    char hex[SHA256_HEX_LEN + 1];
    bool held = x->state == X_RUNNING || x->state == X_POLLING;
    char errtext[256];

    /* error may live in x->q (sledreq_error), freed just below. */
    if (error) {
        snprintf(errtext, sizeof(errtext), "%s", error);
        error = errtext;
    }
    if (x->state == X_POLLING)
        e->targets[r->target].polling--;
    if (x->state == X_BACKOFF && x->timer)
        evtimer_del(x->timer);
    if (held)
        release_slots(x);
    x->state = st;
    sledreq_free(x->q);
    x->q = NULL;
    e->ended++;
    if (st == X_OK) {
        e->res.ok++;
        *(r->kind == PLAN_PUT ? &e->res.put_bytes : &e->res.copy_bytes) +=
            e->o.ci->arts[r->artifact].length;
    } else if (st == X_FAILED) {
        e->res.failed++;
    } else {
        e->res.skipped++;
    }
    if (st == X_FAILED && r->source >= 0 && e->o.source_failed &&
        srcavoid_is_source_error(error))
        e->o.source_failed(e->o.sleds[r->source].id, e->o.source_failed_arg);
    if (st != X_SKIPPED) {
        status_entry_set(&se, status_now_ms(), t->id, op_of(r),
                         &e->o.ci->arts[r->artifact].hash,
                         r->source >= 0 ? e->o.sleds[r->source].id : NULL,
                         e->o.plan->generation, st == X_OK ? NULL : error);
        status_record(e->o.ring, e->o.counters, &se);
        sha256_to_hex(hex, &e->o.ci->arts[r->artifact].hash);
        log_info("sled_request_done", "{s:s, s:s, s:s, s:s, s:s}", "sled",
                 t->id, "operation", status_op_name(op_of(r)), "hash", hex,
                 "result", st == X_OK ? "ok" : "failed", "error",
                 error ? error : "");
    }
}

/*
 * Sled idx did not answer (refused, reset, timed out): it is gone for
 * the rest of this run. Every request still to be sent to it or read
 * from it, and every copy waiting on it, fails now with why (an _err in
 * the counters and the ring); their dependents are skipped by pump. The
 * next run's list finds what did not finish. Loop.
 */
static void sled_down(struct execute *e, size_t idx, const char *why)
{
    struct xtarget *t = &e->targets[idx];
    char msg[256];

    if (t->down)
        return;
    t->down = true;
    snprintf(t->why, sizeof(t->why), "%s", why);
    snprintf(msg, sizeof(msg), "sled %s unreachable in this run: %s",
             e->o.sleds[idx].id, t->why);
    log_info("sled_down", "{s:s, s:s}", "sled", e->o.sleds[idx].id, "error",
             t->why);
    for (size_t i = 0; i < e->n; i++) {
        struct xreq *x = &e->reqs[i];
        const struct plan_request *r = preq(x);
        bool to = r->target == idx;
        bool from = r->source >= 0 && (size_t)r->source == idx;

        if ((x->state == X_WAITING || x->state == X_BACKOFF) && (to || from))
            end(x, X_FAILED, msg);
        else if ((x->state == X_POLLING || x->state == X_RUNNING) && to)
            end(x, X_FAILED, msg);
    }
    sledreq_free(t->poll);
    t->poll = NULL;
}

/* ---- copy completion: one poller per target: GET /artifacts for
 * completion, then GET /copies for failures and progress ---- */

static void poll_fire(evutil_socket_t fd, short what, void *arg);

static void poll_schedule(struct xtarget *t)
{
    long ms = t->e->o.copy_poll_ms > 0 ? t->e->o.copy_poll_ms : 200;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    if (!t->timer)
        t->timer = evtimer_new(t->e->o.base, poll_fire, t);
    if (t->timer)
        evtimer_add(t->timer, &tv);
}

static void poll_update(struct xtarget *t, const json_t *arr)
{
    struct execute *e = t->e;
    int64_t now = status_now_ms();
    long stall = e->o.copy_stall_secs > 0 ? e->o.copy_stall_secs : 60;

    for (size_t i = 0; i < e->n; i++) {
        struct xreq *x = &e->reqs[i];
        const struct plan_request *r = preq(x);
        char hex[SHA256_HEX_LEN + 1];
        const json_t *v, *found = NULL;
        const char *st, *src, *msg;
        uint64_t bytes = 0, g = 0;
        size_t k;

        if (x->state != X_POLLING || r->target != t->idx)
            continue;
        sha256_to_hex(hex, &e->o.ci->arts[r->artifact].hash);
        src = e->o.sleds[r->source].depot_url;
        /* newest first: the first matching entry is this copy */
        json_array_foreach(arr, k, v) {
            const char *h = jsonu_str(v, "sha256"), *s = jsonu_str(v, "source");

            if (h && !strcmp(h, hex) && s && strstr(s, src) == s &&
                jsonu_u64(&g, json_object_get(v, "generation")) == 0 &&
                g == e->o.plan->generation) {
                found = v;
                break;
            }
        }
        st = found ? jsonu_str(found, "state") : NULL;
        if (st && !strcmp(st, "done")) {
            end(x, X_OK, NULL);
            continue;
        }
        if (st && !strcmp(st, "failed")) {
            msg = jsonu_str(found, "error");
            end(x, X_FAILED, msg ? msg : "copy failed on the target");
            continue;
        }
        if (found)
            jsonu_u64(&bytes, json_object_get(found, "bytes"));
        if (bytes != x->last_bytes) {
            x->last_bytes = bytes;
            x->last_progress_ms = now;
        } else if (now - x->last_progress_ms > stall * 1000) {
            end(x, X_FAILED, "copy made no progress");
        }
    }
}

/*
 * The completion signal: the target lists the hash at G (count > 0 for
 * a copy; for a re-copy, on every healthy dataset). GET /copies keeps
 * only the last finished copies, so a busy target can push ours out;
 * its list cannot. Loop.
 */
static void list_update(struct xtarget *t, const json_t *l)
{
    struct execute *e = t->e;
    const json_t *list = json_object_get(l, "list");
    uint64_t g = 0, ds = 2, count;

    if (!json_is_object(list) ||
        jsonu_u64(&g, json_object_get(l, "generation")) < 0 ||
        g != e->o.plan->generation)
        return;
    if (jsonu_u64(&ds, json_object_get(l, "datasets")) < 0 || ds == 0)
        ds = 2;
    for (size_t i = 0; i < e->n; i++) {
        struct xreq *x = &e->reqs[i];
        const struct plan_request *r = preq(x);
        char hex[SHA256_HEX_LEN + 1];

        if (x->state != X_POLLING || r->target != t->idx)
            continue;
        sha256_to_hex(hex, &e->o.ci->arts[r->artifact].hash);
        if (jsonu_u64(&count, json_object_get(list, hex)) < 0)
            continue;
        if (r->kind == PLAN_RECOPY ? count >= ds : count > 0)
            end(x, X_OK, NULL);
    }
}

static int poll_send(struct xtarget *t, const char *what);

static void poll_done(struct sledreq *q, void *arg)
{
    struct xtarget *t = arg;
    json_t *j = sledreq_status(q) == 200 ? sledreq_json(q) : NULL;
    bool was_list = t->poll_list;
    char why[200];

    if (sledreq_unreachable(q)) {
        /* A dead target is not a copy without progress: fail its copies
         * now rather than after copy_stall_secs. */
        snprintf(why, sizeof(why), "GET /%s: %s",
                 was_list ? "artifacts" : "copies", sledreq_error(q));
        json_decref(j);
        sled_down(t->e, t->idx, why);
        pump(t->e);
        return;
    }
    sledreq_free(t->poll);
    t->poll = NULL;
    if (was_list) {
        if (j)
            list_update(t, j);
        json_decref(j);
        /* Still waiting: /copies tells failures and progress. */
        if (t->polling && poll_send(t, "copies") == 0)
            return;
    } else {
        /* A failed poll (NULL: no entries) still counts towards the
         * no-progress bound. */
        if (!json_is_array(j)) {
            json_decref(j);
            j = NULL;
        }
        poll_update(t, j);
        json_decref(j);
    }
    if (t->polling)
        poll_schedule(t);
    pump(t->e);
}

static int poll_send(struct xtarget *t, const char *what)
{
    struct sledreq_opts o;
    struct buf url = BUF_INIT;
    int rc;

    memset(&o, 0, sizeof(o));
    o.method = "GET";
    o.connect_secs = t->e->o.connect_secs;
    o.stall_secs = t->e->o.stall_secs;
    o.total_secs = t->e->o.request_secs;
    o.tls = t->e->o.tls;
    o.peer_id = t->e->o.sleds[t->idx].id;
    t->poll_list = !strcmp(what, "artifacts");
    rc = buf_printf(&url, "%s/%s", t->e->o.sleds[t->idx].api_url, what);
    if (rc == 0) {
        o.url = url.data;
        rc = sledreq_start(&t->poll, t->e->o.cv, &o, poll_done, t);
    }
    buf_release(&url);
    return rc;
}

static void poll_fire(evutil_socket_t fd, short what, void *arg)
{
    struct xtarget *t = arg;

    (void)fd;
    (void)what;
    if (t->poll || !t->polling)
        return;
    if (poll_send(t, "artifacts") < 0)
        poll_schedule(t);
}

/* ---- sending ---- */

/* One source of a copy body: `"depot_base_url": URL` and, over TLS (which
 * then makes the target require that sled's certificate), its id under
 * `idkey`. */
static int put_source(struct buf *out, const struct execute *e,
                      const struct collect_sled *src, const char *idkey)
{
    if (e->o.tls && e->o.tls->cert_file)
        return buf_printf(out, "\"depot_base_url\": \"%s\", \"%s\": \"%s\"",
                          src->depot_url, idkey, src->id);
    return buf_printf(out, "\"depot_base_url\": \"%s\"", src->depot_url);
}

/* Whether sled s holds artifact art (its inventory of this activation). */
static bool holds(const struct execute *e, uint32_t s, uint32_t art)
{
    const struct plan_sled *p = &e->o.ci->sleds[s];

    if (p->state != PLAN_SLED_OK)
        return false;
    for (size_t i = 0; i < p->n_inventory; i++)
        if (p->inventory[i].artifact == art && p->inventory[i].count > 0)
            return true;
    return false;
}

/* Whether request i is a swarm copy (issue 13). */
static bool is_swarm(const struct execute *e, size_t i)
{
    const struct plan_request *r = &e->o.plan->reqs[i];

    return r->kind == PLAN_COPY && r->source >= 0 &&
           e->o.ci->arts[r->artifact].has_pieces &&
           e->o.ci->sleds[r->target].pieces;
}

/*
 * The candidates after the first of swarm copy `self` (docs/REPLICATION.md
 * "Swarming copies"): up to 3 other holders, then the targets of the
 * other swarm copies of the artifact in this plan at the offsets of
 * swarm_ring.c ahead of self's position on the ring (1, 2, 4, 8, ...):
 * the candidate graph is connected, each sled is named by about as many
 * as it names, and a piece is a few hops from every target. Appends
 * `,"sources":[...]`.
 */
static int put_candidates(struct buf *out, const struct execute *e,
                          size_t self)
{
    const struct plan_request *r = &e->o.plan->reqs[self];
    const struct plan *p = e->o.plan;
    unsigned n = 0, holders = 0;
    size_t pos = 0, nsib = 0, off[7], noff;
    int rc = buf_puts(out, ", \"sources\": [");

    for (uint32_t s = 0; rc == 0 && s < e->o.ci->in.n_sleds && holders < 3;
         s++) {
        if ((int32_t)s == r->source || s == r->target ||
            !holds(e, s, r->artifact))
            continue;
        rc = buf_printf(out, "%s{", n ? ", " : "");
        if (rc == 0)
            rc = put_source(out, e, &e->o.sleds[s], "sled_id");
        if (rc == 0)
            rc = buf_puts(out, "}");
        n++;
        holders++;
    }
    for (size_t i = 0; i < p->n_reqs; i++) {
        if (i == self)
            pos = nsib;
        if (p->reqs[i].artifact == r->artifact && is_swarm(e, i))
            nsib++;
    }
    noff = swarm_ring_offsets(nsib, off, sizeof(off) / sizeof(off[0]));
    for (size_t k = 0; rc == 0 && k < noff && n < 7; k++) {
        size_t want = (pos + off[k]) % nsib, seen = 0;

        for (size_t i = 0; i < p->n_reqs; i++) {
            uint32_t t;

            if (p->reqs[i].artifact != r->artifact || !is_swarm(e, i))
                continue;
            if (seen++ != want)
                continue;
            t = p->reqs[i].target;
            if (t == r->target || (int32_t)t == r->source)
                break;
            rc = buf_printf(out, "%s{", n ? ", " : "");
            if (rc == 0)
                rc = put_source(out, e, &e->o.sleds[t], "sled_id");
            if (rc == 0)
                rc = buf_puts(out, "}");
            n++;
            break;
        }
    }
    return rc < 0 ? rc : buf_puts(out, "]");
}

/* The copy body of request idx: the source and, for a swarm copy, the
 * manifest hash and the candidates (plaintext without "pieces": the body
 * of the reference API). */
static int copy_body(struct buf *out, const struct execute *e, size_t idx)
{
    const struct plan_request *r = &e->o.plan->reqs[idx];
    const struct plan_artifact *a = &e->o.ci->arts[r->artifact];
    char mhex[SHA256_HEX_LEN + 1];
    int rc = buf_puts(out, "{");

    if (rc == 0)
        rc = put_source(out, e, &e->o.sleds[r->source], "source_sled_id");
    /* the artifact's length caps the copy (issue 10): an extension, sent
     * where the other one is (TLS) or to a sled of ours ("pieces") */
    if (rc == 0 && ((e->o.tls && e->o.tls->cert_file) ||
                    e->o.ci->sleds[r->target].pieces))
        rc = buf_printf(out, ", \"length\": %" PRIu64, a->length);
    if (rc == 0 && is_swarm(e, idx)) {
        sha256_to_hex(mhex, &a->pieces_sha256);
        rc = buf_printf(out, ", \"pieces\": {\"manifest_sha256\": \"%s\", "
                        "\"piece_size\": %u, \"length\": %" PRIu64, mhex,
                        (unsigned)a->piece_size, a->length);
        if (rc == 0)
            rc = put_candidates(out, e, idx);
        if (rc == 0)
            rc = buf_puts(out, "}");
    }
    return rc < 0 ? rc : buf_puts(out, "}");
}

static void send_req(struct xreq *x);

static void busy_fire(evutil_socket_t fd, short what, void *arg)
{
    struct xreq *x = arg;

    (void)fd;
    (void)what;
    x->state = X_WAITING;
    pump(x->e);
}

static void on_reply(struct sledreq *q, void *arg)
{
    struct xreq *x = arg;
    struct execute *e = x->e;
    const struct plan_request *r = preq(x);
    long status = sledreq_status(q);
    struct xtarget *t = &e->targets[r->target];

    if (status == 429 && x->busy < e->o.max_busy_retries) {
        unsigned secs = sledreq_retry_after(q);
        long ms;
        struct timeval tv;

        secs = secs == 0 ? 1 : secs > EXEC_BUSY_MAX_SECS ? EXEC_BUSY_MAX_SECS
                                                          : secs;
        ms = (long)secs * 1000 + (long)(random() % 250);
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
        release_slots(x);
        sledreq_free(x->q);
        x->q = NULL;
        x->busy++;
        e->res.busy_retries++;
        x->state = X_BACKOFF;
        log_info("sled_busy", "{s:s, s:i, s:i}", "sled",
                 e->o.sleds[r->target].id, "retry_after_ms", (int)ms,
                 "attempt", (int)x->busy);
        if (!x->timer)
            x->timer = evtimer_new(e->o.base, busy_fire, x);
        if (!x->timer || evtimer_add(x->timer, &tv) < 0)
            end(x, X_FAILED, "cannot arm the back-off timer");
        pump(e);
        return;
    }
    if (status >= 200 && status <= 299) {
        if (r->kind == PLAN_PUT || !x->needed) {
            /* A copy nothing of this run waits for is done once the
             * target accepted it (202): waiting for its completion
             * would only let a slow or frozen source hold the run. The
             * next activation's list finds the result (in_progress,
             * held, or missing again). */
            end(x, X_OK, NULL);
        } else {
            sledreq_free(x->q);
            x->q = NULL;
            x->state = X_POLLING;
            x->last_bytes = 0;
            x->last_progress_ms = status_now_ms();
            if (t->polling++ == 0)
                poll_schedule(t);
        }
    } else if (sledreq_unreachable(q)) {
        char why[200];

        snprintf(why, sizeof(why), "%s", sledreq_error(q));
        end(x, X_FAILED, why);
        sled_down(e, r->target, why);
    } else {
        end(x, X_FAILED, sledreq_error(q));
    }
    pump(e);
}

static void send_req(struct xreq *x)
{
    struct execute *e = x->e;
    const struct plan_request *r = preq(x);
    const struct plan_artifact *a = &e->o.ci->arts[r->artifact];
    const struct collect_sled *t = &e->o.sleds[r->target];
    struct sledreq_opts o;
    struct buf url = BUF_INIT, body = BUF_INIT;
    char hex[SHA256_HEX_LEN + 1];
    int rc;

    sha256_to_hex(hex, &a->hash);
    memset(&o, 0, sizeof(o));
    o.connect_secs = e->o.connect_secs;
    o.stall_secs = e->o.stall_secs;
    o.tls = e->o.tls;
    o.peer_id = t->id;
    x->state = X_RUNNING;
    e->inflight++;
    e->targets[r->target].writes++;
    if (r->source >= 0)
        e->targets[r->source].reads++;
    if (r->kind == PLAN_PUT) {
        o.method = "PUT";
        o.upload_path = e->o.ci->staged_path[r->artifact];
        o.upload_len = a->length;
        o.wq = e->o.wq;
        /* A large body: no total bound, the no-progress bound only. */
        rc = buf_printf(&url, "%s/artifacts/%s?generation=%" PRIu64,
                        t->api_url, hex, e->o.plan->generation);
        /* a target that takes swarm copies also takes the manifest hash
         * (a rackdepot extension; the reference's PUT is sent without) */
        if (rc == 0 && a->has_pieces && e->o.ci->sleds[r->target].pieces) {
            char mhex[SHA256_HEX_LEN + 1];

            sha256_to_hex(mhex, &a->pieces_sha256);
            rc = buf_printf(&url, "&manifest_sha256=%s&piece_size=%u", mhex,
                            (unsigned)a->piece_size);
        }
        if (!o.upload_path) {
            end(x, X_FAILED, "artifact is not staged");
            goto out;
        }
    } else {
        o.method = "POST";
        o.total_secs = e->o.request_secs; /* small: answered with 202 */
        rc = buf_printf(&url,
                        "%s/artifacts/%s/copy-from-depot?generation=%" PRIu64,
                        t->api_url, hex, e->o.plan->generation);
        if (rc == 0)
            rc = copy_body(&body, e, x->idx);
        o.json_body = body.data;
    }
    if (rc < 0) {
        end(x, X_FAILED, "out of memory");
        goto out;
    }
    o.url = url.data;
    log_info("sled_request", "{s:s, s:s, s:s, s:s, s:I, s:s}", "sled", t->id,
             "operation", status_op_name(op_of(r)), "hash", hex, "source",
             r->source >= 0 ? e->o.sleds[r->source].id : "",
             "generation", (json_int_t)e->o.plan->generation, "url",
             url.data);
    rc = sledreq_start(&x->q, e->o.cv, &o, on_reply, x);
    if (rc < 0) {
        end(x, X_FAILED, "cannot start request");
    } else if (r->kind == PLAN_PUT) {
        e->puts_running++;
        rebalance_puts(e);
    }
out:
    buf_release(&url);
    buf_release(&body);
}

static void pump(struct execute *e)
{
    if (e->pumping || e->finished)
        return;
    e->pumping = true;
    for (size_t i = 0; i < e->n && e->inflight < e->o.max_inflight; i++) {
        struct xreq *x = &e->reqs[i];
        const struct plan_request *r = preq(x);

        if (x->state != X_WAITING)
            continue;
        if (e->targets[r->target].down ||
            (r->source >= 0 && e->targets[r->source].down)) {
            end(x, X_FAILED, "sled unreachable in this run");
            continue;
        }
        if (r->depends_on >= 0) {
            enum xstate d = e->reqs[r->depends_on].state;

            if (d == X_FAILED || d == X_SKIPPED) {
                end(x, X_SKIPPED, NULL);
                continue;
            }
            /* a started dependency: the PUT target serves the verified
             * pieces of the PUT as it flows (plan.h) */
            if (d != X_OK && !(r->started && d == X_RUNNING))
                continue;
        }
        if (e->targets[r->target].writes >= e->o.max_per_target)
            continue;
        /* A capped controller link: one PUT at a time, so the artifact
         * reaches its first holder at the full rate and peers copy it
         * while the next one is sent (docs/REPLICATION.md). */
        if (r->kind == PLAN_PUT && e->o.rate_limit_bps && e->puts_running)
            continue;
        if (r->source >= 0 &&
            e->targets[r->source].reads >= e->o.max_per_source)
            continue;
        send_req(x);
    }
    /* skips may unblock nothing else; finish when everything ended */
    e->pumping = false;
    if (e->ended == e->n && !e->finished) {
        e->finished = true;
        e->done(e, e->arg);
    }
}

int execute_start(struct execute **out, const struct execute_opts *o,
                  execute_done_fn done, void *arg)
{
    struct execute *e = mem_calloc(1, sizeof(*e));

    *out = NULL;
    if (!e)
        return ERR_NOMEM;
    e->o = *o;
    if (!e->o.max_inflight)
        e->o.max_inflight =
            execute_auto_inflight(o->plan->summary.n_planned_sleds);
    if (!e->o.max_per_target)
        e->o.max_per_target = 1;
    if (!e->o.max_per_source)
        e->o.max_per_source = 1;
    e->n = o->plan->n_reqs;
    e->n_targets = o->ci->in.n_sleds;
    e->reqs = mem_calloc(e->n + 1, sizeof(*e->reqs));
    e->targets = mem_calloc(e->n_targets + 1, sizeof(*e->targets));
    if (!e->reqs || !e->targets) {
        execute_free(e);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < e->n; i++) {
        int32_t d = o->plan->reqs[i].depends_on;

        e->reqs[i].e = e;
        e->reqs[i].idx = i;
        if (d >= 0 && (size_t)d < e->n)
            e->reqs[d].needed = true;
    }
    for (size_t i = 0; i < e->n_targets; i++) {
        e->targets[i].e = e;
        e->targets[i].idx = i;
    }
    e->done = done;
    e->arg = arg;
    *out = e;
    pump(e);
    return 0;
}

unsigned execute_auto_inflight(size_t n_planned_sleds)
{
    if (n_planned_sleds <= EXECUTE_MIN_INFLIGHT / 2)
        return EXECUTE_MIN_INFLIGHT;
    if (n_planned_sleds >= EXECUTE_MAX_INFLIGHT / 2)
        return EXECUTE_MAX_INFLIGHT;
    return (unsigned)(2 * n_planned_sleds);
}

void execute_result(const struct execute *e, struct execute_result *out)
{
    *out = e->res;
}

void execute_free(struct execute *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        sledreq_free(e->reqs[i].q);
        if (e->reqs[i].timer)
            event_free(e->reqs[i].timer);
    }
    for (size_t i = 0; i < e->n_targets; i++) {
        sledreq_free(e->targets[i].poll);
        if (e->targets[i].timer)
            event_free(e->targets[i].timer);
    }
    mem_free(e->reqs);
    mem_free(e->targets);
    mem_free(e);
}
