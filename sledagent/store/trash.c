/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trash: the per-dataset trash/ directory of deleted artifacts and its
 * in-memory index (hash, size, time of deletion). Entries are purged when
 * older than trash_retention_secs, and oldest first when a write needs
 * the space. The index lives under st->mu; unlinks run on worker threads
 * (probe, writer) with no lock held.
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

int trash_add_locked(struct store *st, int d, const struct sha256 *h,
                     uint64_t size, time_t mtime)
{
    struct dataset *ds = &st->ds[d];
    struct trash_ent *n;

    trash_remove_locked(st, d, h);
    n = mem_grow(ds->trash_ents, &ds->trash_cap, ds->trash_count, sizeof(*n),
                 64);
    if (!n)
        return ERR_NOMEM;
    ds->trash_ents = n;
    ds->trash_ents[ds->trash_count].h = *h;
    ds->trash_ents[ds->trash_count].size = size;
    ds->trash_ents[ds->trash_count].mtime = mtime;
    ds->trash_count++;
    ds->trash_bytes += size;
    return 0;
}

void trash_remove_locked(struct store *st, int d, const struct sha256 *h)
{
    struct dataset *ds = &st->ds[d];

    for (size_t i = 0; i < ds->trash_count; i++) {
        if (!sha256_eq(&ds->trash_ents[i].h, h))
            continue;
        ds->trash_bytes -= ds->trash_ents[i].size;
        ds->trash_ents[i] = ds->trash_ents[--ds->trash_count];
        return;
    }
}

bool trash_has_locked(const struct store *st, int d, const struct sha256 *h,
                      uint64_t *size)
{
    const struct dataset *ds = &st->ds[d];

    for (size_t i = 0; i < ds->trash_count; i++)
        if (sha256_eq(&ds->trash_ents[i].h, h)) {
            if (size)
                *size = ds->trash_ents[i].size;
            return true;
        }
    return false;
}

int trash_scan(struct store *st, int d, struct err *err)
{
    struct dataset *ds = &st->ds[d];
    DIR *dir = opendir(ds->trash);
    struct dirent *de;
    int rc = 0;

    if (!dir)
        return err_set(err, ERR_IO, "opendir %s: %s", ds->trash,
                       strerror(errno));
    pthread_mutex_lock(&st->mu);
    ds->trash_count = 0;
    ds->trash_bytes = 0;
    pthread_mutex_unlock(&st->mu);
    while ((de = readdir(dir)) != NULL) {
        struct sha256 h;
        struct stat sb;

        if (sha256_from_hex(&h, de->d_name) < 0 ||
            fstatat(dirfd(dir), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        pthread_mutex_lock(&st->mu);
        rc = trash_add_locked(st, d, &h, (uint64_t)sb.st_size, sb.st_mtime);
        pthread_mutex_unlock(&st->mu);
        if (rc < 0) {
            err_set(err, rc, "trash: out of memory");
            break;
        }
    }
    closedir(dir);
    return rc;
}

/* Unlink trash/<h> of dataset d and drop it from the index. */
static void purge_one(struct store *st, int d, const struct sha256 *h,
                      const char *why)
{
    char hex[SHA256_HEX_LEN + 1];
    char *path;

    sha256_to_hex(hex, h);
    path = dataset_path(st->ds[d].trash, hex);
    if (path && unlink(path) < 0 && errno != ENOENT)
        dataset_io_error(st, d, errno, "trash unlink");
    mem_free(path);
    pthread_mutex_lock(&st->mu);
    trash_remove_locked(st, d, h);
    st->ctr.trash_purged++;
    pthread_mutex_unlock(&st->mu);
    log_info("store_trash_purged", "{s:s, s:s, s:s}", "dataset",
             st->ds[d].root, "sha256", hex, "reason", why);
}

void trash_purge_expired(struct store *st, time_t now)
{
    for (int d = 0; d < STORE_DATASETS; d++) {
        for (;;) {
            struct sha256 h;
            bool found = false;

            pthread_mutex_lock(&st->mu);
            for (size_t i = 0; st->ds[d].healthy && i < st->ds[d].trash_count;
                 i++) {
                const struct trash_ent *t = &st->ds[d].trash_ents[i];

                if (t->mtime + (time_t)st->opts.trash_retention_secs <= now) {
                    h = t->h;
                    found = true;
                    break;
                }
            }
            pthread_mutex_unlock(&st->mu);
            if (!found)
                break;
            purge_one(st, d, &h, "retention");
        }
    }
}

void trash_purge_for_space(struct store *st, int d, uint64_t need)
{
    struct dataset *ds = &st->ds[d];

    (void)need; /* our reservation is already part of ds->reserved */
    for (;;) {
        uint64_t fb = 0;
        struct sha256 h;
        bool enough, found = false;

        if (dataset_statfs(&fb, ds) < 0)
            return;
        pthread_mutex_lock(&st->mu);
        ds->free_bytes = fb;
        enough = fb >= st->opts.reserve_bytes + ds->reserved &&
                 (!store_quota(st, d) ||
                  ds->artifact_bytes + ds->trash_bytes + ds->reserved <=
                      store_quota(st, d));
        if (!enough && ds->trash_count > 0) {
            size_t oldest = 0;

            for (size_t i = 1; i < ds->trash_count; i++)
                if (ds->trash_ents[i].mtime < ds->trash_ents[oldest].mtime)
                    oldest = i;
            h = ds->trash_ents[oldest].h;
            found = true;
        }
        pthread_mutex_unlock(&st->mu);
        if (!found)
            return;
        purge_one(st, d, &h, "space");
    }
}

struct purge_req {
    struct store *st;
    time_t now;
    store_done_fn cb;
    void *arg;
};

static void purge_task(void *arg)
{
    struct purge_req *p = arg;

    trash_purge_expired(p->st, p->now);
}

static void purge_done(void *arg)
{
    struct purge_req *p = arg;

    p->cb(0, NULL, p->arg);
    mem_free(p);
}

void store__purge_trash(struct store *st, int64_t now, store_done_fn cb,
                        void *arg)
{
    struct purge_req *p = mem_calloc(1, sizeof(*p));
    struct err e = ERR_INIT;

    if (p) {
        p->st = st;
        p->now = (time_t)now;
        p->cb = cb;
        p->arg = arg;
        if (workq_submit(st->wq_meta, purge_task, purge_done, p) == 0)
            return;
        mem_free(p);
    }
    err_set(&e, ERR_NOMEM, "trash: out of memory");
    if (store_defer_done(st, cb, arg, ERR_NOMEM, &e) < 0)
        cb(ERR_NOMEM, &e, arg);
}
