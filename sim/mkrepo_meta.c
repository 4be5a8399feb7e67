/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_meta: the four signed roles of a tuf-mkrepo repository, shaped
 * like tufaceous's (notes/tuf.md 2.1): one ed25519 key for all four roles,
 * threshold 1; signatures over the canonical JSON of `signed`; files
 * pretty-printed with two-space indents. Metadata-level --break variants
 * are applied here, each re-signed so that only its own check fails.
 */
#include "sim/mkrepo_internal.h"

#include <string.h>

#include "common/cjson.h"
#include "common/err.h"
#include "common/mem.h"

#define FLOAT_MARKER "\"@@mkrepo-float@@\""

enum role { ROLE_ROOT, ROLE_TIMESTAMP, ROLE_SNAPSHOT, ROLE_TARGETS };

static bool broken(const struct mkrepo *r, enum mkrepo_break b)
{
    return r->o.brk == b;
}

/* The canonical bytes a lenient signer gives for a document with a float:
 * cjson with a marker string, the marker then replaced by 1.5. */
static int canon_with_float(struct buf *out, json_t *signed_, size_t victim,
                            struct err *err)
{
    json_t *copy = json_deep_copy(signed_), *t, *custom;
    struct buf c = BUF_INIT;
    const char *key, *at;
    size_t i = 0;
    int rc = 0;

    if (!copy) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    json_object_foreach(json_object_get(copy, "targets"), key, t) {
        if (i++ != victim)
            continue;
        custom = json_object_get(t, "custom");
        json_object_set_new(custom, "float", json_string("@@mkrepo-float@@"));
    }
    rc = cjson_encode(&c, copy, err);
    if (rc < 0)
        goto out;
    at = strstr(c.data, FLOAT_MARKER);
    if (!at) {
        rc = err_set(err, ERR_INTERNAL, "float marker lost");
        goto out;
    }
    if (buf_append(out, c.data, (size_t)(at - c.data)) < 0 ||
        buf_puts(out, "1.5") < 0 ||
        buf_puts(out, at + strlen(FLOAT_MARKER)) < 0)
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    json_decref(copy);
    buf_release(&c);
    return rc;
}

/* Sign signed_, wrap it in the envelope and append the file bytes. */
static int finish_role(struct buf *file, const struct mkrepo *r,
                       json_t *signed_, enum role role, const char *keyid,
                       struct err *err)
{
    const struct mkrepo_key *k = &r->key;
    struct buf canon = BUF_INIT, sig = BUF_INIT;
    json_t *env = NULL, *sigs = json_array();
    char *text = NULL, *at;
    int rc;

    if (role == ROLE_TARGETS && broken(r, MKREPO_BREAK_FLOAT))
        rc = canon_with_float(&canon, signed_, r->victim, err);
    else
        rc = cjson_encode(&canon, signed_, err);
    if (rc < 0)
        goto out;
    if (role == ROLE_TARGETS && broken(r, MKREPO_BREAK_WRONG_KEY)) {
        k = &r->other;
        keyid = r->other.keyid;
    }
    rc = mkrepo_keys_sign(&sig, k, canon.data, canon.len, err);
    if (rc < 0)
        goto out;
    if (role == ROLE_TARGETS && broken(r, MKREPO_BREAK_BAD_SIGNATURE))
        sig.data[10] = sig.data[10] == '0' ? '1' : '0';
    if (!sigs)
        goto nomem;
    if (!(role == ROLE_TARGETS && broken(r, MKREPO_BREAK_NO_SIGNATURE)) &&
        json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", keyid,
                                              "sig", sig.data)) < 0)
        goto nomem;
    env = json_pack("{s:O, s:O}", "signed", signed_, "signatures", sigs);
    text = env ? json_dumps(env, JSON_INDENT(2)) : NULL;
    if (!text)
        goto nomem;
    at = strstr(text, "\"signed\": {");
    if (role == ROLE_TARGETS && broken(r, MKREPO_BREAK_DUPLICATE_KEY) && at) {
        /* A repeated member with the same value: the parsed (last wins)
         * document, hence its canonical form and signature, is unchanged. */
        at += strlen("\"signed\": {");
        if (buf_append(file, text, (size_t)(at - text)) < 0 ||
            buf_puts(file, "\n    \"_type\": \"targets\",") < 0 ||
            buf_puts(file, at) < 0)
            goto nomem;
    } else if (buf_puts(file, text) < 0) {
        goto nomem;
    }
    rc = 0;
    goto out;
nomem:
    rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    mem_free(text);
    json_decref(env);
    json_decref(sigs);
    buf_release(&canon);
    buf_release(&sig);
    return rc;
}

static json_t *header(const struct mkrepo *r, const char *type,
                      json_int_t version)
{
    return json_pack("{s:s, s:s, s:I, s:s}", "_type", type, "spec_version",
                     "1.0.0", "version", version, "expires", r->o.expires);
}

/* {"length", "hashes": {"sha256"}, "version"} describing file bytes. */
static json_t *meta_entry(const struct buf *file, json_int_t version,
                          bool wrong_hash)
{
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];

    if (sha256_digest(&h, file->data, file->len) < 0)
        return NULL;
    sha256_to_hex(hex, &h);
    if (wrong_hash)
        hex[0] = hex[0] == '0' ? '1' : '0';
    return json_pack("{s:I, s:{s:s}, s:I}", "length", (json_int_t)file->len,
                     "hashes", "sha256", hex, "version", version);
}

