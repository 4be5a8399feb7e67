/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config: `replicator serve` settings from flags and an optional JSON
 * config file ({"db", "staging", "listen", "port_file", "periodic", and
 * every numeric setting of config.c's table: "period_secs",
 * "min_sled_replication", "workers", "max_upload_bytes", "rate_limit",
 * "max_requests_in_flight", "max_per_target", "max_per_source",
 * "max_copies_per_source", "put_fanout", "piece_size", "max_connections",
 * "max_connections_per_peer", "head_timeout_secs", "min_transfer_rate",
 * "transfer_rate_window_secs", "tls_handshake_timeout_secs"}); flags win
 * over
 * the file; a value out of its range is an error in either, and so are a
 * put_fanout above min_sled_replication and a piece_size that is not a
 * power of two. Plain value owned by main. Main thread.
 */
#ifndef REPLICATOR_CONFIG_H
#define REPLICATOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct err;

struct config {
    char *db;                  /* libpq conninfo (required) */
    char *staging;             /* staging directory (required) */
    char *listen_host;         /* default 127.0.0.1 */
    uint16_t listen_port;      /* default 12221; 0 picks a port */
    char *port_file;           /* NULL: none */
    /* --ui-listen: the status page's own plaintext listener, loopback
     * only (replicator/ui.h); ui_host NULL: none */
    char *ui_host;
    uint16_t ui_port;
    uint64_t period_secs;      /* reconciliation period, default 300 */
    bool periodic;             /* --no-periodic clears it */
    uint64_t min_sled_replication; /* default 3 */
    uint64_t workers;          /* worker threads, default 4 */
    uint64_t max_upload_bytes; /* repository zip cap (413 above),
                                  default LIMIT_REPO_ZIP */
    bool blindly_trust_repo_root;
    uint64_t rate_limit;       /* --rate-limit: all the reconciliation
                                  task's PUTs together, bytes/s; 0: none */
    /* Concurrency of the reconciliation task's execute phase. */
    uint64_t max_inflight;     /* requests in flight at once; default 0:
                                  automatic, max(8, 2 x sleds planned
                                  for) in each run */
    uint64_t max_per_target;   /* writes to one sled at once, default 2 */
    uint64_t max_per_source;   /* copies read from one sled at once, 2 */
    uint64_t max_copies_per_source; /* epidemic fan-out per wave, 2 */
    uint64_t put_fanout;       /* sleds the controller PUTs one staged
                                  artifact to, 1..min_sled_replication;
                                  the others copy from a holder. 1 */
    uint64_t piece_size;       /* piece manifests computed at ingest
                                  (common/pieces.h), default 4 MiB */
    uint64_t stuck_after_secs; /* an incomplete repo with no new copy for
                                  that long is reported stuck (1200) */
    uint64_t prune_keep;       /* the automatic pruner keeps the newest N
                                  uploads (1..PRUNE_KEEP_MAX, 3) */
    /* Mutual TLS (docs/OPERATOR.md, PKI): the rack CA, this controller's
     * certificate and key; all three or none. */
    char *tls_ca;
    char *tls_cert;
    char *tls_key;
    bool insecure_plaintext;   /* --insecure-plaintext: no TLS at all */
    /* The API listener's connection limits and deadlines (httpd.h's
     * struct httpd_limits; 0: its default). min_transfer_rate defaults
     * to LIMIT_HTTP_MIN_RATE, 0 turns it off. */
    uint64_t max_connections;
    uint64_t max_connections_per_peer;
    uint64_t head_timeout_secs;
    uint64_t min_transfer_rate;
    uint64_t transfer_rate_window_secs;
    uint64_t tls_handshake_timeout_secs; /* 0: LIMIT_TLS_HANDSHAKE_SECS */
};

#define CONFIG_DEFAULT_PORT 12221

/*
 * Parse `serve` arguments (argv[0] is "serve"). Returns 0, ERR_INVAL (usage
 * error, err says which flag or key; put_fanout above
 * min_sled_replication), ERR_IO (config file unreadable), ERR_NOMEM.
 * On --help prints usage to stdout and returns 1.
 */
int config_parse(struct config *out, int argc, char **argv, struct err *err);

void config_release(struct config *c);

/* Usage text of `replicator serve`. */
extern const char config_usage[];

#endif
