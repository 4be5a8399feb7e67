/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_verify: the TUF client workflow over one offline repository (see
 * tuf_verify.h, notes/tuf.md 1.7): trusted root, root rotation chain,
 * timestamp, snapshot, targets, delegation policy, expiry and valid_until,
 * and the loop over several trust roots. Reentrant.
 */
#include "common/tuf_verify.h"

#include <stdio.h>
#include <inttypes.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/tuf_internal.h"
#include "common/tuf_meta.h"
#include "common/tuf_provider.h"
#include "common/tuf_time.h"

struct vctx {
    const struct tuf_provider *p;
    const struct tuf_policy *pol;
    struct tuf_repo *repo;
};

/* Read metadata/<file> whole. */
static int read_meta(struct buf *out, const struct vctx *v, const char *file,
                     struct err *err)
{
    struct err inner = ERR_INIT;
    char path[TUF_META_FILE_MAX + 16];
    int rc;

    snprintf(path, sizeof(path), "metadata/%s", file);
    buf_reset(out);
    rc = v->p->ops->read_file(v->p->arg, path, LIMIT_TUF_METADATA, out, &inner);
    if (rc == ERR_NOTFOUND)
        return err_set(err, rc, "%s: missing from the repository", file);
    if (rc == ERR_LIMIT || rc == ERR_TOOBIG)
        return err_set(err, ERR_LIMIT, "%s: larger than the %u-byte cap",
                       file, LIMIT_TUF_METADATA);
    if (rc < 0)
        return err_set(err, rc, "%s: %s", file,
                       inner.msg[0] ? inner.msg : "read failed");
    return 0;
}

static int check_expiry(const struct vctx *v, const struct tuf_meta *m,
                        struct err *err)
{
    char at[TUF_TIME_STR_LEN], now[TUF_TIME_STR_LEN];

    if (!v->pol->enforce_expiry || m->expires > v->pol->now)
        return 0;
    tuf_time_format(at, m->expires);
    tuf_time_format(now, v->pol->now);
    return err_set(err, ERR_VERIFY, "%s: expired at %s (now %s)", m->file, at,
                   now);
}

static void note_expiry(struct vctx *v, const struct tuf_meta *m)
{
    if (m->expires < v->repo->valid_until)
        v->repo->valid_until = m->expires;
}

static int load_root(struct tuf_meta_root **out, const struct vctx *v,
                     const char *file, const char *data, size_t len,
                     struct err *err)
{
    struct tuf_meta *m = NULL;
    int rc = tuf_meta_parse(&m, file, data, len, TUF_ROLE_ROOT,
                            v->pol->lenient_dates, err);

    if (rc < 0)
        return rc;
    return tuf_meta_root_new(out, m, v->pol->keyid_check, err);
}

/* Step 1: walk N+1.root.json while present. *root is replaced. */
static int root_chain(struct tuf_meta_root **root, const struct vctx *v,
                      struct err *err)
{
    struct buf data = BUF_INIT;
    struct tuf_meta_root *next = NULL;
    char file[TUF_META_FILE_MAX];
    int rc = 0;

    for (unsigned i = 0;; i++) {
        uint64_t want = (*root)->meta->version + 1;

        snprintf(file, sizeof(file), "%llu.root.json", (unsigned long long)want);
        rc = read_meta(&data, v, file, err);
        if (rc == ERR_NOTFOUND) {
            err_clear(err);
            rc = 0;
            break;
        }
        if (rc < 0)
            goto out;
        if (i >= LIMIT_TUF_ROOT_CHAIN) {
            rc = err_set(err, ERR_LIMIT,
                         "%s: root rotation chain longer than %d", file,
                         LIMIT_TUF_ROOT_CHAIN);
            goto out;
        }
        rc = load_root(&next, v, file, data.data, data.len, err);
        if (rc < 0)
            goto out;
        rc = tuf_meta_check_sigs(next->meta, *root, TUF_ROLE_ROOT, err);
        if (rc == 0)
            rc = tuf_meta_check_sigs(next->meta, next, TUF_ROLE_ROOT, err);
        if (rc < 0)
            goto out;
        if (next->meta->version != want) {
            rc = err_set(err, ERR_VERIFY,
                         "%s: version is %llu, expected exactly %llu", file,
                         (unsigned long long)next->meta->version,
                         (unsigned long long)want);
            goto out;
        }
        tuf_meta_root_free(*root);
        *root = next;
        next = NULL;
    }
out:
    tuf_meta_root_free(next);
    buf_release(&data);
    return rc;
}

