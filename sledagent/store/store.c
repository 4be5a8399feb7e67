/* SPDX-License-Identifier: MPL-2.0 */
/*
 * store: open and close of the artifact store, the ledgered config
 * (get/put, serialised puts written by the meta worker), depot reads and
 * the dataset health probe (the inventory list is listcache.c).
 * Loop-thread API (see store.h); disk work runs on st->wq_meta.
 *
 * Decisions:
 * - Ledgers: the valid copy with the highest generation wins. If no copy
 *   is valid and at least one is corrupt, the store is CORRUPT: every
 *   config-dependent request, config puts included, gets ERR_UNAVAIL
 *   ("ledger corrupt") until an operator repairs or removes the files and
 *   restarts; we never guess a generation. A stale or corrupt copy beside
 *   a valid winner is rewritten at open (the corrupt one is first renamed
 *   to artifact-config.json.corrupt for the operator).
 * - Files found at open count as present before their first scrub: they
 *   were hash-verified before their atomic rename; the start-up scrub pass
 *   re-verifies them (zero-length files are quarantined at once).
 * - With no config, the delete reconciler does nothing.
 * - A dataset that comes back (probe, every STORE_PROBE_SECS on the meta
 *   worker) gets tmp/ and trash/ re-created and purged, is re-scanned, its
 *   ledger is re-read (a valid higher generation is adopted, a stale one
 *   rewritten) and artifacts missing on it are copied from the other.
 */
#include "sledagent/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"
#include "sledagent/store/store_internal.h"

struct config_put {
    struct store *st;
    struct artifact_config cfg;
    store_done_fn cb;
    void *arg;
    unsigned written;
    bool reset;   /* store_config_reset: no monotonic check */
    struct err err;
    struct config_put *next;
};

struct deferred {
    store_done_fn cb;
    void *arg;
    int rc;
    struct err err;
};

static void deferred_run(evutil_socket_t fd, short what, void *p)
{
    struct deferred *df = p;

    (void)fd;
    (void)what;
    df->cb(df->rc, df->rc ? &df->err : NULL, df->arg);
    mem_free(df);
}

int store_defer_done(struct store *st, store_done_fn cb, void *arg, int rc,
                     const struct err *err)
{
    struct timeval zero = {0, 0};
    struct deferred *df = mem_calloc(1, sizeof(*df));

    if (!df)
        return ERR_NOMEM;
    df->cb = cb;
    df->arg = arg;
    df->rc = rc;
    if (err)
        df->err = *err;
    if (event_base_once(st->base, -1, EV_TIMEOUT, deferred_run, df, &zero) <
        0) {
        mem_free(df);
        return ERR_NOMEM;
    }
    return 0;
}

bool store_stopping(struct store *st)
{
    bool s;

    pthread_mutex_lock(&st->mu);
    s = st->stopping;
    pthread_mutex_unlock(&st->mu);
    return s;
}

bool store_ds_healthy(struct store *st, int d)
{
    bool h;

    pthread_mutex_lock(&st->mu);
    h = st->ds[d].healthy;
    pthread_mutex_unlock(&st->mu);
    return h;
}

static unsigned healthy_count_locked(const struct store *st)
{
    unsigned n = 0;

    for (int d = 0; d < STORE_DATASETS; d++)
        n += st->ds[d].healthy;
    return n;
}

unsigned store_datasets(const struct store *st)
{
    unsigned n;

    pthread_mutex_lock((pthread_mutex_t *)&st->mu);
    n = healthy_count_locked(st);
    pthread_mutex_unlock((pthread_mutex_t *)&st->mu);
    return n;
}

/* ---- ledger at open ---------------------------------------------------- */

static void set_aside_corrupt(const struct dataset *ds)
{
    char *from = dataset_path(ds->root, STORE_LEDGER_NAME);
    char *to = dataset_path(ds->root, STORE_LEDGER_NAME ".corrupt");

    if (from && to && rename(from, to) == 0)
        log_warn("store_ledger_set_aside", "{s:s}", "path", to);
    mem_free(from);
    mem_free(to);
}

