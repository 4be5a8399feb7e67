/* SPDX-License-Identifier: MPL-2.0 */
/*
 * reconcile: the delete reconciler. On every config change and at
 * start-up, on the meta worker: every <hex> file of a healthy dataset that
 * the current config does not list is moved to trash/ (same name, mtime
 * set to now so retention counts from the deletion), re-checking the
 * current config right before each move; then every wanted artifact
 * missing on a dataset but present in its trash/ is re-hashed and renamed
 * back (restore instead of re-download), and wanted artifacts held by one
 * dataset only are copied to the other. Runs are serialised; a kick during
 * a run schedules one more run. With no config nothing is deleted.
 *
 * A run is two tasks: sweep and restores, then (after the loop told the
 * restore waiters, restore.c) the local repair copies, so a PUT or copy
 * waiting for a restore is not held up by repairs. Each restored hash
 * leaves the pending set (in_progress) once both datasets were dealt with.
 */
#include "sledagent/store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"

static bool still_unwanted(struct store *st, const struct sha256 *h)
{
    bool r;

    pthread_mutex_lock(&st->mu);
    r = st->cfg_state == STORE_CONFIG_OK &&
        !artifact_config_contains(&st->cfg, h) && !st->stopping;
    pthread_mutex_unlock(&st->mu);
    return r;
}

static void move_to_trash(struct store *st, int d, const struct sha256 *h,
                          const char *hex)
{
    struct dataset *ds = &st->ds[d];
    char *from = dataset_path(ds->root, hex);
    char *to = dataset_path(ds->trash, hex);
    struct stat sb;
    time_t now = time(NULL);

    if (!from || !to || stat(from, &sb) < 0)
        goto out;
    /* the config may have changed since the scan: re-check just before */
    if (!still_unwanted(st, h))
        goto out;
    if (utimensat(AT_FDCWD, from, NULL, 0) < 0 || rename(from, to) < 0) {
        if (errno != ENOENT)
            dataset_io_error(st, d, errno, "trash move");
        goto out;
    }
    pthread_mutex_lock(&st->mu);
    inventory_set_locked(st, h, d, 0, false);
    if (trash_add_locked(st, d, h, (uint64_t)sb.st_size, now) < 0)
        log_error("store_trash_nomem", "{s:s}", "sha256", hex);
    st->ctr.trashed++;
    pthread_mutex_unlock(&st->mu);
    log_info("store_artifact_trashed", "{s:s, s:s}", "dataset", ds->root,
             "sha256", hex);
out:
    mem_free(from);
    mem_free(to);
}

static void sweep(struct store *st, int d)
{
    DIR *dir = opendir(st->ds[d].root);
    struct dirent *de;
    unsigned moved = 0;

    if (!dir) {
        dataset_io_error(st, d, errno, "reconcile scan");
        return;
    }
    while ((de = readdir(dir)) != NULL) {
        struct sha256 h;

        if (sha256_from_hex(&h, de->d_name) < 0 || !still_unwanted(st, &h))
            continue;
        move_to_trash(st, d, &h, de->d_name);
        moved++;
    }
    closedir(dir);
    if (moved) {
        dataset_fsync_dir(st->ds[d].root);
        dataset_fsync_dir(st->ds[d].trash);
    }
}

static void restore(struct store *st, int d, const struct sha256 *h)
{
    struct dataset *ds = &st->ds[d];
    char hex[SHA256_HEX_LEN + 1];
    char *from = NULL, *to = NULL;
    struct sha256 got;
    uint64_t size = 0;
    int e = 0;

    sha256_to_hex(hex, h);
    from = dataset_path(ds->trash, hex);
    to = dataset_path(ds->root, hex);
    if (!from || !to)
        goto out;
    if (repair_hash_file(&got, &size, &e, st, from, 0) < 0) {
        if (e != ENOENT && e != ECANCELED)
            dataset_io_error(st, d, e, "trash restore");
        goto out;
    }
    if (!sha256_eq(&got, h)) {
        log_error("store_trash_corrupt", "{s:s, s:s}", "dataset", ds->root,
                  "sha256", hex);
        unlink(from);
        pthread_mutex_lock(&st->mu);
        trash_remove_locked(st, d, h);
        pthread_mutex_unlock(&st->mu);
        goto out;
    }
    if (rename(from, to) < 0) {
        dataset_io_error(st, d, errno, "trash restore");
        goto out;
    }
    dataset_fsync_dir(ds->root);
    pthread_mutex_lock(&st->mu);
    trash_remove_locked(st, d, h);
    inventory_set_locked(st, h, d, size, true);
    st->ctr.restored++;
    pthread_mutex_unlock(&st->mu);
    log_info("store_artifact_restored", "{s:s, s:s}", "dataset", ds->root,
             "sha256", hex);
out:
    mem_free(from);
    mem_free(to);
}

static void reconcile_task(void *arg)
{
    struct store *st = arg;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    bool ok;

    pthread_mutex_lock(&st->mu);
    ok = st->cfg_state == STORE_CONFIG_OK &&
         artifact_config_copy(&cfg, &st->cfg) == 0;
    pthread_mutex_unlock(&st->mu);
    if (!ok)
        return;
    for (int d = 0; d < STORE_DATASETS; d++)
        if (store_ds_healthy(st, d))
            sweep(st, d);
    for (size_t i = 0; i < cfg.count && !store_stopping(st); i++) {
        for (int d = 0; d < STORE_DATASETS; d++) {
            const struct inv_entry *e;
            bool want;

            pthread_mutex_lock(&st->mu);
            e = inventory_get_locked(&st->inv, &cfg.hashes[i]);
            want = st->ds[d].healthy && !(e && e->on[d]) &&
                   trash_has_locked(st, d, &cfg.hashes[i], NULL);
            pthread_mutex_unlock(&st->mu);
            if (want)
                restore(st, d, &cfg.hashes[i]);
        }
        pthread_mutex_lock(&st->mu);
        restore_finished_locked(st, &cfg.hashes[i]);
        pthread_mutex_unlock(&st->mu);
    }
    artifact_config_release(&cfg);
}

static void repair_task(void *arg)
{
    struct store *st = arg;
    uint64_t gen = 0;

    if (!store_stopping(st))
        repair_missing(st);
    pthread_mutex_lock(&st->mu);
    gen = st->cfg.generation;
    pthread_mutex_unlock(&st->mu);
    log_info("store_reconciled", "{s:I}", "generation", (json_int_t)gen);
}

static void reconcile_done(void *arg)
{
    struct store *st = arg;

    st->reconcile_running = false;
    if (st->reconcile_again && !st->stopping) {
        st->reconcile_again = false;
        reconcile_kick(st);
        return;
    }
    /* nothing left to run: whatever is still pending (a dataset went
     * away meanwhile) is not being restored */
    restore_clear(st);
}

static void restores_done(void *arg)
{
    struct store *st = arg;

    restore_notify(st);
    if (st->stopping ||
        workq_submit(st->wq_meta, repair_task, reconcile_done, st) < 0)
        reconcile_done(st);
}

void reconcile_kick(struct store *st)
{
    if (st->stopping || !st->wq_meta)
        return;
    pthread_mutex_lock(&st->mu);
    restore_mark_locked(st);
    pthread_mutex_unlock(&st->mu);
    if (st->reconcile_running) {
        st->reconcile_again = true;
        return;
    }
    if (workq_submit(st->wq_meta, reconcile_task, restores_done, st) == 0)
        st->reconcile_running = true;
    else
        restore_clear(st);
}