/*
 * Read, hash-check (against the meta entry desc), parse and signature-check
 * one of timestamp/snapshot/targets, and check its version and expiry.
 */
static int load_role(struct tuf_meta **out, struct vctx *v,
                     const struct tuf_meta_root *root, enum tuf_role role,
                     const struct tuf_target *desc, uint64_t want_version,
                     const char *by, struct err *err)
{
    struct buf data = BUF_INIT;
    struct tuf_meta *m = NULL;
    struct tuf_target named;
    char file[TUF_META_FILE_MAX];
    const char *name = tuf_meta_role_name(role);
    int rc;

    *out = NULL;
    if (role == TUF_ROLE_TIMESTAMP || !root->consistent_snapshot)
        snprintf(file, sizeof(file), "%s.json", name);
    else
        snprintf(file, sizeof(file), "%llu.%s.json",
                 (unsigned long long)want_version, name);
    rc = read_meta(&data, v, file, err);
    if (rc < 0)
        goto out;
    if (desc) {
        named = *desc;
        named.name = file;
        rc = tuf_target_check_bytes(&named, data.data ? data.data : "",
                                    data.len, err);
        if (rc < 0)
            goto out;
    }
    rc = tuf_meta_parse(&m, file, data.data ? data.data : "", data.len, role,
                        v->pol->lenient_dates, err);
    if (rc < 0)
        goto out;
    rc = tuf_meta_check_sigs(m, root, role, err);
    if (rc < 0)
        goto out;
    if (desc && m->version != want_version) {
        rc = err_set(err, ERR_VERIFY, "%s: version is %llu, but %s says %llu",
                     file, (unsigned long long)m->version, by,
                     (unsigned long long)want_version);
        goto out;
    }
    rc = check_expiry(v, m, err);
    if (rc < 0)
        goto out;
    note_expiry(v, m);
    *out = m;
    m = NULL;
out:
    tuf_meta_free(m);
    buf_release(&data);
    return rc;
}

/* The meta entry for name in m's "meta" (only name, when only is set). */
static int meta_entry(struct tuf_target *out, uint64_t *version,
                      const struct tuf_meta *m, const char *name, bool only,
                      struct err *err)
{
    const json_t *meta = json_object_get(m->signed_obj, "meta");
    const json_t *entry = json_object_get(meta, name);
    char what[TUF_META_FILE_MAX + 64];
    int rc;

    if (!json_is_object(meta))
        return err_set(err, ERR_INVAL, "%s: missing object \"meta\"", m->file);
    if (!entry)
        return err_set(err, ERR_INVAL, "%s: meta lists no %s", m->file, name);
    if (only && json_object_size(meta) != 1)
        return err_set(err, ERR_INVAL, "%s: meta must list only %s", m->file,
                       name);
    snprintf(what, sizeof(what), "%s: meta %s", m->file, name);
    rc = tuf_target_parse(out, name, entry, false, false, what, err);
    if (rc < 0)
        return rc;
    if (jsonu_u64(version, json_object_get(entry, "version")) < 0 ||
        *version == 0 || *version > INT64_MAX)
        return err_set(err, ERR_INVAL, "%s: version must be an integer >= 1",
                       what);
    return 0;
}

static int check_delegations(const struct tuf_meta *m,
                             const struct tuf_policy *pol, struct err *err)
{
    const json_t *d = json_object_get(m->signed_obj, "delegations");
    const json_t *roles = json_object_get(d, "roles");
    const char *first;

    if (!d)
        return 0;
    if (!json_is_object(d) || (roles && !json_is_array(roles)))
        return err_set(err, ERR_INVAL, "%s: malformed delegations", m->file);
    if (json_array_size(roles) == 0 || pol->ignore_delegations)
        return 0;
    first = jsonu_str(json_array_get(roles, 0), "name");
    return err_set(err, ERR_INVAL,
                   "%s: delegations are not supported (delegated role "
                   "\"%.64s\"); only empty delegations are accepted",
                   m->file, first ? first : "?");
}

