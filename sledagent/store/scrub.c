/* SPDX-License-Identifier: MPL-2.0 */
/*
 * scrub: the scrubber. A pass re-hashes every stored copy (at
 * scrub_bytes_per_sec, on the single st->wq_scrub thread), quarantines a
 * corrupt copy into <dataset>/quarantine/ (never served, not counted) and
 * repairs it from the other dataset if that copy verifies, then copies
 * wanted artifacts held by one healthy dataset only to the other. Passes
 * are scheduled from the loop: one right after store_open (the start-up
 * pass), then one scrub_interval_secs after the previous ended (default
 * STORE_SCRUB_PAUSE_SECS, short: the scrub is a continuous pass whose
 * cost is bounded by the rate, not by the pause). So every stored copy
 * is re-hashed at least once every B / scrub_bytes_per_sec +
 * scrub_interval_secs seconds, B the bytes of all copies on both
 * datasets (docs/API.md). A pass logs at info only when it found or
 * repaired something, or once per STORE_SCRUB_LOG_SECS; at debug
 * otherwise. scrub_bytes_per_sec == 0 turns background scrubbing off (no
 * start-up pass either); store__scrub_now() still runs an unthrottled
 * pass.
 */
#include "sledagent/store/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"

struct scrub_pass {
    struct store *st;
    uint64_t rate;
    store_done_fn cb;
    void *arg;
    int rc;
};

static void quarantine(struct store *st, int d, const struct sha256 *h,
                       const char *hex, const char *path)
{
    char *to = dataset_temp_path(st->ds[d].quarantine, hex);

    pthread_mutex_lock(&st->mu);
    inventory_set_locked(st, h, d, 0, false);
    st->ctr.scrub_corrupt++;
    pthread_mutex_unlock(&st->mu);
    if (!to || ((mkdir(st->ds[d].quarantine, 0755) < 0 && errno != EEXIST) ||
                rename(path, to) < 0)) {
        /* never leave a corrupt file under its final name */
        unlink(path);
    }
    log_error("store_copy_corrupt", "{s:s, s:s, s:s}", "dataset",
              st->ds[d].root, "sha256", hex, "quarantine", to ? to : "");
    mem_free(to);
}

static void scrub_one(struct scrub_pass *p, const struct inv_copy *c)
{
    struct store *st = p->st;
    char hex[SHA256_HEX_LEN + 1];
    char *path;
    struct sha256 got;
    uint64_t size = 0;
    int e = 0, other = 1 - c->d;
    bool repair;

    if (!store_ds_healthy(st, c->d))
        return;
    sha256_to_hex(hex, &c->h);
    path = dataset_path(st->ds[c->d].root, hex);
    if (!path)
        return;
    if (repair_hash_file(&got, &size, &e, st, path, p->rate) < 0) {
        if (e == ENOENT) {
            /* moved to trash meanwhile, or lost: trust the directory */
            struct stat sb;

            if (stat(path, &sb) < 0) {
                pthread_mutex_lock(&st->mu);
                if (!st->stopping)
                    inventory_set_locked(st, &c->h, c->d, 0, false);
                pthread_mutex_unlock(&st->mu);
            }
        } else if (e && e != ECANCELED) {
            dataset_io_error(st, c->d, e, "scrub read");
        }
        goto out;
    }
    if (sha256_eq(&got, &c->h)) {
        pthread_mutex_lock(&st->mu);
        st->ctr.scrub_verified++;
        pthread_mutex_unlock(&st->mu);
        goto out;
    }
    quarantine(st, c->d, &c->h, hex, path);
    pthread_mutex_lock(&st->mu);
    {
        const struct inv_entry *ie = inventory_get_locked(&st->inv, &c->h);

        repair = ie && ie->on[other] && st->ds[other].healthy &&
                 st->ds[c->d].healthy;
    }
    pthread_mutex_unlock(&st->mu);
    if (repair) {
        struct err err = ERR_INIT;

        int rc = repair_copy(st, &c->h, other, c->d, &err);

        if (rc == 0) {
            pthread_mutex_lock(&st->mu);
            st->ctr.scrub_repaired++;
            pthread_mutex_unlock(&st->mu);
        } else if (rc != ERR_NOSPACE) { /* that one counted and logged */
            log_warn("store_repair_failed", "{s:s, s:s}", "sha256", hex,
                     "error", err.msg);
        }
    }
out:
    mem_free(path);
}

