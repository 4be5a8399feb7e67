/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zipread_stream: reading one entry of a zipread archive (see zipread.h):
 * Stored entries with pread() straight from the file, Deflate entries
 * through libzip; the CRC-32 and the byte count are checked as the stream
 * is read, and no read goes past the caller's cap. Any thread, one stream
 * per thread at a time.
 */
#include "common/zipread.h"
#include "common/zipread_internal.h"

#include <stdbool.h>
#include <string.h>

#include <zip.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"

struct zipread_stream {
    struct zipread *zr;
    const struct zipread_entry *e;
    zip_file_t *zf;   /* Deflate only; Stored entries are read with pread */
    uint64_t raw;     /* Stored: bytes of entry data read so far */
    uint64_t cap;
    uint64_t done;
    unsigned long crc;
    int failed; /* sticky ERR_* after an error */
    bool eof;
};


int zipread_stream_open(struct zipread_stream **out, struct zipread *zr,
                        const char *name, uint64_t cap, struct err *err)
{
    const struct zipread_entry *e = NULL;
    struct zipread_stream *s = NULL;
    int rc = zipread_find(&e, zr, name, err);

    *out = NULL;
    if (rc < 0)
        goto out;
    if (e->size > cap) {
        rc = err_set(err, ERR_LIMIT,
                     "zip entry %s is %llu bytes, over the cap of %llu", name,
                     (unsigned long long)e->size, (unsigned long long)cap);
        goto out;
    }
    s = mem_calloc(1, sizeof(*s));
    if (!s) {
        rc = err_set(err, ERR_NOMEM, "zip: out of memory");
        goto out;
    }
    s->zr = zr;
    s->e = e;
    s->cap = cap;
    s->crc = crc32_z(0, Z_NULL, 0);
    /* Stored data is read straight from our descriptor at the offset the
     * layout checks validated: one copy, one CRC pass (ours), no stdio
     * buffering. libzip only inflates. */
    if (e->method != ZIPREAD_STORED) {
        s->zf = zip_fopen_index(zr->za, (zip_uint64_t)(e - zr->entries), 0);
        if (!s->zf) {
            rc = err_set(err, ERR_VERIFY, "zip entry %s: %s", name,
                         zip_strerror(zr->za));
            goto out;
        }
    }
    *out = s;
    s = NULL;
out:
    zipread_stream_close(s);
    return rc;
}

uint64_t zipread_stream_size(const struct zipread_stream *s)
{
    return s->e->size;
}

/* Called once all declared bytes arrived: size and CRC must match. */
static int check_end(struct zipread_stream *s, struct err *err)
{
    if (s->done != s->e->size)
        return err_set(err, ERR_VERIFY,
                       "zip entry %s: %llu bytes read, %llu declared",
                       s->e->name, (unsigned long long)s->done,
                       (unsigned long long)s->e->size);
    if (s->crc != s->e->crc32)
        return err_set(err, ERR_VERIFY,
                       "zip entry %s: CRC mismatch (declared %08x, computed "
                       "%08lx)",
                       s->e->name, s->e->crc32, s->crc);
    return 0;
}

int zipread_stream_read(size_t *out, struct zipread_stream *s, void *dst,
                        size_t len, struct err *err)
{
    zip_int64_t n;
    int rc = 0;

    *out = 0;
    if (s->failed)
        return err_set(err, s->failed, "zip entry %s: stream failed earlier",
                       s->e->name);
    if (s->eof || len == 0)
        return 0;
    if (!s->zf) {
        /* Stored: the entry's bytes are exactly comp_size bytes at
         * data_offset, within the file (check_local); what libzip would
         * return, less its copy through stdio. */
        uint64_t left = s->e->comp_size - s->raw;

        n = (zip_int64_t)(len < left ? len : left);
        rc = zipread__read_at(s->zr, dst, (size_t)n, s->e->data_offset + s->raw,
                     "entry data", err);
        if (rc < 0)
            goto out;
        s->raw += (uint64_t)n;
    } else {
        n = zip_fread(s->zf, dst, len);
    }
    if (n < 0) {
        zip_error_t *ze = zip_file_get_error(s->zf);

        rc = err_set(err, ERR_VERIFY, "zip entry %s: %s%s", s->e->name,
                     zip_error_code_zip(ze) == ZIP_ER_CRC ? "CRC mismatch: "
                                                           : "",
                     zip_error_strerror(ze));
        goto out;
    }
    if (n == 0) {
        rc = check_end(s, err);
        s->eof = rc == 0;
        goto out;
    }
    if ((uint64_t)n > s->e->size - s->done) {
        rc = err_set(err, ERR_VERIFY,
                     "zip entry %s: more data than its declared %llu bytes",
                     s->e->name, (unsigned long long)s->e->size);
        goto out;
    }
    if ((uint64_t)n > s->cap - s->done) {
        rc = err_set(err, ERR_LIMIT, "zip entry %s: over the cap of %llu",
                     s->e->name, (unsigned long long)s->cap);
        goto out;
    }
    s->done += (uint64_t)n;
    s->crc = crc32_z(s->crc, dst, (size_t)n);
    if (s->done == s->e->size) {
        rc = check_end(s, err);
        if (rc < 0)
            goto out;
    }
    *out = (size_t)n;
out:
    if (rc < 0)
        s->failed = rc;
    return rc;
}

void zipread_stream_close(struct zipread_stream *s)
{
    if (!s)
        return;
    if (s->zf)
        zip_fclose(s->zf);
    mem_free(s);
}

int zipread_read_all(struct buf *out, struct zipread *zr, const char *name,
                     uint64_t cap, struct err *err)
{
    struct zipread_stream *s = NULL;
    size_t orig = out->len;
    int rc = zipread_stream_open(&s, zr, name, cap, err);

    if (rc < 0)
        goto out;
    for (;;) {
        size_t got = 0;

        rc = buf_reserve(out, 65536);
        if (rc < 0) {
            rc = err_set(err, ERR_NOMEM, "zip: out of memory");
            goto out;
        }
        rc = zipread_stream_read(&got, s, out->data + out->len,
                                 out->cap - out->len - 1, err);
        if (rc < 0 || got == 0)
            goto out;
        out->len += got;
        out->data[out->len] = '\0';
    }
out:
    if (rc < 0 && out->data) {
        out->len = orig;
        out->data[orig] = '\0';
    }
    zipread_stream_close(s);
    return rc;
}