static int open_ledgers(struct store *st, struct err *err)
{
    struct artifact_config cfgs[STORE_DATASETS] = {ARTIFACT_CONFIG_INIT,
                                                   ARTIFACT_CONFIG_INIT};
    enum ledger_status stat[STORE_DATASETS] = {LEDGER_MISSING,
                                               LEDGER_MISSING};
    int win = -1, rc = 0;
    bool corrupt = false;

    for (int d = 0; d < STORE_DATASETS; d++) {
        struct err e = ERR_INIT;

        if (!st->ds[d].healthy)
            continue;
        stat[d] = ledger_read(&cfgs[d], st->ds[d].root, &e);
        if (stat[d] == LEDGER_CORRUPT || stat[d] == LEDGER_UNREADABLE) {
            corrupt = true;
            st->ctr.ledger_corrupt++;
            log_error("store_ledger_corrupt", "{s:s, s:s}", "dataset",
                      st->ds[d].root, "error", e.msg);
        }
        if (stat[d] == LEDGER_VALID &&
            (win < 0 || cfgs[d].generation > cfgs[win].generation))
            win = d;
    }
    if (win < 0) {
        st->cfg_state = corrupt ? STORE_CONFIG_CORRUPT : STORE_CONFIG_NONE;
        if (corrupt)
            log_error("store_config_refused", "{s:s}", "reason",
                      "every ledger is corrupt; repair or remove "
                      STORE_LEDGER_NAME " and restart");
        goto out;
    }
    st->cfg_state = STORE_CONFIG_OK;
    st->cfg = cfgs[win];
    listcache_changed_locked(st); /* at open: nothing cached yet */
    cfgs[win] = (struct artifact_config)ARTIFACT_CONFIG_INIT;
    log_info("store_config_loaded", "{s:I, s:s}", "generation",
             (json_int_t)st->cfg.generation, "dataset", st->ds[win].root);
    for (int d = 0; d < STORE_DATASETS; d++) {
        struct err e = ERR_INIT;

        if (d == win || !st->ds[d].healthy ||
            (stat[d] == LEDGER_VALID &&
             cfgs[d].generation == st->cfg.generation &&
             artifact_config_same_set(&cfgs[d], &st->cfg)))
            continue;
        if (stat[d] == LEDGER_CORRUPT)
            set_aside_corrupt(&st->ds[d]);
        if (ledger_write(st->ds[d].root, st->ds[d].tmp, &st->cfg, &e) < 0)
            log_error("store_ledger_rewrite_failed", "{s:s, s:s}", "dataset",
                      st->ds[d].root, "error", e.msg);
        else
            log_info("store_ledger_rewritten", "{s:s, s:I}", "dataset",
                     st->ds[d].root, "generation",
                     (json_int_t)st->cfg.generation);
    }
out:
    (void)err;
    for (int d = 0; d < STORE_DATASETS; d++)
        artifact_config_release(&cfgs[d]);
    return rc;
}

/* ---- probe -------------------------------------------------------------- */

struct probe {
    struct store *st;
    bool came_back;
};

