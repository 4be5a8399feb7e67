/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_up: bringing a rack up and down. `up` creates the rack directory
 * and its PKI (rack_pki), starts an embedded PostgreSQL (pgembed under
 * D/pg; with --db-ha pg_auto_failover under D/dbha, rack_dbha), migrates
 * it, starts M replicators and N sledagents on free loopback ports and
 * records them in D/rack.json; `down` stops them by process id. Also starting one sled
 * or replicator again with its recorded ports (restart and faults), and
 * running the project's tools (replicator CLI, tuf-mkrepo) to completion.
 * Main thread only.
 */
#ifndef SIM_RACK_UP_H
#define SIM_RACK_UP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct rack;

struct rack_up_opts {
    size_t sleds;
    size_t replicators;
    const char *dir;       /* NULL: a new directory under $TMPDIR or /tmp */
    uint64_t rate_limit;   /* bytes/s per sled, 0 = off */
    uint64_t piece_size;   /* replicators' --piece-size, 0 = default */
    unsigned period;       /* replicator period, seconds */
    unsigned min_repl;     /* --min-sled-replication */
    bool blind_trust;      /* replicators --blindly-trust-repo-root */
    bool tls;              /* mutual TLS (else --insecure-plaintext) */
    bool foreground;       /* children die with this rack-sim (demo, tests) */
    bool quiet;            /* no progress lines on stdout */
    bool netns;            /* --net netns: namespaces, veth, tc (root) */
    uint64_t link_rate;    /* --link-rate (netns): bytes/s per sled link */
    unsigned link_delay_us; /* --link-delay (netns) */
    bool db_ha;            /* pg_auto_failover monitor + 2 nodes (rack_dbha) */
};

/*
 * Path of a project binary: $RACKDEPOT_BIN_DIR/name, else beside the
 * running rack-sim. Errors: ERR_NOTFOUND (not built).
 */
int rack_bin(char *out, size_t cap, const char *name, struct err *err);

/*
 * Run argv to completion with output appended to log (NULL: inherit
 * stdout/stderr), killing it after timeout_ms. *code is its exit status
 * (or 128+signal). Errors: ERR_TIMEOUT, spawn errors.
 */
int rack_run(int *code, char *const argv[], const char *log, long timeout_ms,
             struct err *err);

/*
 * Bring a rack up into r as opts say. The guard cleans up if this process
 * dies half-way; on an error everything started is stopped again.
 * Errors: ERR_CONFLICT (the directory holds a live rack), ERR_UNAVAIL (no
 * PostgreSQL), ERR_IO, ERR_TIMEOUT, ERR_NOMEM.
 */
int rack_up(struct rack *r, const struct rack_up_opts *opts,
            struct err *err);

/*
 * Stop every process of r (sleds, replicators: SIGTERM then SIGKILL after
 * 5 s; PostgreSQL: fast shutdown), record it, and with purge remove the
 * directory. Returns 0 or the first error (ERR_TIMEOUT: a process
 * survived SIGKILL).
 */
int rack_down(struct rack *r, bool purge, struct err *err);

/* Whether any recorded process of r is still running. */
bool rack_any_alive(const struct rack *r);

/*
 * Start sled k (again) with its datasets, ports and quota, wait for its
 * port file, and record it (state "running"; caller saves). Errors:
 * ERR_IO, ERR_TIMEOUT (no port file in 20 s), ERR_NOTFOUND.
 */
int rack_start_sled(struct rack *r, size_t k, struct err *err);

/* As rack_start_sled, for replicator i. */
int rack_start_repl(struct rack *r, size_t i, struct err *err);

/* URL of the first running replicator ("" if none) into out. */
void rack_repl_url(char *out, size_t cap, const struct rack *r);

#endif
