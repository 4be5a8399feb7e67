/* SPDX-License-Identifier: MPL-2.0 */
/*
 * restore: the restores from trash/ that a config change (or a PUT or
 * copy of a trashed artifact) started, as the list and the HTTP layer see
 * them (DESIGN.md section 3: "an artifact that a later config wants again
 * is restored from trash, not re-downloaded").
 *
 * It owns the pending set (st->restoring, under st->mu): every hash of the
 * current config that sits in trash/ of a healthy dataset which does not
 * hold it. The set is filled on the loop thread whenever the reconciler
 * is kicked (config committed, store opened, dataset back), so from the
 * moment a config is accepted until the reconciler restored (or failed to
 * restore) the hash it is listed in "in_progress" of GET /artifacts and
 * the controller plans no copy for it (bug D: the restore is
 * asynchronous, the controller lists at once). The reconciler's worker
 * drops each hash once it has dealt with it on every dataset.
 *
 * It also owns the waiters (loop thread only): PUTs and copies of a hash
 * that is pending, which are answered from the restored copies instead of
 * downloading the bytes again (store_restore_wait).
 */
#include "sledagent/store/store_internal.h"

#include <string.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"

struct restore_waiter {
    struct restore_waiter *next;
    struct sha256 h;
    store_write_done_fn cb;
    void *arg;
};

static ssize_t find_locked(const struct store *st, const struct sha256 *h)
{
    for (size_t i = 0; i < st->nrestoring; i++)
        if (sha256_eq(&st->restoring[i], h))
            return (ssize_t)i;
    return -1;
}

bool restore_pending_locked(const struct store *st, const struct sha256 *h)
{
    return find_locked(st, h) >= 0;
}

static int add_locked(struct store *st, const struct sha256 *h)
{
    struct sha256 *n;

    if (find_locked(st, h) >= 0)
        return 0;
    n = mem_grow(st->restoring, &st->restoring_cap, st->nrestoring,
                 sizeof(*n), 16);
    if (!n)
        return ERR_NOMEM;
    st->restoring = n;
    st->restoring[st->nrestoring++] = *h;
    listcache_changed_locked(st); /* joins in_progress */
    return 0;
}

/* Whether dataset d should get h back from its trash/. st->mu held. */
static bool wants_restore_locked(const struct store *st, int d,
                                 const struct sha256 *h)
{
    const struct inv_entry *e;

    if (!st->ds[d].healthy || !trash_has_locked(st, d, h, NULL))
        return false;
    e = inventory_get_locked(&st->inv, h);
    return !(e && e->on[d]);
}

void restore_mark_locked(struct store *st)
{
    if (st->cfg_state != STORE_CONFIG_OK)
        return;
    for (int d = 0; d < STORE_DATASETS; d++) {
        const struct dataset *ds = &st->ds[d];

        for (size_t i = 0; ds->healthy && i < ds->trash_count; i++) {
            const struct sha256 *h = &ds->trash_ents[i].h;

            if (!artifact_config_contains(&st->cfg, h) ||
                !wants_restore_locked(st, d, h))
                continue;
            if (add_locked(st, h) < 0)
                log_error("store_restore_nomem", "{s:s}", "what",
                          "pending restore");
        }
    }
}

void restore_finished_locked(struct store *st, const struct sha256 *h)
{
    ssize_t i = find_locked(st, h);

    if (i < 0)
        return;
    st->restoring[i] = st->restoring[--st->nrestoring];
    listcache_changed_locked(st); /* leaves in_progress */
}

void restore_clear(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    if (st->nrestoring)
        listcache_changed_locked(st);
    st->nrestoring = 0;
    pthread_mutex_unlock(&st->mu);
    restore_notify(st);
}

