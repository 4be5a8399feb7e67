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

/*
 * A sled's link on a netns rack (rack_link): tc caps and netem impairments,
 * both directions. Zero: no impairment.
 */
struct rack_link {
    uint64_t rate;      /* bytes/s, 0 = uncapped */
    unsigned delay_us;  /* netem delay */
    unsigned jitter_us; /* netem jitter */
    unsigned loss_milli; /* netem loss, thousandths of a percent */
};

#define RACK_MAX_CUTS 16

/* One cut of a sled's link (rack-sim partition on a netns rack). */
struct rack_cut {
    int from;  /* the peer sled, -1: every peer (the whole link) */
    char dir;  /* 'b' both directions, 'i' into the sled, 'o' out of it */
};

struct rack_sled {
    struct rack_proc_rec p;
    char id[40];          /* stable UUID */
    unsigned api_port;    /* 0 until first bound */
    unsigned depot_port;
    uint64_t quota_bytes; /* --quota-bytes given now (both datasets) */
    uint64_t quota_ds[2]; /* --quota-bytes-a/-b given now (dataset fill) */
    char state[16];       /* running|stopped|killed|partitioned */
    struct rack_link link; /* netns racks: the link's impairments */
    size_t ncuts;          /* netns racks: active partitions */
    struct rack_cut cuts[RACK_MAX_CUTS];
    struct rack_proc_rec flap; /* the `link --flap` process, pid 0: none */
    unsigned flap_secs;
};

struct rack_repl {
    struct rack_proc_rec p;
    unsigned port;
    unsigned ui_port; /* its status page's loopback listener (--ui-listen) */
    char state[16]; /* running|killed|stopped */
};

/* One pg_auto_failover process of a --db-ha rack: 0 the monitor, 1 and 2
 * the PostgreSQL nodes (rack_dbha.h). */
#define RACK_DB_NODES 3
struct rack_dbnode {
    struct rack_proc_rec p; /* `pg_autoctl run` (its process group) */
    unsigned port;          /* PostgreSQL port on 127.0.0.1 */
    char state[16];         /* running|killed|stopped */
};

struct rack {
    char dir[PATH_MAX];
    bool foreground;       /* children die with rack-sim (demo, tests) */
    bool blind_trust;      /* replicators run --blindly-trust-repo-root */
    bool tls;              /* services serve and call mutual TLS (rack_pki) */
    char rack_id[40];      /* UUID of the rack PKI under D/pki; "" before */
    uint64_t rate_limit;   /* per-sled link cap, bytes/s, 0 = off */
    bool netns;            /* --net netns: a namespace per member (rack_net) */
    uint64_t link_rate;    /* --link-rate of up: a new sled's link */
    unsigned link_delay_us; /* --link-delay of up */
    uint64_t piece_size;   /* replicators' --piece-size, 0 = theirs */
    unsigned period;       /* replicator reconciliation period, seconds */
    unsigned min_repl;     /* --min-sled-replication */
    char conninfo[PATH_MAX + 64];
    char pgdata[PATH_MAX];  /* the cluster's data directory */
    char pgbindir[PATH_MAX];
    struct rack_proc_rec pg;
    bool db_ha;             /* pg_auto_failover monitor + two nodes */
    struct rack_dbnode dbn[RACK_DB_NODES];
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
