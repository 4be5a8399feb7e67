/* SPDX-License-Identifier: MPL-2.0 */
/*
 * dataset: one dataset directory of the store (root with flat <hex>
 * artifact files, tmp/, trash/, quarantine/): paths, preparation, tmp/
 * purge, free space, directory fsync, run-time health from I/O errors, and
 * the scan of artifact files into the inventory. Functions here do disk
 * I/O and run on worker threads (or in store_open before serving); the
 * health and inventory updates take st->mu.
 */
#include "sledagent/store/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/mem.h"

/* sha256 of the empty string: the only valid zero-length artifact. */
static const char EMPTY_HEX[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

char *dataset_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = mem_alloc(a + b + 2);

    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

int dataset_init(struct dataset *ds, int idx, const char *root)
{
    memset(ds, 0, sizeof(*ds));
    ds->idx = idx;
    if (!root)
        return 0;
    ds->configured = true;
    ds->root = mem_strdup(root);
    ds->tmp = dataset_path(root, "tmp");
    ds->trash = dataset_path(root, "trash");
    ds->quarantine = dataset_path(root, "quarantine");
    if (!ds->root || !ds->tmp || !ds->trash || !ds->quarantine)
        return ERR_NOMEM;
    return 0;
}

void dataset_release(struct dataset *ds)
{
    mem_free(ds->root);
    mem_free(ds->tmp);
    mem_free(ds->trash);
    mem_free(ds->quarantine);
    mem_free(ds->trash_ents);
    memset(ds, 0, sizeof(*ds));
}

static int ensure_dir(const char *path, struct err *err)
{
    struct stat sb;

    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return err_set(err, ERR_IO, "mkdir %s: %s", path, strerror(errno));
    if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return err_set(err, ERR_IO, "%s is not a directory", path);
    return 0;
}

int dataset_prepare(struct dataset *ds, struct err *err)
{
    struct stat sb;
    int rc;

    if (!ds->configured)
        return err_set(err, ERR_UNAVAIL, "dataset %d not configured", ds->idx);
    if (stat(ds->root, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return err_set(err, ERR_UNAVAIL, "dataset %s: %s", ds->root,
                       errno ? strerror(errno) : "not a directory");
    rc = ensure_dir(ds->tmp, err);
    if (rc == 0)
        rc = ensure_dir(ds->trash, err);
    return rc;
}

int dataset_purge_tmp(const struct dataset *ds, struct err *err)
{
    DIR *dir = opendir(ds->tmp);
    struct dirent *de;
    int rc = 0;

    if (!dir)
        return err_set(err, ERR_IO, "opendir %s: %s", ds->tmp,
                       strerror(errno));
    while ((de = readdir(dir)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && errno != ENOENT) {
            rc = err_set(err, ERR_IO, "unlink %s/%s: %s", ds->tmp,
                         de->d_name, strerror(errno));
            break;
        }
        log_info("store_tmp_purged", "{s:s, s:s}", "dataset", ds->root,
                 "file", de->d_name);
    }
    closedir(dir);
    return rc;
}

int dataset_statfs(uint64_t *out, const struct dataset *ds)
{
    struct statvfs sv;

    if (statvfs(ds->root, &sv) < 0)
        return ERR_IO;
    *out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    return 0;
}

int dataset_fsync_dir(const char *path)
{
    /* fsutil leaves errno set to the cause, which dataset_io_error reads */
    return fsutil_fsync_dir(path, NULL) < 0 ? -errno : 0;
}

void dataset_set_healthy_locked(struct store *st, int d, bool healthy)
{
    struct dataset *ds = &st->ds[d];

    if (ds->healthy == healthy)
        return;
    ds->healthy = healthy;
    if (healthy)
        log_info("store_dataset_healthy", "{s:s}", "dataset", ds->root);
    else
        log_error("store_dataset_unhealthy", "{s:s}", "dataset", ds->root);
}

static bool is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

void dataset_io_error(struct store *st, int d, int e, const char *what)
{
    struct dataset *ds = &st->ds[d];
    bool gone = false;

    switch (e) {
    case EIO:
    case ENXIO:
    case ENODEV:
    case EROFS:
        gone = true;
        break;
    case ENOENT:
    case ENOTDIR:
    case ESTALE:
        gone = !is_dir(ds->root) || !is_dir(ds->tmp);
        break;
    default:
        break;
    }
    log_warn("store_dataset_io_error", "{s:s, s:s, s:s, s:b}", "dataset",
             ds->root, "op", what, "error", strerror(e), "gone", gone);
    pthread_mutex_lock(&st->mu);
    st->ctr.ds_errors[d]++;
    if (gone)
        dataset_set_healthy_locked(st, d, false);
    pthread_mutex_unlock(&st->mu);
}

char *dataset_temp_path(const char *dir, const char *hex)
{
    uint8_t rnd[8];
    char rhex[17], name[SHA256_HEX_LEN + 32];

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        /* getrandom cannot fail for 8 bytes after boot; fall back anyway */
        uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)rnd;

        memcpy(rnd, &t, sizeof(rnd));
    }
    hex_encode(rhex, rnd, sizeof(rnd));
    snprintf(name, sizeof(name), "%s.%s.tmp", hex, rhex);
    return dataset_path(dir, name);
}

/* Move a bad file aside into quarantine/ (never served, not counted). */
static void quarantine_file(const struct dataset *ds, const char *name)
{
    char *from = dataset_path(ds->root, name);
    char *to = dataset_temp_path(ds->quarantine, name);

    if (from && to && (mkdir(ds->quarantine, 0755) == 0 || errno == EEXIST) &&
        rename(from, to) == 0)
        log_error("store_quarantined", "{s:s, s:s, s:s}", "dataset",
                  ds->root, "sha256", name, "reason", "empty file");
    mem_free(from);
    mem_free(to);
}

int dataset_scan(struct store *st, int d, struct err *err)
{
    struct dataset *ds = &st->ds[d];
    DIR *dir = opendir(ds->root);
    struct dirent *de;
    int rc = 0;

    if (!dir)
        return err_set(err, ERR_IO, "opendir %s: %s", ds->root,
                       strerror(errno));
    pthread_mutex_lock(&st->mu);
    inventory_clear_dataset_locked(st, d);
    pthread_mutex_unlock(&st->mu);
    while ((de = readdir(dir)) != NULL) {
        struct sha256 h;
        struct stat sb;

        /* non-hex names (ledger, tmp, trash, quarantine) are not ours */
        if (sha256_from_hex(&h, de->d_name) < 0)
            continue;
        if (fstatat(dirfd(dir), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        if (sb.st_size == 0 && strcmp(de->d_name, EMPTY_HEX) != 0) {
            quarantine_file(ds, de->d_name);
            continue;
        }
        pthread_mutex_lock(&st->mu);
        rc = inventory_set_locked(st, &h, d, (uint64_t)sb.st_size, true);
        pthread_mutex_unlock(&st->mu);
        if (rc < 0) {
            err_set(err, rc, "inventory: out of memory");
            break;
        }
    }
    closedir(dir);
    return rc;
}
