/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config: flags and config file of `replicator serve` (see config.h).
 * Main thread.
 */
#include "replicator/config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/pieces.h"
#include "replicator/db/prune_db.h"

const char config_usage[] =
    "usage: replicator serve --db URL --staging DIR [--listen ADDR:PORT]\n"
    "           [--config FILE] [--period SECONDS] [--no-periodic]\n"
    "           [--min-sled-replication N] [--port-file FILE]\n"
    "           [--workers N] [--max-upload-bytes N] [--ui-listen ADDR:PORT]\n"
    "           [--rate-limit BYTES_PER_SEC] [--max-requests-in-flight N]\n"
    "           [--max-per-target N] [--max-per-source N]\n"
    "           [--max-copies-per-source N] [--put-fanout N]\n"
    "           [--piece-size BYTES] [--stuck-after SECONDS]\n"
    "           [--prune-keep N]\n"
    "           [--blindly-trust-repo-root]\n"
    "           [--tls-ca FILE --tls-cert FILE --tls-key FILE]\n"
    "           [--insecure-plaintext]\n"
    "           [--max-connections N] [--max-connections-per-peer N]\n"
    "           [--head-timeout S] [--min-transfer-rate B]\n"
    "           [--transfer-rate-window S] [--tls-handshake-timeout S]\n"
    "  --listen defaults to 127.0.0.1:12221; port 0 picks a free port.\n"
    "  --port-file writes {\"api\": PORT} once bound (and \"ui\": PORT).\n"
    "  --ui-listen ADDR:PORT also serves the read-only status page (and\n"
    "  the status it polls) without TLS on a loopback address (127.x.x.x\n"
    "  or [::1]); the API serves the page at /ui to operators as well.\n"
    "  --period is the reconciliation period in seconds (default 300);\n"
    "  --no-periodic runs it only when activated by hand.\n"
    "  --min-sled-replication N: staged files are kept until every\n"
    "  artifact is on N sleds (default 3).\n"
    "  --workers N: worker threads for disk and database work (default 4).\n"
    "  --max-upload-bytes N: largest repository zip accepted (default\n"
    "  4 GiB); larger uploads get 413 before any byte is stored.\n"
    "  --rate-limit N: the replication task's PUTs to sleds together send\n"
    "  at most N bytes/s (0: no cap); when capped, one PUT runs at a time.\n"
    "  --put-fanout N: sleds the controller PUTs each staged artifact to\n"
    "  (1..min-sled-replication, default 1); the other sleds copy it from\n"
    "  a sled that holds it.\n"
    "  --piece-size N: piece size of the piece manifests computed at\n"
    "  ingest, a power of two from 65536 to 67108864 (default 4194304);\n"
    "  an artifact over 65536 pieces gets the next size that fits.\n"
    "  --stuck-after S: an incomplete repository whose held copies have\n"
    "  not grown for S seconds is reported stuck, with the likely cause\n"
    "  (default 1200).\n"
    "  --prune-keep N: the automatic pruner keeps the newest N uploads\n"
    "  (1..1000, default 3) and every pinned repository, and prunes the\n"
    "  oldest other one per periodic run (`replicator prune-policy`).\n"
    "  --max-requests-in-flight N (default: max(8, 2 x sleds) in each\n"
    "  run), --max-per-target N (writes\n"
    "  to one sled at once, default 2), --max-per-source N (copies read\n"
    "  from one sled at once, default 2), --max-copies-per-source N (one\n"
    "  source's fan-out per epidemic wave, default 2): the task's limits.\n"
    "  A config file (--config, JSON) takes the same settings with\n"
    "  underscores (\"max_per_target\": 2, \"period_secs\": 60, ...).\n"
    "  --blindly-trust-repo-root verifies uploads against their own root\n"
    "  (tests and demos only; never on a real rack).\n"
    "  --tls-ca, --tls-cert, --tls-key: the rack CA and this controller's\n"
    "  certificate and key (`replicator pki`), all three or none;\n"
    "  --insecure-plaintext serves and calls without TLS (a trusted\n"
    "  underlay only). Config-file keys: tls_ca, tls_cert, tls_key,\n"
    "  insecure_plaintext.\n"
    "  --max-connections N (default: from the open-file limit, raised to\n"
    "  the hard limit at start; at most 4096), --max-connections-per-peer\n"
    "  N (default a quarter of it): the API's connections; at a limit the\n"
    "  oldest idle one is closed, or the new one refused. --head-timeout S:\n"
    "  a request head must be in S s after its first byte (default 10).\n"
    "  --min-transfer-rate B (default 65536, 0: none) averaged over each\n"
    "  --transfer-rate-window S (default 10): slower request bodies and\n"
    "  replies are closed. --tls-handshake-timeout S: a TLS handshake\n"
    "  must be done S s after accept (default 10).\n";

