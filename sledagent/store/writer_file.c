/* SPDX-License-Identifier: MPL-2.0 */
/*
 * writer_file: the per-dataset temp files of a write (see writer.c). It
 * owns w->fd, w->tmp and w->active: creating tmp/<hex>.<random>.tmp
 * (O_EXCL|O_CLOEXEC) on a dataset, writev()ing a batch to every active
 * one, the write-back window (sync_file_range every SYNC_WINDOW bytes, so
 * the final fsync is short), fsync, the rename to <dataset>/<hex> with the
 * directory fsync, and dropping a dataset that fails (its temp file
 * removed; marked unhealthy if it is gone). Called from the write's task:
 * a worker thread, one task per write at a time (at store_close,
 * writer_close_all runs the task on the loop thread once the workers are
 * gone).
 */
#include "sledagent/store/writer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"

/*
 * Write-back is started every SYNC_WINDOW bytes and the window before it is
 * waited for: large enough that the disk queue stays full (8 MiB measured
 * 0.71 of two parallel dd's, 64 MiB 0.95), small enough that the final
 * fsync stays short.
 */
#define SYNC_WINDOW (64ull * 1024 * 1024)

/* Closes and removes dataset d's temp file; d takes no further part. */
static void discard_file(struct store_write *w, int d)
{
    if (w->fd[d] >= 0)
        close(w->fd[d]);
    w->fd[d] = -1;
    if (w->tmp[d])
        unlink(w->tmp[d]);
    w->active[d] = false;
}

void writer_file_drop(struct store_write *w, int d, int e, const char *op)
{
    discard_file(w, d);
    log_warn("store_write_dataset_dropped", "{s:s, s:s, s:s, s:s}", "sha256",
             w->hex, "dataset", w->st->ds[d].root, "op", op, "error",
             strerror(e));
    if (e != ENOSPC && e != EDQUOT)
        dataset_io_error(w->st, d, e, op);
}

unsigned writer_file_active_count(const struct store_write *w)
{
    unsigned n = 0;

    for (int d = 0; d < STORE_DATASETS; d++)
        n += w->active[d];
    return n;
}

void writer_file_cleanup(struct store_write *w)
{
    for (int d = 0; d < STORE_DATASETS; d++)
        discard_file(w, d);
}

void writer_file_create(struct store_write *w, int d)
{
    struct store *st = w->st;

    /* a positional write chose its paths at begin; it reads its pieces
     * back for the whole sha256, hence O_RDWR */
    w->tmp[d] = w->ptmp[d] ? mem_strdup(w->ptmp[d])
                           : dataset_temp_path(st->ds[d].tmp, w->hex);
    if (!w->tmp[d])
        return;
    w->fd[d] = open(w->tmp[d], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd[d] < 0) {
        int e = errno;

        mem_free(w->tmp[d]);
        w->tmp[d] = NULL;
        writer_file_drop(w, d, e, "create temp");
        return;
    }
    w->active[d] = true;
    if (w->expected > 0 && !w->ptmp[d])
        posix_fadvise(w->fd[d], 0, w->expected, POSIX_FADV_SEQUENTIAL);
}

static int write_iov(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t k = writev(fd, iov, n > IOV_MAX ? IOV_MAX : n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        while (n > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

void writer_file_write(struct store_write *w, const struct iovec *iov, int n)
{
    struct iovec copy[WRITER_IOV];

    for (int d = 0; d < STORE_DATASETS; d++) {
        int e;

        if (!w->active[d])
            continue;
        memcpy(copy, iov, sizeof(iov[0]) * (size_t)n);
        e = write_iov(w->fd[d], copy, n);
        if (e < 0)
            writer_file_drop(w, d, -e, "write");
    }
}

/*
 * Start write-back of the new window on every dataset first, then wait
 * for and drop the older windows: both disks get their new window queued
 * before we block on either.
 */
void writer_file_sync_progress(struct store_write *w)
{
    if (w->written - w->synced_to < SYNC_WINDOW)
        return;
    for (int d = 0; d < STORE_DATASETS; d++)
        if (w->active[d])
            sync_file_range(w->fd[d], (off64_t)w->synced_to,
                            (off64_t)(w->written - w->synced_to),
                            SYNC_FILE_RANGE_WRITE);
    for (int d = 0; d < STORE_DATASETS && w->synced_to > w->prev_sync;
         d++) {
        if (!w->active[d])
            continue;
        sync_file_range(w->fd[d], (off64_t)w->prev_sync,
                        (off64_t)(w->synced_to - w->prev_sync),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
        posix_fadvise(w->fd[d], (off_t)w->prev_sync,
                      (off_t)(w->synced_to - w->prev_sync),
                      POSIX_FADV_DONTNEED);
    }
    w->prev_sync = w->synced_to;
    w->synced_to = w->written;
}

void writer_file_fsync(struct store_write *w)
{
    for (int d = 0; d < STORE_DATASETS; d++)
        if (w->active[d] && fsync(w->fd[d]) < 0)
            writer_file_drop(w, d, errno, "fsync");
}

int writer_file_commit(struct store_write *w, int d)
{
    struct store *st = w->st;
    char *final;
    int e;

    close(w->fd[d]);
    w->fd[d] = -1;
    final = dataset_path(st->ds[d].root, w->hex);
    if (!final || rename(w->tmp[d], final) < 0) {
        e = final ? errno : ENOMEM;
        mem_free(final);
        writer_file_drop(w, d, e, "rename");
        return -1;
    }
    mem_free(final);
    mem_free(w->tmp[d]);
    w->tmp[d] = NULL;
    w->active[d] = false;
    e = dataset_fsync_dir(st->ds[d].root);
    if (e < 0) {
        writer_file_drop(w, d, -e, "fsync dir");
        return -1;
    }
    return 0;
}
