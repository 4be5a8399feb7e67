/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_meta: TUF metadata envelopes, root documents and signature
 * thresholds (see tuf_meta.h, notes/tuf.md 1.1, 1.2, 1.4). Owns the
 * structural rules of metadata; the workflow lives in tuf_verify.c.
 */
#include "common/tuf_meta.h"

#include <stdio.h>
#include <string.h>

#include "common/cjson.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/tuf_key.h"
#include "common/tuf_time.h"

/* Longest signature we decode: RSA-8192 is 1024 bytes. */
#define SIG_MAX 1024

static const char *const role_names[TUF_ROLE_COUNT] = {
    "root", "timestamp", "snapshot", "targets"};

const char *tuf_meta_role_name(enum tuf_role role)
{
    return role < TUF_ROLE_COUNT ? role_names[role] : "?";
}

/* "1.0", "1.0.0", "1.0.31": 2 or 3 numeric parts, major 1. */
static bool spec_version_ok(const char *s)
{
    int parts = 0;

    if (!s || strncmp(s, "1.", 2) != 0)
        return false;
    s += 2;
    parts = 1;
    for (;;) {
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n > 9)
            return false;
        parts++;
        s += n;
        if (*s == '\0')
            break;
        if (*s != '.')
            return false;
        s++;
    }
    return parts <= 3;
}

void tuf_meta_free(struct tuf_meta *m)
{
    if (!m)
        return;
    json_decref(m->doc);
    buf_release(&m->canon);
    mem_free(m);
}

int tuf_meta_parse(struct tuf_meta **out, const char *file, const char *data,
                   size_t len, enum tuf_role expect, bool lenient_dates,
                   struct err *err)
{
    struct err inner = ERR_INIT;
    struct tuf_meta *m = NULL;
    const char *type, *spec, *expires;
    const json_t *signed_obj;
    int rc = 0;

    *out = NULL;
    m = mem_calloc(1, sizeof(*m));
    if (!m) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory", file);
        goto out;
    }
    snprintf(m->file, sizeof(m->file), "%s", file);
    m->doc = jsonu_loadb(data, len, LIMIT_TUF_METADATA, &inner);
    if (!m->doc) {
        rc = err_set(err, inner.code == ERR_TOOBIG ? ERR_LIMIT : inner.code,
                     "%s: %s", file, inner.msg);
        goto out;
    }
    signed_obj = json_object_get(m->doc, "signed");
    m->sigs = json_object_get(m->doc, "signatures");
    if (!json_is_object(m->doc) || !json_is_object(signed_obj) ||
        !json_is_array(m->sigs)) {
        rc = err_set(err, ERR_INVAL,
                     "%s: not a TUF envelope (needs object \"signed\" and "
                     "array \"signatures\")", file);
        goto out;
    }
    m->signed_obj = signed_obj;
    rc = cjson_encode(&m->canon, signed_obj, &inner);
    if (rc < 0) {
        rc = err_set(err, rc, "%s: %s", file, inner.msg);
        goto out;
    }
    type = jsonu_str(signed_obj, "_type");
    if (!type) {
        rc = err_set(err, ERR_INVAL, "%s: missing string \"_type\"", file);
        goto out;
    }
    if (strcmp(type, role_names[expect]) != 0) {
        rc = err_set(err, ERR_VERIFY, "%s: _type is \"%.32s\", expected \"%s\"",
                     file, type, role_names[expect]);
        goto out;
    }
    m->type = expect;
    spec = jsonu_str(signed_obj, "spec_version");
    if (!spec_version_ok(spec)) {
        rc = err_set(err, ERR_INVAL,
                     "%s: spec_version \"%.32s\" is not a 1.x version", file,
                     spec ? spec : "(missing)");
        goto out;
    }
    if (jsonu_u64(&m->version, json_object_get(signed_obj, "version")) < 0 ||
        m->version == 0 || m->version > INT64_MAX) {
        rc = err_set(err, ERR_INVAL, "%s: version must be an integer >= 1",
                     file);
        goto out;
    }
    expires = jsonu_str(signed_obj, "expires");
    if (!expires || tuf_time_parse(&m->expires, expires, lenient_dates) < 0) {
        rc = err_set(err, ERR_INVAL, "%s: expires \"%.40s\" is not a %s", file,
                     expires ? expires : "(missing)",
                     lenient_dates ? "RFC 3339 time"
                                   : "YYYY-MM-DDTHH:MM:SSZ time");
        goto out;
    }
    *out = m;
    m = NULL;
out:
    tuf_meta_free(m);
    return rc;
}

void tuf_meta_root_free(struct tuf_meta_root *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nkeys; i++)
        tuf_key_free(r->keys[i].key);
    mem_free(r->keys);
    for (int i = 0; i < TUF_ROLE_COUNT; i++)
        mem_free(r->roles[i].keyids);
    tuf_meta_free(r->meta);
    mem_free(r);
}

static int parse_keys(struct tuf_meta_root *r, const json_t *keys,
                      bool check_keyid, struct err *err)
{
    struct err inner = ERR_INIT;
    const char *keyid;
    json_t *obj;
    int rc = 0;

    if (!json_is_object(keys))
        return err_set(err, ERR_INVAL, "%s: missing object \"keys\"",
                       r->meta->file);
    r->keys = mem_calloc(json_object_size(keys) + 1, sizeof(*r->keys));
    if (!r->keys)
        return err_set(err, ERR_NOMEM, "%s: out of memory", r->meta->file);
    json_object_foreach((json_t *)keys, keyid, obj) {
        struct tuf_meta_key *k = &r->keys[r->nkeys];

        rc = tuf_key_parse(&k->key, keyid, obj, check_keyid, &inner);
        if (rc < 0)
            return err_set(err, rc, "%s: %s", r->meta->file, inner.msg);
        k->keyid = keyid;
        r->nkeys++;
    }
    return 0;
}