static double mono_secs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pass_task(void *arg)
{
    struct scrub_pass *p = arg;
    struct store *st = p->st;
    struct inv_copy *copies = NULL;
    struct store_counters before;
    size_t n = 0;
    uint64_t bytes = 0;
    double t0 = mono_secs(), secs;
    bool stop, news, log;

    pthread_mutex_lock(&st->mu);
    p->rc = inventory_snapshot_locked(st, &copies, &n);
    before = st->ctr;
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; i < n; i++)
        bytes += copies[i].size;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&st->mu);
        stop = st->stopping;
        pthread_mutex_unlock(&st->mu);
        if (stop)
            break;
        scrub_one(p, &copies[i]);
    }
    mem_free(copies);
    repair_missing(st);
    secs = mono_secs() - t0;
    pthread_mutex_lock(&st->mu);
    st->ctr.scrub_passes++;
    st->scrub_last_bytes = bytes;
    st->scrub_last_secs = secs;
    news = st->ctr.scrub_corrupt != before.scrub_corrupt ||
           st->ctr.scrub_repaired != before.scrub_repaired;
    log = news || !st->scrub_logged ||
          t0 - st->scrub_logged_at >= STORE_SCRUB_LOG_SECS;
    if (log) {
        st->scrub_logged = true;
        st->scrub_logged_at = t0;
    }
    pthread_mutex_unlock(&st->mu);
    log_emit(log ? LOG_INFO : LOG_DEBUG, "store_scrub_pass",
             "{s:i, s:I, s:f}", "copies", (int)n, "bytes", (json_int_t)bytes,
             "seconds", secs);
}

static void schedule_next(struct store *st)
{
    struct timeval tv = {(time_t)st->opts.scrub_interval_secs, 0};

    if (st->stopping || !st->opts.scrub_bytes_per_sec || !st->scrub_ev)
        return;
    event_add(st->scrub_ev, &tv);
}

static void pass_done(void *arg)
{
    struct scrub_pass *p = arg;
    struct store *st = p->st;

    if (!p->cb) {
        st->scrub_running = false;
        schedule_next(st);
    } else {
        p->cb(p->rc, NULL, p->arg);
    }
    mem_free(p);
}

static int submit_pass(struct store *st, uint64_t rate, store_done_fn cb,
                       void *arg)
{
    struct scrub_pass *p = mem_calloc(1, sizeof(*p));

    if (!p)
        return ERR_NOMEM;
    p->st = st;
    p->rate = rate;
    p->cb = cb;
    p->arg = arg;
    if (workq_submit(st->wq_scrub, pass_task, pass_done, p) < 0) {
        mem_free(p);
        return ERR_NOMEM;
    }
    return 0;
}

static void on_scrub_timer(evutil_socket_t fd, short what, void *arg)
{
    struct store *st = arg;

    (void)fd;
    (void)what;
    if (st->stopping || st->scrub_running)
        return;
    if (submit_pass(st, st->opts.scrub_bytes_per_sec, NULL, NULL) == 0)
        st->scrub_running = true;
    else
        schedule_next(st);
}

int scrub_start(struct store *st)
{
    struct timeval now = {0, 0};

    st->scrub_ev = event_new(st->base, -1, 0, on_scrub_timer, st);
    if (!st->scrub_ev)
        return ERR_NOMEM;
    if (st->opts.scrub_bytes_per_sec)
        event_add(st->scrub_ev, &now); /* the start-up pass */
    return 0;
}

struct scrub_check {
    struct scrub_pass p;
    struct inv_copy c;
};

static void check_task(void *arg)
{
    struct scrub_check *k = arg;

    scrub_one(&k->p, &k->c);
}

static void check_done(void *arg)
{
    mem_free(arg);
}

void scrub_check(struct store *st, const struct sha256 *h, int d)
{
    struct scrub_check *k = mem_calloc(1, sizeof(*k));

    if (!k)
        return;
    k->p.st = st;
    k->c.h = *h;
    k->c.d = d;
    if (workq_submit(st->wq_scrub, check_task, check_done, k) < 0)
        mem_free(k);
}

void store__scrub_now(struct store *st, store_done_fn cb, void *arg)
{
    struct err e = ERR_INIT;

    if (submit_pass(st, 0, cb, arg) < 0) {
        err_set(&e, ERR_NOMEM, "scrub: out of memory");
        if (store_defer_done(st, cb, arg, ERR_NOMEM, &e) < 0)
            cb(ERR_NOMEM, &e, arg);
    }
}