static int set_str(char **dst, const char *v, struct err *err)
{
    char *s = mem_strdup(v);

    if (!s)
        return err_set(err, ERR_NOMEM, "out of memory");
    mem_free(*dst);
    *dst = s;
    return 0;
}

static int set_listen(struct config *c, const char *v, struct err *err)
{
    char host[256];
    uint16_t port;

    if (parse_hostport(host, sizeof(host), &port, v) < 0)
        return err_set(err, ERR_INVAL, "--listen %s: expected ADDR:PORT", v);
    c->listen_port = port;
    return set_str(&c->listen_host, host[0] ? host : "0.0.0.0", err);
}

/* --ui-listen: a loopback address only (the listener has no TLS). */
static int set_ui_listen(struct config *c, const char *v, struct err *err)
{
    char host[256];
    uint16_t port;
    struct in_addr a4;

    if (parse_hostport(host, sizeof(host), &port, v) < 0)
        return err_set(err, ERR_INVAL, "--ui-listen %s: expected ADDR:PORT",
                       v);
    if (strcmp(host, "::1") != 0 &&
        !(inet_pton(AF_INET, host, &a4) == 1 &&
          (ntohl(a4.s_addr) >> 24) == 127))
        return err_set(err, ERR_INVAL, "--ui-listen %s: the status page's "
                       "listener has no TLS and binds a loopback address "
                       "only (127.x.x.x or [::1]); use the API's /ui with "
                       "an operator certificate from elsewhere", v);
    c->ui_port = port;
    return set_str(&c->ui_host, host, err);
}

/* The string settings: one flag and one config-file key each. */
static const struct text {
    const char *flag, *key;
    size_t off;
} texts[] = {
    {"--db", "db", offsetof(struct config, db)},
    {"--staging", "staging", offsetof(struct config, staging)},
    {"--port-file", "port_file", offsetof(struct config, port_file)},
    {"--tls-ca", "tls_ca", offsetof(struct config, tls_ca)},
    {"--tls-cert", "tls_cert", offsetof(struct config, tls_cert)},
    {"--tls-key", "tls_key", offsetof(struct config, tls_key)},
};

static char **text_slot(struct config *c, const struct text *t)
{
    return (char **)((char *)c + t->off);
}

/* The numeric settings: one flag and one config-file key each. */
static const struct numeric {
    const char *flag, *key;
    size_t off;
    uint64_t lo, hi;
} numerics[] = {
    {"--period", "period_secs", offsetof(struct config, period_secs), 1,
     86400ull * 365},
    {"--min-sled-replication", "min_sled_replication",
     offsetof(struct config, min_sled_replication), 1, LIMIT_SLEDS_PER_RACK},
    {"--workers", "workers", offsetof(struct config, workers), 1, 64},
    {"--max-upload-bytes", "max_upload_bytes",
     offsetof(struct config, max_upload_bytes), 1, LIMIT_REPO_ZIP},
    {"--rate-limit", "rate_limit", offsetof(struct config, rate_limit), 0,
     UINT64_MAX / 2},
    {"--max-requests-in-flight", "max_requests_in_flight",
     offsetof(struct config, max_inflight), 1, 1024},
    {"--max-per-target", "max_per_target",
     offsetof(struct config, max_per_target), 1, 64},
    {"--max-per-source", "max_per_source",
     offsetof(struct config, max_per_source), 1, 64},
    {"--max-copies-per-source", "max_copies_per_source",
     offsetof(struct config, max_copies_per_source), 1, 64},
    {"--put-fanout", "put_fanout", offsetof(struct config, put_fanout), 1,
     LIMIT_SLEDS_PER_RACK},
    {"--piece-size", "piece_size", offsetof(struct config, piece_size),
     PIECES_SIZE_MIN, PIECES_SIZE_MAX},
    {"--stuck-after", "stuck_after_secs",
     offsetof(struct config, stuck_after_secs), 1, 86400ull * 365},
    {"--prune-keep", "prune_keep", offsetof(struct config, prune_keep), 1,
     PRUNE_KEEP_MAX},
    {"--max-connections", "max_connections",
     offsetof(struct config, max_connections), 1, 1000000},
    {"--max-connections-per-peer", "max_connections_per_peer",
     offsetof(struct config, max_connections_per_peer), 1, 1000000},
    {"--head-timeout", "head_timeout_secs",
     offsetof(struct config, head_timeout_secs), 1, 1000000},
    {"--min-transfer-rate", "min_transfer_rate",
     offsetof(struct config, min_transfer_rate), 0, UINT64_MAX / 2},
    {"--transfer-rate-window", "transfer_rate_window_secs",
     offsetof(struct config, transfer_rate_window_secs), 1, 1000000},
    {"--tls-handshake-timeout", "tls_handshake_timeout_secs",
     offsetof(struct config, tls_handshake_timeout_secs), 1, 1000000},
};

