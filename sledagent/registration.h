/* SPDX-License-Identifier: MPL-2.0 */
/*
 * registration: the sledagent's registration with the replicator (DESIGN.md
 * section 9, docs/DECISIONS.md 10): PUT URL/sled-agents/{id} with
 * {"api_address": "IP:PORT", "repo_depot_port": PORT} at start and then
 * every interval, over common/httpc. A failure (replicator down, non-2xx)
 * is logged at warn and retried at the next period; it never stops the
 * agent. Loop thread only.
 */
#ifndef SLEDAGENT_REGISTRATION_H
#define SLEDAGENT_REGISTRATION_H

#include <stdint.h>

#include "common/httpc.h"

struct httpc_loop;
struct event_base;
struct registration;
struct tls_revoked;

struct registration_opts {
    const char *replicator_url; /* http://host:port (https:// with TLS) */
    const char *id;             /* sled UUID */
    const char *host;           /* advertised API IP */
    uint16_t api_port;
    uint16_t depot_port;
    unsigned interval_secs;     /* 0 = default 30 */
    /* Mutual TLS: our files (strings borrowed, must outlive rg; no
     * cert_file: plaintext); the replicator must present a controller
     * certificate (roles and peer_id are set here). */
    struct httpc_tls tls;
};

/*
 * Start registering (first attempt at once, from the loop). Strings are
 * copied. Returns 0 or ERR_NOMEM.
 */
int registration_new(struct registration **out, struct event_base *base,
                     struct httpc_loop *loop,
                     const struct registration_opts *opts);

/* Stop the timer (shutdown); an attempt in flight may still finish. */
void registration_stop(struct registration *rg);

/*
 * The revocation set the replicator's certificate is checked against from
 * the next attempt on (ownership of set passes; NULL: none; rg NULL: set
 * is freed). An attempt in flight keeps the set it started with.
 */
void registration_set_revoked(struct registration *rg,
                              struct tls_revoked *set);

/* Cancel any attempt in flight and free (before httpc_loop_free). NULL is a
 * no-op. */
void registration_free(struct registration *rg);

#endif