static void probe_comeback(struct store *st, int d, struct probe *p)
{
    struct dataset *ds = &st->ds[d];
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT, cur =
        ARTIFACT_CONFIG_INIT;
    struct err e = ERR_INIT;
    enum ledger_status ls;
    bool have = false;

    if (dataset_purge_tmp(ds, &e) < 0 || dataset_scan(st, d, &e) < 0 ||
        trash_scan(st, d, &e) < 0) {
        log_warn("store_dataset_rescan_failed", "{s:s, s:s}", "dataset",
                 ds->root, "error", e.msg);
        return;
    }
    ls = ledger_read(&cfg, ds->root, &e);
    pthread_mutex_lock(&st->mu);
    if (ls == LEDGER_VALID && (st->cfg_state != STORE_CONFIG_OK ||
                               cfg.generation > st->cfg.generation)) {
        /* the returning dataset knew a newer config: adopt it */
        artifact_config_release(&st->cfg);
        st->cfg = cfg;
        cfg = (struct artifact_config)ARTIFACT_CONFIG_INIT;
        st->cfg_state = STORE_CONFIG_OK;
        listcache_changed_locked(st);
        log_info("store_config_adopted", "{s:s, s:I}", "dataset", ds->root,
                 "generation", (json_int_t)st->cfg.generation);
    }
    if (st->cfg_state == STORE_CONFIG_OK)
        have = artifact_config_copy(&cur, &st->cfg) == 0;
    dataset_set_healthy_locked(st, d, true);
    pthread_mutex_unlock(&st->mu);
    if (ls == LEDGER_CORRUPT || ls == LEDGER_UNREADABLE) {
        pthread_mutex_lock(&st->mu);
        st->ctr.ledger_corrupt++;
        pthread_mutex_unlock(&st->mu);
        log_error("store_ledger_corrupt", "{s:s, s:s}", "dataset", ds->root,
                  "error", e.msg);
        set_aside_corrupt(ds);
    }
    /* make every healthy ledger agree with the current config */
    for (int i = 0; have && i < STORE_DATASETS; i++) {
        struct artifact_config on = ARTIFACT_CONFIG_INIT;
        struct err we = ERR_INIT;

        if (!store_ds_healthy(st, i))
            continue;
        if (ledger_read(&on, st->ds[i].root, &we) != LEDGER_VALID ||
            on.generation != cur.generation)
            if (ledger_write(st->ds[i].root, st->ds[i].tmp, &cur, &we) < 0)
                log_error("store_ledger_rewrite_failed", "{s:s, s:s}",
                          "dataset", st->ds[i].root, "error", we.msg);
        artifact_config_release(&on);
    }
    artifact_config_release(&cfg);
    artifact_config_release(&cur);
    p->came_back = true;
    repair_missing(st);
}

static void probe_task(void *arg)
{
    struct probe *p = arg;
    struct store *st = p->st;

    for (int d = 0; d < STORE_DATASETS; d++) {
        struct dataset *ds = &st->ds[d];
        bool was = store_ds_healthy(st, d), ok;
        uint64_t fb = 0;

        if (!ds->configured)
            continue;
        ok = dataset_prepare(ds, NULL) == 0 && access(ds->tmp, W_OK) == 0;
        if (was && !ok) {
            pthread_mutex_lock(&st->mu);
            dataset_set_healthy_locked(st, d, false);
            pthread_mutex_unlock(&st->mu);
        } else if (!was && ok) {
            probe_comeback(st, d, p);
        }
        if (ok && dataset_statfs(&fb, ds) == 0) {
            pthread_mutex_lock(&st->mu);
            ds->free_bytes = fb;
            pthread_mutex_unlock(&st->mu);
        }
    }
    trash_purge_expired(st, time(NULL));
    quarantine_purge(st, time(NULL));
}

static void probe_done(void *arg)
{
    struct probe *p = arg;
    struct store *st = p->st;

    st->probe_running = false;
    if (p->came_back && !st->stopping)
        reconcile_kick(st);
    mem_free(p);
}

static void on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
    struct store *st = arg;
    struct probe *p;

    (void)fd;
    (void)what;
    if (st->probe_running || st->stopping)
        return;
    p = mem_calloc(1, sizeof(*p));
    if (!p)
        return;
    p->st = st;
    if (workq_submit(st->wq_meta, probe_task, probe_done, p) < 0) {
        mem_free(p);
        return;
    }
    st->probe_running = true;
}

/* ---- open / close ------------------------------------------------------- */

