/* SPDX-License-Identifier: MPL-2.0 */
/*
 * revstate: the sled's pushed revocation list, its body parser and its
 * file on each dataset (see revstate.h).
 *
 * File format (one JSON object, compact):
 *   {"version": N, "revoked": ["<entry>", ...], "checksum": "<hex>"}
 * where checksum is the lowercase hex sha256 of the canonical JSON
 * (common/cjson.h) of {"revoked": [...sorted...], "version": N}. Any
 * thread.
 */
#include "sledagent/revstate.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "common/tls.h"
#include "common/tls_revfile.h"

/* The file: the body cap plus the checksum. */
#define REVSTATE_FILE_MAX (LIMIT_TLS_REVOKED_BODY + 4096)

void revstate_release(struct revstate *s)
{
    tls_revoked_free(s->set);
    s->set = NULL;
    s->version = 0;
}

/* {"version", "revoked"} (and "checksum" when file) of v into out. */
static int from_object(struct revstate *out, const json_t *v, bool file,
                       struct err *err)
{
    const json_t *ver = json_object_get(v, "version");
    const char *key;
    const json_t *x;
    struct err e = ERR_INIT;
    int rc;

    if (!json_is_object(v))
        return err_set(err, ERR_INVAL, "the body must be a JSON object "
                       "{\"version\": N, \"revoked\": [...]}");
    json_object_foreach((json_t *)v, key, x) {
        if (strcmp(key, "version") != 0 && strcmp(key, "revoked") != 0 &&
            !(file && strcmp(key, "checksum") == 0))
            return err_set(err, ERR_INVAL, "unknown member %.60s", key);
    }
    if (!json_is_integer(ver) || json_integer_value(ver) < 1)
        return err_set(err, ERR_INVAL, "version must be an integer >= 1");
    if (!json_is_array(json_object_get(v, "revoked")))
        return err_set(err, ERR_INVAL, "revoked must be an array of hex "
                       "serials and role:id strings");
    rc = tls_revoked_from_json(&out->set, json_object_get(v, "revoked"),
                               true, &e);
    if (rc < 0)
        return err_set(err, rc == ERR_NOMEM ? ERR_NOMEM : ERR_INVAL,
                       "revoked: %s", e.msg);
    out->version = (uint64_t)json_integer_value(ver);
    return 0;
}

int revstate_parse(struct revstate *out, const char *body, size_t len,
                   struct err *err)
{
    struct err e = ERR_INIT;
    json_t *v = jsonu_loadb(body ? body : "", len, LIMIT_TLS_REVOKED_BODY,
                            &e);
    int rc;

    *out = (struct revstate)REVSTATE_INIT;
    if (!v)
        return err_set(err, e.code == ERR_NOMEM ? ERR_NOMEM : ERR_INVAL,
                       "the body is not JSON: %s", e.msg);
    rc = from_object(out, v, false, err);
    json_decref(v);
    if (rc < 0)
        revstate_release(out);
    return rc;
}

json_t *revstate_to_json(const struct revstate *s)
{
    json_t *arr = tls_revoked_to_json(s->set);

    if (!arr)
        return NULL;
    return json_pack("{s:I, s:o}", "version", (json_int_t)s->version,
                     "revoked", arr);
}

static int checksum(char out[SHA256_HEX_LEN + 1], const struct revstate *s,
                    struct err *err)
{
    json_t *v = revstate_to_json(s);
    struct buf b = BUF_INIT;
    struct sha256 h;
    int rc;

    if (!v)
        return err_set(err, ERR_NOMEM, "out of memory");
    rc = cjson_encode(&b, v, err);
    if (rc == 0 && sha256_digest(&h, b.data ? b.data : "", b.len) < 0)
        rc = err_set(err, ERR_INTERNAL, "sha256 failed");
    if (rc == 0)
        sha256_to_hex(out, &h);
    json_decref(v);
    buf_release(&b);
    return rc;
}

