/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent: the sledagent service's lifecycle (see agent.h): the store, the
 * agent API and depot listeners (their route tables are in agent_api.c
 * and depot.c), the shared rate limit group, the registration timer, and
 * the reply hooks that feed the request and depot-byte counters of GET
 * /metrics. Loop thread only.
 */
#include "sledagent/agent.h"

#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/httpc.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/httpd_tls.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "sledagent/agent_api.h"
#include "sledagent/agent_internal.h"
#include "sledagent/copy.h"
#include "sledagent/depot.h"
#include "sledagent/depot_have.h"
#include "sledagent/inbound.h"
#include "sledagent/registration.h"

static void count(struct agent *a, const char *route, int status)
{
    for (unsigned i = 0; i < a->ncounters; i++) {
        if (a->counters[i].status == status &&
            strcmp(a->counters[i].route, route) == 0) {
            a->counters[i].n++;
            return;
        }
    }
    if (a->ncounters < AGENT_MAX_COUNTERS)
        a->counters[a->ncounters++] = (struct agent_counter){route, status,
                                                             1};
}

static void on_reply(const struct httpd_req *r, int status, void *arg)
{
    struct agent *a = arg;

    count(a, httpd_req_route(r), status);
    if (status >= 400) {
        a->rejected++;
        log_info("request_rejected", "{s:s, s:s, s:s, s:i}", "request_id",
                 httpd_req_id(r), "method", httpd_req_method_name(r), "path",
                 httpd_req_path(r), "status", status);
    }
}

/* Depot bytes are counted as they leave for the socket, not as queued. */
static void on_sent(const struct httpd_req *r, uint64_t bytes, void *arg)
{
    struct agent *a = arg;

    if (strcmp(httpd_req_route(r), "depot_get") == 0) {
        a->depot_bytes += bytes;
        depot_piece_stream_done(a, r);
    }
}

static int reg_start(struct agent *a)
{
    struct registration_opts ro = {0};
    int rc;

    ro.replicator_url = a->opts.replicator_url;
    ro.id = a->opts.id;
    ro.host = a->opts.advertise_host ? a->opts.advertise_host
                                     : a->opts.api_host;
    ro.api_port = httpd_port(a->api);
    ro.depot_port = httpd_port(a->depot);
    ro.interval_secs = a->opts.register_secs;
    if (agent_tls_on(&a->opts)) {
        ro.tls.ca_file = a->opts.tls.ca;
        ro.tls.cert_file = a->opts.tls.cert;
        ro.tls.key_file = a->opts.tls.key;
    }
    rc = registration_new(&a->reg, a->base, a->cv, &ro);
    /* the revocations in force (agent_revoke_apply feeds it later on) */
    if (rc == 0 && a->tls) {
        struct tls_revoked *r = NULL;

        rc = tls_revoked_dup(&r, httpd_tls_revoked(a->tls), NULL);
        if (rc == 0)
            registration_set_revoked(a->reg, r);
    }
    return rc;
}

/* ---- lifecycle ---- */