static int open_datasets(struct store *st, struct err *err)
{
    int rc = 0;

    for (int d = 0; d < STORE_DATASETS; d++) {
        struct dataset *ds = &st->ds[d];
        struct err e = ERR_INIT;

        rc = dataset_init(ds, d, st->opts.dataset[d]);
        if (rc < 0)
            return err_set(err, rc, "store: out of memory");
        if (!ds->configured)
            continue;
        if (dataset_prepare(ds, &e) < 0 || dataset_purge_tmp(ds, &e) < 0) {
            log_error("store_dataset_unavailable", "{s:s, s:s}", "dataset",
                      ds->root, "error", e.msg);
            continue;
        }
        ds->healthy = true;
        if (dataset_statfs(&ds->free_bytes, ds) < 0)
            ds->free_bytes = 0;
        if (dataset_scan(st, d, &e) < 0 || trash_scan(st, d, &e) < 0) {
            if (e.code == ERR_NOMEM)
                return err_set(err, ERR_NOMEM, "%s", e.msg);
            log_error("store_dataset_unavailable", "{s:s, s:s}", "dataset",
                      ds->root, "error", e.msg);
            ds->healthy = false;
        }
    }
    return 0;
}

int store_open(struct store **out, struct event_base *base,
               const struct store_opts *opts, struct err *err)
{
    struct store *st = NULL;
    struct timeval probe_tv = {STORE_PROBE_SECS, 0};
    int rc;

    *out = NULL;
    if (!base || !opts)
        return err_set(err, ERR_INVAL, "store_open: no loop or options");
    st = mem_calloc(1, sizeof(*st));
    if (!st)
        return err_set(err, ERR_NOMEM, "store: out of memory");
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->stop_cv, NULL);
    st->base = base;
    st->opts = *opts;
    if (!st->opts.max_body_bytes)
        st->opts.max_body_bytes = LIMIT_ARTIFACT_BODY_DEFAULT;
    if (!st->opts.trash_retention_secs)
        st->opts.trash_retention_secs = 86400;
    if (!st->opts.quarantine_retention_secs)
        st->opts.quarantine_retention_secs = 604800;
    if (!st->opts.quarantine_max_bytes)
        st->opts.quarantine_max_bytes = 1073741824;
    if (!st->opts.max_writes)
        st->opts.max_writes = STORE_DEFAULT_MAX_WRITES;
    if (!st->opts.max_copy_writes) {
        unsigned keep = (st->opts.max_writes + 3) / 4;

        st->opts.max_copy_writes = st->opts.max_writes > keep
                                       ? st->opts.max_writes - keep
                                       : 1;
    }
    if (st->opts.max_copy_writes > st->opts.max_writes)
        st->opts.max_copy_writes = st->opts.max_writes;
    if (!st->opts.scrub_interval_secs)
        st->opts.scrub_interval_secs = STORE_SCRUB_PAUSE_SECS;
    for (int d = 0; d < STORE_DATASETS; d++)
        if (!st->opts.quota_bytes_ds[d])
            st->opts.quota_bytes_ds[d] = st->opts.quota_bytes;
    rc = inventory_init(&st->inv);
    if (rc < 0) {
        err_set(err, rc, "store: out of memory");
        goto out;
    }
    rc = open_datasets(st, err);
    if (rc < 0)
        goto out;
    rc = open_ledgers(st, err);
    if (rc < 0)
        goto out;
    rc = workq_new(&st->wq_meta, base, 1);
    if (rc == 0)
        rc = workq_new(&st->wq_write, base, STORE_WRITE_THREADS);
    if (rc == 0)
        rc = workq_new(&st->wq_scrub, base, 1);
    if (rc == 0)
        rc = workq_new(&st->wq_pieces, base, 1);
    if (rc < 0) {
        err_set(err, rc, "store: cannot start worker threads");
        goto out;
    }
    st->probe_ev = event_new(base, -1, EV_PERSIST, on_probe_timer, st);
    if (!st->probe_ev || event_add(st->probe_ev, &probe_tv) < 0) {
        rc = err_set(err, ERR_NOMEM, "store: cannot add probe timer");
        goto out;
    }
    rc = scrub_start(st);
    if (rc < 0) {
        err_set(err, rc, "store: cannot start scrubber");
        goto out;
    }
    reconcile_kick(st);
    log_info("store_opened", "{s:i, s:s}", "datasets",
             (int)store_datasets(st), "config",
             st->cfg_state == STORE_CONFIG_OK ? "ok"
             : st->cfg_state == STORE_CONFIG_NONE ? "none" : "corrupt");
    *out = st;
    st = NULL;
