/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_dir: a directory-backed tuf_provider for the tests (see
 * tuf_dir.h). Owns its directory names, aliases and hidden paths; streams
 * with stdio.
 */
#include "tests/support/tuf_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"

#define DIR_ALIASES_MAX 64

struct alias {
    char *repo_path;
    char *file; /* NULL: hidden */
};

struct tuf_dir {
    char *metadata_dir;
    char *targets_dir;
    struct alias aliases[DIR_ALIASES_MAX];
    size_t naliases;
};

void tuf_dir_free(struct tuf_dir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->naliases; i++) {
        mem_free(d->aliases[i].repo_path);
        mem_free(d->aliases[i].file);
    }
    mem_free(d->metadata_dir);
    mem_free(d->targets_dir);
    mem_free(d);
}

int tuf_dir_new(struct tuf_dir **out, const char *metadata_dir,
                const char *targets_dir, struct err *err)
{
    struct tuf_dir *d = mem_calloc(1, sizeof(*d));
    int rc = 0;

    *out = NULL;
    if (!d || !(d->metadata_dir = mem_strdup(metadata_dir)) ||
        (targets_dir && !(d->targets_dir = mem_strdup(targets_dir)))) {
        rc = err_set(err, ERR_NOMEM, "tuf_dir: out of memory");
        goto out;
    }
    *out = d;
    d = NULL;
out:
    tuf_dir_free(d);
    return rc;
}

static int add_alias(struct tuf_dir *d, const char *repo_path,
                     const char *file, struct err *err)
{
    struct alias *a;

    if (d->naliases == DIR_ALIASES_MAX)
        return err_set(err, ERR_LIMIT, "tuf_dir: more than %d aliases",
                       DIR_ALIASES_MAX);
    a = &d->aliases[d->naliases];
    a->repo_path = mem_strdup(repo_path);
    a->file = file ? mem_strdup(file) : NULL;
    if (!a->repo_path || (file && !a->file)) {
        mem_free(a->repo_path);
        mem_free(a->file);
        a->repo_path = a->file = NULL;
        return err_set(err, ERR_NOMEM, "tuf_dir: out of memory");
    }
    d->naliases++;
    return 0;
}

int tuf_dir_alias(struct tuf_dir *d, const char *repo_path, const char *file,
                  struct err *err)
{
    return add_alias(d, repo_path, file, err);
}

int tuf_dir_hide(struct tuf_dir *d, const char *repo_path, struct err *err)
{
    return add_alias(d, repo_path, NULL, err);
}

/* Map a repository path to a file name in out. */
static int resolve(struct buf *out, const struct tuf_dir *d, const char *path,
                   struct err *err)
{
    const char *dir = NULL, *rest = NULL;

    /* The last alias for a path wins. */
    for (size_t i = d->naliases; i-- > 0;)
        if (strcmp(d->aliases[i].repo_path, path) == 0) {
            if (!d->aliases[i].file)
                return err_set(err, ERR_NOTFOUND, "%s: not found", path);
            return buf_puts(out, d->aliases[i].file) < 0
                       ? err_set(err, ERR_NOMEM, "tuf_dir: out of memory")
                       : 0;
        }
    if (path[0] == '/' || strstr(path, ".."))
        return err_set(err, ERR_INVAL, "%s: refused path", path);
    if (strncmp(path, "metadata/", 9) == 0) {
        dir = d->metadata_dir;
        rest = path + 9;
    } else if (strncmp(path, "targets/", 8) == 0) {
        dir = d->targets_dir;
        rest = path + 8;
    }
    if (!dir || !rest[0])
        return err_set(err, ERR_NOTFOUND, "%s: not found", path);
    if (buf_printf(out, "%s/%s", dir, rest) < 0)
        return err_set(err, ERR_NOMEM, "tuf_dir: out of memory");
    return 0;
}

static int dir_open(void *arg, const char *path, void **out, struct err *err)
{
    struct buf name = BUF_INIT;
    FILE *f = NULL;
    int rc = resolve(&name, arg, path, err);

    *out = NULL;
    if (rc < 0)
        goto out;
    f = fopen(name.data, "rb");
    if (!f) {
        rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
                     "%s: %s", path, strerror(errno));
        goto out;
    }
    *out = f;
out:
    buf_release(&name);
    return rc;
}

static int dir_read(void *arg, void *stream, void *dst, size_t cap,
                    size_t *got, struct err *err)
{
    FILE *f = stream;

    (void)arg;
    *got = fread(dst, 1, cap, f);
    if (*got < cap && ferror(f))
        return err_set(err, ERR_IO, "read error");
    return 0;
}

static void dir_close(void *arg, void *stream)
{
    (void)arg;
    if (stream)
        fclose(stream);
}

static int dir_read_file(void *arg, const char *path, size_t cap,
                         struct buf *out, struct err *err)
{
    void *f = NULL;
    char chunk[8192];
    size_t got = 0;
    int rc = dir_open(arg, path, &f, err);

    while (rc == 0) {
        rc = dir_read(arg, f, chunk, sizeof(chunk), &got, err);
        if (rc < 0 || got == 0)
            break;
        if (out->len + got > cap) {
            rc = err_set(err, ERR_LIMIT, "%s: larger than %zu bytes", path,
                         cap);
            break;
        }
        if (buf_append(out, chunk, got) < 0)
            rc = err_set(err, ERR_NOMEM, "%s: out of memory", path);
    }
    dir_close(arg, f);
    return rc;
}

static const struct tuf_provider_ops dir_ops = {
    dir_read_file, dir_open, dir_read, dir_close};

struct tuf_provider tuf_dir_provider(struct tuf_dir *d)
{
    struct tuf_provider p = {&dir_ops, d};

    return p;
}
