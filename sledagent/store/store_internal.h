/* SPDX-License-Identifier: MPL-2.0 */
/*
 * store_internal: the state shared by the files of sledagent/store/
 * (store.c, dataset.c, ledger.c, inventory.c, writer.c, writer_file.c,
 * writer_space.c, reconcile.c, trash.c, quarantine.c, restore.c,
 * repair.c, scrub.c,
 * listcache.c, piececache.c). Not for use outside that directory. The
 * writer's own write object is in writer_internal.h.
 *
 * Locking: st->mu guards every field of struct store and struct dataset
 * that a worker thread may touch (health, byte counts, inventory, trash
 * index, config, counters). It is held only for memory updates, never
 * across disk I/O. Each struct store_write has its own mutex for its
 * backlog. Worker pools: wq_meta (1 thread: ledger, reconcile, probe,
 * self-repair; serial by construction), wq_write (writer tasks), wq_scrub
 * (1 thread: scrub passes), wq_pieces (1 thread: piece manifests
 * recomputed from stored copies).
 */
#ifndef SLEDAGENT_STORE_STORE_INTERNAL_H
#define SLEDAGENT_STORE_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "common/artifact_config.h"
#include "common/err.h"
#include "common/sha256.h"
#include "sledagent/store/store.h"

struct buf;
struct event;
struct workq;

#define STORE_LEDGER_NAME "artifact-config.json"
#define STORE_WRITE_HIGH_WATER (4u * 1024 * 1024)
#define STORE_WRITE_LOW_WATER (1u * 1024 * 1024)
#define STORE_WRITE_BATCH (2u * 1024 * 1024)
#define STORE_PROBE_SECS 2
/* Default pause between two scrub passes (scrub.c), and how often a pass
 * that found nothing is logged at info. */
#define STORE_SCRUB_PAUSE_SECS 10
#define STORE_SCRUB_LOG_SECS 3600
/* A local repair skipped for lack of room is logged at most this often. */
#define STORE_REPAIR_LOG_SECS 60
/* quarantine/ keeps at most this many files per dataset (quarantine.c). */
#define STORE_QUARANTINE_MAX_FILES 1000
#define STORE_DEFAULT_MAX_WRITES 8
#define STORE_WRITE_THREADS 4
/* Piece manifests (piececache.c): the in-memory cache's bounds, the
 * manifests computed from stored copies at once, and their read size. */
#define STORE_PIECES_CACHE_ENTRIES 1024
#define STORE_PIECES_CACHE_BYTES (8u * 1024 * 1024)
#define STORE_PIECES_JOBS 4
#define STORE_PIECES_READ (1u * 1024 * 1024)

enum store_config_state {
    STORE_CONFIG_NONE = 0, /* no ledger anywhere: "no config yet" */
    STORE_CONFIG_OK,
    STORE_CONFIG_CORRUPT,  /* every present ledger is corrupt: refuse */
};

/* One entry of a dataset's trash/ directory. */
struct trash_ent {
    struct sha256 h;
    uint64_t size;
    time_t mtime; /* time of deletion (the reconciler sets it) */
};

struct dataset {
    int idx;
    bool configured;  /* a path was given */
    bool healthy;     /* usable now; copies count only when healthy */
    char *root, *tmp, *trash, *quarantine; /* owned paths */
    uint64_t free_bytes;     /* statvfs f_bavail * f_frsize, cached */
    uint64_t artifact_bytes; /* sum of sizes of inventory copies here */
    uint64_t reserved;       /* in-flight write reservations */
    uint64_t trash_bytes;
    struct trash_ent *trash_ents;
    size_t trash_count, trash_cap;
    /* quarantine/ as its last purge found it (quarantine.c) */
    uint64_t quarantine_bytes;
    size_t quarantine_files;
};

struct inv_entry {
    struct sha256 h;
    uint64_t size;
    bool on[STORE_DATASETS]; /* copy present (and trusted) on dataset */
    struct inv_entry *next;
};

struct inventory {
    struct inv_entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
};

struct store_counters {
    uint64_t bytes_written;
    uint64_t writes_ok;
    uint64_t writes_failed[6]; /* by enum write_fail_reason */
    uint64_t scrub_passes, scrub_verified, scrub_corrupt, scrub_repaired;
    uint64_t ledger_corrupt;
    uint64_t trashed, restored, trash_purged;
    uint64_t quarantine_purged;
    uint64_t ds_errors[STORE_DATASETS];
    /* local repairs to the dataset skipped: no room (quota or reserve) */
    uint64_t repair_nospace[STORE_DATASETS];
    /* piece manifests (piececache.c): answered from memory, computed
     * from a stored copy, computations that failed */
    uint64_t pieces_hits, pieces_computed, pieces_failed;
};

