/* SPDX-License-Identifier: MPL-2.0 */
/* sha256: SHA-256 over OpenSSL EVP (see sha256.h). */
#include "common/sha256.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/hex.h"

int sha256_init(struct sha256_ctx *ctx)
{
    EVP_MD_CTX *md = ctx->md;

    if (!md) {
        md = EVP_MD_CTX_new();
        if (!md)
            return ERR_NOMEM;
        ctx->md = md;
    }
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        return ERR_INTERNAL;
    return 0;
}

int sha256_update(struct sha256_ctx *ctx, const void *data, size_t n)
{
    if (n == 0)
        return 0;
    return EVP_DigestUpdate(ctx->md, data, n) == 1 ? 0 : ERR_INTERNAL;
}

int sha256_final(struct sha256_ctx *ctx, struct sha256 *out)
{
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(ctx->md, out->b, &len) != 1 || len != SHA256_LEN)
        return ERR_INTERNAL;
    return 0;
}

void sha256_release(struct sha256_ctx *ctx)
{
    EVP_MD_CTX_free(ctx->md);
    ctx->md = NULL;
}

int sha256_digest(struct sha256 *out, const void *data, size_t n)
{
    unsigned int len = 0;

    if (EVP_Digest(data, n, out->b, &len, EVP_sha256(), NULL) != 1)
        return ERR_INTERNAL;
    return len == SHA256_LEN ? 0 : ERR_INTERNAL;
}

void sha256_to_hex(char out[SHA256_HEX_LEN + 1], const struct sha256 *h)
{
    hex_encode(out, h->b, SHA256_LEN);
}

int sha256_from_hexn(struct sha256 *out, const char *s, size_t n)
{
    size_t len = 0;

    if (n != SHA256_HEX_LEN)
        return ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return ERR_INVAL;
    }
    return hex_decode(out->b, SHA256_LEN, &len, s, n);
}

int sha256_from_hex(struct sha256 *out, const char *s)
{
    return sha256_from_hexn(out, s, strnlen(s, SHA256_HEX_LEN + 1));
}

bool sha256_is_hex(const char *s)
{
    struct sha256 h;

    return sha256_from_hex(&h, s) == 0;
}

int sha256_cmp(const struct sha256 *a, const struct sha256 *b)
{
    return memcmp(a->b, b->b, SHA256_LEN);
}

bool sha256_eq(const struct sha256 *a, const struct sha256 *b)
{
    return memcmp(a->b, b->b, SHA256_LEN) == 0;
}
