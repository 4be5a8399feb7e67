/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_keys: the ed25519 keys of tuf-mkrepo over OpenSSL: generate, load
 * and save as PKCS#8 PEM, the TUF key object and its key id (sha256 of the
 * canonical JSON of the whole object), and hex signatures.
 */
#include "sim/mkrepo_internal.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/cjson.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/mem.h"

/* Fill the public hex and key id of k from its EVP key. */
static int key_finish(struct mkrepo_key *k, struct err *err)
{
    uint8_t pub[32];
    size_t n = sizeof(pub);
    struct buf c = BUF_INIT;
    struct sha256 h;
    json_t *j = NULL;
    int rc = 0;

    if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1 || n != 32) {
        rc = err_set(err, ERR_INTERNAL, "key is not ed25519");
        goto out;
    }
    hex_encode(k->pub_hex, pub, sizeof(pub));
    j = mkrepo_keys_json(k);
    if (!j) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = cjson_encode(&c, j, err);
    if (rc < 0)
        goto out;
    rc = sha256_digest(&h, c.data, c.len);
    if (rc < 0) {
        rc = err_set(err, rc, "sha256 failed");
        goto out;
    }
    sha256_to_hex(k->keyid, &h);
out:
    json_decref(j);
    buf_release(&c);
    return rc;
}

int mkrepo_keys_generate(struct mkrepo_key *out, struct err *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    EVP_PKEY *pkey = NULL;
    int rc = 0;

    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_keygen(ctx, &pkey) != 1) {
        rc = err_set(err, ERR_INTERNAL, "ed25519 key generation failed");
        goto out;
    }
    out->pkey = pkey;
    rc = key_finish(out, err);
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int mkrepo_keys_load(struct mkrepo_key *out, const char *path,
                     struct err *err)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *pkey = NULL;
    int rc = 0;

    if (!f) {
        rc = err_set(err, ERR_IO, "open %s: %m", path);
        goto out;
    }
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        rc = err_set(err, ERR_INVAL, "%s: not an ed25519 PKCS#8 PEM key",
                     path);
        EVP_PKEY_free(pkey);
        goto out;
    }
    out->pkey = pkey;
    rc = key_finish(out, err);
out:
    if (f)
        fclose(f);
    return rc;
}

int mkrepo_keys_save(const struct mkrepo_key *k, const char *path,
                     struct err *err)
{
    FILE *f = fopen(path, "w");
    int rc = 0;

    if (!f) {
        rc = err_set(err, ERR_IO, "open %s: %m", path);
        goto out;
    }
    if (PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = err_set(err, ERR_IO, "write %s: PEM encoding failed", path);
        goto out;
    }
out:
    if (f && fclose(f) != 0 && rc == 0)
        rc = err_set(err, ERR_IO, "close %s: %m", path);
    return rc;
}

json_t *mkrepo_keys_json(const struct mkrepo_key *k)
{
    return json_pack("{s:s, s:{s:s}, s:s}", "keytype", "ed25519", "keyval",
                     "public", k->pub_hex, "scheme", "ed25519");
}

int mkrepo_keys_sign(struct buf *out, const struct mkrepo_key *k,
                     const void *msg, size_t len, struct err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t sig[64];
    size_t n = sizeof(sig);
    char hex[129];
    int rc = 0;

    if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(md, sig, &n, msg, len) != 1 || n != sizeof(sig)) {
        rc = err_set(err, ERR_INTERNAL, "ed25519 signing failed");
        goto out;
    }
    hex_encode(hex, sig, sizeof(sig));
    if (buf_puts(out, hex) < 0)
        rc = err_set(err, ERR_NOMEM, "out of memory");
out:
    EVP_MD_CTX_free(md);
    return rc;
}

void mkrepo_keys_release(struct mkrepo_key *k)
{
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}
