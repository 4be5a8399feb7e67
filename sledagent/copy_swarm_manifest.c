/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm_manifest: step 1 of a swarming copy (copy_swarm.c): the
 * manifest from the candidates in order, accepted when its sha256 is the
 * manifest hash the controller sent and pieces_parse names the artifact
 * and its length (a candidate that sends other bytes is dropped, "bad
 * manifest"); the next candidate is asked as well when one is slow to
 * answer; asked again in rounds until connect_secs passed. Then the
 * write turns positional, the caller gets 202 and the copy runs.
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

/* ---- the manifest ------------------------------------------------------- */


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
            swarm_fail(sw, 500, "out of memory");
            return;
        }
    }
    if (!sw->holders || !sw->busy || !sw->from) {
        swarm_fail(sw, 500, "out of memory");
        return;
    }
    if (store_write_set_pieces(sw->w, &sw->m, &err) < 0) {
        swarm_fail(sw, err_http_status(err.code), err.msg);
        return;
    }
    sw->state = SW_RUNNING;
    sw->gain_ms = swarm_now_ms();
    log_info("copy_started", "{s:s, s:s, s:s, s:i, s:i}", "sha256", sw->hex,
             "mode", "swarm", "source", sw->src[0].src.base, "sources",
             (int)sw->nsrc, "pieces", (int)sw->count);
    swarm_reply(sw, 202, NULL);
    swarm_schedule(sw); /* asks every candidate for its bitmap */
    swarm_check_end(sw);
}

/* The candidate whose manifest request h is. */
static struct swarm_source *manifest_source(struct swarm *sw,
                                            const struct httpc *h)
{
    for (unsigned i = 0; i < sw->nsrc; i++)
        if (sw->src[i].mreq == h)
            return &sw->src[i];
    return NULL;
}

void swarm_manifest_cancel(struct swarm *sw)
{
    for (unsigned i = 0; i < sw->nsrc; i++) {
        httpc_free(sw->src[i].mreq);
        sw->src[i].mreq = NULL;
    }
    sw->minflight = 0;
}

static void manifest_done(struct httpc *h, void *arg)
{
    struct swarm *sw = arg;
    struct swarm_source *s = manifest_source(sw, h);
    struct err err = ERR_INIT;
    int rc = httpc_result(h, &err);
    long status = httpc_status(h);

    if (!s)
        return; /* cannot be: every request in flight is a candidate's */
    s->mreq = NULL;
    sw->minflight--;
    if (rc == 0 && status == 200) {
        rc = manifest_accept(sw, httpc_body(h), &err);
        if (rc == 0) {
            httpc_free(h);
            swarm_manifest_cancel(sw); /* the others asked meanwhile */
            start_running(sw);
            return;
        }
        swarm_drop_source(s, "bad manifest");
    } else if (rc < 0 && s->state != SRC_DROPPED) {
        /* kept for the copy's error (a revoked or unreachable source),
         * without httpc's "GET <url>: " (the source is known) */
        const char *m = err.msg, *why = strstr(m, ": ");

        if (!strncmp(m, "GET ", 4) && why)
            m = why + 2;
        snprintf(s->error, sizeof(s->error), "%s", m);
    }
    httpc_free(h);
    swarm_manifest_next(sw);
}

/*
 * Ask the next candidate for the manifest. The candidates are asked in
 * order, one at a time while each answers; one that has not answered in
 * SWARM_MANIFEST_HEDGE_MS has the next asked too (swarm_manifest_tick),
 * and the first acceptable manifest wins. After a round with every
 * request ended, wait a little and go round again until the deadline.
 */
void swarm_manifest_next(struct swarm *sw)
{
    struct httpc_spec sp = {0};
    char url[COPY_SOURCE_URL_MAX + 160];
    struct swarm_source *s;
    struct httpc *h = NULL;

    while (sw->mnext < sw->nsrc && sw->src[sw->mnext].state == SRC_DROPPED)
        sw->mnext++;
    if (sw->mnext >= sw->nsrc) {
        if (sw->minflight)
            return; /* the round ends with the last answer */
        sw->mnext = 0;
        if (swarm_now_ms() >= sw->mdeadline_ms) {
            char msg[ERR_MSG_MAX];

            snprintf(msg, sizeof(msg), "no candidate gave a manifest "
                     "matching manifest_sha256%s%.*s%s",
                     sw->src[0].error[0] ? " (first candidate: " : "",
                     ERR_MSG_MAX / 2, sw->src[0].error,
                     sw->src[0].error[0] ? ")" : "");
            swarm_fail(sw, 502, msg);
            return;
        }
        sw->mretry_ms = swarm_now_ms() + SWARM_MANIFEST_RETRY_MS; /* the tick */
        return;
    }
    s = &sw->src[sw->mnext++];
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s/pieces?piece_size=%u",
             s->src.base, sw->hex, (unsigned)sw->psize);
    sp.url = url;
    sp.api_version = API_VERSION_DEPOT;
    sp.sink.kind = HTTPC_SINK_BUF;
    sp.sink.cap = PIECES_DOC_MAX;
    sp.total_ms = 1000L * (long)copies_opts(sw->cs)->connect_secs;
    swarm_fill_tls(&sp, sw, s);
    if (httpc_new(&h, &sp, NULL) < 0 ||
        httpc_start(copies_loop(sw->cs), h, manifest_done, sw) < 0) {
        httpc_free(h);
        swarm_fail(sw, 500, "cannot start the manifest request");
        return;
    }
    s->mreq = h;
    sw->minflight++;
    sw->masked_ms = swarm_now_ms();
}

/* From the copy's tick while it waits for the manifest. */
void swarm_manifest_tick(struct swarm *sw)
{
    int64_t now = swarm_now_ms();

    if (!sw->minflight) {
        if (sw->mretry_ms && now >= sw->mretry_ms) {
            sw->mretry_ms = 0;
            swarm_manifest_next(sw);
        }
    } else if (now - sw->masked_ms >= SWARM_MANIFEST_HEDGE_MS) {
        swarm_manifest_next(sw);
    }
}
