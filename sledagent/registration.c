/* SPDX-License-Identifier: MPL-2.0 */
/*
 * registration: periodic PUT /sled-agents/{id} to the replicator (see
 * registration.h), over mutual TLS when configured (the replicator must
 * present a controller certificate of the rack). Owns one common/httpc
 * request at a time, the request body and the period timer. Loop thread
 * only.
 */
#include "sledagent/registration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tls.h"

#define REGISTRATION_DEFAULT_SECS 30

struct registration {
    struct httpc_loop *loop;
    struct event *timer;
    struct httpc *h;            /* the attempt in flight */
    char *body;
    char *url;
    char *replicator;
    unsigned interval;
    struct httpc_tls tls;       /* no cert_file: plaintext */
    /* the replicator must not be revoked: the set a request borrows
     * (tls.revoked), and the next one while a request is in flight */
    struct tls_revoked *revoked, *pending;
};

/* No request in flight: the pending set (if any) becomes the one. */
static void take_pending(struct registration *rg)
{
    if (!rg->pending)
        return;
    tls_revoked_free(rg->revoked);
    rg->revoked = rg->pending;
    rg->pending = NULL;
    rg->tls.revoked = rg->revoked;
}

void registration_set_revoked(struct registration *rg,
                              struct tls_revoked *set)
{
    if (!rg) {
        tls_revoked_free(set);
        return;
    }
    tls_revoked_free(rg->pending);
    rg->pending = set;
    if (!rg->h)
        take_pending(rg);
}

static void schedule(struct registration *rg, unsigned secs)
{
    struct timeval tv = {(time_t)secs, 0};

    evtimer_add(rg->timer, &tv);
}

static void on_done(struct httpc *h, void *arg)
{
    struct registration *rg = arg;
    long code = httpc_status(h);

    if (httpc_result(h, NULL) < 0 || code < 200 || code > 299)
        log_warn("registration_failed", "{s:s, s:s, s:i}", "replicator",
                 rg->replicator, "error",
                 httpc_tls_refused(h) ? httpc_tls_refused(h)
                                      : httpc_curl_text(h),
                 "status", (int)code);
    else
        log_debug("registered", "{s:s}", "replicator", rg->replicator);
    httpc_free(h);
    rg->h = NULL;
    take_pending(rg);
    schedule(rg, rg->interval);
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
    struct registration *rg = arg;
    long timeout = rg->interval < 20 ? (long)rg->interval : 20L;
    struct httpc_spec sp = {0};
    struct err e = ERR_INIT;

    (void)fd;
    (void)what;
    if (rg->h)
        return;
    /* An attempt never outlives the period, so a hung replicator delays
     * at most one registration. */
    if (timeout < 1)
        timeout = 1;
    sp.method = "PUT";
    sp.url = rg->url;
    sp.api_version = API_VERSION_REPLICATOR_SLED;
    sp.body.kind = HTTPC_BODY_MEM;
    sp.body.data = rg->body;
    sp.body.len = strlen(rg->body);
    sp.body.content_type = "application/json";
    sp.sink.kind = HTTPC_SINK_DISCARD;
    sp.connect_ms = 1000L * (timeout < 10 ? timeout : 10L);
    sp.total_ms = 1000L * timeout;
    sp.tls = rg->tls;
    if (httpc_new(&rg->h, &sp, &e) < 0 && e.code != ERR_NOMEM)
        log_warn("registration_failed", "{s:s, s:s}", "replicator",
                 rg->replicator, "error", e.msg);
    if (!rg->h ||
        httpc_start(rg->loop, rg->h, on_done, rg) < 0) {
        httpc_free(rg->h);
        rg->h = NULL;
        take_pending(rg);
        schedule(rg, rg->interval);
    }
}

int registration_new(struct registration **out, struct event_base *base,
                     struct httpc_loop *loop,
                     const struct registration_opts *opts)
{
    struct registration *rg = mem_calloc(1, sizeof(*rg));
    struct buf b = BUF_INIT;
    bool v6 = strchr(opts->host, ':') != NULL;
    int rc = 0;

    *out = NULL;
    if (!rg)
        return ERR_NOMEM;
    rg->loop = loop;
    if (opts->tls.cert_file) {
        rg->tls = opts->tls;
        rg->tls.roles = HTTPC_ROLE(TLS_ROLE_CONTROLLER);
        rg->tls.peer_id = NULL; /* any controller of the rack */
    }
    rg->interval = opts->interval_secs ? opts->interval_secs
                                       : REGISTRATION_DEFAULT_SECS;
    rc = buf_printf(&b, "{\"api_address\": \"%s%s%s:%u\", "
                        "\"repo_depot_port\": %u}",
                    v6 ? "[" : "", opts->host, v6 ? "]" : "",
                    (unsigned)opts->api_port, (unsigned)opts->depot_port);
    if (rc < 0)
        goto out;
    rg->body = buf_take(&b);
    rc = buf_printf(&b, "%s/sled-agents/%s", opts->replicator_url, opts->id);
    if (rc < 0)
        goto out;
    rg->url = buf_take(&b);
    rg->replicator = mem_strdup(opts->replicator_url);
    rg->timer = evtimer_new(base, on_fire, rg);
    if (!rg->replicator || !rg->timer) {
        rc = ERR_NOMEM;
        goto out;
    }
    schedule(rg, 0);
    *out = rg;
    rg = NULL;
out:
    buf_release(&b);
    registration_free(rg);
    return rc;
}

void registration_stop(struct registration *rg)
{
    if (rg && rg->timer)
        evtimer_del(rg->timer);
}

void registration_free(struct registration *rg)
{
    if (!rg)
        return;
    httpc_free(rg->h); /* cancels an attempt in flight */
    if (rg->timer)
        event_free(rg->timer);
    mem_free(rg->body);
    mem_free(rg->url);
    mem_free(rg->replicator);
    tls_revoked_free(rg->revoked);
    tls_revoked_free(rg->pending);
    mem_free(rg);
}
