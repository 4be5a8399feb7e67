/* SPDX-License-Identifier: MPL-2.0 */
/*
 * quarantine: upkeep of each dataset's quarantine/ directory, where the
 * scrubber and the dataset scan move corrupt copies (kept for a post
 * mortem, never served, not counted). Like trash/ (trash.c) it has a
 * retention, quarantine_retention_secs, and it also has a cap,
 * quarantine_max_bytes and STORE_QUARANTINE_MAX_FILES per dataset: older
 * entries are deleted first until the rest fits. quarantine/ has no
 * in-memory index (it is empty on a healthy sled): each purge, run by the
 * probe like the trash retention, reads the directory; the sizes found
 * are kept in the dataset for /metrics. Worker (meta) thread, no lock
 * held across I/O.
 */
#include "sledagent/store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"

struct qent {
    char name[256];
    uint64_t size;
    time_t mtime;
};

/* Oldest first; ties by name so the order is stable. */
static int by_age(const void *a, const void *b)
{
    const struct qent *x = a, *y = b;

    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

/*
 * Read up to cap regular files of dir into *out (mem_free it). More
 * entries than cap count in *more (they are purged at the next run, once
 * the oldest are gone). Returns 0, ERR_NOTFOUND (no directory), ERR_IO,
 * ERR_NOMEM.
 */
static int list_dir(struct qent **out, size_t *n, const char *dir)
{
    struct qent *v = NULL, *g;
    size_t cap = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (!d)
        return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
    while ((de = readdir(d)) != NULL) {
        struct stat sb;

        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode) || strlen(de->d_name) >= sizeof(v->name))
            continue;
        g = mem_grow(v, &cap, *n, sizeof(*v), 16);
        if (!g) {
            rc = ERR_NOMEM;
            break;
        }
        v = g;
        memcpy(v[*n].name, de->d_name, strlen(de->d_name) + 1);
        v[*n].size = (uint64_t)sb.st_size;
        v[*n].mtime = sb.st_mtime;
        (*n)++;
    }
    closedir(d);
    if (rc < 0) {
        mem_free(v);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}

/* Delete quarantine/<name> of dataset d. Returns true if it went. */
static bool purge_one(struct store *st, int d, const struct qent *e,
                      const char *why)
{
    char *path = dataset_path(st->ds[d].quarantine, e->name);
    bool ok = path && (unlink(path) == 0 || errno == ENOENT);

    if (path && !ok)
        dataset_io_error(st, d, errno, "quarantine unlink");
    mem_free(path);
    if (!ok)
        return false;
    log_info("store_quarantine_purged", "{s:s, s:s, s:I, s:s}", "dataset",
             st->ds[d].root, "file", e->name, "size", (json_int_t)e->size,
             "reason", why);
    return true;
}

static void purge_dataset(struct store *st, int d, time_t now)
{
    struct qent *v = NULL;
    size_t n = 0, files = 0, purged = 0;
    uint64_t bytes = 0, max_bytes;
    time_t keep;

    pthread_mutex_lock(&st->mu);
    keep = (time_t)st->opts.quarantine_retention_secs;
    max_bytes = st->opts.quarantine_max_bytes;
    if (!st->ds[d].healthy) {
        pthread_mutex_unlock(&st->mu);
        return;
    }
    pthread_mutex_unlock(&st->mu);
    if (list_dir(&v, &n, st->ds[d].quarantine) < 0)
        goto out; /* none (the usual case) or unreadable: nothing known */
    qsort(v, n, sizeof(*v), by_age);
    for (size_t i = 0; i < n; i++)
        bytes += v[i].size;
    files = n;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;

        if (v[i].mtime + keep <= now)
            why = "retention";
        else if (bytes > max_bytes)
            why = "cap_bytes";
        else if (files > STORE_QUARANTINE_MAX_FILES)
            why = "cap_files";
        else
            break; /* the rest is newer and fits */
        if (!purge_one(st, d, &v[i], why))
            continue;
        bytes -= v[i].size;
        files--;
        purged++;
    }
out:
    pthread_mutex_lock(&st->mu);
    st->ds[d].quarantine_bytes = bytes;
    st->ds[d].quarantine_files = v ? files : 0;
    st->ctr.quarantine_purged += purged;
    pthread_mutex_unlock(&st->mu);
    mem_free(v);
}

void quarantine_purge(struct store *st, time_t now)
{
    for (int d = 0; d < STORE_DATASETS; d++)
        if (st->ds[d].configured)
            purge_dataset(st, d, now);
}
