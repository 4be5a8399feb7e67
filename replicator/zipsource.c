/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zipsource: tuf_provider over zipread (see zipsource.h). Paths given by
 * the verifier ("metadata/1.root.json") are looked up as "repo/<path>".
 * Zip refusals (duplicate, symlink, CRC) become ERR_INVAL as the provider
 * contract asks, so the upload answers 400 with the reader's message.
 */
#include "replicator/zipsource.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/zipread.h"

#define ZIPSOURCE_PREFIX "repo/"
#define ZIPSOURCE_PATH_MAX 1024

struct zipsource {
    struct zipread *zr;
};

static int full_name(char *out, size_t cap, const char *path, struct err *err)
{
    int n = snprintf(out, cap, "%s%s", ZIPSOURCE_PREFIX, path);

    if (n < 0 || (size_t)n >= cap)
        return err_set(err, ERR_INVAL, "%s: path too long", path);
    return 0;
}

static int map_rc(int rc, struct err *err)
{
    if (rc == ERR_VERIFY) {
        if (err)
            err->code = ERR_INVAL;
        return ERR_INVAL;
    }
    return rc;
}

static int zs_read_file(void *arg, const char *path, size_t cap,
                        struct buf *out, struct err *err)
{
    struct zipsource *zs = arg;
    char name[ZIPSOURCE_PATH_MAX];
    int rc = full_name(name, sizeof(name), path, err);

    if (rc < 0)
        return rc;
    return map_rc(zipread_read_all(out, zs->zr, name, cap, err), err);
}

static int zs_open(void *arg, const char *path, void **out, struct err *err)
{
    struct zipsource *zs = arg;
    struct zipread_stream *s = NULL;
    char name[ZIPSOURCE_PATH_MAX];
    int rc = full_name(name, sizeof(name), path, err);

    *out = NULL;
    if (rc < 0)
        return rc;
    /* the verifier enforces the signed length itself (reads length + 1) */
    rc = zipread_stream_open(&s, zs->zr, name, UINT64_MAX, err);
    if (rc < 0)
        return map_rc(rc, err);
    *out = s;
    return 0;
}

static int zs_read(void *arg, void *stream, void *dst, size_t cap, size_t *got,
                   struct err *err)
{
    (void)arg;
    return map_rc(zipread_stream_read(got, stream, dst, cap, err), err);
}

static void zs_close(void *arg, void *stream)
{
    (void)arg;
    zipread_stream_close(stream);
}

static const struct tuf_provider_ops zipsource_ops = {
    zs_read_file, zs_open, zs_read, zs_close,
};

int zipsource_new(struct zipsource **out, struct zipread *zr, struct err *err)
{
    struct zipsource *zs = mem_calloc(1, sizeof(*zs));

    *out = NULL;
    if (!zs)
        return err_set(err, ERR_NOMEM, "out of memory");
    /* Nothing is extracted by entry name, but an archive carrying a
     * traversal name was built to attack some reader: refuse it whole. */
    for (size_t i = 0; i < zipread_count(zr); i++) {
        const struct zipread_entry *e = zipread_entry_at(zr, i);
        char name[1024];
        size_t n = strlen(e->name);
        struct err why = ERR_INIT;

        if (e->directory && n > 0 && e->name[n - 1] == '/')
            n--;
        if (n >= sizeof(name) ||
            (snprintf(name, sizeof(name), "%.*s", (int)n, e->name),
             zipread_check_name(name, &why) < 0)) {
            mem_free(zs);
            return err_set(err, ERR_VERIFY, "zip entry %.200s: unsafe name "
                           "(%s)", e->name, why.msg[0] ? why.msg : "too long");
        }
    }
    zs->zr = zr;
    *out = zs;
    return 0;
}

void zipsource_free(struct zipsource *zs)
{
    mem_free(zs);
}

struct tuf_provider zipsource_provider(struct zipsource *zs)
{
    struct tuf_provider p = {&zipsource_ops, zs};

    return p;
}
