/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_state: the rack directory and its state file D/rack.json, which
 * lets every later rack-sim command find what `up` started: options, the
 * database (conninfo, data directory, postmaster pid), each replicator and
 * each sled (pid and start time, ports, id, state). Also the fixed layout
 * of the directory (rack_path_*) and the lookup of the current rack
 * (--dir, $RACK_SIM_DIR, then the /tmp/rack-sim.current symlink written by
 * `up`). Plain data; main thread only.
 */
#ifndef SIM_RACK_STATE_H
#define SIM_RACK_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

#define RACK_MAX_SLEDS 64
#define RACK_MAX_REPLICATORS 8
#define RACK_CURRENT_LINK "/tmp/rack-sim.current"

struct rack_proc_rec {
    pid_t pid;      /* 0: not running */
    uint64_t start; /* /proc start time, guards against pid reuse */
};

struct rack_sled {
    struct rack_proc_rec p;
    char id[40];          /* stable UUID */
    unsigned api_port;    /* 0 until first bound */
    unsigned depot_port;
    uint64_t quota_bytes; /* --quota-bytes given now (both datasets) */
    uint64_t quota_ds[2]; /* --quota-bytes-a/-b given now (dataset fill) */
    char state[16];       /* running|stopped|killed|partitioned */
};

struct rack_repl {
    struct rack_proc_rec p;
    unsigned port;
    char state[16]; /* running|killed|stopped */
};

struct rack {
    char dir[PATH_MAX];
    bool foreground;       /* children die with rack-sim (demo, tests) */
    bool blind_trust;      /* replicators run --blindly-trust-repo-root */
    bool tls;              /* services serve and call mutual TLS (rack_pki) */
    char rack_id[40];      /* UUID of the rack PKI under D/pki; "" before */
    uint64_t rate_limit;   /* per-sled link cap, bytes/s, 0 = off */
    uint64_t piece_size;   /* replicators' --piece-size, 0 = theirs */
    unsigned period;       /* replicator reconciliation period, seconds */
    unsigned min_repl;     /* --min-sled-replication */
    char conninfo[PATH_MAX + 64];
    char pgdata[PATH_MAX];  /* the cluster's data directory */
    char pgbindir[PATH_MAX];
    struct rack_proc_rec pg;
    size_t nsleds;
    struct rack_sled sleds[RACK_MAX_SLEDS];
    size_t nrepls;
    struct rack_repl repls[RACK_MAX_REPLICATORS];
};

/* Zero r and set the defaults (period 2 s, min_repl 3, blind trust). */
void rack_init(struct rack *r);

/*
 * Read dir/rack.json into r. Errors: ERR_NOTFOUND (no rack there),
 * ERR_INVAL (unreadable state file), ERR_IO.
 */
int rack_state_load(struct rack *r, const char *dir, struct err *err);

/* Write r to r->dir/rack.json atomically. Errors: ERR_IO, ERR_NOMEM. */
int rack_state_save(const struct rack *r, struct err *err);

/*
 * The rack directory to use: opt (--dir) if given, else $RACK_SIM_DIR,
 * else the target of RACK_CURRENT_LINK. Errors: ERR_NOTFOUND.
 */
int rack_find_dir(char *out, size_t cap, const char *opt, struct err *err);

/*
 * Parse a sled argument ("3", "sled-3") against r. Returns the index or
 * ERR_INVAL (message says why).
 */
int rack_sled_index(const struct rack *r, const char *arg, struct err *err);

/* Paths inside the rack directory (snprintf into out). */
void rack_path_sled(char *out, size_t cap, const struct rack *r, size_t k);
void rack_path_dataset(char *out, size_t cap, const struct rack *r, size_t k,
                       char which);
void rack_path_repl(char *out, size_t cap, const struct rack *r, size_t i);

/* Stable UUID of sled k: 5ed0000-...-k (the same in every rack). */
void rack_sled_uuid(char out[40], size_t k);

/* mkdir -p (mode 0755). Errors: ERR_IO. */
int rack_mkdirs(const char *path, struct err *err);

/* rm -rf path (no symlink following). Returns 0 or ERR_IO. */
int rack_rmtree(const char *path);

#endif