out:
    store_close(st);
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stopping = true;
    pthread_cond_broadcast(&st->stop_cv);
    pthread_mutex_unlock(&st->mu);
    if (st->probe_ev)
        event_free(st->probe_ev);
    if (st->scrub_ev)
        event_free(st->scrub_ev);
    workq_free(st->wq_scrub);
    st->wq_scrub = NULL;
    workq_free(st->wq_pieces); /* jobs stop early: stopping is set */
    st->wq_pieces = NULL;
    if (st->wq_write)
        writer_close_all(st);
    workq_free(st->wq_write);
    st->wq_write = NULL;
    workq_free(st->wq_meta); /* runs queued ledger writes to the end */
    st->wq_meta = NULL;
    restore_close(st);
    while (st->puts_head) {
        struct config_put *p = st->puts_head;
        struct err e = ERR_INIT;

        st->puts_head = p->next;
        err_set(&e, ERR_UNAVAIL, "store closing");
        if (p->cb)
            p->cb(ERR_UNAVAIL, &e, p->arg);
        artifact_config_release(&p->cfg);
        mem_free(p);
    }
    listcache_release(st);
    piececache_release(st);
    artifact_config_release(&st->cfg);
    inventory_release(&st->inv);
    for (int d = 0; d < STORE_DATASETS; d++)
        dataset_release(&st->ds[d]);
    pthread_cond_destroy(&st->stop_cv);
    pthread_mutex_destroy(&st->mu);
    mem_free(st);
}

/* ---- config ------------------------------------------------------------- */

int store_config_refused_locked(const struct store *st, struct err *err)
{
    if (healthy_count_locked(st) == 0)
        return err_set(err, ERR_UNAVAIL, "no dataset available");
    if (st->cfg_state == STORE_CONFIG_CORRUPT)
        return err_set(err, ERR_UNAVAIL,
                       "ledger corrupt on every dataset; operator repair "
                       "needed");
    return 0;
}

int store_config_get(const struct store *st, struct artifact_config *out,
                     struct err *err)
{
    int rc;

    pthread_mutex_lock((pthread_mutex_t *)&st->mu);
    rc = store_config_refused_locked(st, err);
    if (rc == 0 && st->cfg_state == STORE_CONFIG_NONE)
        rc = err_set(err, ERR_NOTFOUND, "no artifact config yet");
    if (rc == 0 && artifact_config_copy(out, &st->cfg) < 0)
        rc = err_set(err, ERR_NOMEM, "store: out of memory");
    pthread_mutex_unlock((pthread_mutex_t *)&st->mu);
    return rc;
}

/* 1: no-op (same config), 0: accept, <0: refused. A reset is accepted
 * whenever the store can write a ledger. */
