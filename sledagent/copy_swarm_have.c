/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy_swarm_have: step 2 of a swarming copy (copy_swarm.c): each
 * candidate's /have, complete or a bitmap of our manifest; once it sent a
 * bitmap it is asked with ?after=N, which its depot holds until it has
 * more (depot_have.c). A candidate answering 404 lost its write (or has
 * not begun one): have_absent decides when that counts as a failure.
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
        s->have_n += swarm_bit(s->have, i);
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
    int64_t now = swarm_now_ms();
    bool had = s->complete;

    for (size_t i = 0; i < nbytes && !had; i++)
        had = s->have[i] != 0;
    memset(s->have, 0, nbytes);
    s->complete = false;
    if (had || s->lost) {
        s->lost = true;
        swarm_source_failed(s, "source lost the artifact");
        return;
    }
    if (!s->absent_ms) {
        s->absent_ms = now;
    } else if (now - s->absent_ms >= SWARM_ABSENT_MS) {
        s->absent_ms = 0;
        swarm_source_failed(s, "source has none of the artifact");
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
        swarm_source_failed(s, "source unreachable");
    }
    httpc_free(h);
    swarm_recount(sw);
    swarm_schedule(sw);
    swarm_check_end(sw);
}

void swarm_have_ask(struct swarm_source *s)
{
    struct swarm *sw = s->sw;
    struct httpc_spec sp = {0};
    char url[COPY_SOURCE_URL_MAX + 120];

    s->have_ms = swarm_now_ms();
    if (s->have_ok && !s->no_wait)
        snprintf(url, sizeof(url), "%s/artifact/sha256/%s/have?after=%u",
                 s->src.base, sw->hex, (unsigned)s->have_n);
    else
        snprintf(url, sizeof(url), "%s/artifact/sha256/%s/have",
                 s->src.base, sw->hex);
    sp.url = url;
    sp.api_version = API_VERSION_DEPOT;
    sp.sink.kind = HTTPC_SINK_BUF;
    sp.sink.cap = SWARM_HAVE_CAP;
    sp.stall_secs = SWARM_STALL_SECS;
    swarm_fill_tls(&sp, sw, s);
    if (httpc_new(&s->have_req, &sp, NULL) < 0 ||
        httpc_start(copies_loop(sw->cs), s->have_req, have_done, s) < 0) {
        httpc_free(s->have_req);
        s->have_req = NULL;
    }
}
