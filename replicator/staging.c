/* SPDX-License-Identifier: MPL-2.0 */
/*
 * staging: staged uploads and manifests on disk (see staging.h). The mutex
 * serialises moves into repos/ and manifest writes; reads of manifests
 * need no lock because manifests only appear through rename.
 */
#include "replicator/staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/hex.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"

#define MANIFEST "manifest.json"
#define MANIFEST_CAP (8u * 1024 * 1024)

struct staging {
    pthread_mutex_t mu;
    char *dir;
};

void staging_rmrf(const char *path)
{
    (void)fsutil_rmrf(path);
}

static int mkdir_p1(const char *path, struct err *err)
{
    if (mkdir(path, 0750) < 0 && errno != EEXIST)
        return err_set(err, ERR_IO, "mkdir %s: %s", path, strerror(errno));
    return 0;
}

static bool id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n >= 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') ||
              (id[i] >= 'A' && id[i] <= 'F') || id[i] == '-'))
            return false;
    return true;
}

/* Empty dir/sub (keeping sub itself). */
static void purge_children(const char *dir, const char *sub, bool keep_complete)
{
    struct buf p = BUF_INIT;
    DIR *d;
    struct dirent *e;

    if (buf_printf(&p, "%s/%s", dir, sub) < 0)
        goto out;
    d = opendir(p.data);
    if (!d)
        goto out;
    while ((e = readdir(d))) {
        struct buf c = BUF_INIT;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (buf_printf(&c, "%s/%s", p.data, e->d_name) == 0) {
            struct buf m = BUF_INIT;
            bool keep = false;

            if (keep_complete && buf_printf(&m, "%s/" MANIFEST, c.data) == 0)
                keep = access(m.data, F_OK) == 0;
            if (!keep) {
                log_info("staging_purged", "{s:s}", "path", c.data);
                staging_rmrf(c.data);
            }
            buf_release(&m);
        }
        buf_release(&c);
    }
    closedir(d);
out:
    buf_release(&p);
}

int staging_open(struct staging **out, const char *dir, struct err *err)
{
    struct staging *st = NULL;
    static const char *subs[] = {"uploads", "incoming", "repos"};
    int rc;

    *out = NULL;
    /* The directory and its missing parents, private to the service
     * (issue 15); an existing one keeps its mode. */
    rc = fsutil_mkdir_p(dir, 0700, err);
    if (rc < 0)
        return rc;
    st = mem_calloc(1, sizeof(*st));
    if (!st || !(st->dir = mem_strdup(dir))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_init(&st->mu, NULL);
    for (size_t i = 0; i < 3; i++) {
        struct buf p = BUF_INIT;

        rc = buf_printf(&p, "%s/%s", dir, subs[i]);
        if (rc == 0)
            rc = mkdir_p1(p.data, err);
        else
            err_set(err, rc, "out of memory");
        buf_release(&p);
        if (rc < 0)
            goto out;
    }
    purge_children(dir, "uploads", false);
    purge_children(dir, "incoming", false);
    purge_children(dir, "repos", true);
    *out = st;
    st = NULL;
out:
    staging_free(st);
    return rc;
}

void staging_free(struct staging *st)
{
    if (!st)
        return;
    if (st->dir)
        pthread_mutex_destroy(&st->mu);
    mem_free(st->dir);
    mem_free(st);
}

int staging_tmp_path(char **out, struct staging *st, const char *sub,
                     const char *suffix, struct err *err)
{
    uint8_t rnd[12];
    char hex[25];
    struct buf p = BUF_INIT;

    *out = NULL;
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return err_set(err, ERR_IO, "getrandom: %s", strerror(errno));
    hex_encode(hex, rnd, sizeof(rnd));
    if (buf_printf(&p, "%s/%s/%s%s", st->dir, sub, hex, suffix) < 0) {
        buf_release(&p);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    *out = buf_take(&p);
    return 0;
}

void staging_repo_release(struct staging_repo *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nartifacts; i++) {
        mem_free(r->artifacts[i].name);
        mem_free(r->artifacts[i].version);
        mem_free(r->artifacts[i].kind);
        mem_free(r->artifacts[i].path);
    }
    mem_free(r->artifacts);
    mem_free(r->system_version);
    memset(r, 0, sizeof(*r));
}

void staging_list_free(struct staging_repo *repos, size_t count)
{
    for (size_t i = 0; i < count; i++)
        staging_repo_release(&repos[i]);
    mem_free(repos);
}

static json_t *manifest_json(const struct staging_repo *m, const char *repodir)
{
    json_t *o = json_object(), *arr = json_array();
    char hex[SHA256_HEX_LEN + 1];

    if (!o || !arr)
        goto fail;
    sha256_to_hex(hex, &m->archive_sha256);
    if (json_object_set_new(o, "repo_id", json_string(m->repo_id)) ||
        json_object_set_new(o, "system_version",
                            json_string(m->system_version)) ||
        json_object_set_new(o, "archive_sha256", json_string(hex)))
        goto fail;
    for (size_t i = 0; i < m->nartifacts; i++) {
        const struct staging_artifact *a = &m->artifacts[i];
        struct buf path = BUF_INIT;
        json_t *e;

        sha256_to_hex(hex, &a->sha256);
        if (buf_printf(&path, "%s/%s", repodir, hex) < 0)
            goto fail;
        e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "name", a->name,
                      "version", a->version, "kind", a->kind, "sha256", hex,
                      "length", (json_int_t)a->length, "path", path.data);
        buf_release(&path);
        if (!e || json_array_append_new(arr, e))
            goto fail;
    }
    if (json_object_set_new(o, "artifacts", arr))
        goto fail_o;
    return o;
fail:
    json_decref(arr);
fail_o:
    json_decref(o);
    return NULL;
}

