/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_zip: writes a tuf-mkrepo repository as a zip in tufaceous's layout
 * (repo/metadata/..., repo/targets/...), with libzip: targets Stored and
 * streamed from their files (zip_source_file; libzip switches to zip64 by
 * itself), metadata Stored or Deflated, Unix mode 0644. The archive is
 * written to a temp file beside --out, the zip-level --break variants are
 * applied to it by byte surgery (located with common/zipread), and only
 * then is it renamed to --out.
 */
#include "sim/mkrepo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/zipread.h"

#define DUP_PLACEHOLDER "repo/metadata/timestamp.jso~"
#define DUP_NAME "repo/metadata/timestamp.json"

static bool broken(const struct mkrepo *r, enum mkrepo_break b)
{
    return r->o.brk == b;
}

static int add_entry(zip_t *za, const char *name, zip_source_t *src,
                     bool deflate, uint32_t mode, struct err *err)
{
    zip_int64_t idx;

    if (!src)
        return err_set(err, ERR_NOMEM, "zip source %s: %s", name,
                       zip_strerror(za));
    idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return err_set(err, ERR_IO, "zip add %s: %s", name, zip_strerror(za));
    }
    if (zip_set_file_compression(za, (zip_uint64_t)idx,
                                 deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 0) < 0 ||
        zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0,
                                         ZIP_OPSYS_UNIX, mode << 16) < 0 ||
        zip_file_set_mtime(za, (zip_uint64_t)idx, 315532800, 0) < 0)
        return err_set(err, ERR_IO, "zip %s: %s", name, zip_strerror(za));
    return 0;
}

static int add_buf(zip_t *za, const char *name, const struct buf *b,
                   bool deflate, struct err *err)
{
    return add_entry(za, name, zip_source_buffer(za, b->data, b->len, 0),
                     deflate, S_IFREG | 0644, err);
}

static int add_metadata(zip_t *za, const struct mkrepo *r, struct err *err)
{
    struct buf name = BUF_INIT;
    bool d = r->o.deflate_meta;
    int rc = add_buf(za, "repo/metadata/timestamp.json", &r->timestamp, d,
                     err);

    for (int i = 0; i < 2 && rc == 0; i++) {
        buf_reset(&name);
        if (r->o.consistent
                ? buf_printf(&name, "repo/metadata/%lld.%s.json",
                             (long long)r->o.version,
                             i ? "targets" : "snapshot")
                : buf_printf(&name, "repo/metadata/%s.json",
                             i ? "targets" : "snapshot")) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        rc = add_buf(za, name.data, i ? &r->targets_json : &r->snapshot, d,
                     err);
    }
    if (rc == 0)
        rc = add_buf(za, "repo/metadata/1.root.json", &r->root, d, err);
    if (rc == 0 && broken(r, MKREPO_BREAK_ROOT_CHAIN_VERSION))
        rc = add_buf(za, "repo/metadata/2.root.json", &r->root2, d, err);
    if (rc == 0 && broken(r, MKREPO_BREAK_DUPLICATE_ENTRY))
        rc = add_buf(za, DUP_PLACEHOLDER, &r->timestamp, d, err);
    buf_release(&name);
    return rc;
}

static int target_entry_name(struct buf *out, const struct mkrepo *r,
                             const struct mkrepo_target *t)
{
    char hex[SHA256_HEX_LEN + 1];

    sha256_to_hex(hex, &t->hash);
    buf_reset(out);
    return r->o.consistent ? buf_printf(out, "repo/targets/%s.%s", hex, t->name)
                           : buf_printf(out, "repo/targets/%s", t->name);
}

static int add_targets(zip_t *za, const struct mkrepo *r, char **flipped,
                       struct err *err)
{
    struct buf name = BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < r->ntargets && rc == 0; i++) {
        const struct mkrepo_target *t = &r->targets[i];
        const char *path = t->path;
        bool victim = i == r->victim;
        uint32_t mode = S_IFREG | 0644;

        if (victim && broken(r, MKREPO_BREAK_MISSING_TARGET))
            continue;
        if (target_entry_name(&name, r, t) < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        if (victim && broken(r, MKREPO_BREAK_WRONG_HASH)) {
            if (t->length == 0) {
                rc = err_set(err, ERR_INVAL,
                             "wrong-hash: target %s is empty", t->name);
                break;
            }
            rc = mkrepo_artifacts_flipped_copy(flipped, r, t->path,
                                               t->length / 2, err);
            if (rc < 0)
                break;
            path = *flipped;
        }
        if (victim && broken(r, MKREPO_BREAK_SYMLINK_ENTRY))
            mode = S_IFLNK | 0777;
        rc = add_entry(za, name.data, zip_source_file(za, path, 0, 0), false,
                       mode, err);
    }
    if (rc == 0 && broken(r, MKREPO_BREAK_TRAVERSAL_ENTRY))
        rc = add_buf(za, "repo/targets/../../escape.json", &r->timestamp,
                     false, err);
    buf_release(&name);
    return rc;
}

