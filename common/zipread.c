/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zipread: the hardened zip reader (see zipread.h). The EOCD, the zip64
 * records, the central directory and every local header are parsed here
 * with pread(), because the checks need what libzip keeps private (local
 * header offsets, the exact position of the EOCD). libzip, opened on a dup
 * of the same file descriptor, only decompresses Deflate entries; Stored
 * entries (every tufaceous target) are read here with pread(), so their
 * bytes are copied once and CRC'd once. This file owns the archive: open,
 * structure checks, entry lookup; zipread_stream.c reads entries.
 */
#include "common/zipread.h"
#include "common/zipread_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "common/err.h"
#include "common/mem.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_DESC 0x08074b50u
#define EOCD_LEN 22u
#define LOC64_LEN 20u
#define CENTRAL_LEN 46u
#define LOCAL_LEN 30u
#define HOST_UNIX 3u

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

/* Read exactly n bytes at off; a short read means the file is truncated. */
int zipread__read_at(struct zipread *zr, void *dst, size_t n, uint64_t off,
                     const char *what, struct err *err)
{
    size_t got = 0;

    if (off > zr->file_size || n > zr->file_size - off)
        return err_set(err, ERR_VERIFY,
                       "zip truncated: %s at offset %llu runs past the end",
                       what, (unsigned long long)off);
    while (got < n) {
        ssize_t r = pread(zr->fd, (uint8_t *)dst + got, n - got,
                          (off_t)(off + got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set(err, ERR_IO, "zip read: %s", strerror(errno));
        if (r == 0)
            return err_set(err, ERR_VERIFY, "zip truncated while reading %s",
                           what);
        got += (size_t)r;
    }
    return 0;
}

/* Locate the EOCD; it must end the file exactly (no comment, no trailer). */
static int find_eocd(uint64_t *out, struct zipread *zr, struct err *err)
{
    uint8_t *tail = NULL;
    size_t n;
    uint64_t start;
    int rc = 0;

    if (zr->file_size < EOCD_LEN) {
        rc = err_set(err, ERR_VERIFY,
                     "not a zip file: %llu bytes, too short for an end of "
                     "central directory record",
                     (unsigned long long)zr->file_size);
        goto out;
    }
    n = zr->file_size < EOCD_LEN + 65535u ? (size_t)zr->file_size
                                          : EOCD_LEN + 65535u + 64u;
    if (n > zr->file_size)
        n = (size_t)zr->file_size;
    start = zr->file_size - n;
    tail = mem_alloc(n);
    if (!tail) {
        rc = err_set(err, ERR_NOMEM, "zip: out of memory");
        goto out;
    }
    rc = zipread__read_at(zr, tail, n, start, "end of central directory", err);
    if (rc < 0)
        goto out;
    if (le32(tail + n - EOCD_LEN) == SIG_EOCD &&
        le16(tail + n - EOCD_LEN + 20) == 0) {
        *out = zr->file_size - EOCD_LEN;
        goto out;
    }
    /* Not at the very end: find out why, for a precise refusal. */
    for (size_t i = n - EOCD_LEN + 1; i-- > 0;) {
        uint16_t clen;
        uint64_t end;

        if (le32(tail + i) != SIG_EOCD)
            continue;
        clen = le16(tail + i + 20);
        end = start + i + EOCD_LEN + clen;
        if (clen > 0 && end <= zr->file_size)
            rc = err_set(err, ERR_VERIFY,
                         "zip has an archive comment (%u bytes); "
                         "comments are refused",
                         (unsigned)clen);
        else
            rc = err_set(err, ERR_VERIFY,
                         "zip has %llu bytes of trailing data after the end "
                         "of central directory record",
                         (unsigned long long)(zr->file_size -
                                              (start + i + EOCD_LEN)));
        goto out;
    }
    rc = err_set(err, ERR_VERIFY,
                 "not a zip file or truncated: no end of central directory "
                 "record at the end of the file");
out:
    mem_free(tail);
    return rc;
}

/* The central directory's offset, size and entry count from (zip64) EOCD. */
static int read_eocd(uint64_t *cd_off, uint64_t *cd_size, uint64_t *count,
                     struct zipread *zr, struct err *err)
{
    uint8_t e[EOCD_LEN], loc[LOC64_LEN], z[56];
    uint64_t eocd = 0, cd_end;
    bool zip64 = false;
    int rc = find_eocd(&eocd, zr, err);

    if (rc < 0)
        return rc;
    rc = zipread__read_at(zr, e, sizeof(e), eocd, "end of central directory", err);
    if (rc < 0)
        return rc;
    if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != le16(e + 10))
        return err_set(err, ERR_VERIFY, "multi-disk zip archives are refused");
    *count = le16(e + 10);
    *cd_size = le32(e + 12);
    *cd_off = le32(e + 16);
    cd_end = eocd;
    if (eocd >= LOC64_LEN) {
        rc = zipread__read_at(zr, loc, sizeof(loc), eocd - LOC64_LEN, "zip64 locator",
                     err);
        if (rc < 0)
            return rc;
        zip64 = le32(loc) == SIG_LOC64;
    }
    if (!zip64 && (*count == 0xffff || *cd_size == 0xffffffffu ||
                   *cd_off == 0xffffffffu))
        return err_set(err, ERR_VERIFY,
                       "zip64 end of central directory locator missing");
    if (zip64) {
        uint64_t z64 = le64(loc + 8);

        if (le32(loc + 4) != 0 || le32(loc + 16) != 1)
            return err_set(err, ERR_VERIFY,
                           "multi-disk zip archives are refused");
        rc = zipread__read_at(zr, z, sizeof(z), z64, "zip64 end of central directory",
                     err);
        if (rc < 0)
            return rc;
        if (le32(z) != SIG_EOCD64 || le64(z + 4) < 44 ||
            z64 + 12 + le64(z + 4) != eocd - LOC64_LEN)
            return err_set(err, ERR_VERIFY,
                           "bad zip64 end of central directory record");
        if (le32(z + 16) != 0 || le32(z + 20) != 0 ||
            le64(z + 24) != le64(z + 32))
            return err_set(err, ERR_VERIFY,
                           "multi-disk zip archives are refused");
        *count = le64(z + 32);
        *cd_size = le64(z + 40);
        *cd_off = le64(z + 48);
        cd_end = z64;
    }
    if (*cd_off > cd_end || *cd_size != cd_end - *cd_off)
        return err_set(err, ERR_VERIFY,
                       "central directory (offset %llu, %llu bytes) does not "
                       "end at the end of central directory record",
                       (unsigned long long)*cd_off,
                       (unsigned long long)*cd_size);
    if (*count > ZIPREAD_MAX_ENTRIES)
        return err_set(err, ERR_LIMIT, "zip has %llu entries, over the cap of %u",
                       (unsigned long long)*count, ZIPREAD_MAX_ENTRIES);
    if (*cd_size > ZIPREAD_MAX_CDIR)
        return err_set(err, ERR_LIMIT,
                       "zip central directory is %llu bytes, over the cap of %u",
                       (unsigned long long)*cd_size, ZIPREAD_MAX_CDIR);
    return 0;
}

/* Apply the zip64 extra field (id 1) to the saturated fields of a record. */
static int apply_zip64(struct zipread_entry *e, const uint8_t *x, size_t xlen,
                       bool need_u, bool need_c, bool need_o, struct err *err)
{
    size_t pos = 0;

    while (pos + 4 <= xlen) {
        uint16_t id = le16(x + pos), len = le16(x + pos + 2);
        const uint8_t *d = x + pos + 4;
        size_t at = 0;

        if (pos + 4 + len > xlen)
            break;
        if (id == 1) {
            if (need_u && at + 8 <= len) {
                e->size = le64(d + at);
                at += 8;
                need_u = false;
            }
            if (need_c && at + 8 <= len) {
                e->comp_size = le64(d + at);
                at += 8;
                need_c = false;
            }
            if (need_o && at + 8 <= len) {
                e->header_offset = le64(d + at);
                need_o = false;
            }
        }
        pos += 4u + len;
    }
    if (need_u || need_c || need_o)
        return err_set(err, ERR_VERIFY, "entry %s: zip64 extra field missing",
                       e->name);
    return 0;
}

static int parse_cdir(struct zipread *zr, const uint8_t *cd, uint64_t cd_size,
                      uint64_t count, struct err *err)
{
    size_t pos = 0;

    for (size_t i = 0; i < count; i++) {
        struct zipread_entry *e = &zr->entries[i];
        const uint8_t *r = cd + pos;
        uint16_t made, flags, nlen, xlen, clen;
        uint32_t ext, mode;
        int rc;

        if (cd_size - pos < CENTRAL_LEN || le32(r) != SIG_CENTRAL)
            return err_set(err, ERR_VERIFY,
                           "zip entry count mismatch: the end of central "
                           "directory says %llu entries, found %zu",
                           (unsigned long long)count, i);
        made = le16(r + 4);
        flags = le16(r + 8);
        nlen = le16(r + 28);
        xlen = le16(r + 30);
        clen = le16(r + 32);
        ext = le32(r + 38);
        if (cd_size - pos - CENTRAL_LEN < (uint64_t)nlen + xlen + clen)
            return err_set(err, ERR_VERIFY,
                           "zip central directory record %zu is truncated", i);
        if (memchr(r + CENTRAL_LEN, 0, nlen))
            return err_set(err, ERR_VERIFY, "zip entry %zu: name contains NUL",
                           i);
        e->name = mem_strndup((const char *)r + CENTRAL_LEN, nlen);
        if (!e->name)
            return err_set(err, ERR_NOMEM, "zip: out of memory");
        zr->count = i + 1;
        e->method = le16(r + 10);
        e->crc32 = le32(r + 16);
        e->comp_size = le32(r + 20);
        e->size = le32(r + 24);
        e->header_offset = le32(r + 42);
        e->central_offset = zr->cdir_offset + pos;
        rc = apply_zip64(e, r + CENTRAL_LEN + nlen, xlen,
                         e->size == 0xffffffffu, e->comp_size == 0xffffffffu,
                         e->header_offset == 0xffffffffu, err);
        if (rc < 0)
            return rc;
        if (le16(r + 34) != 0 && le16(r + 34) != 0xffff)
            return err_set(err, ERR_VERIFY,
                           "multi-disk zip archives are refused");
        if (flags & 0x41)
            return err_set(err, ERR_VERIFY, "entry %s is encrypted", e->name);
        if (e->method != ZIPREAD_STORED && e->method != ZIPREAD_DEFLATE)
            return err_set(err, ERR_VERIFY,
                           "entry %s uses compression method %u; only "
                           "Stored and Deflate are supported",
                           e->name, (unsigned)e->method);
        mode = ext >> 16;
        e->symlink = (made >> 8) == HOST_UNIX && (mode & S_IFMT) == S_IFLNK;
        e->directory = (nlen > 0 && e->name[nlen - 1] == '/') ||
                       ((made >> 8) == HOST_UNIX &&
                        (mode & S_IFMT) == S_IFDIR) ||
                       (ext & 0x10);
        pos += CENTRAL_LEN + nlen + xlen + clen;
    }
    if (pos != cd_size)
        return err_set(err, ERR_VERIFY,
                       "zip entry count mismatch: the end of central directory "
                       "says %llu entries, the central directory holds more",
                       (unsigned long long)count);
    return 0;
}

/* Local header name must equal the central one; compute the data span. */
static int check_local(uint64_t *data_end, struct zipread *zr,
                       struct zipread_entry *e, struct err *err)
{
    uint8_t h[LOCAL_LEN], d[4];
    char *lname = NULL;
    size_t nlen = strlen(e->name);
    uint16_t flags;
    uint64_t end;
    int rc;

    if (e->header_offset >= zr->cdir_offset ||
        zr->cdir_offset - e->header_offset < LOCAL_LEN) {
        rc = err_set(err, ERR_VERIFY,
                     "entry %s: data after the start of the central directory",
                     e->name);
        goto out;
    }
    rc = zipread__read_at(zr, h, sizeof(h), e->header_offset, "local header", err);
    if (rc < 0)
        goto out;
    if (le32(h) != SIG_LOCAL) {
        rc = err_set(err, ERR_VERIFY, "entry %s: bad local header signature",
                     e->name);
        goto out;
    }
    flags = le16(h + 6);
    if (le16(h + 26) != nlen) {
        rc = err_set(err, ERR_VERIFY,
                     "entry %s: local header name differs from the central "
                     "directory name",
                     e->name);
        goto out;
    }
    lname = mem_alloc(nlen + 1);
    if (!lname) {
        rc = err_set(err, ERR_NOMEM, "zip: out of memory");
        goto out;
    }
    rc = zipread__read_at(zr, lname, nlen, e->header_offset + LOCAL_LEN, "local name",
                 err);
    if (rc < 0)
        goto out;
    if (memcmp(lname, e->name, nlen) != 0) {
        rc = err_set(err, ERR_VERIFY,
                     "entry %s: local header name differs from the central "
                     "directory name",
                     e->name);
        goto out;
    }
    e->data_offset = e->header_offset + LOCAL_LEN + nlen + le16(h + 28);
    end = e->data_offset + e->comp_size;
    if (end < e->data_offset || end > zr->cdir_offset) {
        rc = err_set(err, ERR_VERIFY,
                     "entry %s: data after the start of the central directory",
                     e->name);
        goto out;
    }
    if (flags & 0x08) {
        /* Data descriptor: optional signature, CRC, then two sizes. */
        rc = zipread__read_at(zr, d, sizeof(d), end, "data descriptor", err);
        if (rc < 0)
            goto out;
        if (le32(d) == SIG_DESC)
            end += 4;
        end += (e->size >= 0xffffffffu || e->comp_size >= 0xffffffffu) ? 20
                                                                       : 12;
        if (end > zr->cdir_offset) {
            rc = err_set(err, ERR_VERIFY,
                         "entry %s: data after the start of the central "
                         "directory",
                         e->name);
            goto out;
        }
    }
    *data_end = end;
out:
    mem_free(lname);
    return rc;
}

static int cmp_offset(const void *a, const void *b)
{
    const struct zipread_entry *x = *(const struct zipread_entry *const *)a;
    const struct zipread_entry *y = *(const struct zipread_entry *const *)b;

    return x->header_offset < y->header_offset   ? -1
           : x->header_offset > y->header_offset ? 1
                                                 : 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const struct zipread_entry *const *)a)->name,
                  (*(const struct zipread_entry *const *)b)->name);
}