static uint64_t *numeric_slot(struct config *c, const struct numeric *n)
{
    return (uint64_t *)((char *)c + n->off);
}

/* Set a numeric setting from text (a flag's value). 0 or ERR_INVAL. */
static int set_numeric(struct config *c, const struct numeric *n,
                       const char *v, struct err *err)
{
    if (parse_u64_range(numeric_slot(c, n), v, n->lo, n->hi) < 0)
        return err_set(err, ERR_INVAL, "%s %s: expected an integer in "
                       "%llu..%llu", n->flag, v, (unsigned long long)n->lo,
                       (unsigned long long)n->hi);
    return 0;
}

static int load_file(struct config *c, const char *path, struct err *err)
{
    struct err jerr = ERR_INIT;
    FILE *f = fopen(path, "re");
    char *data = NULL;
    size_t len;
    json_t *j = NULL, *v;
    uint64_t n;
    int rc = 0;

    if (!f)
        return err_set(err, ERR_IO, "config file %s: cannot open", path);
    data = mem_alloc(LIMIT_JSON_BODY + 1);
    if (!data) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    len = fread(data, 1, LIMIT_JSON_BODY + 1, f);
    /* A local err: err may be NULL, and its message cannot be formatted
     * into itself. */
    j = jsonu_loadb(data, len, LIMIT_JSON_BODY, &jerr);
    if (!j || !json_is_object(j)) {
        rc = err_set(err, ERR_INVAL, "config file %s: %s", path,
                     j ? "not a JSON object" : jerr.msg);
        goto out;
    }
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (jsonu_str(j, texts[i].key) &&
            (rc = set_str(text_slot(c, &texts[i]),
                          jsonu_str(j, texts[i].key), err)))
            goto out;
    if (jsonu_str(j, "listen") &&
        (rc = set_listen(c, jsonu_str(j, "listen"), err)))
        goto out;
    if (jsonu_str(j, "ui_listen") &&
        (rc = set_ui_listen(c, jsonu_str(j, "ui_listen"), err)))
        goto out;
    if ((v = json_object_get(j, "periodic")) && json_is_boolean(v))
        c->periodic = json_is_true(v);
    if ((v = json_object_get(j, "insecure_plaintext")) && json_is_boolean(v))
        c->insecure_plaintext = json_is_true(v);
    for (size_t i = 0; i < sizeof(numerics) / sizeof(numerics[0]); i++) {
        const struct numeric *nu = &numerics[i];

        v = json_object_get(j, nu->key);
        if (!v)
            continue;
        if (jsonu_u64(&n, v) < 0 || n < nu->lo || n > nu->hi) {
            rc = err_set(err, ERR_INVAL, "config file %s: \"%s\" must be an "
                         "integer in %llu..%llu", path, nu->key,
                         (unsigned long long)nu->lo,
                         (unsigned long long)nu->hi);
            goto out;
        }
        *numeric_slot(c, nu) = n;
    }
out:
    json_decref(j);
    mem_free(data);
    fclose(f);
    return rc;
}

