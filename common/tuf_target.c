/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_target: signed file descriptions (targets entries and metadata meta
 * entries) and their streaming length-and-hash verification, plus the
 * provider-backed target reader (see tuf_target.h, notes/tuf.md 1.7 step 6).
 */
#include "common/tuf_target.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/tuf_provider.h"

/* Large enough that per-call costs (syscalls, provider calls: 1024 per
 * GiB) vanish next to hashing; small enough to stay mostly cache-resident
 * between the read, the hashes and the callback's write. */
#define READ_CHUNK (1024u * 1024)

static size_t alg_len(const char *alg)
{
    if (strcmp(alg, "sha256") == 0)
        return 32;
    if (strcmp(alg, "sha512") == 0)
        return 64;
    return 0;
}

int tuf_target_parse(struct tuf_target *out, const char *name,
                     const json_t *obj, bool need_length, bool need_hashes,
                     const char *what, struct err *err)
{
    const json_t *len = json_object_get(obj, "length");
    const json_t *hashes = json_object_get(obj, "hashes");
    const json_t *custom = json_object_get(obj, "custom");
    const char *alg;
    json_t *v;

    memset(out, 0, sizeof(*out));
    out->name = name;
    if (!json_is_object(obj))
        return err_set(err, ERR_INVAL, "%s: entry must be an object", what);
    if (len || need_length) {
        if (jsonu_u64(&out->length, len) < 0)
            return err_set(err, ERR_INVAL,
                           "%s: length must be a non-negative integer", what);
        out->has_length = true;
    }
    if (hashes || need_hashes) {
        if (!json_is_object(hashes) || json_object_size(hashes) == 0)
            return err_set(err, ERR_INVAL,
                           "%s: hashes must be a non-empty object", what);
        if (json_object_size(hashes) > TUF_HASHES_MAX)
            return err_set(err, ERR_INVAL, "%s: more than %d hashes", what,
                           TUF_HASHES_MAX);
    }
    json_object_foreach((json_t *)hashes, alg, v) {
        struct tuf_hash *h = &out->hashes[out->nhashes++];
        const char *hex = json_string_value(v);
        size_t n = 0;

        snprintf(h->alg, sizeof(h->alg), "%s", alg);
        if (!hex)
            return err_set(err, ERR_INVAL, "%s: hash %.16s must be a string",
                           what, alg);
        h->len = alg_len(alg);
        /* An unknown algorithm is kept: verification of the file fails. */
        if (h->len == 0)
            continue;
        h->known = true;
        if (strlen(hex) != 2 * h->len ||
            hex_decode(h->digest, sizeof(h->digest), &n, hex, strlen(hex)) < 0)
            return err_set(err, ERR_INVAL, "%s: %s is not %zu hex characters",
                           what, alg, 2 * h->len);
        if (h->len == 32) {
            out->has_sha256 = true;
            memcpy(out->sha256.b, h->digest, 32);
        }
    }
    if (custom && !json_is_object(custom))
        return err_set(err, ERR_INVAL, "%s: custom must be an object", what);
    out->custom = custom;
    return 0;
}

void tuf_target_check_release(struct tuf_target_check *c)
{
    for (int i = 0; i < TUF_HASHES_MAX; i++) {
        EVP_MD_CTX_free(c->md[i]);
        c->md[i] = NULL;
    }
}

int tuf_target_check_init(struct tuf_target_check *c,
                          const struct tuf_target *t, struct err *err)
{
    c->t = t;
    c->seen = 0;
    for (size_t i = 0; i < t->nhashes; i++) {
        const struct tuf_hash *h = &t->hashes[i];

        if (!h->known)
            return err_set(err, ERR_VERIFY,
                           "%s: unknown hash algorithm \"%s\"", t->name,
                           h->alg);
        c->md[i] = EVP_MD_CTX_new();
        if (!c->md[i])
            return err_set(err, ERR_NOMEM, "%s: out of memory", t->name);
        if (EVP_DigestInit_ex2(c->md[i], h->len == 32 ? EVP_sha256()
                                                      : EVP_sha512(),
                               NULL) != 1) {
            ERR_clear_error();
            return err_set(err, ERR_INTERNAL, "%s: %s init failed", t->name,
                           h->alg);
        }
    }
    return 0;
}

