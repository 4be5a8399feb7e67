/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sha256: SHA-256 over OpenSSL EVP, streaming and one-shot, and the
 * struct sha256 value that names an artifact everywhere in rackdepot.
 * A context is used by one thread at a time.
 */
#ifndef COMMON_SHA256_H
#define COMMON_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256 {
    uint8_t b[SHA256_LEN];
};

struct sha256_ctx {
    void *md; /* EVP_MD_CTX * */
};

#define SHA256_CTX_INIT {NULL}

/* Start a digest. Returns 0 or ERR_NOMEM. */
int sha256_init(struct sha256_ctx *ctx);
/* Returns 0 or ERR_INTERNAL. */
int sha256_update(struct sha256_ctx *ctx, const void *data, size_t n);
/* Finish into out; the context may be re-initialised. Returns 0 or ERR_INTERNAL. */
int sha256_final(struct sha256_ctx *ctx, struct sha256 *out);
/* Free the context (safe on an unused or finished one). */
void sha256_release(struct sha256_ctx *ctx);

/* One-shot digest. Returns 0, ERR_NOMEM or ERR_INTERNAL. */
int sha256_digest(struct sha256 *out, const void *data, size_t n);

/* 64 lowercase hex chars + NUL. */
void sha256_to_hex(char out[SHA256_HEX_LEN + 1], const struct sha256 *h);

/*
 * Parse exactly 64 lowercase hex chars (the only form accepted on the wire).
 * Returns 0 or ERR_INVAL.
 */
int sha256_from_hex(struct sha256 *out, const char *s);

/* Whether s is that form: an artifact's file name. */
bool sha256_is_hex(const char *s);

/* Like sha256_from_hex but for a string of length n (not NUL-terminated). */
int sha256_from_hexn(struct sha256 *out, const char *s, size_t n);

int sha256_cmp(const struct sha256 *a, const struct sha256 *b);
bool sha256_eq(const struct sha256 *a, const struct sha256 *b);

#endif