/* The manifest appears only through the rename: its presence marks a
 * complete staged repository. */
static int write_manifest(const char *dir, const char *data, struct err *err)
{
    struct buf tmp = BUF_INIT, fin = BUF_INIT;
    int rc;

    if (buf_printf(&tmp, "%s/." MANIFEST ".tmp", dir) < 0 ||
        buf_printf(&fin, "%s/" MANIFEST, dir) < 0)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    else
        rc = fsutil_write_atomic(fin.data, tmp.data, data, strlen(data), 0640,
                                 err);
    buf_release(&tmp);
    buf_release(&fin);
    return rc;
}

int staging_commit(struct staging *st, const struct staging_repo *m,
                   const char *incoming_dir, struct err *err)
{
    struct buf repos = BUF_INIT, dst = BUF_INIT;
    json_t *j = NULL;
    char *text = NULL;
    int rc = 0;

    if (!id_ok(m->repo_id))
        return err_set(err, ERR_INVAL, "bad repo id %s", m->repo_id);
    pthread_mutex_lock(&st->mu);
    if (buf_printf(&repos, "%s/repos", st->dir) < 0 ||
        buf_printf(&dst, "%s/%s", repos.data, m->repo_id) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    /* a re-upload replaces the older staged copy (same verified bytes) */
    staging_rmrf(dst.data);
    if (rename(incoming_dir, dst.data) < 0) {
        rc = err_set(err, ERR_IO, "rename %s: %s", dst.data, strerror(errno));
        goto out;
    }
    rc = fsutil_fsync_dir(repos.data, err);
    if (rc < 0)
        goto out;
    j = manifest_json(m, dst.data);
    text = j ? jsonu_dumps(j) : NULL;
    if (!text) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = write_manifest(dst.data, text, err);
    if (rc == 0)
        log_info("staged_repo_created", "{s:s, s:s, s:i}", "repo_id",
                 m->repo_id, "system_version", m->system_version, "artifacts",
                 (int)m->nartifacts);
out:
    pthread_mutex_unlock(&st->mu);
    mem_free(text);
    json_decref(j);
    buf_release(&repos);
    buf_release(&dst);
    return rc;
}

static char *dup_str(const json_t *o, const char *key)
{
    const char *s = jsonu_str(o, key);

    return s ? mem_strdup(s) : NULL;
}

static int load_manifest(struct staging_repo *r, const char *path,
                         struct err *err)
{
    struct buf data = BUF_INIT;
    json_t *j = NULL, *arr;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = fsutil_read_file(&data, path, MANIFEST_CAP, err);
    if (rc < 0)
        goto out;
    j = jsonu_loadb(data.data ? data.data : "", data.len, MANIFEST_CAP, err);
    if (!j) {
        rc = err->code ? err->code : ERR_INVAL;
        goto out;
    }
    arr = json_object_get(j, "artifacts");
    if (!jsonu_str(j, "repo_id") || !json_is_array(arr) ||
        strlen(jsonu_str(j, "repo_id")) >= sizeof(r->repo_id) ||
        sha256_from_hex(&r->archive_sha256,
                        jsonu_str(j, "archive_sha256")
                            ? jsonu_str(j, "archive_sha256") : "") < 0 ||
        !(r->system_version = dup_str(j, "system_version"))) {
        rc = err_set(err, ERR_INVAL, "%s: malformed manifest", path);
        goto out;
    }
    snprintf(r->repo_id, sizeof(r->repo_id), "%s", jsonu_str(j, "repo_id"));
    r->artifacts = mem_calloc(json_array_size(arr) + 1, sizeof(*r->artifacts));
    if (!r->artifacts) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        struct staging_artifact *a = &r->artifacts[i];
        uint64_t length = 0;

        r->nartifacts++;
        a->name = dup_str(e, "name");
        a->version = dup_str(e, "version");
        a->kind = dup_str(e, "kind");
        a->path = dup_str(e, "path");
        if (!a->name || !a->version || !a->kind || !a->path ||
            jsonu_u64(&length, json_object_get(e, "length")) < 0 ||
            sha256_from_hex(&a->sha256, jsonu_str(e, "sha256")
                                            ? jsonu_str(e, "sha256") : "") < 0) {
            rc = err_set(err, ERR_INVAL, "%s: malformed artifact %zu", path, i);
            goto out;
        }
        a->length = length;
    }
out:
    if (rc < 0)
        staging_repo_release(r);
    json_decref(j);
    buf_release(&data);
    return rc;
}

