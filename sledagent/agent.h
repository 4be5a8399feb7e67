/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent: the sledagent service: the agent API listener and the depot
 * listener (common/httpd) on one event_base, their handlers (DESIGN.md
 * section 2) over the store (store/store.h), copy-from-depot (copy.c),
 * metrics, the shared rate limit, and registration with the replicator.
 * Loop thread only.
 */
#ifndef SLEDAGENT_AGENT_H
#define SLEDAGENT_AGENT_H

#include <stdint.h>

#include "common/httpd.h"
#include "common/tls.h"
#include "sledagent/store/store.h"

struct agent;
struct err;
struct event_base;

struct agent_opts {
    const char *api_host;
    uint16_t api_port;
    const char *depot_host;
    uint16_t depot_port;
    struct store_opts store;
    uint64_t rate_limit;          /* bytes/s for the whole sled, 0 = off */
    /* the rate of the link into the sled when the network caps it (not
     * enforced here; 0: rate_limit): while a PUT body flows, copies take
     * only what it leaves (inbound.h) */
    uint64_t link_rate;
    unsigned copy_connect_secs;   /* copy connect timeout */
    unsigned copy_stall_secs;     /* copy no-progress timeout */
    uint64_t copy_min_rate;       /* copy source minimum, bytes/s */
    const char *replicator_url;   /* NULL: no registration */
    const char *id;               /* sled UUID */
    const char *advertise_host;   /* address given to the replicator */
    unsigned register_secs;       /* registration period, 0 = 30 s */
    /* Mutual TLS: the rack CA, this sled's certificate and key (all set or
     * all NULL); insecure_plaintext: no TLS on any link. */
    struct tls_files tls;
    const char *tls_revoked;      /* JSON list of revoked serials/ids */
    bool insecure_plaintext;
    /* Each listener's connection limits and deadlines (max_conns 0:
     * httpd_limits_default_conns(2)). */
    struct httpd_limits limits;
    unsigned handshake_secs;      /* TLS handshake deadline, 0 = 10 s */
};

/* Whether o asks for TLS on every link (files given, not plaintext). */
static inline bool agent_tls_on(const struct agent_opts *o)
{
    return !o->insecure_plaintext && o->tls.cert != NULL;
}

/*
 * Open the store and start both listeners (TLS with opts->tls: the sled
 * id is then the certificate's, and a different opts->id is ERR_INVAL). Returns 0 or the first error
 * (ERR_IO for a bind failure, store_open's codes), err set.
 */
int agent_new(struct agent **out, struct event_base *base,
              const struct agent_opts *opts, struct err *err);

uint16_t agent_api_port(const struct agent *a);
/* The sled id (the certificate's under TLS). */
const char *agent_id(const struct agent *a);
uint16_t agent_depot_port(const struct agent *a);

/*
 * SIGHUP: reload the certificate, key and CA into a new context for new
 * connections (open ones keep theirs) and re-read --tls-revoked. On
 * failure the old context and set stay. 0 or tls/file errors, err set.
 */
int agent_reload(struct agent *a, struct err *err);

/* Shutdown step 1: stop accepting connections. */
void agent_stop_accepting(struct agent *a);

/*
 * Close listeners and connections (unfinished uploads are aborted into
 * tmp/ only), cancel copies, close the store, free. NULL is a no-op.
 */
void agent_free(struct agent *a);

#endif