int agent_new(struct agent **out, struct event_base *base,
              const struct agent_opts *opts, struct err *err)
{
    struct agent *a = mem_calloc(1, sizeof(*a));
    struct httpd_service api_svc = {NULL, 0, NULL, a, NULL, 0};
    struct httpd_service depot_svc = {NULL, 0, NULL, a, NULL, 0};
    struct httpd_opts ho = {0};
    struct copies_opts co = {0};
    int rc;

    *out = NULL;
    if (!a)
        return err_set(err, ERR_NOMEM, "out of memory");
    a->base = base;
    a->opts = *opts;
    api_svc.routes = agent_api_routes(&api_svc.nroutes);
    depot_svc.routes = depot_routes(&depot_svc.nroutes);
    api_svc.api_versions = agent_api_versions(&api_svc.n_api_versions);
    depot_svc.api_versions = depot_versions(&depot_svc.n_api_versions);
    if (opts->rate_limit) {
        /* refilled every AGENT_RATE_TICK_MS, not libevent's default second:
         * with a one-second tick the bucket empties at the tick's start and
         * every reply (a 429, a /have bitmap, a piece's first bytes) waits
         * up to a second for the next one */
        const struct timeval tick = {0, AGENT_RATE_TICK_MS * 1000};
        size_t rate = (size_t)(opts->rate_limit * AGENT_RATE_TICK_MS / 1000);

        if (rate < 1)
            rate = 1;
        a->rate_cfg = ev_token_bucket_cfg_new(rate, rate, rate, rate, &tick);
        a->rate_group = a->rate_cfg
                            ? bufferevent_rate_limit_group_new(base,
                                                               a->rate_cfg)
                            : NULL;
        /* libevent lets each connection move a tick's tokens / members at
         * a time (at least min_share, the bucket going negative); with 50
         * ms ticks and the dozens of connections of a swarm that is a few
         * hundred bytes a read, and a PUT body then costs thousands of
         * loop turns a second. A quarter of a tick's tokens keeps reads
         * and writes large; the average rate is unchanged. */
        if (a->rate_group)
            bufferevent_rate_limit_group_set_min_share(
                a->rate_group, rate / 4 > 4096 ? rate / 4 : 4096);
        if (!a->rate_group) {
            rc = err_set(err, ERR_NOMEM, "cannot create the rate limit");
            goto out;
        }
    }
    if ((rc = store_open(&a->st, base, &opts->store, err)) < 0)
        goto out;
    if ((rc = httpc_loop_new(&a->cv, base)) < 0) {
        err_set(err, rc, "cannot create the HTTP client loop");
        goto out;
    }
    co.connect_secs = opts->copy_connect_secs;
    co.stall_secs = opts->copy_stall_secs;
    co.min_recv_bps = opts->copy_min_rate;
    /* Copies divide the rate among themselves (copy.c); they do not draw
     * from the connections' token bucket (documented in docs/API.md). */
    co.max_recv_bps = opts->rate_limit;
    if (agent_tls_on(opts)) {
        co.tls.ca_file = opts->tls.ca;
        co.tls.cert_file = opts->tls.cert;
        co.tls.key_file = opts->tls.key;
    }
    if ((rc = copies_new(&a->copies, a->cv, &co)) < 0 ||
        (rc = inbound_new(&a->inbound, base, a->copies,
                          opts->link_rate ? opts->link_rate
                                          : opts->rate_limit)) < 0) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    ho.max_body_bytes = opts->store.max_body_bytes
                            ? opts->store.max_body_bytes
                            : LIMIT_ARTIFACT_BODY_DEFAULT;
    ho.rate_group = a->rate_group;
    ho.rate_bps = opts->rate_limit;
    ho.limits = opts->limits;
    ho.handshake_secs = opts->handshake_secs;
    if (!ho.limits.max_conns)
        ho.limits.max_conns = httpd_limits_default_conns(2);
    /* the pushed revocation list, before the listeners apply it */
    if ((rc = agent_revoke_open(a, err)) < 0)
        goto out;
    if ((rc = agent_override_open(a, err)) < 0)
        goto out;
    if ((rc = agent_tls_start(a, err)) < 0)
        goto out;
    if (!a->tls && (rc = agent_revoke_apply(a, err)) < 0)
        goto out;
    ho.tls = a->tls;
    ho.host = opts->api_host;
    ho.port = opts->api_port;
    ho.name = "api";
    if ((rc = httpd_new(&a->api, base, &ho, &api_svc, err)) < 0)
        goto out;
    ho.host = opts->depot_host;
    ho.port = opts->depot_port;
    ho.name = "depot";
    if ((rc = httpd_new(&a->depot, base, &ho, &depot_svc, err)) < 0)
        goto out;
    httpd_set_reply_hook(a->api, on_reply, a);
    httpd_set_reply_hook(a->depot, on_reply, a);
    httpd_set_sent_hook(a->depot, on_sent, a);
    log_info("listening", "{s:s, s:i, s:s, s:i}", "api_host", opts->api_host,
             "api_port", (int)httpd_port(a->api), "depot_host",
             opts->depot_host, "depot_port", (int)httpd_port(a->depot));
    if (opts->replicator_url && (rc = reg_start(a)) < 0) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    *out = a;
    a = NULL;
out:
    agent_free(a);
    return rc;
}

uint16_t agent_api_port(const struct agent *a)
{
    return httpd_port(a->api);
}

const char *agent_id(const struct agent *a)
{
    return a->opts.id ? a->opts.id : "";
}

uint16_t agent_depot_port(const struct agent *a)
{
    return httpd_port(a->depot);
}

void agent_stop_accepting(struct agent *a)
{
    httpd_stop_accepting(a->api);
    httpd_stop_accepting(a->depot);
    registration_stop(a->reg);
}

void agent_free(struct agent *a)
{
    if (!a)
        return;
    /* Order matters: a revocation write under way answers its request
     * while the listeners live; connections (aborting unfinished uploads)
     * and copies go before the store, whose close invalidates unfinished
     * writes. */
    agent_revoke_close(a);
    agent_override_close(a);
    depot_have_end_all(a);
    httpd_free(a->api);
    httpd_free(a->depot);
    copies_cancel_all(a->copies);
    registration_free(a->reg);
    store_close(a->st);
    copies_free(a->copies);
    inbound_free(a->inbound);
    httpc_loop_free(a->cv);
    if (a->rate_group)
        bufferevent_rate_limit_group_free(a->rate_group);
    if (a->rate_cfg)
        ev_token_bucket_cfg_free(a->rate_cfg);
    httpd_tls_free(a->tls);
    mem_free(a);
}
