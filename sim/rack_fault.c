/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_fault: the fault commands of rack-sim. See rack_fault.h for what
 * each fault means. Main thread only.
 */
#include "sim/rack_fault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/artifact_config.h"
#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define LEDGER_NAME "artifact-config.json"
#define STOP_TIMEOUT_MS 5000

static void set_state(struct rack_sled *s, const char *st)
{
    snprintf(s->state, sizeof(s->state), "%s", st);
}

static int sled_restart(struct rack *r, size_t k, struct err *err)
{
    struct rack_sled *s = &r->sleds[k];

    rack_proc_stop(s->p.pid, s->p.start, STOP_TIMEOUT_MS);
    s->p.pid = 0;
    return rack_start_sled(r, k, err);
}

int rack_fault_sled(struct rack *r, size_t k, const char *op,
                    struct err *err)
{
    struct rack_sled *s = &r->sleds[k];
    int rc = 0;

    if (strcmp(op, "stop") == 0) {
        rc = rack_proc_stop(s->p.pid, s->p.start, STOP_TIMEOUT_MS);
        set_state(s, "stopped");
    } else if (strcmp(op, "kill") == 0) {
        rc = rack_proc_kill(s->p.pid, s->p.start);
        set_state(s, "killed");
    } else if (strcmp(op, "restart") == 0) {
        rc = sled_restart(r, k, err);
    } else if (strcmp(op, "partition") == 0 || strcmp(op, "heal") == 0) {
        bool part = op[0] == 'p';

        rc = rack_proc_signal(s->p.pid, s->p.start, part ? SIGSTOP : SIGCONT);
        if (rc < 0)
            return err_set(err, rc, "sled %zu is not running", k);
        set_state(s, part ? "partitioned" : "running");
    } else {
        return err_set(err, ERR_INVAL, "unknown sled fault %s", op);
    }
    if (rc < 0 && err && !err->code)
        err_set(err, rc, "sled %zu: %s failed", k, op);
    return rc;
}

/* First artifact file (by name) in dir, into out. */
static int first_artifact(char out[65], const char *dir, struct err *err)
{
    struct dirent *e;
    DIR *d = opendir(dir);

    out[0] = '\0';
    if (!d)
        return err_set(err, ERR_IO, "opendir %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (sha256_is_hex(e->d_name) && (!out[0] || strcmp(e->d_name, out) < 0))
            snprintf(out, 65, "%s", e->d_name);
    }
    closedir(d);
    if (!out[0])
        return err_set(err, ERR_NOTFOUND, "no artifact file in %s", dir);
    return 0;
}