void restore_notify(struct store *st)
{
    struct restore_waiter **pp = &st->waiters;

    while (*pp) {
        struct restore_waiter *w = *pp;
        struct err e = ERR_INIT;
        char hex[SHA256_HEX_LEN + 1];
        unsigned copies = 0, datasets = 0;
        bool pending;
        int rc = 0;

        pthread_mutex_lock(&st->mu);
        pending = !st->stopping && restore_pending_locked(st, &w->h);
        if (!pending) {
            copies = inventory_count_locked(st, &w->h);
            for (int d = 0; d < STORE_DATASETS; d++)
                datasets += st->ds[d].healthy;
        }
        pthread_mutex_unlock(&st->mu);
        if (pending) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        sha256_to_hex(hex, &w->h);
        if (st->stopping)
            rc = err_set(&e, ERR_UNAVAIL, "store closing");
        else if (copies == 0)
            rc = err_set(&e, ERR_IO, "restore of %s from trash failed", hex);
        w->cb(rc, rc ? &e : NULL, datasets, copies, w->arg);
        mem_free(w);
        /* the callback may have added waiters: start over (a handful) */
        pp = &st->waiters;
    }
}

int store_restore_wait(struct store *st, const struct sha256 *h,
                       uint64_t generation, store_write_done_fn cb,
                       void *arg, struct err *err)
{
    struct restore_waiter *w = mem_calloc(1, sizeof(*w));
    char hex[SHA256_HEX_LEN + 1];
    bool pending = false, kick = false;
    int rc = 0;

    sha256_to_hex(hex, h);
    pthread_mutex_lock(&st->mu);
    rc = store_config_refused_locked(st, err);
    if (rc == 0 && st->cfg_state == STORE_CONFIG_NONE)
        rc = err_set(err, ERR_INVAL, "no artifact config yet");
    else if (rc == 0 && generation != st->cfg.generation)
        rc = err_set(err, ERR_CONFLICT,
                     "generation %llu is not the current %llu",
                     (unsigned long long)generation,
                     (unsigned long long)st->cfg.generation);
    else if (rc == 0 && !artifact_config_contains(&st->cfg, h))
        rc = err_set(err, ERR_INVAL, "artifact %s is not in generation %llu",
                     hex, (unsigned long long)generation);
    if (rc == 0) {
        pending = restore_pending_locked(st, h);
        for (int d = 0; !pending && d < STORE_DATASETS; d++)
            kick = kick || wants_restore_locked(st, d, h);
        if (!pending && !kick)
            rc = err_set(err, ERR_NOTFOUND, "artifact %s is not in trash",
                         hex);
        else if (!w)
            rc = err_set(err, ERR_NOMEM, "store: out of memory");
        else if (kick)
            rc = add_locked(st, h) < 0
                     ? err_set(err, ERR_NOMEM, "store: out of memory")
                     : 0;
    }
    pthread_mutex_unlock(&st->mu);
    if (rc < 0)
        goto out;
    if (kick) {
        reconcile_kick(st);
        if (!st->reconcile_running) {
            pthread_mutex_lock(&st->mu);
            restore_finished_locked(st, h);
            pthread_mutex_unlock(&st->mu);
            rc = err_set(err, ERR_NOMEM, "store: cannot start the restore");
            goto out;
        }
    }
    w->h = *h;
    w->cb = cb;
    w->arg = arg;
    w->next = st->waiters;
    st->waiters = w;
    w = NULL;
    log_info("store_restore_wait", "{s:s, s:b}", "sha256", hex, "started",
             kick);
out:
    mem_free(w);
    return rc;
}

int restore_put_in_progress_locked(struct buf *b, const struct store *st)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < st->nrestoring; i++) {
        char q[SHA256_HEX_LEN + 3];

        q[0] = '"';
        sha256_to_hex(q + 1, &st->restoring[i]);
        q[SHA256_HEX_LEN + 1] = '"';
        q[SHA256_HEX_LEN + 2] = '\0';
        rc = buf_append(b, q, SHA256_HEX_LEN + 2);
    }
    return rc;
}

void restore_close(struct store *st)
{
    restore_notify(st); /* st->stopping: every waiter gets ERR_UNAVAIL */
    mem_free(st->restoring);
    st->restoring = NULL;
    st->nrestoring = st->restoring_cap = 0;
}