/* No two entries share bytes; mark duplicate names. */
static int check_layout(struct zipread *zr, struct err *err)
{
    uint64_t *ends = NULL;
    struct zipread_entry **byoff = NULL;
    int rc = 0;

    if (zr->count == 0)
        goto out;
    ends = mem_calloc(zr->count, sizeof(*ends));
    byoff = mem_calloc(zr->count, sizeof(*byoff));
    zr->byname = mem_calloc(zr->count, sizeof(*zr->byname));
    if (!ends || !byoff || !zr->byname) {
        rc = err_set(err, ERR_NOMEM, "zip: out of memory");
        goto out;
    }
    for (size_t i = 0; i < zr->count; i++) {
        byoff[i] = &zr->entries[i];
        zr->byname[i] = &zr->entries[i];
    }
    qsort(byoff, zr->count, sizeof(*byoff), cmp_offset);
    for (size_t i = 0; i < zr->count; i++) {
        /* Before the name check, so two records sharing data say so. */
        if (i > 0 && ends[i - 1] > byoff[i]->header_offset) {
            rc = err_set(err, ERR_VERIFY,
                         "zip entries %s and %s overlap", byoff[i - 1]->name,
                         byoff[i]->name);
            goto out;
        }
        rc = check_local(&ends[i], zr, byoff[i], err);
        if (rc < 0)
            goto out;
    }
    qsort(zr->byname, zr->count, sizeof(*zr->byname), cmp_name);
    for (size_t i = 1; i < zr->count; i++) {
        if (strcmp(zr->byname[i - 1]->name, zr->byname[i]->name) == 0) {
            zr->byname[i - 1]->duplicate = true;
            zr->byname[i]->duplicate = true;
        }
    }
out:
    mem_free(ends);
    mem_free(byoff);
    return rc;
}

