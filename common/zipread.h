/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zipread: a hardened, read-only zip reader for untrusted repository zips
 * (the tufaceous hardening of notes/tuf.md section 2.4). zipread_open()
 * parses the end-of-central-directory record and the central directory
 * itself, with plain reads (libzip does not expose local header offsets),
 * and refuses the whole archive on: not a zip, truncation, an archive
 * comment, trailing data after the EOCD, an entry count that disagrees with
 * the EOCD, a local header whose name differs from the central one,
 * overlapping entry data or data after the start of the central directory,
 * encrypted entries, and compression other than Stored and Deflate. Zip64 is
 * supported. Duplicate names, symlink entries and directory entries are
 * recorded (zipread_entry_at() reports them) and refused when looked up.
 * libzip (opened on the same file with ZIP_RDONLY|ZIP_CHECKCONS) does the
 * decompression; zipread computes the CRC-32 of every stream itself and
 * compares it, and the byte count, at the end of the stream.
 * Nothing is ever extracted to disk. Lookups are by exact name; names with
 * a '..' segment, a leading '/', an empty segment or a backslash are refused.
 * One thread at a time per struct zipread (streams included).
 */
#ifndef COMMON_ZIPREAD_H
#define COMMON_ZIPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;
struct zipread;
struct zipread_stream;

/* Caps of the reader (entries per archive, central directory bytes). */
#define ZIPREAD_MAX_ENTRIES 65536u
#define ZIPREAD_MAX_CDIR (64u * 1024 * 1024)

#define ZIPREAD_STORED 0
#define ZIPREAD_DEFLATE 8

/* One entry, as the central directory describes it. A plain value. */
struct zipread_entry {
    const char *name;        /* borrowed: valid while the zipread lives */
    uint64_t size;           /* uncompressed bytes */
    uint64_t comp_size;      /* compressed bytes */
    uint32_t crc32;
    uint16_t method;         /* ZIPREAD_STORED or ZIPREAD_DEFLATE */
    bool duplicate;          /* another entry has the same name */
    bool symlink;            /* Unix mode says symbolic link */
    bool directory;          /* name ends in '/' or mode/attrs say dir */
    uint64_t header_offset;  /* file offset of the local header */
    uint64_t data_offset;    /* file offset of the entry's (compressed) data */
    uint64_t central_offset; /* file offset of the central directory record */
};

/*
 * Open and check the zip at path (see the top comment for what is refused).
 * On success *out is a new reader (zipread_free it).
 * Returns 0, ERR_IO (cannot open/read the file), ERR_VERIFY (malformed or
 * refused archive; err names the check), ERR_LIMIT (over a ZIPREAD_MAX_*
 * cap) or ERR_NOMEM.
 */
int zipread_open(struct zipread **out, const char *path, struct err *err);

/* Close the archive. zr may be NULL. Every stream must be closed first. */
void zipread_free(struct zipread *zr);

/* Number of entries in the central directory. */
size_t zipread_count(const struct zipread *zr);

/* Entry i (< zipread_count) as a borrowed pointer, or NULL if out of range. */
const struct zipread_entry *zipread_entry_at(const struct zipread *zr,
                                             size_t i);

/*
 * Check a lookup name: non-empty, no leading '/', no backslash, no empty,
 * '.' or '..' segment. Returns 0 or ERR_INVAL.
 */
int zipread_check_name(const char *name, struct err *err);

/*
 * Find the entry called exactly name. On success *out is borrowed.
 * Returns 0, ERR_INVAL (bad name), ERR_NOTFOUND (no such entry) or
 * ERR_VERIFY (the name is duplicated, a symlink or a directory).
 */
int zipread_find(const struct zipread_entry **out, const struct zipread *zr,
                 const char *name, struct err *err);

/*
 * Open entry name as a stream that yields at most cap bytes (the signed
 * length of a target). An entry whose declared size is over cap is refused
 * here. *out is a new stream (zipread_stream_close it); the zipread must
 * outlive it. Returns the zipread_find codes, ERR_LIMIT (over cap),
 * ERR_IO or ERR_NOMEM.
 */
int zipread_stream_open(struct zipread_stream **out, struct zipread *zr,
                        const char *name, uint64_t cap, struct err *err);

/* Declared uncompressed size of the stream's entry. */
uint64_t zipread_stream_size(const struct zipread_stream *s);

/*
 * Read up to len bytes into dst; *out is the count, 0 at the end of the
 * entry. The end is only reported after the CRC-32 and the byte count have
 * been checked, so a corrupt entry always fails by then at the latest.
 * Returns 0, ERR_VERIFY (CRC mismatch, size mismatch, corrupt data),
 * ERR_LIMIT (more than cap bytes) or ERR_IO. After an error the stream
 * only returns that error again.
 */
int zipread_stream_read(size_t *out, struct zipread_stream *s, void *dst,
                        size_t len, struct err *err);

/* Close the stream. s may be NULL. */
void zipread_stream_close(struct zipread_stream *s);

/*
 * Read the whole entry name (at most cap bytes) and append it to out
 * (NUL-terminated by struct buf). On error out's length is unchanged.
 * Returns the zipread_stream_open and zipread_stream_read codes.
 */
int zipread_read_all(struct buf *out, struct zipread *zr, const char *name,
                     uint64_t cap, struct err *err);

#endif