/*
 * Verify the repository from one starting root. repo_root: the root is the
 * repository's own metadata/1.root.json (blind trust), whose file name
 * promises version 1.
 */
static int verify_one(struct tuf_repo **out, const struct vctx *vin,
                      const char *rootfile, bool repo_root, const char *data,
                      size_t len, struct err *err)
{
    struct vctx v = *vin;
    struct tuf_meta_root *root = NULL;
    struct tuf_meta *ts = NULL, *snap = NULL, *tgt = NULL;
    struct tuf_target desc;
    uint64_t ver = 0;
    int rc;

    v.repo = mem_calloc(1, sizeof(*v.repo));
    if (!v.repo) {
        rc = err_set(err, ERR_NOMEM, "tuf: out of memory");
        goto out;
    }
    v.repo->valid_until = INT64_MAX;
    rc = load_root(&root, &v, rootfile, data, len, err);
    if (rc == 0 && repo_root && root->meta->version != 1)
        rc = err_set(err, ERR_VERIFY,
                     "%s: version is %" PRIu64 ", expected exactly 1",
                     rootfile, root->meta->version);
    if (rc == 0)
        rc = tuf_meta_check_sigs(root->meta, root, TUF_ROLE_ROOT, err);
    if (rc == 0)
        rc = root_chain(&root, &v, err);
    if (rc == 0)
        rc = check_expiry(&v, root->meta, err);
    if (rc < 0)
        goto out;
    note_expiry(&v, root->meta);
    rc = load_role(&ts, &v, root, TUF_ROLE_TIMESTAMP, NULL, 0, NULL, err);
    if (rc == 0)
        rc = meta_entry(&desc, &ver, ts, "snapshot.json", true, err);
    if (rc == 0)
        rc = load_role(&snap, &v, root, TUF_ROLE_SNAPSHOT, &desc, ver,
                       ts->file, err);
    if (rc == 0)
        rc = meta_entry(&desc, &ver, snap, "targets.json", false, err);
    if (rc == 0)
        rc = load_role(&tgt, &v, root, TUF_ROLE_TARGETS, &desc, ver,
                       snap->file, err);
    if (rc == 0)
        rc = check_delegations(tgt, v.pol, err);
    if (rc == 0)
        rc = tuf_repo_set_targets(v.repo, tgt->doc, tgt->file, err);
    if (rc < 0)
        goto out;
    v.repo->root_version = root->meta->version;
    v.repo->consistent_snapshot = root->consistent_snapshot;
    v.repo->timestamp_version = ts->version;
    v.repo->snapshot_version = snap->version;
    v.repo->targets_version = tgt->version;
    *out = v.repo;
    v.repo = NULL;
out:
    tuf_meta_free(tgt);
    tuf_meta_free(snap);
    tuf_meta_free(ts);
    tuf_meta_root_free(root);
    tuf_repo_free(v.repo);
    return rc;
}

int tuf_verify_repo(struct tuf_repo **out, const struct tuf_provider *p,
                    const struct tuf_trust_root *roots, size_t nroots,
                    const struct tuf_policy *pol, struct err *err)
{
    struct vctx v = {p, pol, NULL};
    struct buf own = BUF_INIT;
    struct err inner = ERR_INIT;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    if (nroots == 0 && !pol->trust_repo_root) {
        rc = err_set(err, ERR_INVAL,
                     "no trust roots: add a trusted root.json first");
        goto out;
    }
    if (nroots == 0) {
        rc = read_meta(&own, &v, "1.root.json", err);
        if (rc == 0)
            rc = verify_one(out, &v, "1.root.json", true,
                            own.data ? own.data : "", own.len, err);
        goto out;
    }
    for (i = 0; i < nroots; i++) {
        char name[48];

        err_clear(&inner);
        snprintf(name, sizeof(name), "trusted root %zu", i + 1);
        rc = verify_one(out, &v, name, false,
                        roots[i].data ? roots[i].data : "", roots[i].len,
                        &inner);
        /* Only a verification failure moves on to the next root. */
        if (rc != ERR_VERIFY)
            break;
    }
    if (rc < 0 && err)
        *err = inner;
out:
    buf_release(&own);
    return rc;
}
