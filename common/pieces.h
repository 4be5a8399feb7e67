/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pieces: the piece manifest of an artifact (issue 13). An artifact of
 * `length` bytes is cut into pieces of `piece_size` bytes (a power of two
 * between PIECES_SIZE_MIN and PIECES_SIZE_MAX; the last piece may be
 * short, an empty artifact has none); the manifest lists the sha256 of
 * every piece next to the whole artifact's sha256 and length, so a piece
 * can be verified on arrival while the whole sha256 stays the artifact's
 * identity.
 *
 * Its one encoding is canonical JSON, members in byte order (so it is also
 * OLPC canonical JSON, DESIGN.md 6), no whitespace, lowercase hex:
 *   {"length":N,"piece_size":P,"pieces":["<hex>",...],"sha256":"<hex>",
 *    "version":1}
 * The sha256 of those bytes is the manifest's identity, its "manifest
 * hash". The parser accepts exactly those bytes and nothing that merely
 * means the same (whitespace, another member order, escapes, leading
 * zeros): a parsed manifest re-encodes to its input, so the hash of the
 * bytes received is the hash of the manifest.
 *
 * The builder computes a manifest from the artifact's bytes fed in any
 * chunking, so a write path can build it as the data passes. Pure
 * functions and values, any thread; a builder has one user at a time.
 */
#ifndef COMMON_PIECES_H
#define COMMON_PIECES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/sha256.h"

struct buf;
struct err;

#define PIECES_SIZE_MIN (64u * 1024)
#define PIECES_SIZE_MAX (64u * 1024 * 1024)
#define PIECES_SIZE_DEFAULT (4u * 1024 * 1024)
#define PIECES_VERSION 1

/*
 * A bound on the bytes of a valid document: its fixed text, the artifact
 * hash and two u64 fields in decimal (under 256 bytes together), and
 * LIMIT_PIECES quoted hashes with their commas.
 */
#define PIECES_DOC_FIXED 256u
#define PIECES_DOC_MAX \
    (PIECES_DOC_FIXED + (SHA256_HEX_LEN + 3u) * LIMIT_PIECES)

/* A manifest (a plain value; pieces_release frees piece). */
struct pieces {
    struct sha256 sha256; /* the whole artifact */
    uint64_t length;      /* the whole artifact's bytes */
    uint32_t piece_size;
    size_t count;         /* pieces_count(length, piece_size) */
    struct sha256 *piece; /* count digests, owned; NULL when count is 0 */
};

#define PIECES_INIT {{{0}}, 0, 0, 0, NULL}

/* Free m's digests and empty it (count 0); NULL is a no-op. */
void pieces_release(struct pieces *m);

/* Whether s is a valid piece size (a power of two in [MIN, MAX]). */
bool pieces_size_valid(uint64_t s);

/*
 * Number of pieces of an artifact of `length` bytes: ceil(length / size),
 * 0 for an empty artifact; never overflows. Returns 0, ERR_INVAL (bad
 * piece size) or ERR_LIMIT (more than LIMIT_PIECES pieces).
 */
int pieces_count(uint64_t *out, uint64_t length, uint64_t piece_size);

/*
 * The piece size for an artifact of `length` bytes: `preferred` (valid),
 * or the smallest larger power of two that keeps the count within
 * LIMIT_PIECES. Returns 0, ERR_INVAL (preferred not valid) or ERR_LIMIT
 * (even PIECES_SIZE_MAX gives too many pieces).
 */
int pieces_size_for(uint32_t *out, uint64_t length, uint64_t preferred);

/*
 * Byte range [*off, *off + *len) of piece i of an artifact of `length`
 * bytes. Returns 0, or ERR_INVAL (bad piece size, i out of range).
 */
int pieces_range(uint64_t *off, uint64_t *len, uint64_t length,
                 uint64_t piece_size, uint64_t i);

/*
 * Check that data (n bytes) is piece i of m: its length is the piece's
 * and its sha256 the listed one. Returns 0, ERR_INVAL (i out of range),
 * ERR_VERIFY (wrong length or hash), ERR_INTERNAL; err says which.
 */
int pieces_verify(const struct pieces *m, uint64_t i, const void *data,
                  size_t n, struct err *err);

/*
 * Append the canonical encoding of m to out. m must be consistent (count
 * and piece_size as pieces_count says): ERR_INVAL otherwise; ERR_NOMEM.
 */
int pieces_encode(struct buf *out, const struct pieces *m, struct err *err);

/* The manifest hash: sha256 of the encoding. Errors as pieces_encode. */
int pieces_id(struct sha256 *out, const struct pieces *m, struct err *err);

/*
 * Parse a manifest document (len bytes, not NUL-terminated) into *out
 * (pieces_release it; untouched on error). Exactly the canonical bytes
 * are accepted. When expect_sha256 is not NULL the manifest must name
 * that artifact, and when expect_length >= 0 that length (ERR_VERIFY
 * otherwise). Returns 0, ERR_INVAL (not the canonical form, bad hex, a
 * count that does not match length and piece size, an invalid piece
 * size or version, trailing data), ERR_LIMIT (over PIECES_DOC_MAX bytes
 * or LIMIT_PIECES pieces), ERR_VERIFY, ERR_NOMEM; err says where.
 */
int pieces_parse(struct pieces *out, const char *data, size_t len,
                 const struct sha256 *expect_sha256, int64_t expect_length,
                 struct err *err);

/* ---- the incremental builder -------------------------------------------- */

struct pieces_builder;

/*
 * A builder for pieces of piece_size bytes. Returns 0, ERR_INVAL (bad
 * piece size) or ERR_NOMEM.
 */
int pieces_builder_new(struct pieces_builder **out, uint64_t piece_size,
                       struct err *err);
/* Free b and what it holds; NULL is a no-op. */
void pieces_builder_free(struct pieces_builder *b);

/*
 * Feed the next n bytes of the artifact (any chunking). Returns 0,
 * ERR_LIMIT (past LIMIT_PIECES pieces), ERR_NOMEM, ERR_INTERNAL; after an
 * error the builder only fails (sticky).
 */
int pieces_builder_update(struct pieces_builder *b, const void *data,
                          size_t n);

/* Bytes fed so far. */
uint64_t pieces_builder_length(const struct pieces_builder *b);

/*
 * End of the artifact: the manifest of the bytes fed, for an artifact
 * whose whole sha256 is `whole` (the caller hashed and checked it; the
 * builder hashes pieces only). The builder is spent (free it). Returns
 * 0, the builder's sticky error, or ERR_NOMEM.
 */
int pieces_builder_finish(struct pieces *out, struct pieces_builder *b,
                          const struct sha256 *whole, struct err *err);

#endif
