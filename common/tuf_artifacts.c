/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_artifacts: the tufaceous artifacts document (see tuf_artifacts.h,
 * notes/tuf.md 2.2 and 2.3): finding it among the signed targets, reading
 * and verifying it through the provider, parsing v1 and v2 shapes, and
 * resolving each artifact to its signed targets entry.
 */
#include "common/tuf_artifacts.h"

#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/tuf_repo.h"
#include "common/tuf_target.h"

#define DOC_V1 "artifacts.json"
#define DOC_V2 "artifacts-v2.json"

struct tuf_artifacts {
    int format;
    json_t *doc;
    const char *system_version;
    struct tuf_artifact *items;
    size_t n;
};

void tuf_artifacts_free(struct tuf_artifacts *a)
{
    if (!a)
        return;
    mem_free(a->items);
    json_decref(a->doc);
    mem_free(a);
}

int tuf_artifacts_format(const struct tuf_artifacts *a)
{
    return a->format;
}

const char *tuf_artifacts_system_version(const struct tuf_artifacts *a)
{
    return a->system_version;
}

size_t tuf_artifacts_count(const struct tuf_artifacts *a)
{
    return a->n;
}

const struct tuf_artifact *tuf_artifacts_get(const struct tuf_artifacts *a,
                                             size_t i)
{
    return i < a->n ? &a->items[i] : NULL;
}

/* ArtifactVersion: ^[a-zA-Z0-9._+-]{1,63}$ */
static bool version_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= 63 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._+-") == n;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when numeric_strict. Consumes up to a char not in the set. */
static bool idents_ok(const char **sp, bool numeric_strict, int exact)
{
    const char *s = *sp;
    int count = 0;

    for (;;) {
        size_t n = strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz-");
        size_t digits = strspn(s, "0123456789");

        if (exact)
            n = digits;
        if (n == 0)
            return false;
        if (numeric_strict && digits == n && n > 1 && s[0] == '0')
            return false;
        count++;
        s += n;
        if (*s != '.' || (exact && count == exact))
            break;
        s++;
    }
    *sp = s;
    return !exact || count == exact;
}

bool tuf_semver_ok(const char *s)
{
    if (!s || strlen(s) > 127 || !idents_ok(&s, true, 3))
        return false;
    if (*s == '-') {
        s++;
        if (!idents_ok(&s, true, 0))
            return false;
    }
    if (*s == '+') {
        s++;
        if (!idents_ok(&s, false, 0))
            return false;
    }
    return *s == '\0';
}

static int parse_item(struct tuf_artifact *it, const struct tuf_repo *repo,
                      const json_t *obj, int format, const char *doc,
                      size_t i, struct err *err)
{
    if (!json_is_object(obj))
        return err_set(err, ERR_INVAL, "%s: artifact %zu is not an object",
                       doc, i);
    it->version = jsonu_str(obj, "version");
    if (format == 1) {
        it->name = jsonu_str(obj, "name");
        it->kind = jsonu_str(obj, "kind");
        it->target_name = jsonu_str(obj, "target");
    } else {
        it->tags = json_object_get(obj, "tags");
        it->kind = jsonu_str(it->tags, "kind");
        it->target_name = jsonu_str(obj, "target_name");
        it->name = it->target_name;
        if (!json_is_object(it->tags))
            return err_set(err, ERR_INVAL, "%s: artifact %zu: missing tags",
                           doc, i);
    }
    if (!it->name || !it->name[0] || !it->kind || !it->kind[0] ||
        !it->target_name)
        return err_set(err, ERR_INVAL,
                       "%s: artifact %zu: missing name, kind or target", doc,
                       i);
    if (!version_ok(it->version))
        return err_set(err, ERR_INVAL,
                       "%s: artifact %zu (%.64s): version \"%.64s\" does not "
                       "match ^[a-zA-Z0-9._+-]{1,63}$", doc, i, it->name,
                       it->version ? it->version : "(missing)");
    if (!tuf_repo_name_ok(it->target_name))
        return err_set(err, ERR_INVAL,
                       "%s: artifact %zu (%.64s): unsafe target name "
                       "\"%.64s\"", doc, i, it->name, it->target_name);
    it->target = tuf_repo_find(repo, it->target_name);
    if (!it->target)
        return err_set(err, ERR_INVAL,
                       "%s: artifact %zu (%.64s): target \"%.64s\" is not a "
                       "signed target", doc, i, it->name, it->target_name);
    if (!it->target->has_sha256)
        return err_set(err, ERR_INVAL,
                       "%s: artifact %zu (%.64s): target \"%.64s\" has no "
                       "sha256", doc, i, it->name, it->target_name);
    return 0;
}