static int config_check(struct store *st, const struct artifact_config *cfg,
                        bool reset, struct err *err)
{
    int rc;

    pthread_mutex_lock(&st->mu);
    rc = store_config_refused_locked(st, err);
    if (rc == 0 && st->cfg_state == STORE_CONFIG_OK && !reset) {
        if (cfg->generation < st->cfg.generation)
            rc = err_set_coded(err, ERR_CONFLICT, "CONFIG_GENERATION",
                               "generation %llu is lower than the current "
                               "%llu",
                               (unsigned long long)cfg->generation,
                               (unsigned long long)st->cfg.generation);
        else if (cfg->generation == st->cfg.generation)
            rc = artifact_config_same_set(cfg, &st->cfg)
                     ? 1
                     : err_set_coded(err, ERR_CONFLICT, "CONFIG_GENERATION",
                                     "generation %llu already holds a "
                                     "different artifact set",
                                     (unsigned long long)cfg->generation);
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static void put_task(void *arg)
{
    struct config_put *p = arg;
    struct store *st = p->st;
    bool stale;

    /* the probe (same thread) may have adopted a newer ledger since the
     * check on the loop: never write a lower generation */
    pthread_mutex_lock(&st->mu);
    stale = st->cfg_state == STORE_CONFIG_OK && !p->reset &&
            st->cfg.generation > p->cfg.generation;
    pthread_mutex_unlock(&st->mu);
    if (stale) {
        err_set_coded(&p->err, ERR_CONFLICT, "CONFIG_GENERATION",
                      "generation %llu is lower than the current one",
                      (unsigned long long)p->cfg.generation);
        return;
    }
    for (int d = 0; d < STORE_DATASETS; d++) {
        struct err e = ERR_INIT;

        if (!store_ds_healthy(st, d))
            continue;
        if (ledger_write(st->ds[d].root, st->ds[d].tmp, &p->cfg, &e) < 0) {
            log_error("store_ledger_write_failed", "{s:s, s:s}", "dataset",
                      st->ds[d].root, "error", e.msg);
            dataset_io_error(st, d, ENOENT, "ledger");
            if (!p->err.code)
                p->err = e;
            continue;
        }
        p->written++;
    }
}

static void put_start_next(struct store *st);

static void put_done(void *arg)
{
    struct config_put *p = arg;
    struct store *st = p->st;
    int rc = 0;

    pthread_mutex_lock(&st->mu);
    if (p->written > 0 && st->cfg_state == STORE_CONFIG_OK && !p->reset &&
        st->cfg.generation > p->cfg.generation) {
        /* a returning dataset brought a newer ledger meanwhile: never go
         * back (its ledgers are rewritten by the probe) */
        err_set_coded(&p->err, ERR_CONFLICT, "CONFIG_GENERATION",
                      "generation %llu is lower than the current %llu",
                      (unsigned long long)p->cfg.generation,
                      (unsigned long long)st->cfg.generation);
        p->written = 0;
    }
    pthread_mutex_unlock(&st->mu);
    if (p->written > 0) {
        pthread_mutex_lock(&st->mu);
        artifact_config_release(&st->cfg);
        st->cfg = p->cfg;
        p->cfg = (struct artifact_config)ARTIFACT_CONFIG_INIT;
        st->cfg_state = STORE_CONFIG_OK;
        listcache_changed_locked(st);
        pthread_mutex_unlock(&st->mu);
        log_info("store_config_committed", "{s:I, s:i, s:b}", "generation",
                 (json_int_t)st->cfg.generation, "ledgers", (int)p->written,
                 "reset", (int)p->reset);
        reconcile_kick(st);
    } else if (p->err.code == ERR_CONFLICT) {
        rc = ERR_CONFLICT;
    } else {
        rc = ERR_IO;
        if (!p->err.code)
            err_set(&p->err, ERR_IO, "no dataset could write the ledger");
        p->err.code = ERR_IO;
    }
    if (p->cb)
        p->cb(rc, rc ? &p->err : NULL, p->arg);
    artifact_config_release(&p->cfg);
    mem_free(p);
    st->put_running = false;
    if (!st->stopping)
        put_start_next(st);
}

static void put_start_next(struct store *st)
{
    while (!st->put_running && st->puts_head) {
        struct config_put *p = st->puts_head;
        int rc;

        st->puts_head = p->next;
        if (!st->puts_head)
            st->puts_tail = NULL;
        rc = config_check(st, &p->cfg, p->reset, &p->err);
        if (rc == 1 && p->reset)
            rc = 0; /* a reset always rewrites the ledgers */
        if (rc == 0 && workq_submit(st->wq_meta, put_task, put_done, p) == 0) {
            st->put_running = true;
            return;
        }
        if (rc == 0)
            rc = err_set(&p->err, ERR_NOMEM, "store: out of memory");
        if (rc == 1)
            rc = 0;
        if (p->cb)
            p->cb(rc, rc ? &p->err : NULL, p->arg);
        artifact_config_release(&p->cfg);
        mem_free(p);
    }
}

/* Queue cfg (copied) as a config put, or a reset. */
static int config_enqueue(struct store *st, const struct artifact_config *cfg,
                          bool reset, store_done_fn cb, void *arg,
                          struct err *err)
{
    struct config_put *p = mem_calloc(1, sizeof(*p));

    if (!p || artifact_config_copy(&p->cfg, cfg) < 0) {
        mem_free(p);
        return err_set(err, ERR_NOMEM, "store: out of memory");
    }
    p->st = st;
    p->cb = cb;
    p->arg = arg;
    p->reset = reset;
    if (st->puts_tail)
        st->puts_tail->next = p;
    else
        st->puts_head = p;
    st->puts_tail = p;
    put_start_next(st);
    return 0;
}

int store_config_reset(struct store *st, const struct artifact_config *cfg,
                       store_done_fn cb, void *arg, struct err *err)
{
    int rc = 0;

    pthread_mutex_lock(&st->mu);
    rc = store_config_refused_locked(st, err);
    pthread_mutex_unlock(&st->mu);
    if (rc < 0)
        return rc;
    return config_enqueue(st, cfg, true, cb, arg, err);
}

int store_config_put(struct store *st, const struct artifact_config *cfg,
                     store_done_fn cb, void *arg, struct err *err)
{
    int rc = 0;

    if (!st->put_running && !st->puts_head) {
        rc = config_check(st, cfg, false, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            rc = store_defer_done(st, cb, arg, 0, NULL);
            return rc < 0 ? err_set(err, rc, "store: out of memory") : 0;
        }
    }
    return config_enqueue(st, cfg, false, cb, arg, err);
}

/* ---- depot read --------------------------------------------------------- */

int store_open_artifact(struct store *st, const struct sha256 *h,
                        int *fd_out, uint64_t *size_out, struct err *err)
{
    char hex[SHA256_HEX_LEN + 1];
    bool cand[STORE_DATASETS] = {false, false}, bad = false;
    uint64_t want = 0;
    int fd = -1, oe;

    *fd_out = -1;
    sha256_to_hex(hex, h);
    pthread_mutex_lock(&st->mu);
    {
        const struct inv_entry *e = inventory_get_locked(&st->inv, h);

        for (int d = 0; e && d < STORE_DATASETS; d++)
            cand[d] = e->on[d] && st->ds[d].healthy;
        want = e ? e->size : 0;
    }
    pthread_mutex_unlock(&st->mu);
    for (int d = 0; d < STORE_DATASETS; d++) {
        char *path;
        struct stat sb;

        if (!cand[d])
            continue;
        path = dataset_path(st->ds[d].root, hex);
        if (!path)
            return err_set(err, ERR_NOMEM, "store: out of memory");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        mem_free(path);
        oe = errno;
        if (fd >= 0 && fstat(fd, &sb) < 0) {
            oe = errno;
            close(fd);
            fd = -1;
        }
        if (fd >= 0 && (uint64_t)sb.st_size == want) {
            *fd_out = fd;
            *size_out = want;
            return 0;
        }
        bad = true;
        if (fd >= 0) {
            /* Not the copy that verified (truncated or grown since): never
             * serve it; the scrubber checks it now (quarantine, repair). */
            close(fd);
            log_error("store_copy_wrong_size", "{s:s, s:s, s:I, s:I}",
                      "dataset", st->ds[d].root, "sha256", hex, "size",
                      (json_int_t)sb.st_size, "verified_size",
                      (json_int_t)want);
        } else {
            dataset_io_error(st, d, oe, "open artifact");
        }
        if (!store_stopping(st))
            scrub_check(st, h, d);
    }
    if (bad)
        return err_set(err, ERR_IO, "artifact %s: no readable copy", hex);
    return err_set(err, ERR_NOTFOUND, "artifact %s not stored here", hex);
}