enum write_fail_reason {
    WFAIL_VERIFY = 0, WFAIL_SHORT, WFAIL_TOOBIG, WFAIL_IO, WFAIL_ABORT,
    WFAIL_OTHER, WFAIL_COUNT
};

struct config_put; /* queued config put (store.c) */
struct pieces;
struct piececache_ent; /* a cached piece manifest (piececache.c) */
struct pieces_builder;
struct pieces_job; /* a manifest computed from a stored copy */
struct restore_waiter; /* PUT or copy waiting for a restore (restore.c) */

struct store {
    struct event_base *base;
    struct store_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t stop_cv; /* signalled on stopping (scrub sleeps on it) */
    bool stopping;
    struct dataset ds[STORE_DATASETS];
    enum store_config_state cfg_state;
    struct artifact_config cfg;
    struct inventory inv;
    struct store_counters ctr;
    struct workq *wq_meta, *wq_write, *wq_scrub, *wq_pieces;
    /* loop-thread-only state */
    struct store_write *writes; /* doubly linked list of live writes */
    unsigned nwrites;           /* live, not finished or aborted */
    unsigned ncopywrites;       /* of which copies (store_write_begin_copy) */
    struct config_put *puts_head, *puts_tail;
    bool put_running;
    bool reconcile_running, reconcile_again;
    bool probe_running;
    bool scrub_running;
    /* scrub.c, under mu: the last pass's bytes and duration (metrics),
     * and when a pass last logged at info (CLOCK_MONOTONIC seconds) */
    uint64_t scrub_last_bytes;
    double scrub_last_secs;
    bool scrub_logged;
    double scrub_logged_at;
    /* repair.c's rate-limited "no room" log: when it last logged
     * (CLOCK_MONOTONIC seconds) and the skips since; under mu */
    bool repair_nospace_logged;
    time_t repair_nospace_at;
    uint64_t repair_nospace_unlogged;
    struct event *probe_ev, *scrub_ev;
    /* GET /artifacts body cache (listcache.c): list_version under mu,
     * bumped by listcache_changed_locked(); the rest loop-thread only */
    uint64_t list_version;
    struct store_list_body *list_cache;
    uint64_t list_cache_version;
    unsigned list_cache_health; /* bit d: dataset d healthy at build */
    /* restores from trash/ under way (restore.c): the pending set under
     * mu, the waiters loop thread only */
    struct sha256 *restoring;
    size_t nrestoring, restoring_cap;
    struct restore_waiter *waiters;
    /* piece manifests (piececache.c): the LRU cache under mu (most
     * recent first), the jobs computing them loop thread only */
    struct piececache_ent *pc_head, *pc_tail;
    size_t pc_count, pc_bytes;
    struct pieces_job *pc_jobs;
    unsigned pc_njobs;
};

/* Dataset d's quota in bytes, 0 = none (resolved at store_open). */
static inline uint64_t store_quota(const struct store *st, int d)
{
    return st->opts.quota_bytes_ds[d];
}

/* --- dataset.c ----------------------------------------------------------- */

/* Fill ds paths from root. Returns 0 or ERR_NOMEM. */
int dataset_init(struct dataset *ds, int idx, const char *root);
void dataset_release(struct dataset *ds);
/* Whether root, tmp/ and trash/ exist as directories (creates the two). */
int dataset_prepare(struct dataset *ds, struct err *err);
/* Remove every entry of tmp/. Returns 0 or ERR_IO. */
int dataset_purge_tmp(const struct dataset *ds, struct err *err);
/* statvfs: available bytes. Returns 0 or ERR_IO. */
int dataset_statfs(uint64_t *out, const struct dataset *ds);
/* fsync a directory by path. Returns 0 or -errno. */
int dataset_fsync_dir(const char *path);
/*
 * An I/O call on dataset d failed with errno e: count it and, if the
 * error says the dataset is gone (EIO, ENXIO, ENODEV, EROFS, or
 * ENOENT/ENOTDIR/ESTALE with the root or tmp/ missing), mark it unhealthy.
 * Any thread; takes st->mu.
 */
void dataset_io_error(struct store *st, int d, int e, const char *what);
/* Mark healthy or not under st->mu (logs transitions). */
void dataset_set_healthy_locked(struct store *st, int d, bool healthy);
/*
 * Scan root for 64-hex names into the inventory (size from stat) after
 * clearing the dataset's old entries; zero-length files that are not the
 * empty artifact are quarantined. Any thread, no lock held.
 */