/* One flag that takes a value. 0, ERR_INVAL (unknown or bad), ERR_NOMEM. */
static int set_flag(struct config *c, const char *a, const char *v,
                    struct err *err)
{
    if (!strcmp(a, "--listen"))
        return set_listen(c, v, err);
    if (!strcmp(a, "--ui-listen"))
        return set_ui_listen(c, v, err);
    if (!strcmp(a, "--config"))
        return 0; /* loaded first */
    for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
        if (!strcmp(a, texts[k].flag))
            return set_str(text_slot(c, &texts[k]), v, err);
    for (size_t k = 0; k < sizeof(numerics) / sizeof(numerics[0]); k++)
        if (!strcmp(a, numerics[k].flag))
            return set_numeric(c, &numerics[k], v, err);
    return err_set(err, ERR_INVAL, "%s: unknown flag", a);
}

/* Cross-setting checks once everything is read. 0 or ERR_INVAL. */
static int check(const struct config *c, struct err *err)
{
    int ntls = !!c->tls_ca + !!c->tls_cert + !!c->tls_key;

    if (!c->db)
        return err_set(err, ERR_INVAL, "--db URL is required");
    if (!c->staging)
        return err_set(err, ERR_INVAL, "--staging DIR is required");
    if (c->put_fanout > c->min_sled_replication)
        return err_set(err, ERR_INVAL, "--put-fanout %llu: must be at most "
                       "--min-sled-replication (%llu)",
                       (unsigned long long)c->put_fanout,
                       (unsigned long long)c->min_sled_replication);
    if (!pieces_size_valid(c->piece_size))
        return err_set(err, ERR_INVAL, "--piece-size %llu: must be a power "
                       "of two", (unsigned long long)c->piece_size);
    if (ntls != 0 && ntls != 3)
        return err_set(err, ERR_INVAL, "--tls-ca, --tls-cert and --tls-key "
                       "go together");
    if (ntls == 3 && c->insecure_plaintext)
        return err_set(err, ERR_INVAL, "--insecure-plaintext and --tls-* "
                       "exclude each other");
    return 0;
}

int config_parse(struct config *c, int argc, char **argv, struct err *err)
{
    int rc = 0;

    memset(c, 0, sizeof(*c));
    c->listen_port = CONFIG_DEFAULT_PORT;
    c->period_secs = 300;
    c->periodic = true;
    c->min_sled_replication = 3;
    c->workers = 4;
    c->max_upload_bytes = LIMIT_REPO_ZIP;
    c->max_inflight = 0; /* automatic: see config.h */
    c->max_per_target = 2;
    c->max_per_source = 2;
    c->max_copies_per_source = 2;
    c->put_fanout = 1;
    c->piece_size = PIECES_SIZE_DEFAULT;
    c->stuck_after_secs = 1200; /* the reference's 20 min (stuck.h) */
    c->prune_keep = PRUNE_KEEP_DEFAULT;
    c->min_transfer_rate = LIMIT_HTTP_MIN_RATE;
    if (set_str(&c->listen_host, "127.0.0.1", err) < 0)
        return ERR_NOMEM;
    /* the config file first, so flags override it */
    for (int i = 1; i < argc - 1; i++)
        if (!strcmp(argv[i], "--config")) {
            rc = load_file(c, argv[i + 1], err);
            if (rc < 0)
                return rc;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(config_usage, stdout);
            return 1;
        }
        if (!strcmp(a, "--no-periodic")) {
            c->periodic = false;
            continue;
        }
        if (!strcmp(a, "--blindly-trust-repo-root")) {
            c->blindly_trust_repo_root = true;
            continue;
        }
        if (!strcmp(a, "--insecure-plaintext")) {
            c->insecure_plaintext = true;
            continue;
        }
        if (!v)
            return err_set(err, ERR_INVAL, "%s: unknown flag or missing value",
                           a);
        i++;
        rc = set_flag(c, a, v, err);
        if (rc < 0)
            return rc;
    }
    return check(c, err);
}

void config_release(struct config *c)
{
    mem_free(c->db);
    mem_free(c->staging);
    mem_free(c->listen_host);
    mem_free(c->ui_host);
    mem_free(c->port_file);
    mem_free(c->tls_ca);
    mem_free(c->tls_cert);
    mem_free(c->tls_key);
    memset(c, 0, sizeof(*c));
}
