/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_provider: how the TUF verifier reads a repository. A provider is a
 * small vtable of callbacks over some storage (a zip archive in the
 * replicator, a directory in tests and tuf-mkrepo). Paths are relative to
 * the repository root, '/'-separated, never absolute: "metadata/1.root.json",
 * "metadata/timestamp.json", "metadata/1770243026.snapshot.json",
 * "targets/<hex>.artifacts.json". Small files (metadata) are read whole with
 * read_file; target files are streamed with open/read/close so a multi-GiB
 * target is never held in memory. Plain value; no .c file. A provider is
 * used by one thread at a time unless its implementation says otherwise.
 */
#ifndef COMMON_TUF_PROVIDER_H
#define COMMON_TUF_PROVIDER_H

#include <stddef.h>

struct buf;
struct err;

struct tuf_provider_ops {
    /*
     * Append the whole file at path to out (which the caller owns and
     * releases). Returns 0; ERR_NOTFOUND when there is no such file (the
     * verifier relies on this to end the root chain: set err anyway, it
     * is ignored there); ERR_LIMIT when the file is larger than cap bytes
     * (nothing useful is left in out); ERR_IO, ERR_INVAL (a refused
     * archive entry: symlink, duplicate, CRC error ...) or ERR_NOMEM.
     */
    int (*read_file)(void *arg, const char *path, size_t cap,
                     struct buf *out, struct err *err);
    /*
     * Open path for streaming; *out receives an opaque stream handle the
     * caller hands back to read and close. Returns 0, ERR_NOTFOUND, ERR_IO,
     * ERR_INVAL or ERR_NOMEM.
     */
    int (*open)(void *arg, const char *path, void **out, struct err *err);
    /*
     * Read up to cap bytes into dst, *got receiving the count; *got == 0
     * with rc 0 means end of file. Implementations must not read ahead of
     * what is asked by more than their own bounded buffer. Returns 0,
     * ERR_IO, ERR_INVAL (corrupt entry, e.g. CRC) or ERR_NOMEM.
     */
    int (*read)(void *arg, void *stream, void *dst, size_t cap, size_t *got,
                struct err *err);
    /* Close a stream from open (NULL is a no-op). */
    void (*close)(void *arg, void *stream);
};

struct tuf_provider {
    const struct tuf_provider_ops *ops;
    void *arg; /* passed as the first argument of every op */
};

#endif