static int patch(const char *path, uint64_t off, const void *b, size_t n,
                 struct err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return err_set(err, ERR_IO, "open %s: %m", path);
    if (pwrite(fd, b, n, (off_t)off) != (ssize_t)n)
        rc = err_set(err, ERR_IO, "write %s: %m", path);
    close(fd);
    return rc;
}

/* Byte surgery after libzip computed every CRC and header. */
static int post_break(const struct mkrepo *r, const char *tmp,
                      struct err *err)
{
    struct zipread *zr = NULL;
    const struct zipread_entry *e = NULL;
    struct buf name = BUF_INIT;
    struct stat st;
    uint8_t c;
    int fd = -1, rc = 0;

    if (broken(r, MKREPO_BREAK_TRAILING_DATA)) {
        if (stat(tmp, &st) < 0)
            rc = err_set(err, ERR_IO, "stat %s: %m", tmp);
        else
            rc = patch(tmp, (uint64_t)st.st_size, "TRAILING DATA\n", 14, err);
        goto out;
    }
    if (!broken(r, MKREPO_BREAK_DUPLICATE_ENTRY) && !broken(r, MKREPO_BREAK_CRC))
        goto out;
    rc = zipread_open(&zr, tmp, err);
    if (rc < 0)
        goto out;
    if (broken(r, MKREPO_BREAK_DUPLICATE_ENTRY)) {
        rc = zipread_find(&e, zr, DUP_PLACEHOLDER, err);
        if (rc == 0)
            rc = patch(tmp, e->header_offset + 30, DUP_NAME,
                       strlen(DUP_NAME), err);
        if (rc == 0)
            rc = patch(tmp, e->central_offset + 46, DUP_NAME,
                       strlen(DUP_NAME), err);
        goto out;
    }
    if (target_entry_name(&name, r, &r->targets[r->victim]) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = zipread_find(&e, zr, name.data, err);
    if (rc < 0)
        goto out;
    if (e->size == 0 || e->method != ZIPREAD_STORED) {
        rc = err_set(err, ERR_INVAL, "crc: target %s is empty", name.data);
        goto out;
    }
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || pread(fd, &c, 1, (off_t)(e->data_offset + e->size / 2)) !=
                      1) {
        rc = err_set(err, ERR_IO, "read %s: %m", tmp);
        goto out;
    }
    c ^= 0x01;
    rc = patch(tmp, e->data_offset + e->size / 2, &c, 1, err);
out:
    if (fd >= 0)
        close(fd);
    zipread_free(zr);
    buf_release(&name);
    return rc;
}

int mkrepo_zip_write(struct mkrepo *r, struct err *err)
{
    struct buf tmp = BUF_INIT;
    const char *slash = strrchr(r->o.out, '/');
    char *flipped = NULL;
    zip_t *za = NULL;
    int zerr = 0, fd, rc = 0;

    if (buf_printf(&tmp, "%.*s.%s.tmp-%d",
                   slash ? (int)(slash - r->o.out + 1) : 0, r->o.out,
                   slash ? slash + 1 : r->o.out, (int)getpid()) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    za = zip_open(tmp.data, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        zip_error_t ze;

        zip_error_init_with_code(&ze, zerr);
        rc = err_set(err, ERR_IO, "create %s: %s", tmp.data,
                     zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto out;
    }
    rc = add_metadata(za, r, err);
    if (rc == 0)
        rc = add_targets(za, r, &flipped, err);
    if (rc == 0 && broken(r, MKREPO_BREAK_ARCHIVE_COMMENT) &&
        zip_set_archive_comment(za, "tuf-mkrepo archive comment", 26) < 0)
        rc = err_set(err, ERR_IO, "zip comment: %s", zip_strerror(za));
    if (rc < 0)
        goto out;
    if (zip_close(za) < 0) {
        rc = err_set(err, ERR_IO, "write %s: %s", tmp.data, zip_strerror(za));
        goto out;
    }
    za = NULL;
    rc = post_break(r, tmp.data, err);
    if (rc < 0)
        goto out;
    fd = open(tmp.data, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        rc = err_set(err, ERR_IO, "fsync %s: %m", tmp.data);
        if (fd >= 0)
            close(fd);
        goto out;
    }
    close(fd);
    if (rename(tmp.data, r->o.out) < 0)
        rc = err_set(err, ERR_IO, "rename to %s: %m", r->o.out);
out:
    if (za)
        zip_discard(za);
    if (rc < 0 && tmp.data)
        unlink(tmp.data);
    if (flipped) {
        unlink(flipped);
        mem_free(flipped);
    }
    buf_release(&tmp);
    return rc;
}
