/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fsutil: the small filesystem helpers every component needs: atomic
 * replacement of a file (temp file, write, fsync, rename, fsync of the
 * directory), directory fsync, mkdir -p, recursive removal and reading a
 * whole small file under a cap. Errors name the path concerned. Blocking
 * I/O: worker threads, or a main thread before (or outside) its loop.
 */
#ifndef COMMON_FSUTIL_H
#define COMMON_FSUTIL_H

#include <stddef.h>

struct buf;
struct err;

/*
 * Write all len bytes of data to fd, retrying short writes and EINTR.
 * Returns 0, or -errno of the failed write(2) (no struct err: callers
 * word the message and may act on the errno).
 */
int fsutil_write_full(int fd, const void *data, size_t len);

/*
 * fsync the directory dir, so that a rename or create inside it is
 * durable. Returns 0 or ERR_IO ("open DIR: ..." / "fsync DIR: ...");
 * on ERR_IO errno is left set to the cause. err may be NULL.
 */
int fsutil_fsync_dir(const char *dir, struct err *err);

/*
 * Replace path with data[0..len) atomically: the bytes go to tmp (created
 * or truncated with mode, on the same filesystem as path; NULL means
 * "<path>.<pid>.tmp"), which is fsynced and renamed over path, then the
 * directory of path is fsynced. A crash leaves either the old or the new
 * content under path, never a mix; on failure tmp is removed. Returns 0,
 * ERR_IO ("create|write|fsync TMP: ...", "rename PATH: ...", "fsync DIR:
 * ...") or ERR_NOMEM.
 */
int fsutil_write_atomic(const char *path, const char *tmp, const void *data,
                        size_t len, unsigned mode, struct err *err);

/*
 * mkdir -p: create path and any missing parent with mode (existing ones
 * are fine). Returns 0, ERR_INVAL (empty or over PATH_MAX) or ERR_IO
 * ("mkdir DIR: ...").
 */
int fsutil_mkdir_p(const char *path, unsigned mode, struct err *err);

/*
 * rm -rf path (a file or a tree; symbolic links are removed, not
 * followed). A missing path is success. Returns 0, or ERR_IO when path
 * still exists afterwards.
 */
int fsutil_rmrf(const char *path);

/*
 * Append everything readable from fd to out; name (for messages) is the
 * file's path. Returns 0, ERR_LIMIT ("NAME: larger than CAP bytes") once
 * more than cap bytes were read, ERR_IO ("read NAME: ...") or ERR_NOMEM.
 */
int fsutil_read_fd(struct buf *out, int fd, const char *name, size_t cap,
                   struct err *err);

/*
 * Append the whole file path (at most cap bytes) to out. Returns 0,
 * ERR_NOTFOUND ("open PATH: No such file or directory"), ERR_IO, ERR_LIMIT
 * or ERR_NOMEM as fsutil_read_fd.
 */
int fsutil_read_file(struct buf *out, const char *path, size_t cap,
                     struct err *err);

#endif