static json_t *targets_signed(const struct mkrepo *r, const char *keyid)
{
    json_t *s = header(r, "targets",
                       r->o.version +
                           (broken(r, MKREPO_BREAK_TARGETS_VERSION) ? 1 : 0));
    json_t *targets = json_object(), *deleg;

    if (!s || !targets)
        goto fail;
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct mkrepo_target *t = &r->targets[i];
        bool victim = i == r->victim;
        char hex[SHA256_HEX_LEN + 1];
        json_t *e;

        sha256_to_hex(hex, &t->hash);
        e = json_pack("{s:I, s:{s:s}}", "length",
                      (json_int_t)(t->length +
                                   (victim && broken(r, MKREPO_BREAK_WRONG_LENGTH)
                                        ? 1
                                        : 0)),
                      "hashes", "sha256", hex);
        if (!e || json_object_set_new(targets, t->name, e) < 0)
            goto fail;
        if (victim && broken(r, MKREPO_BREAK_UNKNOWN_HASH_ALG) &&
            json_object_set_new(json_object_get(e, "hashes"), "sha3-256",
                                json_string(hex)) < 0)
            goto fail;
        if (victim && broken(r, MKREPO_BREAK_FLOAT) &&
            json_object_set_new(e, "custom",
                                json_pack("{s:f}", "float", 1.5)) < 0)
            goto fail;
    }
    if (json_object_set_new(s, "targets", targets) < 0) {
        targets = NULL;
        goto fail;
    }
    targets = NULL;
    if (broken(r, MKREPO_BREAK_DELEGATIONS))
        deleg = json_pack("{s:{s:o}, s:[{s:s, s:[s], s:i, s:[s], s:b}]}",
                          "keys", keyid, mkrepo_keys_json(&r->key), "roles",
                          "name", "delegated", "keyids", keyid, "threshold", 1,
                          "paths", "*", "terminating", 1);
    else
        deleg = json_pack("{s:{}, s:[]}", "keys", "roles");
    if (!deleg || json_object_set_new(s, "delegations", deleg) < 0)
        goto fail;
    return s;
fail:
    json_decref(targets);
    json_decref(s);
    return NULL;
}

static json_t *root_signed(const struct mkrepo *r, const char *keyid,
                           json_int_t version)
{
    json_t *s = json_pack("{s:s, s:s, s:b, s:I, s:s}", "_type", "root",
                          "spec_version", "1.0.0", "consistent_snapshot",
                          r->o.consistent, "version", version, "expires",
                          r->o.expires);
    json_t *roles = json_object();
    static const char *const names[] = {"root", "snapshot", "targets",
                                        "timestamp"};

    if (!s || !roles)
        goto fail;
    for (size_t i = 0; i < 4; i++)
        if (json_object_set_new(roles, names[i],
                                json_pack("{s:[s], s:i}", "keyids", keyid,
                                          "threshold", 1)) < 0)
            goto fail;
    if (json_object_set_new(s, "keys",
                            json_pack("{s:o}", keyid,
                                      mkrepo_keys_json(&r->key))) < 0 ||
        json_object_set(s, "roles", roles) < 0)
        goto fail;
    json_decref(roles);
    return s;
fail:
    json_decref(roles);
    json_decref(s);
    return NULL;
}

int mkrepo_meta_build(struct mkrepo *r, struct err *err)
{
    json_int_t v = r->o.version;
    char keyid[SHA256_HEX_LEN + 1];
    json_t *t = NULL, *sn = NULL, *ts = NULL, *rt = NULL;
    int rc = 0;

    memcpy(keyid, r->key.keyid, sizeof(keyid));
    if (broken(r, MKREPO_BREAK_KEYID_MISMATCH)) {
        /* Listed (and signed) under a keyid that is not the key's hash. */
        struct sha256 h;

        sha256_digest(&h, r->key.keyid, SHA256_HEX_LEN);
        sha256_to_hex(keyid, &h);
    }
    t = targets_signed(r, keyid);
    if (!t)
        goto nomem;
    rc = finish_role(&r->targets_json, r, t, ROLE_TARGETS, keyid, err);
    if (rc < 0)
        goto out;
    sn = header(r, "snapshot",
                v + (broken(r, MKREPO_BREAK_SNAPSHOT_VERSION) ? 1 : 0));
    if (!sn || json_object_set_new(sn, "meta",
                                   json_pack("{s:o}", "targets.json",
                                             meta_entry(&r->targets_json, v,
                                                        false))) < 0)
        goto nomem;
    rc = finish_role(&r->snapshot, r, sn, ROLE_SNAPSHOT, keyid, err);
    if (rc < 0)
        goto out;
    ts = header(r, "timestamp", v);
    if (!ts ||
        json_object_set_new(
            ts, "meta",
            json_pack("{s:o}", "snapshot.json",
                      meta_entry(&r->snapshot, v,
                                 broken(r, MKREPO_BREAK_SNAPSHOT_HASH)))) < 0)
        goto nomem;
    rc = finish_role(&r->timestamp, r, ts, ROLE_TIMESTAMP, keyid, err);
    if (rc < 0)
        goto out;
    rt = root_signed(r, keyid, broken(r, MKREPO_BREAK_ROOT_VERSION) ? 2 : 1);
    if (!rt)
        goto nomem;
    rc = finish_role(&r->root, r, rt, ROLE_ROOT, keyid, err);
    if (rc < 0 || !broken(r, MKREPO_BREAK_ROOT_CHAIN_VERSION))
        goto out;
    /* The next root in the chain must claim exactly version 2. */
    json_decref(rt);
    rt = root_signed(r, keyid, 3);
    if (!rt)
        goto nomem;
    rc = finish_role(&r->root2, r, rt, ROLE_ROOT, keyid, err);
    goto out;
nomem:
    rc = err_set(err, ERR_NOMEM, "out of memory building metadata");
out:
    json_decref(t);
    json_decref(sn);
    json_decref(ts);
    json_decref(rt);
    return rc;
}