/* libzip on a dup of our descriptor, so both see the same file. */
static int open_libzip(struct zipread *zr, bool checkcons, struct err *err)
{
    zip_error_t ze;
    zip_source_t *src = NULL;
    FILE *fp = NULL;
    int fd = dup(zr->fd), rc = 0;

    zip_error_init(&ze);
    if (fd < 0 || !(fp = fdopen(fd, "rb"))) {
        rc = err_set(err, ERR_IO, "zip: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    src = zip_source_filep_create(fp, 0, -1, &ze);
    if (!src) {
        fclose(fp);
        rc = err_set(err, ERR_NOMEM, "zip: %s", zip_error_strerror(&ze));
        goto out;
    }
    zr->za = zip_open_from_source(src, ZIP_RDONLY | (checkcons ? ZIP_CHECKCONS
                                                               : 0),
                                  &ze);
    if (!zr->za) {
        zip_source_free(src);
        rc = err_set(err, ERR_VERIFY, "zip: libzip refused the archive: %s",
                     zip_error_strerror(&ze));
        goto out;
    }
    if ((uint64_t)zip_get_num_entries(zr->za, 0) != zr->count)
        rc = err_set(err, ERR_VERIFY,
                     "zip entry count mismatch between readers");
out:
    zip_error_fini(&ze);
    return rc;
}

int zipread_open(struct zipread **out, const char *path, struct err *err)
{
    struct zipread *zr = mem_calloc(1, sizeof(*zr));
    uint8_t *cd = NULL;
    uint64_t cd_size = 0, count = 0;
    struct stat st;
    bool dups = false;
    int rc = 0;

    *out = NULL;
    if (!zr) {
        rc = err_set(err, ERR_NOMEM, "zip: out of memory");
        goto out;
    }
    zr->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (zr->fd < 0) {
        rc = err_set(err, ERR_IO, "open %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(zr->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = err_set(err, ERR_IO, "%s: not a regular file", path);
        goto out;
    }
    zr->file_size = (uint64_t)st.st_size;
    rc = read_eocd(&zr->cdir_offset, &cd_size, &count, zr, err);
    if (rc < 0)
        goto out;
    cd = mem_alloc(cd_size ? (size_t)cd_size : 1);
    zr->entries = mem_calloc(count ? (size_t)count : 1, sizeof(*zr->entries));
    if (!cd || !zr->entries) {
        rc = err_set(err, ERR_NOMEM, "zip: out of memory");
        goto out;
    }
    rc = zipread__read_at(zr, cd, (size_t)cd_size, zr->cdir_offset, "central directory",
                 err);
    if (rc < 0)
        goto out;
    rc = parse_cdir(zr, cd, cd_size, count, err);
    if (rc < 0)
        goto out;
    rc = check_layout(zr, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < zr->count; i++)
        dups = dups || zr->entries[i].duplicate;
    /* ZIP_CHECKCONS refuses duplicate names at open; ours refuse on read. */
    rc = open_libzip(zr, !dups, err);
    if (rc < 0)
        goto out;
    *out = zr;
    zr = NULL;
out:
    mem_free(cd);
    zipread_free(zr);
    return rc;
}

void zipread_free(struct zipread *zr)
{
    if (!zr)
        return;
    if (zr->za)
        zip_discard(zr->za);
    if (zr->fd >= 0)
        close(zr->fd);
    for (size_t i = 0; i < zr->count; i++)
        mem_free((char *)zr->entries[i].name);
    mem_free(zr->entries);
    mem_free(zr->byname);
    mem_free(zr);
}

size_t zipread_count(const struct zipread *zr)
{
    return zr->count;
}

const struct zipread_entry *zipread_entry_at(const struct zipread *zr,
                                             size_t i)
{
    return i < zr->count ? &zr->entries[i] : NULL;
}

int zipread_check_name(const char *name, struct err *err)
{
    const char *seg = name;

    if (!name || !*name)
        return err_set(err, ERR_INVAL, "empty entry name");
    if (name[0] == '/')
        return err_set(err, ERR_INVAL, "entry name %s has a leading '/'",
                       name);
    if (strchr(name, '\\'))
        return err_set(err, ERR_INVAL, "entry name %s has a backslash", name);
    for (;;) {
        size_t n = strcspn(seg, "/");

        if (n == 0)
            return err_set(err, ERR_INVAL,
                           "entry name %s has an empty segment", name);
        if ((n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return err_set(err, ERR_INVAL,
                           "entry name %s has a '.' or '..' segment", name);
        if (!seg[n])
            return 0;
        seg += n + 1;
    }
}

static int cmp_key(const void *key, const void *elem)
{
    return strcmp((const char *)key,
                  (*(const struct zipread_entry *const *)elem)->name);
}

int zipread_find(const struct zipread_entry **out, const struct zipread *zr,
                 const char *name, struct err *err)
{
    struct zipread_entry **hit;
    int rc = zipread_check_name(name, err);

    *out = NULL;
    if (rc < 0)
        return rc;
    hit = zr->count ? bsearch(name, zr->byname, zr->count,
                              sizeof(*zr->byname), cmp_key)
                    : NULL;
    if (!hit)
        return err_set(err, ERR_NOTFOUND, "zip has no entry %s", name);
    if ((*hit)->duplicate)
        return err_set(err, ERR_VERIFY, "zip has a duplicate entry %s", name);
    if ((*hit)->symlink)
        return err_set(err, ERR_VERIFY, "zip entry %s is a symlink entry",
                       name);
    if ((*hit)->directory)
        return err_set(err, ERR_VERIFY, "zip entry %s is a directory entry",
                       name);
    *out = *hit;
    return 0;
}