int dataset_scan(struct store *st, int d, struct err *err);
/* Unique temp path in dir: <dir>/<hex>.<random>.tmp (mem_free it). */
char *dataset_temp_path(const char *dir, const char *hex);
/* Join dir "/" name into a new string, or NULL. */
char *dataset_path(const char *dir, const char *name);

/* --- inventory.c --------------------------------------------------------- */

int inventory_init(struct inventory *inv);
void inventory_release(struct inventory *inv);
struct inv_entry *inventory_get_locked(const struct inventory *inv,
                                       const struct sha256 *h);
/*
 * Record (present) or forget a copy of h on dataset d, keeping
 * ds[d].artifact_bytes right. Returns 0 or ERR_NOMEM. st->mu held.
 */
int inventory_set_locked(struct store *st, const struct sha256 *h, int d,
                         uint64_t size, bool present);
/* Forget every copy on dataset d. st->mu held. */
void inventory_clear_dataset_locked(struct store *st, int d);
/* Count of copies of h on healthy datasets. st->mu held. */
unsigned inventory_count_locked(const struct store *st,
                                const struct sha256 *h);
/*
 * Snapshot every (hash, dataset) pair into a new array (mem_free it).
 * Returns 0 or ERR_NOMEM. st->mu held.
 */
struct inv_copy {
    struct sha256 h;
    int d;
    uint64_t size;
};
int inventory_snapshot_locked(const struct store *st, struct inv_copy **out,
                              size_t *n);

/* --- ledger.c ------------------------------------------------------------ */

enum ledger_status { LEDGER_MISSING = 0, LEDGER_VALID, LEDGER_CORRUPT,
                     LEDGER_UNREADABLE };

/*
 * Read <dir>/artifact-config.json into *out. Returns the status; err says
 * why for CORRUPT/UNREADABLE. Any thread.
 */
enum ledger_status ledger_read(struct artifact_config *out, const char *dir,
                               struct err *err);
/*
 * Write cfg atomically to <dir>/artifact-config.json through tmpdir
 * (temp, fsync, rename, fsync dir). Returns 0, ERR_IO or ERR_NOMEM.
 */
int ledger_write(const char *dir, const char *tmpdir,
                 const struct artifact_config *cfg, struct err *err);
/* The checksum text of cfg (64 hex + NUL). Returns 0 or ERR_NOMEM. */
int ledger_checksum(char out[SHA256_HEX_LEN + 1],
                    const struct artifact_config *cfg, struct err *err);

/* --- writer.c ------------------------------------------------------------ */

/* Loop thread, from store_close: settle every live write. */
void writer_close_all(struct store *st);
/*
 * Append the hex of every hash being written (not aborted), each once, as
 * JSON strings separated by commas ("<hex>","<hex>"). Returns 0 or
 * ERR_NOMEM. Loop thread.
 */
int writer_put_in_progress(struct buf *b, const struct store *st);

/* --- trash.c ------------------------------------------------------------- */

/* Rebuild the trash index of dataset d from trash/. No lock held. */
int trash_scan(struct store *st, int d, struct err *err);
/* Record an entry (st->mu held). Returns 0 or ERR_NOMEM. */
int trash_add_locked(struct store *st, int d, const struct sha256 *h,
                     uint64_t size, time_t mtime);
/* Forget an entry if present (st->mu held). */
void trash_remove_locked(struct store *st, int d, const struct sha256 *h);
/* Whether h is in d's trash (st->mu held); size into *size. */
bool trash_has_locked(const struct store *st, int d, const struct sha256 *h,
                      uint64_t *size);
/* Delete entries older than the retention. Worker, no lock held. */
void trash_purge_expired(struct store *st, time_t now);
/*
 * Delete the oldest entries of dataset d until `need` more bytes are
 * available (or the trash is empty). Worker, no lock held.
 */
void trash_purge_for_space(struct store *st, int d, uint64_t need);

/* --- quarantine.c ------------------------------------------------------- */

/*
 * Delete quarantine/ files of every healthy dataset older than the
 * quarantine retention, then the oldest until the rest is within
 * quarantine_max_bytes and STORE_QUARANTINE_MAX_FILES; record what is
 * left for /metrics. Worker, no lock held.
 */
void quarantine_purge(struct store *st, time_t now);

/* --- restore.c ---------------------------------------------------------- */

/*
 * Add to the pending set every hash of the current config that is in
 * trash/ of a healthy dataset not holding it (listed in_progress from
 * now on). Memory only; on NOMEM a hash is left out (logged). st->mu held.
 */
