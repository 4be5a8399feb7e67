/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_repo: the verified-repository object (see tuf_repo.h): getters, the
 * sorted targets list with lookup by name, and target file paths.
 */
#include "common/tuf_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/mem.h"
#include "common/tuf_internal.h"

void tuf_repo_free(struct tuf_repo *r)
{
    if (!r)
        return;
    mem_free(r->targets);
    json_decref(r->targets_doc);
    mem_free(r);
}

uint64_t tuf_repo_root_version(const struct tuf_repo *r)
{
    return r->root_version;
}

bool tuf_repo_consistent_snapshot(const struct tuf_repo *r)
{
    return r->consistent_snapshot;
}

int64_t tuf_repo_valid_until(const struct tuf_repo *r)
{
    return r->valid_until;
}

uint64_t tuf_repo_timestamp_version(const struct tuf_repo *r)
{
    return r->timestamp_version;
}

uint64_t tuf_repo_snapshot_version(const struct tuf_repo *r)
{
    return r->snapshot_version;
}

uint64_t tuf_repo_targets_version(const struct tuf_repo *r)
{
    return r->targets_version;
}

size_t tuf_repo_ntargets(const struct tuf_repo *r)
{
    return r->ntargets;
}

const struct tuf_target *tuf_repo_target(const struct tuf_repo *r, size_t i)
{
    return i < r->ntargets ? &r->targets[i] : NULL;
}

static int target_cmp(const void *a, const void *b)
{
    return strcmp(((const struct tuf_target *)a)->name,
                  ((const struct tuf_target *)b)->name);
}

const struct tuf_target *tuf_repo_find(const struct tuf_repo *r,
                                       const char *name)
{
    struct tuf_target key;

    if (!name)
        return NULL;
    key.name = name;
    return bsearch(&key, r->targets, r->ntargets, sizeof(*r->targets),
                   target_cmp);
}

bool tuf_repo_name_ok(const char *name)
{
    const char *seg = name;

    if (!name || name[0] == '\0' || name[0] == '/')
        return false;
    for (const char *p = name;; p++) {
        if (*p == '\\' || (*p != '\0' && (unsigned char)*p < 0x20) ||
            *p == 0x7f)
            return false;
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);

            if (n == 0 || (n == 1 && seg[0] == '.') ||
                (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (*p == '\0')
                return true;
            seg = p + 1;
        }
    }
}

int tuf_repo_path(struct buf *out, const struct tuf_repo *r,
                  const struct tuf_target *t, struct err *err)
{
    const struct tuf_hash *h = NULL;
    char hex[129];
    int rc;

    if (!tuf_repo_name_ok(t->name))
        return err_set(err, ERR_INVAL,
                       "target \"%.120s\": unsafe name for a path", t->name);
    if (!r->consistent_snapshot) {
        rc = buf_printf(out, "targets/%s", t->name);
        goto out;
    }
    for (size_t i = 0; i < t->nhashes && !h; i++)
        if (t->hashes[i].known && t->hashes[i].len == 32)
            h = &t->hashes[i];
    for (size_t i = 0; i < t->nhashes && !h; i++)
        if (t->hashes[i].known)
            h = &t->hashes[i];
    if (!h)
        return err_set(err, ERR_INVAL,
                       "target \"%.120s\": no known hash to name its file",
                       t->name);
    hex_encode(hex, h->digest, h->len);
    rc = buf_printf(out, "targets/%s.%s", hex, t->name);
out:
    if (rc < 0)
        rc = err_set(err, rc, "target \"%.120s\": out of memory", t->name);
    return rc;
}

int tuf_repo_set_targets(struct tuf_repo *r, json_t *doc, const char *file,
                         struct err *err)
{
    const json_t *targets =
        json_object_get(json_object_get(doc, "signed"), "targets");
    const char *name;
    json_t *entry;
    char what[400];
    int rc = 0;

    if (!json_is_object(targets))
        return err_set(err, ERR_INVAL, "%s: missing object \"targets\"", file);
    r->targets_doc = json_incref(doc);
    r->targets = mem_calloc(json_object_size(targets) + 1, sizeof(*r->targets));
    if (!r->targets)
        return err_set(err, ERR_NOMEM, "%s: out of memory", file);
    json_object_foreach((json_t *)targets, name, entry) {
        snprintf(what, sizeof(what), "%s: target \"%.200s\"", file, name);
        rc = tuf_target_parse(&r->targets[r->ntargets], name, entry, true,
                              true, what, err);
        if (rc < 0)
            return rc;
        r->ntargets++;
    }
    qsort(r->targets, r->ntargets, sizeof(*r->targets), target_cmp);
    return 0;
}