int tuf_artifacts_parse(struct tuf_artifacts **out, const struct tuf_repo *repo,
                        const char *data, size_t len, int format,
                        struct err *err)
{
    const char *doc = format == 2 ? DOC_V2 : DOC_V1;
    struct err inner = ERR_INIT;
    struct tuf_artifacts *a = NULL;
    const json_t *items;
    json_t *again = NULL;
    int rc = 0;

    *out = NULL;
    a = mem_calloc(1, sizeof(*a));
    if (!a) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory", doc);
        goto out;
    }
    a->format = format;
    a->doc = jsonu_loadb(data, len, LIMIT_TUF_METADATA, &inner);
    if (!a->doc) {
        rc = err_set(err, inner.code == ERR_TOOBIG ? ERR_LIMIT : inner.code,
                     "%s: %s", doc, inner.msg);
        goto out;
    }
    /* jansson can silently drop a byte of a string when an allocation
     * fails while parsing; this document is not re-checked by a signature
     * after parsing, so parse it twice and require the same result. */
    again = jsonu_loadb(data, len, LIMIT_TUF_METADATA, &inner);
    if (!again || !json_equal(a->doc, again)) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory while parsing", doc);
        goto out;
    }
    items = json_object_get(a->doc, "artifacts");
    a->system_version = jsonu_str(a->doc, "system_version");
    if (!json_is_object(a->doc) || !json_is_array(items)) {
        rc = err_set(err, ERR_INVAL, "%s: needs an array \"artifacts\"", doc);
        goto out;
    }
    if (!tuf_semver_ok(a->system_version)) {
        rc = err_set(err, ERR_INVAL,
                     "%s: system_version \"%.64s\" is not a semantic version",
                     doc, a->system_version ? a->system_version : "(missing)");
        goto out;
    }
    if (json_array_size(items) > LIMIT_ARTIFACTS_PER_REPO) {
        rc = err_set(err, ERR_LIMIT, "%s: more than %d artifacts", doc,
                     LIMIT_ARTIFACTS_PER_REPO);
        goto out;
    }
    a->items = mem_calloc(json_array_size(items) + 1, sizeof(*a->items));
    if (!a->items) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory", doc);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(items); i++) {
        rc = parse_item(&a->items[i], repo, json_array_get(items, i), format,
                        doc, i, err);
        if (rc < 0)
            goto out;
        a->n++;
    }
    *out = a;
    a = NULL;
out:
    json_decref(again);
    tuf_artifacts_free(a);
    return rc;
}

static int collect(const void *data, size_t n, void *arg)
{
    return buf_append(arg, data, n);
}

int tuf_artifacts_load(struct tuf_artifacts **out, const struct tuf_repo *repo,
                       const struct tuf_provider *p, struct err *err)
{
    struct buf path = BUF_INIT, data = BUF_INIT;
    const struct tuf_target *t = tuf_repo_find(repo, DOC_V2);
    int format = 2, rc = 0;

    *out = NULL;
    if (!t) {
        t = tuf_repo_find(repo, DOC_V1);
        format = 1;
    }
    if (!t) {
        rc = err_set(err, ERR_INVAL,
                     "no artifacts document: neither %s nor %s is a signed "
                     "target", DOC_V2, DOC_V1);
        goto out;
    }
    if (t->length > LIMIT_TUF_METADATA) {
        rc = err_set(err, ERR_LIMIT, "%s: larger than the %u-byte cap",
                     t->name, LIMIT_TUF_METADATA);
        goto out;
    }
    rc = tuf_repo_path(&path, repo, t, err);
    if (rc < 0)
        goto out;
    rc = tuf_target_read(p, path.data, t, collect, &data, err);
    if (rc == ERR_NOMEM)
        rc = err_set(err, rc, "%s: out of memory", t->name);
    if (rc < 0)
        goto out;
    rc = tuf_artifacts_parse(out, repo, data.data ? data.data : "", data.len,
                             format, err);
out:
    buf_release(&path);
    buf_release(&data);
    return rc;
}