static int cmp_repo(const void *a, const void *b)
{
    return strcmp(((const struct staging_repo *)a)->repo_id,
                  ((const struct staging_repo *)b)->repo_id);
}

int staging_list(struct staging_repo **out, size_t *count, struct staging *st,
                 struct err *err)
{
    struct buf dir = BUF_INIT;
    struct staging_repo *v = NULL, *nv;
    size_t n = 0, cap = 0;
    DIR *d = NULL;
    struct dirent *e;
    int rc = 0;

    *out = NULL;
    *count = 0;
    if (buf_printf(&dir, "%s/repos", st->dir) < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    d = opendir(dir.data);
    if (!d) {
        rc = err_set(err, ERR_IO, "open %s: %s", dir.data, strerror(errno));
        goto out;
    }
    while ((e = readdir(d))) {
        struct buf m = BUF_INIT;
        struct err lerr = ERR_INIT;

        if (e->d_name[0] == '.' || !id_ok(e->d_name))
            continue;
        if (buf_printf(&m, "%s/%s/" MANIFEST, dir.data, e->d_name) < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        if (access(m.data, F_OK) != 0) {
            buf_release(&m);
            continue; /* incomplete: being written or to be purged */
        }
        nv = mem_grow(v, &cap, n, sizeof(*v), 8);
        if (!nv) {
            buf_release(&m);
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
        v = nv;
        if (load_manifest(&v[n], m.data, &lerr) == 0)
            n++;
        else
            log_warn("staging_bad_manifest", "{s:s, s:s}", "path", m.data,
                     "error", lerr.msg);
        buf_release(&m);
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_repo);
    *out = v;
    *count = n;
    v = NULL;
    n = 0;
out:
    if (d)
        closedir(d);
    staging_list_free(v, n);
    buf_release(&dir);
    return rc;
}

int staging_drop(struct staging *st, const char *repo_id, struct err *err)
{
    struct buf p = BUF_INIT, m = BUF_INIT;
    int rc = 0;

    if (!id_ok(repo_id))
        return err_set(err, ERR_INVAL, "bad repo id %s", repo_id);
    pthread_mutex_lock(&st->mu);
    if (buf_printf(&p, "%s/repos/%s", st->dir, repo_id) < 0 ||
        buf_printf(&m, "%s/" MANIFEST, p.data) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (unlink(m.data) < 0) {
        rc = errno == ENOENT
                 ? err_set(err, ERR_NOTFOUND, "no staged repo %s", repo_id)
                 : err_set(err, ERR_IO, "unlink %s: %s", m.data, strerror(errno));
        goto out;
    }
    staging_rmrf(p.data);
    log_info("staged_repo_dropped", "{s:s}", "repo_id", repo_id);
out:
    pthread_mutex_unlock(&st->mu);
    buf_release(&p);
    buf_release(&m);
    return rc;
}
