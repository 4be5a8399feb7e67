/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fsutil: one implementation of the filesystem helpers that the ledger,
 * the staging manifest, the port files, rack-sim's state and the tests
 * used to write each for themselves (see fsutil.h). No state; any thread.
 */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"

#define FSUTIL_CHUNK 65536

int fsutil_write_full(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int fsutil_fsync_dir(const char *dir, struct err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0, e = 0;

    if (fd < 0) {
        e = errno;
        err_set(err, ERR_IO, "open %s: %s", dir, strerror(e));
        errno = e;
        return ERR_IO;
    }
    if (fsync(fd) < 0) {
        e = errno;
        rc = err_set(err, ERR_IO, "fsync %s: %s", dir, strerror(e));
    }
    close(fd);
    errno = e;
    return rc;
}

/* The directory part of path ("." for a bare name) into out. */
static int dir_of(struct buf *out, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return buf_puts(out, ".");
    if (slash == path)
        return buf_puts(out, "/");
    return buf_append(out, path, (size_t)(slash - path));
}

int fsutil_write_atomic(const char *path, const char *tmp, const void *data,
                        size_t len, unsigned mode, struct err *err)
{
    struct buf dflt = BUF_INIT, dir = BUF_INIT;
    int fd = -1, rc = 0, e;

    if (!tmp) {
        if (buf_printf(&dflt, "%s.%ld.tmp", path, (long)getpid()) < 0) {
            rc = err_set(err, ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
        tmp = dflt.data;
    }
    if (dir_of(&dir, path) < 0) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        rc = err_set(err, ERR_IO, "create %s: %s", tmp, strerror(errno));
        tmp = NULL; /* not ours to remove */
        goto out;
    }
    e = fsutil_write_full(fd, data, len);
    if (e < 0) {
        rc = err_set(err, ERR_IO, "write %s: %s", tmp, strerror(-e));
        goto out;
    }
    if (fsync(fd) < 0) {
        rc = err_set(err, ERR_IO, "fsync %s: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = err_set(err, ERR_IO, "rename %s: %s", path, strerror(errno));
        goto out;
    }
    tmp = NULL; /* renamed: nothing left to remove */
    rc = fsutil_fsync_dir(dir.data, err);
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    buf_release(&dflt);
    buf_release(&dir);
    return rc;
}

int fsutil_mkdir_p(const char *path, unsigned mode, struct err *err)
{
    char b[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(b))
        return err_set(err, ERR_INVAL, "bad path %s", path);
    memcpy(b, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (b[i] != '/' && b[i] != '\0')
            continue;
        b[i] = '\0';
        if (mkdir(b, (mode_t)mode) < 0 && errno != EEXIST)
            return err_set(err, ERR_IO, "mkdir %s: %s", b, strerror(errno));
        b[i] = i < n ? '/' : '\0';
    }
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* keep going: whatever is left is reported by the caller */
}

int fsutil_rmrf(const char *path)
{
    struct stat sb;

    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return ERR_IO;
    return lstat(path, &sb) == 0 ? ERR_IO : 0;
}

int fsutil_read_fd(struct buf *out, int fd, const char *name, size_t cap,
                   struct err *err)
{
    char chunk[FSUTIL_CHUNK];
    size_t total = 0;

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, ERR_IO, "read %s: %s", name, strerror(errno));
        if (n == 0)
            return 0;
        total += (size_t)n;
        if (total > cap)
            return err_set(err, ERR_LIMIT, "%s: larger than %zu bytes", name,
                           cap);
        if (buf_append(out, chunk, (size_t)n) < 0)
            return err_set(err, ERR_NOMEM, "%s: out of memory", name);
    }
}

int fsutil_read_file(struct buf *out, const char *path, size_t cap,
                     struct err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
                       "open %s: %s", path, strerror(errno));
    rc = fsutil_read_fd(out, fd, path, cap, err);
    close(fd);
    return rc;
}
