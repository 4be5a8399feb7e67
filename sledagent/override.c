/* SPDX-License-Identifier: MPL-2.0 */
/*
 * override: the out-of-band install hold's record and its file on each
 * dataset (see override.h). Pure and blocking: any thread.
 */
#include "sledagent/override.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"

#define OVERRIDE_FILE_MAX 4096

bool override_uuid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

int override_reason_check(const char *reason, struct err *err)
{
    size_t n = reason ? strlen(reason) : 0;

    if (n == 0)
        return err_set(err, ERR_INVAL, "the reason must not be empty");
    if (n > OVERRIDE_REASON_MAX)
        return err_set(err, ERR_INVAL, "the reason is over %d bytes",
                       OVERRIDE_REASON_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
            return err_set(err, ERR_INVAL, "the reason holds a control "
                           "character");
    return 0;
}

int override_new(struct override *out, const char *reason, struct err *err)
{
    unsigned char b[16];
    size_t got = 0;
    struct tm tm;
    time_t now = time(NULL);
    int rc = override_reason_check(reason, err);

    memset(out, 0, sizeof(*out));
    if (rc < 0)
        return rc;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

        if (n <= 0 && errno != EINTR)
            return err_set(err, ERR_IO, "getrandom: %s", strerror(errno));
        got += n > 0 ? (size_t)n : 0;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out->id, sizeof(out->id),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    strftime(out->set_at, sizeof(out->set_at), "%Y-%m-%dT%H:%M:%SZ",
             gmtime_r(&now, &tm));
    return 0;
}

json_t *override_to_json(const struct override *o)
{
    return json_pack("{s:s, s:s, s:s}", "id", o->id, "reason", o->reason,
                     "set_at", o->set_at);
}

/* The hex sha256 of the canonical JSON of o (sorted keys, compact). */
static int checksum_of(char out[SHA256_HEX_LEN + 1], const struct override *o)
{
    json_t *v = override_to_json(o);
    char *text = v ? json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    struct sha256 h;
    int rc = text ? sha256_digest(&h, text, strlen(text)) : ERR_NOMEM;

    if (rc == 0)
        sha256_to_hex(out, &h);
    mem_free(text);
    json_decref(v);
    return rc < 0 ? ERR_NOMEM : 0;
}

static void path_of(char *out, size_t cap, const char *dir)
{
    snprintf(out, cap, "%s/%s", dir, OVERRIDE_FILE);
}

/* One string member of exactly 1..cap-1 bytes into out. */
static bool member(char *out, size_t cap, const json_t *v, const char *key)
{
    const char *s = json_string_value(json_object_get(v, key));

    if (!s || !s[0] || strlen(s) >= cap)
        return false;
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* One dataset's copy: 0 (o set), ERR_NOTFOUND (none), ERR_INVAL (bad). */
static int read_one(struct override *o, const char *dir, struct err *err)
{
    char path[PATH_MAX], sum[SHA256_HEX_LEN + 1];
    struct buf b = BUF_INIT;
    json_t *v = NULL;
    const char *got;
    int rc;

    memset(o, 0, sizeof(*o));
    path_of(path, sizeof(path), dir);
    rc = fsutil_read_file(&b, path, OVERRIDE_FILE_MAX, err);
    if (rc == ERR_NOTFOUND || rc == ERR_NOMEM)
        goto out;
    if (rc < 0) {
        rc = ERR_INVAL;
        goto out;
    }
    v = jsonu_loadb(b.data ? b.data : "", b.len, OVERRIDE_FILE_MAX, NULL);
    got = json_string_value(json_object_get(v, "checksum"));
    rc = ERR_INVAL;
    if (!json_is_object(v) || json_object_size(v) != 4 || !got ||
        !member(o->id, sizeof(o->id), v, "id") ||
        !member(o->reason, sizeof(o->reason), v, "reason") ||
        !member(o->set_at, sizeof(o->set_at), v, "set_at") ||
        !override_uuid_ok(o->id)) {
        err_set(err, ERR_INVAL, "%s: not an override record", path);
        goto out;
    }
    if (checksum_of(sum, o) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (strcmp(sum, got) != 0) {
        err_set(err, ERR_INVAL, "%s: checksum mismatch", path);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0 && rc != ERR_NOMEM)
        memset(o, 0, sizeof(*o));
    json_decref(v);
    buf_release(&b);
    return rc;
}

int override_read(struct override *out, const char *const *dirs, size_t n,
                  struct err *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        struct override o;
        struct err e = ERR_INIT;
        int rc;

        if (!dirs[i])
            continue;
        rc = read_one(&o, dirs[i], &e);
        if (rc == ERR_NOMEM)
            return err_set(err, ERR_NOMEM, "out of memory");
        if (rc == ERR_INVAL)
            log_error("override_corrupt", "{s:s, s:s}", "dataset", dirs[i],
                      "error", e.msg);
        if (rc < 0)
            continue;
        if (!override_active(out) || strcmp(o.set_at, out->set_at) > 0 ||
            (!strcmp(o.set_at, out->set_at) && strcmp(o.id, out->id) > 0))
            *out = o;
    }
    return 0;
}

int override_write(const char *const *dirs, size_t n,
                   const struct override *o, struct err *err)
{
    char sum[SHA256_HEX_LEN + 1], path[PATH_MAX];
    json_t *v = override_to_json(o);
    char *text = NULL;
    int written = 0, rc = ERR_IO;

    if (!v || checksum_of(sum, o) < 0 ||
        json_object_set_new(v, "checksum", json_string(sum)) < 0 ||
        !(text = json_dumps(v, JSON_SORT_KEYS | JSON_INDENT(2)))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        struct err e = ERR_INIT;

        if (!dirs[i])
            continue;
        if (stat(dirs[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
            err_set(err, ERR_IO, "dataset %s: %s", dirs[i],
                    errno ? strerror(errno) : "not a directory");
            log_warn("override_dataset_skipped", "{s:s, s:s}", "dataset",
                     dirs[i], "error", err->msg);
            continue;
        }
        path_of(path, sizeof(path), dirs[i]);
        if (fsutil_write_atomic(path, NULL, text, strlen(text), 0644, &e) <
            0) {
            err_set(err, e.code, "%s", e.msg);
            log_warn("override_write_failed", "{s:s, s:s}", "dataset",
                     dirs[i], "error", e.msg);
            continue;
        }
        written++;
    }
    rc = written > 0 ? written : ERR_IO;
out:
    mem_free(text);
    json_decref(v);
    return rc;
}

int override_clear(const char *const *dirs, size_t n, const char *id,
                   struct err *err)
{
    int removed = 0, rc = 0;

    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct override o;
        struct err e = ERR_INIT;

        if (!dirs[i] || read_one(&o, dirs[i], &e) < 0 ||
            strcasecmp(o.id, id) != 0)
            continue;
        path_of(path, sizeof(path), dirs[i]);
        if (unlink(path) < 0 && errno != ENOENT) {
            if (rc == 0)
                rc = err_set(err, ERR_IO, "unlink %s: %s", path,
                             strerror(errno));
            continue;
        }
        if (fsutil_fsync_dir(dirs[i], &e) < 0) {
            if (rc == 0)
                rc = err_set(err, ERR_IO, "%s", e.msg);
            continue;
        }
        removed++;
    }
    return rc < 0 ? rc : removed;
}