static int corrupt_file(const char *path, struct err *err)
{
    struct stat st;
    unsigned char c;
    off_t mid;
    int fd = open(path, O_RDWR | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return err_set(err, ERR_IO, "open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        rc = err_set(err, ERR_IO, "%s: empty or unreadable", path);
        goto out;
    }
    mid = st.st_size / 2;
    if (pread(fd, &c, 1, mid) != 1) {
        rc = err_set(err, ERR_IO, "read %s: %s", path, strerror(errno));
        goto out;
    }
    c ^= 0xff;
    if (pwrite(fd, &c, 1, mid) != 1 || fsync(fd) < 0)
        rc = err_set(err, ERR_IO, "write %s: %s", path, strerror(errno));
out:
    close(fd);
    return rc;
}

int rack_fault_dataset(struct rack *r, size_t k, const char *op, char which,
                       const char *hash, char *victim, struct err *err)
{
    struct rack_sled *s = &r->sleds[k];
    char ds[PATH_MAX], path[PATH_MAX + 80], name[65];
    int rc = 0;

    if (which != 'A' && which != 'B')
        return err_set(err, ERR_INVAL, "dataset must be A or B");
    rack_path_dataset(ds, sizeof(ds), r, k, which);
    if (strcmp(op, "remove") == 0) {
        if (rack_rmtree(ds) < 0)
            rc = err_set(err, ERR_IO, "cannot remove %s", ds);
    } else if (strcmp(op, "restore") == 0) {
        rc = rack_mkdirs(ds, err);
        /* Lifts a fill of this dataset (and a whole-sled quota). */
        if (rc == 0 && (s->quota_bytes || s->quota_ds[which == 'A' ? 0 : 1] ||
                        rack_proc_alive(s->p.pid, s->p.start))) {
            s->quota_bytes = 0;
            s->quota_ds[which == 'A' ? 0 : 1] = 0;
            rc = sled_restart(r, k, err);
        }
    } else if (strcmp(op, "fill") == 0) {
        /* A 1-byte quota on that dataset only (--quota-bytes-a/-b): it
         * refuses every write while the other keeps taking them. */
        s->quota_ds[which == 'A' ? 0 : 1] = 1;
        rc = sled_restart(r, k, err);
    } else if (strcmp(op, "corrupt") == 0) {
        if (hash && *hash) {
            if (!sha256_is_hex(hash))
                return err_set(err, ERR_INVAL, "bad hash %s", hash);
            snprintf(name, sizeof(name), "%s", hash);
        } else {
            rc = first_artifact(name, ds, err);
            if (rc < 0)
                return rc;
        }
        snprintf(path, sizeof(path), "%s/%s", ds, name);
        rc = corrupt_file(path, err);
        if (rc == 0 && victim)
            snprintf(victim, 65, "%s", name);
    } else {
        rc = err_set(err, ERR_INVAL, "unknown dataset fault %s", op);
    }
    return rc;
}

/* Read path's config (any checksum), or an empty one if missing/bad. */
static void read_config(struct artifact_config *cfg, const char *path)
{
    json_t *v = json_load_file(path, 0, NULL);

    if (v && json_is_object(v)) {
        json_object_del(v, "checksum");
        if (artifact_config_from_json(cfg, v, NULL) < 0)
            artifact_config_release(cfg);
    }
    json_decref(v);
}

static int write_ledger(const char *ds, uint64_t gen, struct err *err)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    char path[PATH_MAX + 32], tmp[PATH_MAX + 48], hex[SHA256_HEX_LEN + 1];
    struct buf canon = BUF_INIT;
    struct sha256 h;
    json_t *v = NULL;
    char *text = NULL;
    size_t len;
    int fd = -1, rc;

    snprintf(path, sizeof(path), "%s/%s", ds, LEDGER_NAME);
    snprintf(tmp, sizeof(tmp), "%s/.%s.rack-sim", ds, LEDGER_NAME);
    read_config(&cfg, path);
    cfg.generation = gen;
    v = artifact_config_to_json(&cfg);
    if (!v) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    /* The ledger checksum: sha256 of the canonical JSON without it. */
    rc = cjson_encode(&canon, v, err);
    if (rc < 0)
        goto out;
    rc = sha256_digest(&h, canon.data ? canon.data : "", canon.len);
    if (rc < 0) {
        err_set(err, rc, "sha256 failed");
        goto out;
    }
    sha256_to_hex(hex, &h);
    if (json_object_set_new(v, "checksum", json_string(hex)) < 0 ||
        !(text = json_dumps(v, JSON_COMPACT))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    len = strlen(text);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
        rc = err_set(err, ERR_IO, "write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) < 0)
        rc = err_set(err, ERR_IO, "rename %s: %s", path, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    mem_free(text); /* jansson uses the C allocator, as mem_* does */
    json_decref(v);
    buf_release(&canon);
    artifact_config_release(&cfg);
    return rc;
}

int rack_fault_ledger(struct rack *r, size_t k, uint64_t gen,
                      struct err *err)
{
    struct rack_sled *s = &r->sleds[k];
    char ds[PATH_MAX];
    int rc = 0;

    rack_proc_stop(s->p.pid, s->p.start, STOP_TIMEOUT_MS);
    s->p.pid = 0;
    set_state(s, "stopped");
    for (char which = 'A'; which <= 'B' && rc == 0; which++) {
        rack_path_dataset(ds, sizeof(ds), r, k, which);
        if (access(ds, F_OK) == 0)
            rc = write_ledger(ds, gen, err);
    }
    if (rc == 0)
        rc = rack_start_sled(r, k, err);
    return rc;
}

int rack_fault_repl(struct rack *r, size_t i, const char *op,
                    struct err *err)
{
    struct rack_repl *p = &r->repls[i];

    if (strcmp(op, "kill") == 0) {
        int rc = rack_proc_kill(p->p.pid, p->p.start);

        snprintf(p->state, sizeof(p->state), "killed");
        return rc < 0 ? err_set(err, rc, "replicator %zu survived SIGKILL",
                                i) : 0;
    }
    if (strcmp(op, "restart") == 0) {
        rack_proc_stop(p->p.pid, p->p.start, STOP_TIMEOUT_MS);
        p->p.pid = 0;
        return rack_start_repl(r, i, err);
    }
    return err_set(err, ERR_INVAL, "unknown replicator fault %s", op);
}
