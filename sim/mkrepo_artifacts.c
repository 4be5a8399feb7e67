/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_artifacts: the artifacts of tuf-mkrepo. --from-dir takes every
 * regular file of a directory (sorted by name); --random COUNT:BYTES streams
 * COUNT distinct pseudo-random files into the temp directory with
 * xoshiro256** (constant memory at any size). Names, versions and bytes are
 * a pure function of the seed (default: derived from the system version),
 * so two repositories can share artifacts. Also writes the artifacts
 * document (v1 artifacts.json or v2 artifacts-v2.json), itself a target.
 */
#include "sim/mkrepo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "common/rng.h"

#define CHUNK (1u << 20)

static const char *const kinds_v1[] = {
    "gimlet_sp", "gimlet_rot", "host", "trampoline", "control_plane",
    "measurement_corpus", "switch_sp", "psc_rot_bootloader"};
static const char *const kinds_v2[] = {
    "sp", "rot", "os_phase1", "os_phase2", "zone", "measurement_corpus",
    "rot_bootloader", "installinator_document"};

/* Stream `stream` of seed: one generator per random artifact. */
static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    rng_init(r, seed ^ (stream * 0xd1342543de82ef95ull));
}

static int write_all(int fd, const void *p, size_t n, const char *path,
                     struct err *err)
{
    int e = fsutil_write_full(fd, p, n);

    return e < 0 ? err_set(err, ERR_IO, "write %s: %s", path, strerror(-e))
                 : 0;
}

/* Called with each chunk read; the chunk may be changed. 0 or ERR_*. */
typedef int (*chunk_fn)(char *chunk, size_t n, struct err *err, void *arg);

/* Reads fd (the file path) to its end in CHUNK pieces, each given to fn. */
static int each_chunk(int fd, const char *path, chunk_fn fn,
                      struct err *err, void *arg)
{
    char *chunk = mem_alloc(CHUNK);
    int rc = 0;

    if (!chunk)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (;;) {
        ssize_t n = read(fd, chunk, CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = err_set(err, ERR_IO, "read %s: %m", path);
        if (n <= 0)
            break;
        rc = fn(chunk, (size_t)n, err, arg);
        if (rc < 0)
            break;
    }
    mem_free(chunk);
    return rc;
}

struct hashing {
    struct sha256_ctx c;
    uint64_t len;
};

static int hash_chunk(char *chunk, size_t n, struct err *err, void *arg)
{
    struct hashing *h = arg;

    (void)err;
    sha256_update(&h->c, chunk, n);
    h->len += (uint64_t)n;
    return 0;
}

/* Length and sha256 of a file, streamed. */
static int hash_file(uint64_t *len, struct sha256 *out, const char *path,
                     struct err *err)
{
    struct hashing h = {SHA256_CTX_INIT, 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    *len = 0;
    if (fd < 0 || sha256_init(&h.c) < 0) {
        rc = fd < 0 ? err_set(err, ERR_IO, "open %s: %m", path)
                    : err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = each_chunk(fd, path, hash_chunk, err, &h);
    if (rc == 0) {
        sha256_final(&h.c, out);
        *len = h.len;
    }
out:
    if (fd >= 0)
        close(fd);
    sha256_release(&h.c);
    return rc;
}

int mkrepo_artifacts_add(struct mkrepo *r, const char *name, const char *path,
                         bool owned, const char *art_name,
                         const char *art_version, const char *kind,
                         struct err *err)
{
    struct mkrepo_target *t;
    void *grown = mem_realloc(r->targets,
                              (r->ntargets + 1) * sizeof(*r->targets));
    int rc;