static int parse_role(struct tuf_meta_role *role, const json_t *obj,
                      const char *file, const char *name, struct err *err)
{
    const json_t *keyids = json_object_get(obj, "keyids");
    size_t n = json_array_size(keyids);

    if (!json_is_object(obj) || !json_is_array(keyids))
        return err_set(err, ERR_INVAL,
                       "%s: role %s needs an array \"keyids\"", file, name);
    if (jsonu_u64(&role->threshold, json_object_get(obj, "threshold")) < 0 ||
        role->threshold < 1 || role->threshold > UINT32_MAX)
        return err_set(err, ERR_INVAL,
                       "%s: role %s: threshold must be an integer >= 1", file,
                       name);
    role->keyids = mem_calloc(n + 1, sizeof(*role->keyids));
    if (!role->keyids)
        return err_set(err, ERR_NOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(keyids, i));

        if (!id)
            return err_set(err, ERR_INVAL,
                           "%s: role %s: keyids must be strings", file, name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(role->keyids[j], id) == 0)
                return err_set(err, ERR_INVAL,
                               "%s: role %s lists keyid %.64s twice", file,
                               name, id);
        role->keyids[i] = id;
    }
    role->nkeyids = n;
    return 0;
}

int tuf_meta_root_new(struct tuf_meta_root **out, struct tuf_meta *m,
                      bool check_keyid, struct err *err)
{
    struct tuf_meta_root *r = NULL;
    const json_t *roles, *cs;
    int rc = 0;

    *out = NULL;
    r = mem_calloc(1, sizeof(*r));
    if (!r) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory", m->file);
        tuf_meta_free(m);
        goto out;
    }
    r->meta = m;
    rc = parse_keys(r, json_object_get(m->signed_obj, "keys"), check_keyid,
                    err);
    if (rc < 0)
        goto out;
    roles = json_object_get(m->signed_obj, "roles");
    if (!json_is_object(roles)) {
        rc = err_set(err, ERR_INVAL, "%s: missing object \"roles\"", m->file);
        goto out;
    }
    for (int i = 0; i < TUF_ROLE_COUNT; i++) {
        rc = parse_role(&r->roles[i], json_object_get(roles, role_names[i]),
                        m->file, role_names[i], err);
        if (rc < 0)
            goto out;
    }
    cs = json_object_get(m->signed_obj, "consistent_snapshot");
    if (cs && !json_is_boolean(cs)) {
        rc = err_set(err, ERR_INVAL,
                     "%s: consistent_snapshot must be a boolean", m->file);
        goto out;
    }
    r->consistent_snapshot = json_is_true(cs);
    *out = r;
    r = NULL;
out:
    tuf_meta_root_free(r);
    return rc;
}

static const struct tuf_key *find_key(const struct tuf_meta_key *keys,
                                      size_t nkeys, const char *keyid)
{
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i].keyid, keyid) == 0)
            return keys[i].key;
    return NULL;
}

int tuf_meta_count_sigs(const struct tuf_meta *m,
                        const struct tuf_meta_key *keys, size_t nkeys,
                        const struct tuf_meta_role *role)
{
    bool *counted = mem_calloc(role->nkeyids + 1, sizeof(*counted));
    uint8_t sig[SIG_MAX];
    int valid = 0;

    if (!counted)
        return ERR_NOMEM;
    for (size_t i = 0; i < json_array_size(m->sigs); i++) {
        const json_t *s = json_array_get(m->sigs, i);
        const char *keyid = jsonu_str(s, "keyid");
        const char *hexsig = jsonu_str(s, "sig");
        const struct tuf_key *key;
        size_t slot = role->nkeyids, siglen = 0;

        /* Malformed, empty, foreign or repeated signatures do not count. */
        if (!keyid || !hexsig || hexsig[0] == '\0')
            continue;
        for (size_t j = 0; j < role->nkeyids; j++)
            if (strcmp(role->keyids[j], keyid) == 0)
                slot = j;
        if (slot == role->nkeyids || counted[slot])
            continue;
        key = find_key(keys, nkeys, keyid);
        if (!key || hex_decode(sig, sizeof(sig), &siglen, hexsig,
                               strlen(hexsig)) < 0)
            continue;
        if (tuf_key_verify(key, sig, siglen, m->canon.data, m->canon.len)) {
            counted[slot] = true;
            valid++;
        }
    }
    mem_free(counted);
    return valid;
}

int tuf_meta_check_sigs(const struct tuf_meta *m,
                        const struct tuf_meta_root *root, enum tuf_role role,
                        struct err *err)
{
    const struct tuf_meta_role *r = &root->roles[role];
    int valid = tuf_meta_count_sigs(m, root->keys, root->nkeys, r);

    if (valid < 0)
        return err_set(err, valid, "%s: out of memory", m->file);
    if ((uint64_t)valid >= r->threshold)
        return 0;
    /* Name the signing root only in the rotation chain (old root's keys). */
    if (role != TUF_ROLE_ROOT || root->meta == m)
        return err_set(err, ERR_VERIFY,
                       "%s: signature threshold not met (%d of %llu valid "
                       "signatures)", m->file, valid,
                       (unsigned long long)r->threshold);
    return err_set(err, ERR_VERIFY,
                   "%s: signature threshold not met by the %s keys of root "
                   "v%llu (%d of %llu valid signatures)", m->file,
                   role_names[role], (unsigned long long)root->meta->version,
                   valid, (unsigned long long)r->threshold);
}