int revstate_write(const char *const *dirs, size_t n,
                   const struct revstate *s, struct err *err)
{
    char sum[SHA256_HEX_LEN + 1];
    json_t *v = NULL;
    char *text = NULL;
    struct buf path = BUF_INIT, tmp = BUF_INIT;
    struct err last = ERR_INIT;
    size_t i, ok = 0;
    int rc = checksum(sum, s, err);

    if (rc < 0)
        goto out;
    v = revstate_to_json(s);
    if (!v || json_object_set_new(v, "checksum", json_string(sum)) < 0 ||
        !(text = jsonu_dumps(v))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        struct err e = ERR_INIT;

        if (!dirs[i])
            continue;
        buf_reset(&path);
        buf_reset(&tmp);
        if (buf_printf(&path, "%s/" REVSTATE_FILE, dirs[i]) < 0 ||
            buf_printf(&tmp, "%s/tmp/" REVSTATE_FILE ".tmp", dirs[i]) < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        if (fsutil_write_atomic(path.data, tmp.data, text, strlen(text),
                                0644, &e) == 0) {
            ok++;
            continue;
        }
        log_error("tls_revocations_write_failed", "{s:s, s:s}", "dataset",
                  dirs[i], "error", e.msg);
        last = e;
    }
    if (!ok)
        rc = err_set(err, ERR_IO, "%s", last.code ? last.msg
                     : "no dataset to write " REVSTATE_FILE " to");
out:
    json_decref(v);
    mem_free(text);
    buf_release(&path);
    buf_release(&tmp);
    return rc;
}

/* One copy: 0 (valid, *out set), ERR_NOTFOUND (no file), ERR_INVAL
 * (corrupt, err says why) or ERR_NOMEM. */
static int read_one(struct revstate *out, const char *path, struct err *err)
{
    struct buf b = BUF_INIT;
    char want[SHA256_HEX_LEN + 1];
    const char *sum;
    json_t *v = NULL;
    struct err e = ERR_INIT;
    int rc = fsutil_read_file(&b, path, REVSTATE_FILE_MAX, &e);

    *out = (struct revstate)REVSTATE_INIT;
    if (rc == ERR_NOTFOUND || rc == ERR_NOMEM) {
        rc = rc == ERR_NOMEM ? err_set(err, rc, "out of memory") : rc;
        goto out;
    }
    if (rc < 0) {
        rc = err_set(err, ERR_INVAL, "%s", e.msg);
        goto out;
    }
    v = jsonu_loadb(b.data ? b.data : "", b.len, REVSTATE_FILE_MAX, &e);
    if (!v) {
        rc = err_set(err, ERR_INVAL, "not JSON: %s", e.msg);
        goto out;
    }
    rc = from_object(out, v, true, err);
    sum = json_string_value(json_object_get(v, "checksum"));
    if (rc == 0 && !sum)
        rc = err_set(err, ERR_INVAL, "no checksum");
    if (rc == 0 && (rc = checksum(want, out, err)) == 0 &&
        strcmp(want, sum) != 0)
        rc = err_set(err, ERR_INVAL, "checksum mismatch");
    if (rc < 0)
        revstate_release(out);
out:
    json_decref(v);
    buf_release(&b);
    return rc;
}

int revstate_read(struct revstate *out, const char *const *dirs, size_t n,
                  struct err *err)
{
    struct buf path = BUF_INIT;
    size_t i;
    int rc = 0;

    *out = (struct revstate)REVSTATE_INIT;
    for (i = 0; rc == 0 && i < n; i++) {
        struct revstate s = REVSTATE_INIT;
        struct err e = ERR_INIT;
        int r;

        if (!dirs[i])
            continue;
        buf_reset(&path);
        if (buf_printf(&path, "%s/" REVSTATE_FILE, dirs[i]) < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        r = read_one(&s, path.data, &e);
        if (r == ERR_NOMEM) {
            rc = err_set(err, r, "out of memory");
        } else if (r == ERR_INVAL) {
            log_error("tls_revocations_corrupt", "{s:s, s:s}", "file",
                      path.data, "error", e.msg);
        } else if (r == 0 && s.version > out->version) {
            revstate_release(out);
            *out = s;
            s = (struct revstate)REVSTATE_INIT;
        }
        revstate_release(&s);
    }
    if (rc == 0 && !out->set)
        rc = tls_revoked_new(&out->set, err);
    if (rc < 0)
        revstate_release(out);
    buf_release(&path);
    return rc;
}
