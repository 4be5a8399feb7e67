/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ledger: the ArtifactConfig ledger file, <dataset>/artifact-config.json.
 *
 * Format (one JSON object, written compactly):
 *   {"generation": G, "artifacts": ["<hex>", ...], "checksum": "<hex>"}
 * where checksum is the lowercase hex sha256 of the canonical JSON
 * (common/cjson.h) of {"artifacts": [...sorted...], "generation": G},
 * i.e. of artifact_config_to_json() of the config without the checksum.
 * A file that is not JSON, lacks the checksum, has another shape or whose
 * checksum differs is CORRUPT, never "no config"; only a missing file
 * (ENOENT) is MISSING. Writes go through a unique temp file in tmp/,
 * fsync, rename over the ledger, fsync of the dataset directory, so a
 * crash leaves either the old or the new ledger. Pure file I/O: any
 * thread (the store calls it from its meta worker or from store_open).
 */
#include "sledagent/store/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"

#define LEDGER_MAX_BYTES (LIMIT_CONFIG_BODY + 4096)

int ledger_checksum(char out[SHA256_HEX_LEN + 1],
                    const struct artifact_config *cfg, struct err *err)
{
    json_t *v = artifact_config_to_json(cfg);
    struct buf b = BUF_INIT;
    struct sha256 h;
    int rc;

    if (!v) {
        rc = err_set(err, ERR_NOMEM, "ledger: out of memory");
        goto out;
    }
    rc = cjson_encode(&b, v, err);
    if (rc < 0)
        goto out;
    rc = sha256_digest(&h, b.data ? b.data : "", b.len);
    if (rc < 0) {
        err_set(err, rc, "ledger: sha256 failed");
        goto out;
    }
    sha256_to_hex(out, &h);
out:
    json_decref(v);
    buf_release(&b);
    return rc;
}

enum ledger_status ledger_read(struct artifact_config *out, const char *dir,
                               struct err *err)
{
    char *path = dataset_path(dir, STORE_LEDGER_NAME);
    struct buf b = BUF_INIT;
    json_t *doc = NULL, *copy = NULL;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    char want[SHA256_HEX_LEN + 1];
    const char *sum;
    enum ledger_status st = LEDGER_CORRUPT;
    int fd = -1, rc;

    if (!path) {
        err_set(err, ERR_NOMEM, "ledger: out of memory");
        st = LEDGER_UNREADABLE;
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            st = LEDGER_MISSING;
        } else {
            err_set(err, ERR_IO, "open %s: %s", path, strerror(errno));
            st = LEDGER_UNREADABLE;
        }
        goto out;
    }
    rc = fsutil_read_fd(&b, fd, path, LEDGER_MAX_BYTES, err);
    if (rc == ERR_IO || rc == ERR_NOMEM) {
        st = LEDGER_UNREADABLE;
        goto out;
    }
    if (rc < 0)
        goto out; /* too big: corrupt */
    doc = jsonu_loadb(b.data ? b.data : "", b.len, LEDGER_MAX_BYTES, err);
    if (!doc)
        goto out;
    sum = json_is_object(doc) ? jsonu_str(doc, "checksum") : NULL;
    if (!sum) {
        err_set(err, ERR_INVAL, "%s: no checksum member", path);
        goto out;
    }
    copy = json_copy(doc);
    if (!copy || json_object_del(copy, "checksum") < 0) {
        err_set(err, ERR_NOMEM, "ledger: out of memory");
        st = LEDGER_UNREADABLE;
        goto out;
    }
    if (artifact_config_from_json(&cfg, copy, err) < 0)
        goto out;
    if (ledger_checksum(want, &cfg, err) < 0) {
        st = LEDGER_UNREADABLE;
        goto out;
    }
    if (strcmp(want, sum) != 0) {
        err_set(err, ERR_VERIFY, "%s: checksum mismatch", path);
        goto out;
    }
    artifact_config_release(out);
    *out = cfg;
    cfg = (struct artifact_config)ARTIFACT_CONFIG_INIT;
    st = LEDGER_VALID;
out:
    if (fd >= 0)
        close(fd);
    artifact_config_release(&cfg);
    json_decref(doc);
    json_decref(copy);
    buf_release(&b);
    mem_free(path);
    return st;
}

int ledger_write(const char *dir, const char *tmpdir,
                 const struct artifact_config *cfg, struct err *err)
{
    char sum[SHA256_HEX_LEN + 1];
    json_t *v = NULL;
    char *text = NULL, *tmp = NULL, *path = NULL;
    int rc;

    rc = ledger_checksum(sum, cfg, err);
    if (rc < 0)
        goto out;
    v = artifact_config_to_json(cfg);
    path = dataset_path(dir, STORE_LEDGER_NAME);
    tmp = dataset_temp_path(tmpdir, "ledger");
    if (!v || !path || !tmp ||
        json_object_set_new(v, "checksum", json_string(sum)) < 0 ||
        !(text = jsonu_dumps(v))) {
        rc = err_set(err, ERR_NOMEM, "ledger: out of memory");
        goto out;
    }
    /* tmp is in the dataset's tmp/, purged at start after a crash */
    rc = fsutil_write_atomic(path, tmp, text, strlen(text), 0644, err);
out:
    json_decref(v);
    mem_free(text);
    mem_free(tmp);
    mem_free(path);
    return rc;
}
