/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zipread_internal: the archive object shared by zipread.c (open, checks,
 * lookup) and zipread_stream.c (reading entries). Not for other modules.
 */
#ifndef COMMON_ZIPREAD_INTERNAL_H
#define COMMON_ZIPREAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <zip.h>

struct err;
struct zipread_entry;

struct zipread {
    int fd;
    uint64_t file_size;
    uint64_t cdir_offset;
    zip_t *za;
    size_t count;
    struct zipread_entry *entries;
    struct zipread_entry **byname; /* sorted by name, for bsearch */
};

/*
 * pread exactly n bytes at off into dst. ERR_VERIFY when the file is too
 * short (what names the structure being read), ERR_IO on a read error.
 */
int zipread__read_at(struct zipread *zr, void *dst, size_t n, uint64_t off,
                     const char *what, struct err *err);

#endif