void restore_mark_locked(struct store *st);
/* Whether h is pending restore. st->mu held. */
bool restore_pending_locked(const struct store *st, const struct sha256 *h);
/* The reconciler dealt with h on every dataset: drop it. st->mu held. */
void restore_finished_locked(struct store *st, const struct sha256 *h);
/* Drop every pending hash, then restore_notify. Loop thread. */
void restore_clear(struct store *st);
/*
 * Call back (and free) every waiter whose hash is no longer pending: rc 0
 * with the verified copy count if one exists, else ERR_IO; ERR_UNAVAIL
 * when the store is closing. Loop thread.
 */
void restore_notify(struct store *st);
/*
 * Append the pending hashes as JSON strings separated by commas. Returns
 * 0 or ERR_NOMEM. st->mu held.
 */
int restore_put_in_progress_locked(struct buf *b, const struct store *st);
/* At store_close (stopping set): waiters get ERR_UNAVAIL; free the set. */
void restore_close(struct store *st);

/* --- reconcile.c --------------------------------------------------------- */

/*
 * Loop thread: start (or re-run after the current one) the reconciler.
 * First marks the pending restores (restore_mark_locked); if the run
 * cannot be queued they are dropped again.
 */
void reconcile_kick(struct store *st);

/* --- repair.c ------------------------------------------------------------ */

/*
 * Copy h from dataset src to dst through dst's tmp/, hashing while
 * copying; rename into place only if the hash matches (fsync file, dir).
 * Records the copy in the inventory. Reserves the copy's size on dst
 * first (quota and free-space reserve, purging dst's trash if that makes
 * room); without room it copies nothing, counts and (rate-limited) logs
 * the skip and returns ERR_NOSPACE. Returns 0, ERR_NOSPACE, ERR_VERIFY
 * (the source is corrupt), ERR_IO, ERR_NOMEM. Worker, no lock held.
 */
int repair_copy(struct store *st, const struct sha256 *h, int src, int dst,
                struct err *err);
/*
 * Copy every artifact of the current config present on one healthy
 * dataset only to the other one, where it has room (repair_copy).
 * Returns the number copied. Worker.
 */
unsigned repair_missing(struct store *st);
/*
 * Hash the file at path; *size_out gets its length. Stops early (ERR_IO)
 * if st->stopping. rate 0 = unthrottled. Returns 0, ERR_IO (errno in
 * *errno_out), ERR_NOMEM.
 */
int repair_hash_file(struct sha256 *out, uint64_t *size_out, int *errno_out,
                     struct store *st, const char *path, uint64_t rate);

/* --- scrub.c ------------------------------------------------------------- */

/* Loop thread: schedule the periodic scrub (and the start-up pass). */
int scrub_start(struct store *st);
/*
 * Re-hash the copy of h on dataset d now (unthrottled, on the scrub
 * thread; quarantined and repaired if bad), e.g. because a read found it
 * of the wrong size. Best effort: dropped on ERR_NOMEM. Loop thread.
 */
void scrub_check(struct store *st, const struct sha256 *h, int d);

/* --- piececache.c -------------------------------------------------------- */

/*
 * The write of h verified: finish b (fed every byte of h) and cache the
 * manifest. Failures only mean nothing is cached (the next request
 * recomputes it). Does not free b. The write's task; takes st->mu.
 */
void piececache_add_built(struct store *st, struct pieces_builder *b,
                          const struct sha256 *h);
/*
 * A positional write of m->sha256 verified: cache m (its canonical
 * document) as the write's manifest. Failures only mean nothing is
 * cached. The write's task; takes st->mu.
 */
void piececache_add_manifest(struct store *st, const struct pieces *m);
/* Drop every cached manifest. At store_close, after wq_pieces is gone. */
void piececache_release(struct store *st);

/* --- listcache.c --------------------------------------------------------- */

/*
 * Something the list shows changed (config, a copy appeared or went, a
 * write began, completed or was aborted): the cached GET /artifacts body
 * is stale. Dataset health needs no call (the cache keys on it). st->mu
 * held; any thread.
 */
void listcache_changed_locked(struct store *st);
/* Drop the store's reference to the cached body. Loop thread, at close. */
void listcache_release(struct store *st);

/* --- store.c ------------------------------------------------------------- */

/*
 * ERR_UNAVAIL with err set if no dataset is healthy or every ledger is
 * corrupt, else 0. st->mu held.
 */
int store_config_refused_locked(const struct store *st, struct err *err);

/* Whether store_close has begun (takes st->mu; any thread). */
bool store_stopping(struct store *st);
/* Whether dataset d is healthy now (takes st->mu). */
bool store_ds_healthy(struct store *st, int d);
/* Defer cb(rc, err, arg) to the next loop iteration. Returns 0/ERR_NOMEM. */
int store_defer_done(struct store *st, store_done_fn cb, void *arg, int rc,
                     const struct err *err);

#endif
