/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_key: TUF public keys and signature verification over OpenSSL 3 (see
 * tuf_key.h and notes/tuf.md 1.3, 1.5, 4). Owns the keytype/scheme table,
 * the keyid computation and the EVP calls. Keys are immutable once parsed.
 */
#include "common/tuf_key.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/sha256.h"

enum key_kind { KEY_ED25519, KEY_ECDSA, KEY_RSA_PSS };

struct tuf_key {
    enum key_kind kind;
    EVP_PKEY *pkey;       /* NULL when unusable */
    const char *unusable; /* static reason, NULL when usable */
};

int tuf_key_id(char out[65], const json_t *obj, struct err *err)
{
    struct buf canon = BUF_INIT;
    struct sha256 h;
    int rc = cjson_encode(&canon, obj, err);

    if (rc < 0)
        goto out;
    rc = sha256_digest(&h, canon.data ? canon.data : "", canon.len);
    if (rc < 0) {
        rc = err_set(err, rc, "keyid: sha256 failed");
        goto out;
    }
    sha256_to_hex(out, &h);
out:
    buf_release(&canon);
    return rc;
}

static EVP_PKEY *load_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pk = NULL;

    if (bio)
        pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pk;
}

static bool is_p256(EVP_PKEY *pk)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_is_a(pk, "EC"))
        return false;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &glen) != 1)
        return false;
    return strcmp(group, "prime256v1") == 0;
}

/* The legacy sigstore form: 130 hex chars = 04 || X || Y on P-256. */
static EVP_PKEY *load_ec_point(const char *hexpt)
{
    uint8_t pt[65];
    size_t n = 0;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    OSSL_PARAM params[3];
    char group[] = "prime256v1";

    if (strlen(hexpt) != 130 ||
        hex_decode(pt, sizeof(pt), &n, hexpt, 130) < 0 || n != 65 ||
        pt[0] != 0x04)
        return NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  pt, sizeof(pt));
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

/* Load the key material; sets k->pkey or k->unusable. */
static void load_material(struct tuf_key *k, const char *keytype,
                          const char *scheme, const char *pub)
{
    if (strcmp(keytype, "ed25519") == 0 && strcmp(scheme, "ed25519") == 0) {
        uint8_t raw[32];
        size_t n = 0;

        k->kind = KEY_ED25519;
        if (strlen(pub) != 64 || hex_decode(raw, sizeof(raw), &n, pub, 64) < 0) {
            k->unusable = "ed25519 public key is not 64 hex characters";
            return;
        }
        k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
        if (!k->pkey)
            k->unusable = "ed25519 public key does not load";
    } else if ((strcmp(keytype, "ecdsa") == 0 ||
                strcmp(keytype, "ecdsa-sha2-nistp256") == 0) &&
               strcmp(scheme, "ecdsa-sha2-nistp256") == 0) {
        k->kind = KEY_ECDSA;
        k->pkey = strncmp(pub, "-----BEGIN", 10) == 0 ? load_pem(pub)
                                                      : load_ec_point(pub);
        if (!k->pkey || !is_p256(k->pkey))
            k->unusable = "ecdsa public key is not a P-256 key";
    } else if (strcmp(keytype, "rsa") == 0 &&
               strcmp(scheme, "rsassa-pss-sha256") == 0) {
        k->kind = KEY_RSA_PSS;
        k->pkey = load_pem(pub);
        if (!k->pkey || !EVP_PKEY_is_a(k->pkey, "RSA"))
            k->unusable = "rsa public key is not a PEM RSA key";
        else if (EVP_PKEY_get_bits(k->pkey) < 2048)
            k->unusable = "rsa public key is shorter than 2048 bits";
    } else {
        k->unusable = "unsupported keytype and scheme";
    }
    if (k->unusable) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
    }
    ERR_clear_error();
}

int tuf_key_parse(struct tuf_key **out, const char *keyid, const json_t *obj,
                  bool check_keyid, struct err *err)
{
    struct tuf_key *k = NULL;
    const json_t *keyval;
    const char *keytype, *scheme, *pub;
    char id[65];
    int rc = 0;

    *out = NULL;
    keytype = jsonu_str(obj, "keytype");
    scheme = jsonu_str(obj, "scheme");
    keyval = json_object_get(obj, "keyval");
    pub = jsonu_str(keyval, "public");
    if (!json_is_object(obj) || !keytype || !scheme || !json_is_object(keyval) ||
        !pub) {
        rc = err_set(err, ERR_INVAL,
                     "key %.64s: needs string keytype, scheme and "
                     "keyval.public", keyid);
        goto out;
    }
    if (check_keyid) {
        rc = tuf_key_id(id, obj, err);
        if (rc < 0)
            goto out;
        if (strcmp(id, keyid) != 0) {
            rc = err_set(err, ERR_VERIFY,
                         "keyid %.64s does not match its key (sha256 of the "
                         "canonical key is %s)", keyid, id);
            goto out;
        }
    }
    k = mem_calloc(1, sizeof(*k));
    if (!k) {
        rc = err_set(err, ERR_NOMEM, "key %.64s: out of memory", keyid);
        goto out;
    }
    load_material(k, keytype, scheme, pub);
    *out = k;
    k = NULL;
out:
    tuf_key_free(k);
    return rc;
}

const char *tuf_key_usable(const struct tuf_key *k)
{
    return k->unusable;
}

bool tuf_key_verify(const struct tuf_key *k, const uint8_t *sig,
                    size_t siglen, const void *msg, size_t msglen)
{
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    const char *md = NULL;
    bool ok = false;

    if (!k || !k->pkey || siglen == 0)
        return false;
    if (k->kind == KEY_ED25519 && siglen != 64)
        return false;
    if (k->kind != KEY_ED25519)
        md = "SHA256";
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        goto out;
    if (EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, k->pkey, NULL) != 1)
        goto out;
    if (k->kind == KEY_RSA_PSS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        goto out;
    /* Only 1 is success: 0 is a bad signature, < 0 an error. */
    ok = EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1;
out:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

void tuf_key_free(struct tuf_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    mem_free(k);
}