    if (!grown)
        return err_set(err, ERR_NOMEM, "out of memory");
    r->targets = grown;
    t = &r->targets[r->ntargets];
    memset(t, 0, sizeof(*t));
    r->ntargets++;
    t->owned = owned;
    t->name = mem_strdup(name);
    t->path = mem_strdup(path);
    t->art_name = art_name ? mem_strdup(art_name) : NULL;
    t->art_version = art_version ? mem_strdup(art_version) : NULL;
    t->kind = kind ? mem_strdup(kind) : NULL;
    if (!t->name || !t->path || (art_name && !t->art_name) ||
        (art_version && !t->art_version) || (kind && !t->kind))
        return err_set(err, ERR_NOMEM, "out of memory");
    rc = hash_file(&t->length, &t->hash, path, err);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir's entries (readdir order is not stable). */
static int list_dir(char ***out, size_t *n, const char *dir, struct err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t count = 0;
    int rc = 0;

    if (!d)
        return err_set(err, ERR_IO, "open %s: %m", dir);
    while ((de = readdir(d)) != NULL) {
        char **grown;

        if (de->d_name[0] == '.')
            continue;
        grown = mem_realloc(names, (count + 1) * sizeof(*names));
        if (!grown || !(grown[count] = mem_strdup(de->d_name))) {
            names = grown ? grown : names;
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        names = grown;
        count++;
    }
    closedir(d);
    if (count)
        qsort(names, count, sizeof(*names), cmp_str);
    *out = names;
    *n = count;
    return rc;
}

int mkrepo_artifacts_from_dir(struct mkrepo *r, struct err *err)
{
    struct buf path = BUF_INIT, kind = BUF_INIT;
    const char *ver = r->o.artifact_version;
    char **names = NULL;
    size_t n = 0;
    int rc = list_dir(&names, &n, r->o.from_dir, err);

    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = names[i];
        const char *dash = strchr(name, '-');
        struct stat st;

        buf_reset(&path);
        buf_reset(&kind);
        if (buf_printf(&path, "%s/%s", r->o.from_dir, name) < 0 ||
            buf_append(&kind, name, dash ? (size_t)(dash - name) : 0) < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        if (lstat(path.data, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        rc = mkrepo_artifacts_add(r, name, path.data, false, name, ver,
                                  kind.len ? kind.data : "unknown", err);
    }
    for (size_t i = 0; i < n; i++)
        mem_free(names[i]);
    mem_free(names);
    buf_release(&path);
    buf_release(&kind);
    if (rc == 0 && r->ntargets == 0)
        rc = err_set(err, ERR_INVAL, "%s holds no regular file",
                     r->o.from_dir);
    return rc;
}

/* Stream bytes pseudo-random bytes into path. */
static int write_random(const char *path, uint64_t bytes, struct rng *g,
                        struct err *err)
{
    uint64_t *chunk = mem_alloc(CHUNK);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = 0;

    if (!chunk || fd < 0) {
        rc = fd < 0 ? err_set(err, ERR_IO, "create %s: %m", path)
                    : err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    while (bytes > 0) {
        size_t n = bytes < CHUNK ? (size_t)bytes : CHUNK;

        for (size_t i = 0; i < (n + 7) / 8; i++)
            chunk[i] = rng_next(g);
        rc = write_all(fd, chunk, n, path, err);
        if (rc < 0)
            goto out;
        bytes -= n;
    }
out:
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = err_set(err, ERR_IO, "close %s: %m", path);
    mem_free(chunk);
    return rc;
}

int mkrepo_artifacts_random(struct mkrepo *r, struct err *err)
{
    struct buf path = BUF_INIT, name = BUF_INIT, art = BUF_INIT;
    const char *ver = r->o.artifact_version;
    uint64_t seed = r->o.seed;
    int rc = 0;

    if (!r->o.have_seed) {
        /* FNV-1a of the system version: same version, same artifacts. */
        seed = 0xcbf29ce484222325ull;
        for (const char *p = r->o.system_version; *p; p++)
            seed = (seed ^ (uint8_t)*p) * 0x100000001b3ull;
    }
    for (uint64_t i = 0; i < r->o.random_count && rc == 0; i++) {
        const char *kind = r->o.artifacts_doc == 2 ? kinds_v2[i % 8]
                                                   : kinds_v1[i % 8];
        struct rng g;

        rng_seed(&g, seed, i + 1);
        buf_reset(&path);
        buf_reset(&name);
        buf_reset(&art);
        if (buf_printf(&path, "%s/artifact-%llu", r->tmpdir,
                       (unsigned long long)i) < 0 ||
            buf_printf(&name, "%s-fake-%llu-%s.bin", kind,
                       (unsigned long long)i, ver) < 0 ||
            buf_printf(&art, "fake-%s-%llu", kind, (unsigned long long)i) <
                0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            break;
        }
        rc = write_random(path.data, r->o.random_bytes, &g, err);
        if (rc == 0)
            rc = mkrepo_artifacts_add(r, name.data, path.data, true, art.data,
                                      ver, kind, err);
    }
    buf_release(&path);
    buf_release(&name);
    buf_release(&art);
    return rc;
}

static json_t *doc_entry(const struct mkrepo *r, const char *name,
                         const char *version, const char *kind,
                         const char *target)
{
    if (r->o.artifacts_doc == 2)
        return json_pack("{s:s, s:s, s:{s:s}}", "target_name", target,
                         "version", version, "tags", "kind", kind);
    return json_pack("{s:s, s:s, s:s, s:s}", "name", name, "version", version,
                     "kind", kind, "target", target);
}

int mkrepo_artifacts_doc(struct mkrepo *r, struct err *err)
{
    const char *doc_name = r->o.artifacts_doc == 2 ? "artifacts-v2.json"
                                                   : "artifacts.json";
    json_t *doc = NULL, *arts = json_array(), *e;
    struct buf path = BUF_INIT, missing = BUF_INIT;
    char *text = NULL;
    int fd = -1, rc = 0;

    if (!arts)
        goto nomem;
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct mkrepo_target *t = &r->targets[i];

        e = doc_entry(r, t->art_name, t->art_version, t->kind, t->name);
        if (!e || json_array_append_new(arts, e) < 0)
            goto nomem;
    }
    if (r->o.brk == MKREPO_BREAK_BAD_ARTIFACTS_DOC) {
        if (buf_printf(&missing, "zone-not-in-targets-%s.tar.gz",
                       r->o.system_version) < 0)
            goto nomem;
        e = doc_entry(r, "not-in-targets", r->o.artifact_version, "zone",
                      missing.data);
        if (!e || json_array_append_new(arts, e) < 0)
            goto nomem;
    }
    doc = r->o.artifacts_doc == 2
              ? json_pack("{s:s, s:O, s:{}}", "system_version",
                          r->o.system_version, "artifacts", arts, "metadata")
              : json_pack("{s:s, s:O}", "system_version", r->o.system_version,
                          "artifacts", arts);
    text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    if (!text || buf_printf(&path, "%s/%s", r->tmpdir, doc_name) < 0)
        goto nomem;
    fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(err, ERR_IO, "create %s: %m", path.data);
        goto out;
    }
    rc = write_all(fd, text, strlen(text), path.data, err);
    close(fd);
    if (rc == 0)
        rc = mkrepo_artifacts_add(r, doc_name, path.data, true, NULL, NULL,
                                  NULL, err);
    goto out;
nomem:
    rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    mem_free(text);
    json_decref(doc);
    json_decref(arts);
    buf_release(&path);
    buf_release(&missing);
    return rc;
}

struct flipping {
    int fd;
    const char *path; /* of fd */
    uint64_t off;     /* the byte to flip */
    uint64_t pos;     /* offset of the next chunk */
};

static int flip_chunk(char *chunk, size_t n, struct err *err, void *arg)
{
    struct flipping *f = arg;

    if (f->off >= f->pos && f->off < f->pos + (uint64_t)n)
        chunk[f->off - f->pos] ^= 0x01;
    f->pos += (uint64_t)n;
    return write_all(f->fd, chunk, n, f->path, err);
}

int mkrepo_artifacts_flipped_copy(char **out, const struct mkrepo *r,
                                  const char *path, uint64_t off,
                                  struct err *err)
{
    struct buf dst = BUF_INIT;
    struct flipping f = {-1, NULL, off, 0};
    int in = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

    *out = NULL;
    if (buf_printf(&dst, "%s/flipped", r->tmpdir) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    f.path = dst.data;
    f.fd = open(dst.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (in < 0 || f.fd < 0) {
        rc = err_set(err, ERR_IO, "copy %s: %m", path);
        goto out;
    }
    rc = each_chunk(in, path, flip_chunk, err, &f);
    if (rc == 0)
        *out = buf_take(&dst);
out:
    if (in >= 0)
        close(in);
    if (f.fd >= 0)
        close(f.fd);
    buf_release(&dst);
    return rc;
}

void mkrepo_artifacts_release(struct mkrepo *r)
{
    for (size_t i = 0; i < r->ntargets; i++) {
        struct mkrepo_target *t = &r->targets[i];

        if (t->owned && t->path)
            unlink(t->path);
        mem_free(t->name);
        mem_free(t->path);
        mem_free(t->art_name);
        mem_free(t->art_version);
        mem_free(t->kind);
    }
    mem_free(r->targets);
    r->targets = NULL;
    r->ntargets = 0;
}
