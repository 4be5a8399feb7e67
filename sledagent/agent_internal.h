/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_internal: the agent record shared by agent.c (lifecycle,
 * listeners, rate limit, registration, request counters), agent_api.c
 * (the agent API's route table and handlers) and depot.c (the depot's
 * route table and handler). Loop thread only.
 */
#ifndef SLEDAGENT_AGENT_INTERNAL_H
#define SLEDAGENT_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"
#include "sledagent/agent.h"
#include "sledagent/depot.h"
#include "sledagent/override.h"
#include "sledagent/revstate.h"

struct bufferevent_rate_limit_group;
struct event;
struct inbound;
struct copies;
struct httpc_loop;
struct ev_token_bucket_cfg;
struct httpd;
struct httpd_tls;
struct prom;
struct registration;
struct tls_revoked;
struct workq;
struct have_wait;

#define AGENT_MAX_COUNTERS 128
/* the --rate-limit token bucket's refill period (agent.c) */
#define AGENT_RATE_TICK_MS 50

/* Replies per (route label, status), for GET /metrics. */
struct agent_counter {
    const char *route;
    int status;
    uint64_t n;
};

struct agent {
    struct event_base *base;
    struct agent_opts opts;
    struct store *st;
    struct httpd *api, *depot;
    struct httpd_tls *tls;  /* both listeners' TLS; NULL: plaintext */
    struct httpc_loop *cv; /* common/httpc loop driver */
    struct copies *copies;
    struct inbound *inbound; /* PUT bodies first on the link in */
    struct ev_token_bucket_cfg *rate_cfg;
    struct bufferevent_rate_limit_group *rate_group;
    struct registration *reg;
    struct agent_counter counters[AGENT_MAX_COUNTERS];
    unsigned ncounters;
    uint64_t depot_bytes;
    uint64_t rejected;
    /* Revocation (agent_revoke.c): the controller's pushed list, the
     * --tls-revoked file's set, the size of their union in force, the
     * worker that writes the pushed list, and whether a write is under
     * way. */
    struct revstate rev_pushed;
    struct tls_revoked *rev_file;
    size_t rev_in_force;
    struct workq *rev_wq;
    bool rev_writing;
    /* ranged reads being sent (depot.c): how many, and of each the
     * artifact, its first byte and whether it is of a PUT in progress
     * here (sent once at a time) */
    unsigned depot_ranged;
    struct depot_stream {
        bool used, once;
        struct sha256 h;
        uint64_t start;
    } depot_streams[DEPOT_PIECE_STREAMS];
    struct have_wait *have_waits; /* held /have?after=N (depot_have.c) */
    unsigned nhave_waits;
    /* The out-of-band install hold (agent_override.c): the override
     * held, its reader's worker and timer, whether a read or a clear is
     * under way, and a count of clears (a read started before one is
     * dropped). */
    struct override ov;
    struct workq *ov_wq;
    struct event *ov_timer;
    bool ov_reading, ov_clearing;
    unsigned ov_epoch;
};

/* POST /artifacts-config/reset (agent_reset.c): the operator-authorised
 * ledger reset. Loop thread; arg is the struct agent. */
struct httpd_req;
void agent_reply_config_reset(struct httpd_req *r, void *arg);

/* agent_tls.c: TLS of both listeners from the options (or the plaintext
 * warning); the expiry gauge of GET /metrics (nothing on plaintext). */
int agent_tls_start(struct agent *a, struct err *err);
int agent_tls_metrics(const struct agent *a, struct prom *p);

/* agent_revoke.c: read the pushed list from the datasets and start its
 * writer (before the listeners; blocks), the union of it and the
 * --tls-revoked set into the listeners and the copy client, the two
 * /tls-revocations handlers, and the version GET /artifacts reports. */
int agent_revoke_open(struct agent *a, struct err *err);
void agent_revoke_close(struct agent *a);
int agent_revoke_apply(struct agent *a, struct err *err);
void agent_reply_revocations_get(struct httpd_req *r, void *arg);
void agent_reply_revocations_put(struct httpd_req *r, void *arg);

/* agent_override.c: read the override at start and poll it every second
 * (before the listeners; blocks), stop; 409 OVERRIDE_ACTIVE into err
 * while one is held (the controller's changes), else 0; add "override"
 * to o while one is held (0 or ERR_NOMEM); DELETE
 * /artifacts-override/{id}. */
int agent_override_open(struct agent *a, struct err *err);
void agent_override_close(struct agent *a);
int agent_override_check(const struct agent *a, struct err *err);
int agent_override_add(const struct agent *a, json_t *o);
void agent_reply_override_delete(struct httpd_req *r, void *arg);

#endif