int tuf_target_check_update(struct tuf_target_check *c, const void *data,
                            size_t n, struct err *err)
{
    const struct tuf_target *t = c->t;

    if (t->has_length && (uint64_t)n > t->length - c->seen)
        return err_set(err, ERR_VERIFY,
                       "%s: longer than its signed length of %llu bytes",
                       t->name, (unsigned long long)t->length);
    for (size_t i = 0; i < t->nhashes; i++)
        if (EVP_DigestUpdate(c->md[i], data, n) != 1) {
            ERR_clear_error();
            return err_set(err, ERR_INTERNAL, "%s: digest update failed",
                           t->name);
        }
    c->seen += n;
    return 0;
}

int tuf_target_check_final(struct tuf_target_check *c, struct err *err)
{
    const struct tuf_target *t = c->t;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (t->has_length && c->seen != t->length)
        return err_set(err, ERR_VERIFY,
                       "%s: %llu bytes, shorter than its signed length of "
                       "%llu bytes", t->name, (unsigned long long)c->seen,
                       (unsigned long long)t->length);
    for (size_t i = 0; i < t->nhashes; i++) {
        const struct tuf_hash *h = &t->hashes[i];

        if (EVP_DigestFinal_ex(c->md[i], md, &mdlen) != 1) {
            ERR_clear_error();
            return err_set(err, ERR_INTERNAL, "%s: digest final failed",
                           t->name);
        }
        if (mdlen != h->len || memcmp(md, h->digest, h->len) != 0)
            return err_set(err, ERR_VERIFY, "%s: %s mismatch", t->name,
                           h->alg);
    }
    return 0;
}

int tuf_target_check_bytes(const struct tuf_target *t, const void *data,
                           size_t n, struct err *err)
{
    struct tuf_target_check c = TUF_TARGET_CHECK_INIT;
    int rc = tuf_target_check_init(&c, t, err);

    if (rc == 0)
        rc = tuf_target_check_update(&c, data, n, err);
    if (rc == 0)
        rc = tuf_target_check_final(&c, err);
    tuf_target_check_release(&c);
    return rc;
}

int tuf_target_read(const struct tuf_provider *p, const char *path,
                    const struct tuf_target *t, tuf_target_chunk_fn cb,
                    void *arg, struct err *err)
{
    struct tuf_target_check c = TUF_TARGET_CHECK_INIT;
    void *stream = NULL;
    char *chunk = NULL;
    int rc = tuf_target_check_init(&c, t, err);

    if (rc < 0)
        goto out;
    chunk = mem_alloc(READ_CHUNK);
    if (!chunk) {
        rc = err_set(err, ERR_NOMEM, "%s: out of memory", t->name);
        goto out;
    }
    rc = p->ops->open(p->arg, path, &stream, err);
    if (rc < 0)
        goto out;
    for (;;) {
        size_t want = READ_CHUNK, got = 0;

        /* Ask for at most one byte past the signed length. */
        if (t->has_length && t->length - c.seen < want)
            want = (size_t)(t->length - c.seen) + 1;
        rc = p->ops->read(p->arg, stream, chunk, want, &got, err);
        if (rc < 0)
            goto out;
        if (got == 0)
            break;
        rc = tuf_target_check_update(&c, chunk, got, err);
        if (rc < 0)
            goto out;
        if (cb) {
            rc = cb(chunk, got, arg);
            if (rc != 0)
                goto out;
        }
    }
    rc = tuf_target_check_final(&c, err);
out:
    if (stream)
        p->ops->close(p->arg, stream);
    mem_free(chunk);
    tuf_target_check_release(&c);
    return rc;
}
